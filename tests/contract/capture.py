"""Capturing the exact requests the product sends through the AWS seam.

Every AWS call goes through `deployments.aws.clients.call`, which invokes a method of a client built by
`deployments.aws.clients._build`. `capturing` wraps that builder so every client it hands out carries a
botocore `before-parameter-build` handler, registered last: it sees the parameters exactly as botocore
validates and serialises them (after botocore's own handlers, e.g. CopySource turned into a string),
with the operation model that names the API. No product code changes for this.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.model import OperationModel

from deployments.aws import clients

HANDLER_ID = "contract-capture"
Probe = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """One request as sent: which scenario and step sent it, the service, the operation and its params.

    `observed` holds what a probe saw in AWS at the moment the request left (e.g. whether the
    artifact a CreateModel names exists), for rules about order that params alone cannot show.
    """

    seq: int
    scenario: str
    kind: str
    step: str
    service: str
    operation: str
    params: dict[str, Any]
    observed: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"#{self.seq} {self.operation} ({self.scenario}: {self.step})"


def _copy(value: Any) -> Any:
    """A deep copy of dicts and lists; leaves (strings, numbers, bytes, streams) are kept as they are."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(item) for item in value]
    return value


class CallLog:
    """The calls captured so far, in order, labelled with the scenario and step being driven."""

    def __init__(self, probe: Probe | None = None) -> None:
        self.calls: list[Call] = []
        self.scenario, self.kind, self.step = "", "", ""
        self._seq = itertools.count(1)
        self._probe = probe

    def at(self, scenario: str, kind: str, step: str) -> None:
        self.scenario, self.kind, self.step = scenario, kind, step

    def handler(self, params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        sent = _copy(params)
        observed = self._probe(model.name, sent) if self._probe else {}
        service = model.service_model.service_name
        self.calls.append(
            Call(next(self._seq), self.scenario, self.kind, self.step, service, model.name, sent, observed)
        )


@contextlib.contextmanager
def capturing(log: CallLog) -> Iterator[CallLog]:
    """Inside the block, every client the seam builds sends its requests to `log` as well."""
    original = clients._build
    seen: list[Any] = []

    def build(*args: Any, **kwargs: Any) -> Any:
        client = original(*args, **kwargs)
        if client not in seen:
            client.meta.events.register_last("before-parameter-build", log.handler, unique_id=HANDLER_ID)
            seen.append(client)
        return client

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clients, "_build", build)
        try:
            yield log
        finally:
            for client in seen:
                client.meta.events.unregister("before-parameter-build", unique_id=HANDLER_ID)


def artifact_probe(s3: Any) -> Probe:
    """A probe recording, for each CreateModel, whether each container's ModelDataUrl exists right then.

    A multi-model container's URL is a prefix: it "exists" when some object lies under it. `s3` is a
    client of the test's own, so the probe's calls are not captured.
    """

    def probe(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation != "CreateModel":
            return {}
        found = {}
        for container in [params.get("PrimaryContainer"), *(params.get("Containers") or [])]:
            if container:
                url = container["ModelDataUrl"]
                bucket, _, key = url.removeprefix("s3://").partition("/")
                listed = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=10)
                keys = [item["Key"] for item in listed.get("Contents", [])]
                found[url] = bool(keys) if container.get("Mode") == "MultiModel" else key in keys
        return {"artifacts": found}

    return probe

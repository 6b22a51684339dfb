"""Fault injection at botocore's `before-send`: throttling, 5xx, quota errors and timeouts after the
request reached AWS, so that botocore's own retries and the seam's conversion both run for real."""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ReadTimeoutError

from deployments.aws.clients import client

ERRORS = {
    "throttle": (400, "ThrottlingException", "Rate exceeded"),
    "5xx": (500, "InternalFailure", "An internal error occurred."),
    "limit": (
        400,
        "ResourceLimitExceeded",
        "The account-level service limit 'ml.m5.large for endpoint usage' is 0 Instances.",
    ),
    # The worker's role lacks a permission: terminal, until a person changes the IAM policy.
    "denied": (
        400,
        "AccessDeniedException",
        "User: arn:aws:sts::123456789012:assumed-role/saasadmin-worker/worker is not authorized to "
        "perform: sagemaker:DeleteEndpoint because no identity-based policy allows the "
        "sagemaker:DeleteEndpoint action",
    ),
}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


class Faults:
    """`add("CreateEndpoint", "timeout", times=3)`: the next `times` sends of that operation misbehave."""

    def __init__(self, plain_client: Any) -> None:
        self.plain = plain_client  # a client without faults, to let a "timed out" request really happen
        self.planned: dict[str, list[str]] = defaultdict(list)
        self.sagemaker = client("sagemaker")
        self.sagemaker.meta.events.register("before-send.sagemaker", self._before_send, unique_id="faults")

    def add(self, operation: str, kind: str, times: int = 1) -> None:
        self.planned[operation].extend([kind] * times)

    def close(self) -> None:
        self.sagemaker.meta.events.unregister("before-send.sagemaker", unique_id="faults")

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        operation = request.headers.get("X-Amz-Target", b"")
        operation = (operation.decode() if isinstance(operation, bytes) else operation).rsplit(".", 1)[-1]
        if not self.planned.get(operation):
            return None
        kind = self.planned[operation].pop(0)
        if kind == "timeout":
            # The request reaches AWS, but the answer never comes back.
            with contextlib.suppress(ClientError):
                getattr(self.plain, _snake(operation))(**json.loads(request.body))
            raise ReadTimeoutError(endpoint_url=request.url)
        status, code, message = ERRORS[kind]
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"x-amzn-RequestId": f"fault-{code}", "Content-Type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, status, headers, _Raw(body))

"""boto3 clients built lazily from settings, and `call`: the one way an AWS API is invoked and recorded.

Every call goes through `call`, which times it, converts `ClientError` and botocore's connection
errors into `deployments.aws.errors`, and hands a `CallRecord` to the recorder installed by
`recording(...)` (services use it to write the deployment's timeline).
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError
from django.conf import settings

from deployments.aws.errors import (
    AlreadyExists,
    AwsError,
    InProgress,
    NotFound,
    Terminal,
    Throttled,
    Transient,
)

THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown"}
)
ALREADY_CODES = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})
NOT_FOUND_CODES = frozenset(
    {"ResourceNotFound", "NoSuchKey", "NoSuchBucket", "404", "NotFound", "ObjectNotFoundException"}
)


@dataclass(frozen=True)
class CallRecord:
    """One AWS call as the timeline shows it."""

    action: str
    resource: str
    request_id: str
    duration_ms: int
    outcome: str  # ok, or the error class name (NotFound, AlreadyExists, Throttled, …)
    error: str


Recorder = Callable[[CallRecord], None]
_recorder: contextvars.ContextVar[Recorder | None] = contextvars.ContextVar("aws_recorder", default=None)


@contextlib.contextmanager
def recording(recorder: Recorder) -> Iterator[None]:
    """Send every AWS call made inside the block to `recorder`."""
    token = _recorder.set(recorder)
    try:
        yield
    finally:
        _recorder.reset(token)


def _client_settings() -> tuple[str, str, str, int, float, float]:
    return (
        settings.AWS_MODE,
        settings.AWS_REGION,
        settings.EMULATOR_URL,
        settings.AWS_MAX_ATTEMPTS,
        settings.AWS_CONNECT_TIMEOUT,
        settings.AWS_READ_TIMEOUT,
    )


@lru_cache(maxsize=16)
def _build(
    service: str,
    mode: str,
    region: str,
    url: str,
    attempts: int,
    connect: float,
    read: float,
    pool: int = 20,
    keepalive: bool = False,
) -> Any:
    config = Config(
        retries={"mode": "standard", "total_max_attempts": attempts},
        connect_timeout=connect,
        read_timeout=read,
        max_pool_connections=pool,
        tcp_keepalive=keepalive,
    )
    if mode == "emulated":
        return boto3.session.Session().client(
            service,
            region_name=region,
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - the emulator's dummy credentials
            config=config,
        )
    return boto3.session.Session().client(service, region_name=region, config=config)


# The Pricing API answers from a few regions only; us-east-1 serves every region's prices.
FIXED_REGIONS = {"pricing": "us-east-1"}


def client(service: str) -> Any:
    """The boto3 client for `service` under the current settings (built once per settings)."""
    mode, region, *rest = _client_settings()
    return _build(service, mode, FIXED_REGIONS.get(service, region), *rest)


def _classify(code: str, message: str, status: int) -> type[AwsError]:
    lowered = message.lower()
    if code in THROTTLING_CODES or status == 429:
        return Throttled
    if code in NOT_FOUND_CODES or "could not find" in lowered or "does not exist" in lowered:
        return NotFound
    if (
        "already exist" in lowered
        or code in ALREADY_CODES
        or (code == "ResourceInUse" and "already" in lowered)
    ):
        return AlreadyExists
    if "in-progress" in lowered or "in progress" in lowered:
        return InProgress
    if status >= 500 or code in ("InternalFailure", "ServiceUnavailable", "InternalServerError"):
        return Transient
    return Terminal


def convert(exc: Exception) -> AwsError:
    """The project's exception for a botocore error."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", "")) or str(exc)
        kind = _classify(code, message, int(meta.get("HTTPStatusCode", 0) or 0))
        return kind(
            f"{code}: {message}" if code else message, code=code, request_id=meta.get("RequestId", "")
        )
    if isinstance(exc, ConnectionError | HTTPClientError):
        return Transient(f"{type(exc).__name__}: {exc}", code=type(exc).__name__)
    return Terminal(f"{type(exc).__name__}: {exc}", code=type(exc).__name__)


def call(service: str, action: str, resource: str, **params: Any) -> dict[str, Any]:
    """Invoke `action` (boto3's snake_case method) on `service`; record it; raise the project's errors."""
    method = getattr(client(service), action)
    started = time.perf_counter()
    try:
        response: dict[str, Any] = method(**params)
    except (ClientError, BotoCoreError) as exc:
        converted = convert(exc)
        _record(action, resource, started, converted.request_id, type(converted).__name__, converted.message)
        raise converted from exc
    request_id = response.get("ResponseMetadata", {}).get("RequestId", "")
    _record(action, resource, started, request_id, "ok", "")
    return response


def _record(action: str, resource: str, started: float, request_id: str, outcome: str, error: str) -> None:
    recorder = _recorder.get()
    if recorder is None:
        return
    duration = int((time.perf_counter() - started) * 1000)
    api = "".join(part.capitalize() for part in action.split("_"))
    recorder(CallRecord(api, resource, request_id, duration, outcome, error[:2000]))

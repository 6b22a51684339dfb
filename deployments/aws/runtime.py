"""SageMaker Runtime for the tenant inference API: InvokeEndpoint, InvokeEndpointAsync, async outcomes.

The hot path has its own client: short connect and read timeouts and one retry at most, because a caller
waiting on a prediction is better served by a quick 429/503/504 (with Retry-After) than by botocore
retrying for a minute. Calls skip `clients.call`'s timeline recording (no deployment timeline records
predictions); errors become `RuntimeRefused`, whose `reason` the API maps to an HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError
from django.conf import settings

from deployments.aws import clients
from deployments.aws.clients import call
from deployments.aws.errors import AwsError, NotFound
from deployments.aws.storage import uri_split

RUNTIME = "sagemaker-runtime"

# SageMaker Runtime's error codes (APIReference/API_runtime_InvokeEndpoint.html, CommonErrors.html) and
# what a caller can do about each.
REASONS = {
    "ThrottlingException": "throttled",
    "ModelNotReadyException": "not_ready",
    "ModelError": "model_error",
    "ServiceUnavailable": "unavailable",
    "InternalFailure": "unavailable",
    "InternalDependencyException": "unavailable",
    "ValidationError": "invalid",
}


class RuntimeRefused(Exception):
    """SageMaker Runtime did not answer with a prediction; `reason` is one of REASONS' values or timeout."""

    def __init__(self, reason: str, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Prediction:
    body: bytes
    content_type: str


@dataclass(frozen=True)
class AsyncAccepted:
    inference_id: str
    output_location: str
    failure_location: str


def runtime_client() -> Any:
    """The hot-path SageMaker Runtime client under the current settings (built once per settings)."""
    # The seam's one client builder, with the hot path's own timeouts, retries and a larger kept-alive pool.
    return clients._build(
        RUNTIME,
        settings.AWS_MODE,
        settings.AWS_REGION,
        settings.EMULATOR_URL,
        settings.RUNTIME_MAX_ATTEMPTS,
        settings.RUNTIME_CONNECT_TIMEOUT,
        settings.RUNTIME_READ_TIMEOUT,
        pool=50,
        keepalive=True,
    )


def _refused(exc: Exception) -> RuntimeRefused:
    if isinstance(exc, ReadTimeoutError | ConnectTimeoutError):
        return RuntimeRefused("timeout", "SageMaker did not answer in time.", code=type(exc).__name__)
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message", "")) or str(exc)
        return RuntimeRefused(REASONS.get(code, "unavailable"), message, code=code)
    return RuntimeRefused("unavailable", f"SageMaker could not be reached ({type(exc).__name__}).")


def endpoint_invoke(
    endpoint: str, body: bytes, content_type: str, *, target_model: str = "", target_hostname: str = ""
) -> Prediction:
    """One real-time prediction: TargetModel for multi-model, TargetContainerHostname for multi-container."""
    params: dict[str, Any] = {"EndpointName": endpoint, "Body": body, "ContentType": content_type}
    if target_model:
        params["TargetModel"] = target_model
    if target_hostname:
        params["TargetContainerHostname"] = target_hostname
    try:
        # API: InvokeEndpoint
        answer = runtime_client().invoke_endpoint(**params)
        return Prediction(answer["Body"].read(), answer.get("ContentType") or "application/octet-stream")
    except (ClientError, BotoCoreError) as exc:
        raise _refused(exc) from exc


def endpoint_invoke_async(
    endpoint: str, input_uri: str, body: IO[bytes], content_type: str, timeout_seconds: int
) -> AsyncAccepted:
    """Put the payload at `input_uri` (streamed), then queue it on an asynchronous endpoint."""
    bucket, key = uri_split(input_uri)
    try:
        # API: PutObject (the input InvokeEndpointAsync reads; streamed from the request, never held whole)
        call("s3", "put_object", input_uri, Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    except AwsError as exc:
        raise RuntimeRefused("unavailable", f"The payload could not be stored: {exc.message}") from exc
    try:
        # API: InvokeEndpointAsync
        answer = runtime_client().invoke_endpoint_async(
            EndpointName=endpoint,
            InputLocation=input_uri,
            ContentType=content_type,
            InvocationTimeoutSeconds=timeout_seconds,
        )
    except (ClientError, BotoCoreError) as exc:
        raise _refused(exc) from exc
    return AsyncAccepted(answer["InferenceId"], answer["OutputLocation"], answer.get("FailureLocation", ""))


def outcome_read(uri: str) -> Prediction | None:
    """The object an async inference wrote at `uri` (output or failure), or None while it is not there."""
    if not uri:
        return None
    bucket, key = uri_split(uri)
    try:
        # API: GetObject
        answer = call("s3", "get_object", uri, Bucket=bucket, Key=key)
    except NotFound:
        return None
    return Prediction(answer["Body"].read(), answer.get("ContentType") or "application/octet-stream")

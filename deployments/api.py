"""The tenant inference API (django-ninja): POST /api/v1/predict, GET /api/v1/predictions/<id>.

A tenant's software calls one stable endpoint with a Bearer token; which SageMaker endpoint, TargetModel
or container answers is chosen from the token's tenant (deployments.services.inference), never from the
request. Every error is JSON {"code": stable, "message": for people}. The body is read by the view itself
(not parsed by ninja), so that an oversize one is refused from Content-Length and never held in memory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from deployments.api_gate import gate_pass
from deployments.metering import usage_record
from deployments.models import Kind
from deployments.services import inference
from deployments.services.inference import InferenceRefused
from tenants.token_cache import Identity, token_identify
from tenants.tokens import TokenRefused

log = logging.getLogger(__name__)

PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "description": "The rows to score, as the model's container accepts them.",
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": "12,70,1,3,12,0"},
            "application/json": {
                "schema": {"type": "object"},
                "example": {"instances": [[12, 70, 1, 3, 12, 0]]},
            },
        },
    }
}


class TenantBearer(HttpBearer):
    """`Authorization: Bearer sa_…`: the token (from the process's cache when known), or TokenRefused
    (401/403) as JSON. A cached token is confirmed current by the view's gate_pass before any use."""

    def __call__(self, request: HttpRequest) -> Any:
        return token_identify(request.headers.get("Authorization"))

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover - __call__ does it
        return None


class ErrorOut(Schema):
    code: str
    message: str


class AcceptedOut(Schema):
    inference_id: str
    status: str
    location: str


class PendingOut(Schema):
    inference_id: str
    status: str
    message: str = ""


api = NinjaAPI(
    title="saasadmin tenant inference API",
    version="1",
    description="Predictions from your model, however your vendor deploys it.",
    urls_namespace="api_v1",
    docs_url="/docs/",
    openapi_url="/openapi.json",
    auth=TenantBearer(),
)


def error(status: int, code: str, message: str, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse({"code": code, "message": message}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@api.exception_handler(InferenceRefused)
def _inference_refused(request: HttpRequest, exc: InferenceRefused) -> HttpResponse:
    return error(exc.status, exc.code, exc.message, exc.retry_after)


@api.exception_handler(TokenRefused)
def _token_refused(request: HttpRequest, exc: TokenRefused) -> HttpResponse:
    response = error(exc.status, exc.code, exc.message)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error(401, "token_missing", "Send your API token in the header Authorization: Bearer <token>.")


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error(400, "invalid_request", "The request is not valid: check the path and parameters.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error(exc.status_code, f"http_{exc.status_code}", str(exc))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("inference API error")
    return error(500, "internal_error", "Something went wrong on our side; the request was not served.")


def _identity(request: HttpRequest) -> Identity:
    return request.auth  # type: ignore[attr-defined,no-any-return]


@api.post(
    "/predict",
    response={
        200: Any,
        202: AcceptedOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        409: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        429: ErrorOut,
        502: ErrorOut,
        503: ErrorOut,
        504: ErrorOut,
    },
    openapi_extra=PREDICT_BODY,
    summary="Score rows with your model",
)
def predict(request: HttpRequest) -> HttpResponse:
    """A prediction from your deployed model; for an asynchronous deployment, 202 and an inference id.

    The response carries the model's own content type. The deployment that answers is your tenant's:
    nothing in the request chooses another one.
    """
    target = _admitted_target(_identity(request))
    bytes_in, started = 0, None
    try:
        content_type = inference.content_type_check(request.META.get("CONTENT_TYPE"))
        inference.length_check(target, request.META.get("CONTENT_LENGTH"))
        if target.kind == Kind.ASYNC:
            started = time.perf_counter()
            record = inference.predict_async(target, request.read, content_type)
            _meter(target, "ok", int(request.META.get("CONTENT_LENGTH") or 0), 0, started)
            return _accepted(record)
        sink = _Buffer()
        inference.body_copy(target, request.read, sink)
        body = sink.value()
        bytes_in, started = len(body), time.perf_counter()
        answer = inference.predict(target, body, content_type)
    except InferenceRefused as exc:
        _meter(target, METERED_OUTCOMES.get(exc.code, "server_error"), bytes_in, 0, started)
        raise
    latency_ms = (time.perf_counter() - started) * 1000
    return MeteredResponse(
        answer.body,
        content_type=answer.content_type,
        meter=lambda: _meter(target, "ok", len(body), len(answer.body), latency_ms=latency_ms),
    )


class MeteredResponse(HttpResponse):
    """A prediction whose call is metered once the server has sent it (WSGI calls `close` then), so the
    metering's Redis round trip is not part of the latency the caller sees."""

    def __init__(self, *args: Any, meter: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._meter = meter

    def close(self) -> None:
        try:
            self._meter()
        except Exception:  # counting must never break serving; usage_record already survives Redis
            log.exception("inference API: a served call could not be metered")
        finally:
            super().close()


def _admitted_target(identity: Identity) -> inference.Target:
    """The tenant's target, once the gate confirmed the token and took the rate limit (one Redis trip).

    A target not in service (409) goes through the gate too, so that a token revoked or a tenant
    suspended meanwhile still reads 401/403 first, and the refusal is metered in the same trip.
    """
    try:
        target = inference.target_resolve(identity.token.tenant)
    except InferenceRefused as exc:
        gate_pass(identity, deployment_id=exc.deployment_id, refusal="not_serving")
        raise
    identity = gate_pass(identity, deployment_id=target.deployment.pk, take=True)
    if identity.token.tenant_id != target.tenant_id:  # pragma: no cover - a token never changes tenant
        raise TokenRefused(401, "token_invalid", "This API token is not valid.")
    return target


# The API's refusals after the gate as the metering's error classes (the gate meters 409 and 429 itself).
METERED_OUTCOMES = {
    "throttled": "throttled",
    "model_not_ready": "not_ready",
    "model_error": "model_error",
    "model_timeout": "timeout",
    "empty_payload": "client_error",
    "payload_too_large": "client_error",
    "unsupported_content_type": "client_error",
}


def _meter(
    target: inference.Target,
    outcome: str,
    bytes_in: int,
    bytes_out: int,
    started: float | None = None,
    latency_ms: float | None = None,
) -> None:
    """Count the call for the tenant × deployment × minute (one Redis script call, no database write).

    `started` is when the model was called (None when the API refused the request before that), unless
    the model's `latency_ms` was measured already.
    """
    if latency_ms is None:
        latency_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
    usage_record(
        tenant_id=target.tenant_id,
        deployment_id=target.deployment.pk,
        outcome=outcome,
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        latency_ms=latency_ms,
    )


def _accepted(record: Any) -> HttpResponse:
    location = f"/api/v1/predictions/{record.inference_id}"
    body = {"inference_id": record.inference_id, "status": "pending", "location": location}
    response = JsonResponse(body, status=202)
    response["Location"] = location
    return response


class _Buffer:
    """A write-only list of blocks: joined once (no repeated copying of a growing bytes)."""

    def __init__(self) -> None:
        self.blocks: list[bytes] = []

    def write(self, block: bytes) -> int:
        self.blocks.append(block)
        return len(block)

    def value(self) -> bytes:
        return b"".join(self.blocks)


@api.get(
    "/predictions/{inference_id}",
    response={200: Any, 202: PendingOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 502: ErrorOut},
    summary="The outcome of an asynchronous prediction",
)
def prediction(request: HttpRequest, inference_id: str) -> HttpResponse:
    """202 while pending; then the result (200, the model's content type) or the failure (200, JSON with
    status "failed" and SageMaker's reason). Another tenant's inference id is a 404."""
    identity = gate_pass(_identity(request))
    outcome = inference.async_outcome(identity.token.tenant, inference_id)
    if outcome.status == "completed" and outcome.deployment_id is not None:
        # Bytes out of an asynchronous prediction leave here, each time its result is fetched.
        usage_record(
            tenant_id=identity.token.tenant_id,
            deployment_id=outcome.deployment_id,
            outcome="ok",
            bytes_in=0,
            bytes_out=len(outcome.body),
            latency_ms=0.0,
            invocations=0,
        )
    if outcome.status == "completed":
        response = HttpResponse(outcome.body, content_type=outcome.content_type)
        response["X-Prediction-Status"] = "completed"
        return response
    if outcome.status == "failed":
        message = outcome.body.decode("utf-8", "replace")[:4000]
        return JsonResponse({"inference_id": inference_id, "status": "failed", "message": message})
    return JsonResponse({"inference_id": inference_id, "status": "pending", "message": ""}, status=202)


@api.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False
)
def not_found(request: HttpRequest, rest: str) -> HttpResponse:
    """Any other path under /api/v1/: a JSON 404, like every other answer of the API."""
    return error(404, "not_found", "There is no such API path: see /api/v1/docs/.")

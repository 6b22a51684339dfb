"""The tenant inference API's logic: which deployment serves a tenant, payload limits, calls, async outcomes.

The serving target is chosen here from the tenant alone (its own deployment or its membership of a shared
one): nothing a caller sends can name an endpoint, TargetModel, container hostname or inference id of
another tenant. Every refusal is an `InferenceRefused` carrying the HTTP status and a stable code.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.db.models import Q

from deployments.aws import AwsError, runtime
from deployments.models import AsyncInference, Deployment, DeploymentMember, Kind, MemberState, Status
from deployments.resources import bucket_uri
from deployments.rules import KIND_RULES
from tenants.models import Tenant

# What SageMaker's XGBoost and scikit-learn containers accept (and the emulator's models too).
CONTENT_TYPES = ("text/csv", "application/json")
SERVING = (Status.IN_SERVICE, Status.UPDATING)  # an endpoint being updated keeps serving its live config
SERVED_MEMBERS = (MemberState.ACTIVE, MemberState.LEAVING)
READ_BLOCK = 64 * 1024
SPOOL_IN_MEMORY = 1024 * 1024  # async bodies past this go to a temporary file on their way to S3
RETRY_AFTER_THROTTLED = 1
INFERENCE_ID_MAX = 64  # AsyncInference.inference_id
RETRY_AFTER_NOT_READY = 5


class InferenceRefused(Exception):
    """The API refuses the request: HTTP `status`, a stable `code`, a sentence, and maybe Retry-After.

    `deployment_id` names the deployment the refusal is about, when there is one (usage is metered to it).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        retry_after: int | None = None,
        deployment_id: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.deployment_id = deployment_id


@dataclass(frozen=True)
class Target:
    """Where a tenant's predictions go: the endpoint and, on shared endpoints, the tenant's own part."""

    deployment: Deployment
    endpoint: str
    tenant_id: uuid.UUID  # the calling tenant's (a shared deployment has none of its own)
    target_model: str = ""
    target_hostname: str = ""

    @property
    def kind(self) -> str:
        return self.deployment.kind

    @property
    def max_bytes(self) -> int:
        return int(KIND_RULES[self.kind].max_payload_mb * 1024 * 1024)

    @property
    def limit_label(self) -> str:
        megabytes = KIND_RULES[self.kind].max_payload_mb
        label = f"{megabytes / 1024:g} GB" if megabytes >= 1024 else f"{megabytes:g} MB"
        return f"{label} ({Kind(self.kind).label.lower()})"


def _candidates(tenant: Tenant) -> list[tuple[Deployment, DeploymentMember | None]]:
    owned = Deployment.objects.filter(tenant=tenant).exclude(kind=Kind.BATCH).exclude(desired="absent")
    members = (
        DeploymentMember.objects.filter(tenant=tenant, state__in=SERVED_MEMBERS)
        .filter(~Q(deployment__desired="absent"))
        .select_related("deployment")
    )
    pairs: list[tuple[Deployment, DeploymentMember | None]] = [(d, None) for d in owned]
    pairs += [(m.deployment, m) for m in members]
    return pairs


# A tenant's serving target, kept per process for a moment: resolving it costs two queries, more than the
# rest of the API's own work per request. Only a serving target is kept (a refusal is re-checked at once),
# keyed by the tenant's id, so a stale entry can only send a tenant to its own last endpoint for
# TARGET_CACHE_SECONDS after a change (SageMaker then refuses it: a 502, never another tenant's model).
TARGET_CACHE_SECONDS = 2.0
_targets: dict[object, tuple[float, Target]] = {}


def target_resolve(tenant: Tenant) -> Target:
    """The tenant's serving target (see target_lookup), from the per-process cache when fresh."""
    now = time.monotonic()
    cached = _targets.get(tenant.pk)
    if cached is not None and cached[0] > now:
        return cached[1]
    target = target_lookup(tenant)
    _targets[tenant.pk] = (now + TARGET_CACHE_SECONDS, target)
    return target


def targets_forget() -> None:
    """Empty the per-process cache (tests that change a tenant's deployments between calls)."""
    _targets.clear()


def target_lookup(tenant: Tenant) -> Target:
    """The tenant's serving target: an in-service deployment of an invocable kind, its own or shared.

    409 when it has none, or none in service (the message says which deployment and its status).
    """
    pairs = _candidates(tenant)
    serving = [(d, m) for d, m in pairs if d.status in SERVING]
    if not serving:
        if not pairs:
            raise InferenceRefused(
                409,
                "no_deployment",
                f"Tenant {tenant.slug} has no deployment that serves predictions (batch transforms run "
                "on a schedule, not per request): ask your vendor to deploy your model.",
            )
        deployment = pairs[0][0]
        raise InferenceRefused(
            409,
            "deployment_not_in_service",
            f"Deployment {deployment.name} is {deployment.get_status_display().lower()}, not in service: "
            "predictions resume once it is.",
            deployment_id=deployment.pk,
        )
    deployment, member = max(serving, key=lambda pair: (pair[0].created_at, pair[0].pk))
    if member is not None and deployment.kind == Kind.MULTI_MODEL:
        return Target(deployment, deployment.endpoint_name, tenant.pk, target_model=member.target)
    if member is not None and deployment.kind == Kind.MULTI_CONTAINER:
        return Target(deployment, deployment.endpoint_name, tenant.pk, target_hostname=member.target)
    return Target(deployment, deployment.endpoint_name, tenant.pk)


def content_type_check(header: str | None) -> str:
    """The request's media type if the model's container accepts it; 415 otherwise."""
    media = (header or "").split(";", 1)[0].strip().lower()
    if media not in CONTENT_TYPES:
        shown = media or "no content type"
        raise InferenceRefused(
            415,
            "unsupported_content_type",
            f"The model accepts {' or '.join(CONTENT_TYPES)}, not {shown}: set the Content-Type header.",
        )
    return media


def length_check(target: Target, content_length: str | None) -> None:
    """413 from the Content-Length header alone, before a byte of the body is read."""
    try:
        length = int(content_length or 0)
    except ValueError:
        length = 0
    if length > target.max_bytes:
        raise _too_large(target)


def _too_large(target: Target) -> InferenceRefused:
    return InferenceRefused(
        413,
        "payload_too_large",
        f"The payload is larger than {target.limit_label}, the most this deployment accepts per request.",
    )


class Sink(Protocol):
    """Where a body is copied: a file, or the API's list of blocks."""

    def write(self, block: bytes, /) -> int: ...


def body_copy(target: Target, read: Callable[[int], bytes], sink: Sink) -> int:
    """Copy the body into `sink` block by block, refusing it (413) once past the kind's limit."""
    total = 0
    while block := read(READ_BLOCK):
        total += len(block)
        if total > target.max_bytes:
            while read(READ_BLOCK):  # drain what is left so the client reads the answer, keep nothing
                pass
            raise _too_large(target)
        sink.write(block)
    return total


def predict(target: Target, body: bytes, content_type: str) -> runtime.Prediction:
    """A real-time prediction from the target (every invocable kind but async)."""
    if not body:
        raise InferenceRefused(400, "empty_payload", "The request has no body: send the rows to score.")
    try:
        return runtime.endpoint_invoke(
            target.endpoint,
            body,
            content_type,
            target_model=target.target_model,
            target_hostname=target.target_hostname,
        )
    except runtime.RuntimeRefused as exc:
        raise runtime_refusal(exc) from exc


def runtime_refusal(exc: runtime.RuntimeRefused) -> InferenceRefused:
    """SageMaker Runtime's refusal as the API's: status, stable code and, where waiting helps, Retry-After."""
    if exc.reason == "throttled":
        return InferenceRefused(
            429,
            "throttled",
            "SageMaker is throttling this endpoint: try again shortly.",
            RETRY_AFTER_THROTTLED,
        )
    if exc.reason == "not_ready":
        message = f"The model is loading and not ready yet: try again shortly. ({exc.message})"
        return InferenceRefused(503, "model_not_ready", message, RETRY_AFTER_NOT_READY)
    if exc.reason == "model_error":
        return InferenceRefused(502, "model_error", f"The model could not score the payload: {exc.message}")
    if exc.reason == "timeout":
        return InferenceRefused(504, "model_timeout", "The model did not answer in time.")
    if exc.reason == "invalid":
        return InferenceRefused(502, "sagemaker_refused", f"SageMaker refused the request: {exc.message}")
    return InferenceRefused(502, "sagemaker_unavailable", f"SageMaker did not answer: {exc.message}")


def predict_async(target: Target, read: Callable[[int], bytes], content_type: str) -> AsyncInference:
    """Stream the body to the tenant's S3 prefix, queue it (InvokeEndpointAsync), remember where it lands."""
    deployment = target.deployment
    owner = deployment.owner_label
    input_uri = bucket_uri("async", owner, "input", f"{uuid.uuid4()}")
    timeout = KIND_RULES[Kind.ASYNC].timeout_default or 900
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        if body_copy(target, read, spool) == 0:
            raise InferenceRefused(400, "empty_payload", "The request has no body: send the rows to score.")
        spool.seek(0)
        try:
            accepted = runtime.endpoint_invoke_async(
                target.endpoint,
                input_uri,
                spool,
                content_type,
                timeout,  # type: ignore[arg-type]
            )
        except runtime.RuntimeRefused as exc:
            raise runtime_refusal(exc) from exc
    return AsyncInference.objects.create(
        tenant_id=target.tenant_id,
        deployment=deployment,
        inference_id=accepted.inference_id,
        input_location=input_uri,
        output_location=accepted.output_location,
        failure_location=accepted.failure_location,
    )


@dataclass(frozen=True)
class AsyncOutcome:
    status: str  # pending, completed, failed
    body: bytes = b""
    content_type: str = ""
    deployment_id: int | None = None


def async_outcome(tenant: Tenant, inference_id: str) -> AsyncOutcome:
    """Where the tenant's async inference is: 404 for an id that is not the tenant's (or not at all)."""
    # No stored id is longer or unprintable (and PostgreSQL refuses NUL in a query): not found, unasked.
    well_formed = len(inference_id) <= INFERENCE_ID_MAX and inference_id.isprintable()
    query = AsyncInference.objects.filter(tenant=tenant, inference_id=inference_id)
    record = query.first() if well_formed else None
    if record is None:
        raise InferenceRefused(
            404, "prediction_not_found", f"There is no prediction {inference_id[:80]} for this tenant."
        )
    try:
        result = runtime.outcome_read(record.output_location)
        if result is not None:
            return AsyncOutcome("completed", result.body, result.content_type, record.deployment_id)
        failure = runtime.outcome_read(record.failure_location)
    except AwsError as exc:
        message = f"The outcome could not be read: {exc.message}"
        raise InferenceRefused(502, "sagemaker_unavailable", message) from exc
    if failure is not None:
        return AsyncOutcome("failed", failure.body, failure.content_type)
    return AsyncOutcome("pending")

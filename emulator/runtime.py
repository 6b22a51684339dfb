"""SageMaker Runtime's InvokeEndpoint: routing to a variant and container, limits, scoring, metrics."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from emulator.context import Context
from emulator.errors import (
    ACCOUNT_ID,
    AwsError,
    model_error,
    model_not_ready,
    runtime_validation,
    throttling,
)
from emulator.fleet import Container, Fleet, ModelNotLoaded, Variant
from emulator.models import LoadedModel, ModelLoadError, PayloadError, predict

SERVERLESS_MAX_BODY = 4 * 1024 * 1024


@dataclass
class Invocation:
    """One request to a model, whatever API it came through."""

    region: str
    endpoint: str
    body: bytes
    content_type: str
    accept: str | None = None
    target_model: str | None = None
    target_hostname: str | None = None
    target_variant: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    received: float = field(default_factory=time.perf_counter)


def not_found(invocation: Invocation) -> AwsError:
    """What the runtime answers for an endpoint that does not exist or is not in service."""
    return runtime_validation(f"Endpoint {invocation.endpoint} of account {ACCOUNT_ID} not found.")


def _log_group(invocation: Invocation) -> str:
    group = f"/aws/sagemaker/Endpoints/{invocation.endpoint}"
    return f"arn:aws:logs:{invocation.region}:{ACCOUNT_ID}:log-group:{group}"


def _container(variant: Variant, invocation: Invocation) -> Container:
    if variant.direct:
        if not invocation.target_hostname:
            raise runtime_validation(
                "TargetContainerHostname is required for an endpoint with Direct invocation."
            )
        found = variant.container_for(invocation.target_hostname)
        if found is None:
            raise runtime_validation(
                f"Container hostname {invocation.target_hostname} is not found "
                f"in endpoint {invocation.endpoint}."
            )
        return found
    if invocation.target_hostname:
        raise runtime_validation(
            f"TargetContainerHostname is not supported for endpoint {invocation.endpoint}: "
            "it is not configured "
            "for Direct invocation."
        )
    return variant.containers[0]


def _model(ctx: Context, container: Container, invocation: Invocation) -> LoadedModel:
    if not container.multi_model:
        if invocation.target_model:
            raise runtime_validation(
                f"Endpoint {invocation.endpoint} is not a multi-model endpoint: remove TargetModel."
            )
        assert container.model is not None  # single-model containers are loaded when the fleet is built
        return container.model
    if not invocation.target_model:
        raise runtime_validation("TargetModel is required when invoking a multi-model endpoint.")
    prefix = (
        container.model_data_url if container.model_data_url.endswith("/") else container.model_data_url + "/"
    )
    try:
        model, hit, waited = ctx.store.cache.get(
            container.framework,
            prefix + invocation.target_model.lstrip("/"),
            ctx.settings.model_load_budget_seconds,
        )
    except ModelLoadError as exc:
        raise runtime_validation(str(exc)) from exc
    except ModelNotLoaded as exc:
        raise model_not_ready(
            f"Endpoint {invocation.endpoint} is still downloading or loading the target model "
            f"{invocation.target_model}. Wait and try your request again."
        ) from exc
    invocation.metrics["ModelCacheHit"] = 1.0 if hit else 0.0
    if not hit:
        invocation.metrics["ModelLoadingWaitTime"] = waited * 1e6
    invocation.metrics["LoadedModelCount"] = float(ctx.store.cache.loaded_count(prefix))
    return model


def _score(ctx: Context, variant: Variant, invocation: Invocation) -> tuple[bytes, str]:
    chosen = _container(variant, invocation)
    # Without Direct invocation, several containers form a serial pipeline.
    containers = [chosen] if variant.direct else variant.containers
    body, mime = invocation.body, invocation.content_type
    for index, container in enumerate(containers):
        model = _model(ctx, container, invocation)
        # A serial pipeline feeds each container's answer to the next one; only the last honours Accept.
        accept = invocation.accept if index == len(containers) - 1 else None
        try:
            body, mime = predict(model, body, mime, accept)
        except PayloadError as exc:
            name = container.hostname if variant.direct else "primary"
            raise model_error(
                f'Received client error ({exc.status}) from {name} with message "{exc}". See '
                f"https://{invocation.region}.console.aws.amazon.com/cloudwatch/home?region={invocation.region}"
                f"#logEventViewer:group=/aws/sagemaker/Endpoints/{invocation.endpoint} "
                f"in account {ACCOUNT_ID} "
                "for more information.",
                exc.status,
                str(exc),
                _log_group(invocation),
            ) from exc
    return body, mime


def _serverless_gate(ctx: Context, variant: Variant, invocation: Invocation) -> None:
    if len(invocation.body) > SERVERLESS_MAX_BODY:
        raise runtime_validation(f"Request {uuid.uuid4()} has oversize body.")
    assert variant.semaphore is not None
    if not variant.semaphore.acquire(blocking=False):
        raise throttling(f"Rate exceeded: endpoint {invocation.endpoint} is at its MaxConcurrency.")
    try:
        _cold_start(ctx, variant, invocation)
    except AwsError:
        variant.semaphore.release()  # a call refused before it ran holds no concurrency slot
        raise


def _cold_start(ctx: Context, variant: Variant, invocation: Invocation) -> None:
    """Wait for the variant's compute: provisioned again after an idle spell, which the first call starts.

    Past the load budget the call answers ModelNotReadyException and provisioning carries on.
    """
    settings = ctx.settings
    with variant.lock:
        now = time.monotonic()
        cold = now >= variant.ready_at and now - variant.last_used > settings.serverless_idle_seconds
        if cold:
            variant.ready_at = now + settings.cold_start_seconds
        wait = max(0.0, variant.ready_at - now)
        variant.last_used = now + wait
    budget = settings.model_load_budget_seconds
    if wait > 0 and budget is not None and wait > budget:
        raise model_not_ready(
            f"The resources of serverless endpoint {invocation.endpoint} (variant {variant.name}) "
            "are still being provisioned. Wait and try your request again."
        )
    if cold or wait > 0:
        time.sleep(wait)
        invocation.metrics["ModelSetupTime"] = wait * 1e6


def run(ctx: Context, fleet: Fleet, invocation: Invocation) -> tuple[bytes, str, str]:
    """Score an invocation on a served fleet; returns body, MIME type and the variant that answered."""
    variant = fleet.pick(invocation.target_variant)
    if variant is None:
        raise runtime_validation(
            f"Variant {invocation.target_variant} not found for endpoint {invocation.endpoint}."
        )
    if variant.serverless:
        _serverless_gate(ctx, variant, invocation)
    # Started after the gate: as on AWS, a serverless cold start counts as overhead, not model latency.
    started = time.perf_counter()
    status = 200
    try:
        body, mime = _score(ctx, variant, invocation)
        elapsed = time.perf_counter() - started
        if elapsed > ctx.settings.invocation_timeout_seconds:
            status = 500
            raise model_error(
                "Received server error (0) from primary with message "
                '"Your invocation timed out while waiting '
                'for a response from container primary.".',
                0,
                "timeout",
                _log_group(invocation),
            )
        return body, mime, variant.name
    except AwsError as exc:
        status = exc.fields.get("OriginalStatusCode", exc.status)  # type: ignore[assignment]
        raise
    finally:
        if variant.semaphore is not None and variant.serverless:
            variant.semaphore.release()
        finished = time.perf_counter()
        values = {
            "Invocations": 1.0,
            "InvocationsPerInstance": 1.0 / variant.instance_count,
            "Invocation4XXErrors": 1.0 if 400 <= int(status) < 500 else 0.0,
            "Invocation5XXErrors": 1.0 if int(status) >= 500 or int(status) == 0 else 0.0,
            "ModelLatency": (finished - started) * 1e6,
            "OverheadLatency": (started - invocation.received) * 1e6,
            **invocation.metrics,
        }
        ctx.metrics.record(invocation.region, invocation.endpoint, variant.name, values)


def invoke_endpoint(ctx: Context, invocation: Invocation) -> tuple[int, dict[str, str], bytes]:
    """InvokeEndpoint: the model's answer, or the runtime's error."""
    served = ctx.store.serving_fleet(invocation.region, invocation.endpoint)
    if served is None:
        raise not_found(invocation)
    _record, fleet = served
    body, mime, variant = run(ctx, fleet, invocation)
    headers: dict[str, Any] = {"Content-Type": mime, "x-Amzn-Invoked-Production-Variant": variant}
    return 200, headers, body

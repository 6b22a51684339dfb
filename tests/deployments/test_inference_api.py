"""The tenant inference API end to end: every kind served through POST /api/v1/predict by the emulator,
equal to the same model in-process; async 202 → pending → result; each error from a real condition;
isolation whatever the request says."""

from __future__ import annotations

import io
import json
import time
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from django.test import Client

from deployments.models import AsyncInference, Deployment, Status
from deployments.services import Draft, deployment_apply, inference
from tenants.tokens import token_create
from tests.factories import make_tenant

ROWS = np.array([[12, 70, 1, 3, 12, 0], [3, 20, 0, 1, 40, 1]], dtype=np.float32)
CSV = "\n".join(",".join(format(float(v), "g") for v in row) for row in ROWS).encode()


@pytest.fixture
def apply(world: SimpleNamespace, run_worker: Any, django_capture_on_commit_callbacks: Any) -> Any:
    def run(draft: Draft) -> Deployment:
        with django_capture_on_commit_callbacks(execute=True):
            deployment = deployment_apply(actor=world.operator, draft=draft)
        run_worker()
        deployment.refresh_from_db()
        assert deployment.status == Status.IN_SERVICE, deployment.last_error
        return deployment

    return run


def bearer(tenant: Any) -> dict[str, str]:
    _token, secret = token_create(actor=None, tenant=tenant, name="tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def post(headers: dict[str, str], body: bytes = CSV, content_type: str = "text/csv", **extra: Any) -> Any:
    return Client().post("/api/v1/predict", data=body, content_type=content_type, **headers, **extra)


def scores(body: bytes) -> np.ndarray:
    return np.array([float(v) for v in body.decode().replace(",", "\n").split()])


def in_process(slug: str) -> np.ndarray:
    from emulator import artifacts

    return artifacts.train_xgboost(slug).inplace_predict(ROWS)


def test_a_silo_realtime_endpoint_answers_like_the_model_in_process(
    world: SimpleNamespace, aws: Any, package: Any, apply: Any
) -> None:
    tenant = world.tenant_a
    apply(Draft(name="A rt", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant)))
    answer = post(bearer(tenant))
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"] == "text/csv"
    np.testing.assert_allclose(scores(answer.content), in_process("alpha"), rtol=1e-6)


def test_a_serverless_endpoint_answers_and_throttles_past_max_concurrency(
    world: SimpleNamespace, aws: Any, package: Any, apply: Any, emulator_handle: Any
) -> None:
    tenant = world.tenant_a
    deployment = apply(
        Draft(
            name="A sl",
            kind="serverless",
            isolation="silo",
            tenant=tenant,
            model_package=package(tenant),
            settings={"memory_mb": 2048, "max_concurrency": 1},
        )
    )
    headers = bearer(tenant)
    np.testing.assert_allclose(scores(post(headers).content), in_process("alpha"), rtol=1e-6)
    # Hold the endpoint's one concurrency slot, as a call in flight does: the next call is throttled.
    variant = _serverless_variant(emulator_handle, deployment)
    assert variant.semaphore.acquire(blocking=False)
    try:
        answer = post(headers)
    finally:
        variant.semaphore.release()
    assert answer.status_code == 429, answer.content
    assert answer["Retry-After"] == "1"
    assert answer.json()["code"] == "throttled"


def _serverless_variant(handle: Any, deployment: Deployment) -> Any:
    _record, fleet = handle.ctx.store.serving_fleet("us-east-1", deployment.aws_name)
    return fleet.pick(None)


def test_multi_model_and_multi_container_members_get_their_own_model(
    world: SimpleNamespace, aws: Any, package: Any, apply: Any
) -> None:
    gamma = make_tenant(slug="gamma", isolation="bridge")
    delta = make_tenant(slug="delta", isolation="bridge")
    apply(
        Draft(
            name="MME",
            kind="multi_model",
            isolation="bridge",
            members=((gamma, package(gamma)), (delta, package(delta))),
        )
    )
    epsilon = make_tenant(slug="epsilon", isolation="bridge")
    zeta = make_tenant(slug="zeta", isolation="bridge")
    apply(
        Draft(
            name="MCE",
            kind="multi_container",
            isolation="bridge",
            members=((epsilon, package(epsilon, key="alpha")), (zeta, package(zeta, key="beta"))),
        )
    )
    for tenant, slug in ((gamma, "gamma"), (delta, "delta"), (epsilon, "alpha"), (zeta, "beta")):
        answer = post(bearer(tenant))
        assert answer.status_code == 200, answer.content
        np.testing.assert_allclose(scores(answer.content), in_process(slug), rtol=1e-6)


def test_a_pool_endpoint_serves_its_members_the_shared_model(
    world: SimpleNamespace, aws: Any, package: Any, apply: Any
) -> None:
    stark = make_tenant(slug="stark", isolation="pool")
    apply(
        Draft(
            name="Pool",
            kind="realtime",
            isolation="pool",
            model_package=package(None),
            members=((stark, None),),
        )
    )
    answer = post(bearer(stark))
    assert answer.status_code == 200, answer.content
    np.testing.assert_allclose(scores(answer.content), in_process("shared"), rtol=1e-6)


def test_async_answers_202_then_pending_then_the_result_and_only_to_its_tenant(
    world: SimpleNamespace, aws: Any, package: Any, apply: Any
) -> None:
    tenant = world.tenant_a
    apply(Draft(name="A async", kind="async", isolation="silo", tenant=tenant, model_package=package(tenant)))
    headers = bearer(tenant)
    accepted = post(headers)
    assert accepted.status_code == 202, accepted.content
    inference_id = accepted.json()["inference_id"]
    record = AsyncInference.objects.get(inference_id=inference_id)
    assert record.tenant == tenant
    assert record.input_location.startswith("s3://saasadmin-tests/async/alpha/input/")
    url = f"/api/v1/predictions/{inference_id}"
    answer = Client().get(url, **headers)
    for _ in range(100):
        if answer.status_code != 202:
            break
        assert answer.json()["status"] == "pending"
        time.sleep(0.05)
        answer = Client().get(url, **headers)
    assert answer.status_code == 200, answer.content
    assert answer["X-Prediction-Status"] == "completed"
    np.testing.assert_allclose(scores(answer.content), in_process("alpha"), rtol=1e-6)
    other = Client().get(url, **bearer(world.tenant_b))
    assert other.status_code == 404
    assert other.json()["code"] == "prediction_not_found"


def test_a_model_error_is_a_502_with_sagemakers_message(
    world: SimpleNamespace, aws: Any, package: Any, apply: Any
) -> None:
    tenant = world.tenant_a
    apply(Draft(name="A rt", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant)))
    answer = post(bearer(tenant), body=b"not,numbers\nat,all")
    assert answer.status_code == 502, answer.content
    assert answer.json()["code"] == "model_error"
    assert "Received client error" in answer.json()["message"]


def test_oversize_bodies_are_refused_from_the_header_and_while_streaming(
    world: SimpleNamespace, aws: Any, package: Any, apply: Any
) -> None:
    tenant = world.tenant_a
    apply(
        Draft(name="A sl", kind="serverless", isolation="silo", tenant=tenant, model_package=package(tenant))
    )
    headers = bearer(tenant)
    big = b"1," * (2 * 1024 * 1024 + 10)  # just past 4 MB
    answer = post(headers, body=big)
    assert answer.status_code == 413
    assert "4 MB" in answer.json()["message"]
    # A body longer than declared (or sent without a length) is cut off as it streams, never held whole.
    target = inference.target_resolve(tenant)
    stream, kept = io.BytesIO(big), io.BytesIO()
    with pytest.raises(inference.InferenceRefused, match="4 MB"):
        inference.body_copy(target, stream.read, kept)
    assert kept.tell() <= target.max_bytes
    assert stream.tell() == len(big)


def test_unsupported_content_type_no_deployment_and_not_in_service(
    world: SimpleNamespace, aws: Any, package: Any
) -> None:
    tenant = world.tenant_a
    headers = bearer(tenant)
    answer = post(headers)
    assert answer.status_code == 409
    assert answer.json()["code"] == "no_deployment"
    Deployment.objects.create(
        tenant=tenant,
        name="Booting",
        kind="realtime",
        isolation="silo",
        aws_name="sa-booting",
        status=Status.CREATING,
    )
    answer = post(headers)
    assert answer.status_code == 409
    assert answer.json()["code"] == "deployment_not_in_service"
    assert "Booting is creating" in answer.json()["message"]
    answer = post(headers, content_type="application/xml")
    assert answer.status_code in (409, 415)


def test_tokens_refused_are_401_and_403(world: SimpleNamespace, db: None) -> None:
    assert post({}).status_code == 401
    assert post({}).json()["code"] == "token_missing"
    assert post({"HTTP_AUTHORIZATION": "Bearer sa_00000000_nope"}).status_code == 401
    headers = bearer(world.tenant_b)
    world.tenant_b.status = "suspended"
    world.tenant_b.save()
    answer = post(headers)
    assert answer.status_code == 403
    assert answer.json()["code"] == "tenant_suspended"


def test_the_request_cannot_choose_another_tenants_target(
    world: SimpleNamespace, aws: Any, package: Any, apply: Any
) -> None:
    gamma = make_tenant(slug="gamma", isolation="bridge")
    delta = make_tenant(slug="delta", isolation="bridge")
    mme = apply(
        Draft(
            name="MME",
            kind="multi_model",
            isolation="bridge",
            members=((gamma, package(gamma)), (delta, package(delta))),
        )
    )
    delta_target = mme.members.get(tenant=delta).target
    tricks = {
        "HTTP_X_AMZN_SAGEMAKER_TARGET_MODEL": delta_target,
        "HTTP_X_AMZN_SAGEMAKER_TARGET_CONTAINER_HOSTNAME": "delta",
        "HTTP_X_TENANT": "delta",
        "HTTP_X_ENDPOINT_NAME": mme.aws_name,
    }
    query = f"?TargetModel={delta_target}&tenant=delta&EndpointName={mme.aws_name}"
    answer = Client().post(
        f"/api/v1/predict{query}", data=CSV, content_type="text/csv", **bearer(gamma), **tricks
    )
    assert answer.status_code == 200
    np.testing.assert_allclose(scores(answer.content), in_process("gamma"), rtol=1e-6)
    body = json.dumps({"TargetModel": delta_target, "instances": ROWS.tolist()}).encode()
    answer = post(bearer(gamma), body=body, content_type="application/json", **tricks)
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"] == "application/json"
    got = [item["score"] for item in answer.json()["predictions"]]
    np.testing.assert_allclose(got, in_process("gamma"), rtol=1e-6)


@pytest.fixture
def cold_emulator(aws: Any, settings: Any) -> Any:
    """An emulator whose serverless endpoints take a second to start cold (S3 is shared with the first)."""
    import emulator

    with emulator.start(port=0, cold_start_seconds=1.0, max_endpoints=1000) as handle:
        settings.EMULATOR_URL = handle.url
        yield handle


def test_a_cold_start_past_the_load_budget_is_a_503_with_retry_after(
    world: SimpleNamespace, cold_emulator: Any, package: Any, apply: Any
) -> None:
    cold_emulator.ctx.settings.model_load_budget_seconds = 0.1
    tenant = world.tenant_a
    draft = Draft(
        name="Cold", kind="serverless", isolation="silo", tenant=tenant, model_package=package(tenant)
    )
    apply(draft)
    answer = post(bearer(tenant))
    assert answer.status_code == 503, answer.content
    assert answer.json()["code"] == "model_not_ready"
    assert answer["Retry-After"] == "5"


def test_a_model_slower_than_the_read_timeout_is_a_504(
    world: SimpleNamespace, cold_emulator: Any, package: Any, apply: Any, settings: Any
) -> None:
    settings.RUNTIME_READ_TIMEOUT = 0.3
    settings.RUNTIME_MAX_ATTEMPTS = 1
    tenant = world.tenant_a
    draft = Draft(
        name="Slow", kind="serverless", isolation="silo", tenant=tenant, model_package=package(tenant)
    )
    apply(draft)
    answer = post(bearer(tenant))
    assert answer.status_code == 504, answer.content
    assert answer.json()["code"] == "model_timeout"


def test_calls_are_metered_per_tenant_and_deployment_and_the_tenants_rate_limit_is_a_429(
    world: SimpleNamespace, aws: Any, package: Any, apply: Any
) -> None:
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from deployments.models import UsageMinute
    from deployments.services.usage_flush import usage_flush
    from tenants.rate_limits import RateLimit, rate_limits_set, tier_limits_forget

    tenant = world.tenant_a
    draft = Draft(
        name="A rt", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant)
    )
    deployment = apply(draft)
    headers = bearer(tenant)
    assert [post(headers).status_code for _ in range(3)] == [200, 200, 200]
    assert post(headers, body=b"not,numbers").status_code == 502
    usage_flush(now=datetime.now(UTC) + timedelta(minutes=2))
    row = UsageMinute.objects.get(tenant=tenant, deployment=deployment)
    assert (row.invocations, row.errors_model, row.bytes_in) == (4, 1, 3 * len(CSV) + len(b"not,numbers"))
    rate_limits_set(actor=world.operator, limits={tenant.tier: RateLimit(Decimal("0.1"), 1)})
    tier_limits_forget()
    try:
        answers = [post(headers) for _ in range(3)]
    finally:
        tier_limits_forget()
    refused = answers[-1]
    assert refused.status_code == 429, refused.content
    assert refused.json()["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1

"""The API's token cache and gate: a warm request makes no database query, yet revoking a token or
suspending its tenant refuses it on the very next request (the change reaches every process through the
Redis generation, never through the process's own entries); the cache never answers with another
tenant's token; refusals are metered; async result bytes are counted when fetched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
import redis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deployments import api_gate, metering
from deployments.models import Deployment, Status, UsageMinute
from deployments.services import Draft, deployment_apply
from deployments.services.usage_flush import usage_flush
from insights.selectors import usage_period, usage_rows
from tenants import token_cache
from tenants.hot_redis import hot_redis
from tenants.models import TenantStatus, TenantToken
from tenants.rate_limits import RateLimit, rate_limits_set, tier_limits_forget
from tenants.services import tenant_transition
from tenants.token_generation import GENERATION_KEY
from tenants.tokens import token_create, token_revoke

CSV = b"12,70,1,3,12,0\n3,20,0,1,40,1"


@pytest.fixture(autouse=True)
def _no_usage() -> None:
    client = metering.metering_redis()
    for key in client.scan_iter(f"{metering.KEY_PREFIX}:*"):
        client.delete(key)


@pytest.fixture
def serving(
    world: SimpleNamespace, aws: Any, package: Any, run_worker: Any, django_capture_on_commit_callbacks: Any
) -> Any:
    """Tenant A's real-time endpoint in service (the emulator scores its model)."""
    tenant = world.tenant_a
    draft = Draft(
        name="A rt", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant)
    )
    with django_capture_on_commit_callbacks(execute=True):
        deployment = deployment_apply(actor=world.operator, draft=draft)
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    return deployment


def post(secret: str, body: bytes = CSV) -> Any:
    return Client().post(
        "/api/v1/predict", data=body, content_type="text/csv", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )


def _warm(secret: str, expected: int = 200) -> None:
    """Two requests: the first loads the token into this process's cache, the second is served from it."""
    for _ in range(2):
        answer = post(secret)
        assert answer.status_code == expected, answer.content
    assert token_cache._entries, "the token is cached"


def test_a_warm_request_makes_no_database_query(world: SimpleNamespace, serving: Deployment) -> None:
    _token, secret = token_create(actor=None, tenant=world.tenant_a, name="CI")
    _warm(secret)
    with CaptureQueriesContext(connection) as queries:
        assert post(secret).status_code == 200
    assert queries.captured_queries == []


def test_revoking_a_warm_token_refuses_its_next_request(world: SimpleNamespace, serving: Deployment) -> None:
    token, secret = token_create(actor=None, tenant=world.tenant_a, name="CI")
    _warm(secret)
    cached = dict(token_cache._entries)
    token_revoke(actor=world.admin_a, token=token)
    # The process's own entry is still there: what refuses it is the generation every process reads.
    assert token_cache._entries == cached
    answer = post(secret)
    assert (answer.status_code, answer.json()["code"]) == (401, "token_revoked")


def test_a_change_made_by_another_process_is_seen_at_once(
    world: SimpleNamespace, serving: Deployment
) -> None:
    """Another web process (or a worker) revokes: this one learns of it only through the database and
    Redis, as here — the row changed behind its back and the generation moved on."""
    token, secret = token_create(actor=None, tenant=world.tenant_a, name="CI")
    _warm(secret)
    TenantToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert post(secret).status_code == 200  # nothing told this process yet: the entry is trusted
    hot_redis().incr(GENERATION_KEY)
    assert post(secret).status_code == 401


def test_suspending_a_warm_tenant_refuses_at_once_and_resuming_serves_again(
    world: SimpleNamespace, serving: Deployment
) -> None:
    _token, secret = token_create(actor=None, tenant=world.tenant_a, name="CI")
    _warm(secret)
    tenant_transition(actor=world.operator, tenant=world.tenant_a, to=TenantStatus.SUSPENDED, reason="Unpaid")
    answer = post(secret)
    assert (answer.status_code, answer.json()["code"]) == (403, "tenant_suspended")
    tenant_transition(actor=world.operator, tenant=world.tenant_a, to=TenantStatus.ACTIVE)
    assert post(secret).status_code == 200


def test_offboarding_a_warm_tenant_refuses_its_tokens_at_once(world: SimpleNamespace) -> None:
    _token, secret = token_create(actor=None, tenant=world.tenant_a, name="CI")
    _warm(secret, expected=409)  # no deployment: the gate still confirms the token first
    tenant_transition(actor=world.operator, tenant=world.tenant_a, to=TenantStatus.OFFBOARDING)
    answer = post(secret)
    assert (answer.status_code, answer.json()["code"]) == (401, "token_revoked")


def test_a_warm_token_past_its_expiry_is_refused(world: SimpleNamespace) -> None:
    soon = timezone.now() + timedelta(minutes=5)
    _token, secret = token_create(actor=None, tenant=world.tenant_a, name="CI", expires_at=soon)
    _warm(secret, expected=409)
    with mock.patch("tenants.tokens.timezone.now", return_value=soon + timedelta(seconds=1)):
        answer = post(secret)
    assert (answer.status_code, answer.json()["code"]) == (401, "token_expired")


def test_the_cache_never_answers_with_another_tenants_token(world: SimpleNamespace) -> None:
    token_a, secret_a = token_create(actor=None, tenant=world.tenant_a, name="A")
    _token_b, secret_b = token_create(actor=None, tenant=world.tenant_b, name="B")
    _warm(secret_a, expected=409)
    _warm(secret_b, expected=409)
    # Each warm token still names its own tenant (the 409 message names the tenant that asked).
    assert "alpha" in post(secret_a).json()["message"]
    assert "beta" in post(secret_b).json()["message"]
    # A's visible prefix with B's secret part: not A's entry, not B's — a stranger, refused.
    forged = f"sa_{token_a.prefix}_{secret_b.split('_', 2)[2]}"
    assert post(forged).status_code == 401
    assert {i.token.tenant_id for i in token_cache._entries.values()} == {
        world.tenant_a.pk,
        world.tenant_b.pk,
    }
    for digest, identity in token_cache._entries.items():
        assert identity.token.secret_hash == digest


def test_without_redis_every_request_is_checked_in_the_database(world: SimpleNamespace) -> None:
    token, secret = token_create(actor=None, tenant=world.tenant_a, name="CI")
    _warm(secret, expected=409)
    down = mock.Mock(side_effect=redis.ConnectionError("down"))
    with mock.patch.object(api_gate, "_gate_script", return_value=down):
        assert post(secret).status_code == 409
        TenantToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
        assert post(secret).status_code == 401  # no generation could be read: the row is read instead


def _row(tenant: Any, deployment: Deployment) -> UsageMinute:
    usage_flush(now=datetime.now(UTC) + timedelta(minutes=2))
    return UsageMinute.objects.get(tenant=tenant, deployment=deployment)


def test_the_rate_limit_and_a_deployment_not_in_service_are_metered_as_refusals(
    world: SimpleNamespace, serving: Deployment
) -> None:
    tenant = world.tenant_a
    _token, secret = token_create(actor=None, tenant=tenant, name="CI")
    rate_limits_set(actor=world.operator, limits={tenant.tier: RateLimit(Decimal("0.01"), 2)})
    tier_limits_forget()
    try:
        statuses = [post(secret).status_code for _ in range(4)]
    finally:
        tier_limits_forget()
    assert statuses == [200, 200, 429, 429]
    Deployment.objects.filter(pk=serving.pk).update(status=Status.FAILED)
    from deployments.services.inference import targets_forget

    targets_forget()
    refused = post(secret)
    assert (refused.status_code, refused.json()["code"]) == (409, "deployment_not_in_service")
    row = _row(tenant, serving)
    # Refusals are errors, not invocations: SageMaker served two calls (the cost split divides by those).
    assert (row.invocations, row.errors_rate_limited, row.errors_not_serving) == (2, 2, 1)
    assert row.bytes_in == 2 * len(CSV)
    # The usage page counts them as errors of the requests made, not as predictions.
    start, end = usage_period("day")
    (usage,) = usage_rows(tenant=tenant, bucket="day", start=start, end=end)
    assert (usage.invocations, usage.refused, usage.requests, usage.errors) == (2, 3, 5, 3)


def test_an_async_result_is_metered_as_bytes_out_when_fetched(
    world: SimpleNamespace, aws: Any, package: Any, run_worker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    import time

    tenant = world.tenant_a
    draft = Draft(
        name="A async", kind="async", isolation="silo", tenant=tenant, model_package=package(tenant)
    )
    with django_capture_on_commit_callbacks(execute=True):
        deployment = deployment_apply(actor=world.operator, draft=draft)
    run_worker()
    _token, secret = token_create(actor=None, tenant=tenant, name="CI")
    accepted = post(secret)
    assert accepted.status_code == 202, accepted.content
    url = accepted.json()["location"]
    for _ in range(100):
        answer = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {secret}")
        if answer.status_code != 202:
            break
        time.sleep(0.05)
    assert answer.status_code == 200, answer.content
    row = _row(tenant, deployment)
    assert (row.invocations, row.bytes_in, row.bytes_out) == (1, len(CSV), len(answer.content))

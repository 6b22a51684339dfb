"""Tenant API tokens: creation, hashing, revocation and every refusal of token_authenticate."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenants.hot_redis import hot_redis
from tenants.models import AuditEvent, TenantStatus, TenantToken
from tenants.services import tenant_transition
from tenants.token_usage import LAST_USED_KEY, token_last_used_flush
from tenants.tokens import TokenRefused, token_authenticate, token_create, token_hash, token_revoke


def _refusal(header: str | None) -> TokenRefused:
    with pytest.raises(TokenRefused) as caught:
        token_authenticate(header)
    return caught.value


def test_it_creates_a_token_whose_secret_is_stored_only_hashed(world: SimpleNamespace) -> None:
    token, secret = token_create(actor=world.admin_a, tenant=world.tenant_a, name="CI pipeline")
    assert secret.startswith(f"sa_{token.prefix}_")
    assert len(secret) >= 3 + 8 + 1 + 32
    assert secret not in token.secret_hash
    assert token.secret_hash == token_hash(secret)
    event = AuditEvent.objects.get(action="token.create")
    assert event.tenant == world.tenant_a
    assert secret not in str(event.after)
    assert event.after["prefix"] == token.prefix


def test_it_authenticates_with_one_query(world: SimpleNamespace) -> None:
    token, secret = token_create(actor=world.admin_a, tenant=world.tenant_a, name="CI")
    with CaptureQueriesContext(connection) as queries:
        found = token_authenticate(f"Bearer {secret}")
        assert found.tenant.slug == "alpha"  # loaded with the token
    assert found.pk == token.pk
    assert len(queries) == 1


@pytest.mark.parametrize("header", [None, ""])
def test_it_refuses_a_missing_header(world: SimpleNamespace, header: str | None) -> None:
    refused = _refusal(header)
    assert (refused.status, refused.code) == (401, "token_missing")
    assert refused.message.endswith(".")


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer sa_", "Bearer xx_12345678_abc", "Bearer sa_1234"]
)
def test_it_refuses_a_malformed_header(world: SimpleNamespace, header: str) -> None:
    assert (_refusal(header).status, _refusal(header).code) == (401, "token_invalid")


def test_it_refuses_an_unknown_or_altered_secret(world: SimpleNamespace) -> None:
    _token, secret = token_create(actor=world.admin_a, tenant=world.tenant_a, name="CI")
    altered = secret[:-1] + ("y" if secret.endswith("x") else "x")
    assert _refusal(f"Bearer {altered}").code == "token_invalid"
    assert _refusal(f"Bearer sa_00000000_{secret.split('_', 2)[2]}").code == "token_invalid"


def test_it_refuses_a_revoked_token(world: SimpleNamespace) -> None:
    token, secret = token_create(actor=world.admin_a, tenant=world.tenant_a, name="CI")
    token_revoke(actor=world.operator, token=token)
    refused = _refusal(f"Bearer {secret}")
    assert (refused.status, refused.code) == (401, "token_revoked")
    assert AuditEvent.objects.filter(action="token.revoke", tenant=world.tenant_a).count() == 1
    with pytest.raises(ValidationError):
        token_revoke(actor=world.operator, token=token)
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_it_refuses_an_expired_token(world: SimpleNamespace) -> None:
    soon = timezone.now() + timedelta(seconds=30)
    token, secret = token_create(actor=world.admin_a, tenant=world.tenant_a, name="CI", expires_at=soon)
    assert token_authenticate(f"Bearer {secret}").pk == token.pk
    type(token).objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = _refusal(f"Bearer {secret}")
    assert (refused.status, refused.code) == (401, "token_expired")


def test_it_refuses_an_expiry_in_the_past(world: SimpleNamespace) -> None:
    with pytest.raises(ValidationError):
        token_create(
            actor=world.admin_a,
            tenant=world.tenant_a,
            name="CI",
            expires_at=timezone.now() - timedelta(days=1),
        )


def test_a_suspended_tenant_is_refused_at_once_and_back_when_resumed(world: SimpleNamespace) -> None:
    _token, secret = token_create(actor=world.admin_a, tenant=world.tenant_a, name="CI")
    tenant_transition(actor=world.operator, tenant=world.tenant_a, to=TenantStatus.SUSPENDED, reason="Unpaid")
    refused = _refusal(f"Bearer {secret}")
    assert (refused.status, refused.code) == (403, "tenant_suspended")
    assert "Alpha Corp" in refused.message
    tenant_transition(actor=world.operator, tenant=world.tenant_a, to=TenantStatus.ACTIVE)
    assert token_authenticate(f"Bearer {secret}").tenant == world.tenant_a


def test_an_offboarding_tenant_reads_as_revoked_and_gets_no_new_tokens(world: SimpleNamespace) -> None:
    _token, secret = token_create(actor=world.admin_a, tenant=world.tenant_a, name="CI")
    tenant_transition(actor=world.operator, tenant=world.tenant_a, to=TenantStatus.OFFBOARDING)
    assert (_refusal(f"Bearer {secret}").status, _refusal(f"Bearer {secret}").code) == (401, "token_revoked")
    with pytest.raises(ValidationError):
        token_create(actor=world.operator, tenant=world.tenant_a, name="late")


def test_a_token_names_its_own_tenant_only(world: SimpleNamespace) -> None:
    _a, secret_a = token_create(actor=world.admin_a, tenant=world.tenant_a, name="A")
    _b, secret_b = token_create(actor=world.admin_b, tenant=world.tenant_b, name="B")
    assert token_authenticate(f"Bearer {secret_a}").tenant == world.tenant_a
    assert token_authenticate(f"bearer  {secret_b} ").tenant == world.tenant_b


def test_offboarding_revokes_every_active_token_with_an_audit_line(world: SimpleNamespace) -> None:
    first, _ = token_create(actor=world.admin_a, tenant=world.tenant_a, name="one")
    second, _ = token_create(actor=world.admin_a, tenant=world.tenant_a, name="two")
    token_revoke(actor=world.admin_a, token=second)
    other, _ = token_create(actor=world.admin_b, tenant=world.tenant_b, name="theirs")
    tenant_transition(actor=world.operator, tenant=world.tenant_a, to=TenantStatus.OFFBOARDING)
    assert all(t.revoked_at is not None for t in TenantToken.objects.filter(tenant=world.tenant_a))
    assert TenantToken.objects.get(pk=other.pk).revoked_at is None
    lines = AuditEvent.objects.filter(action="token.revoke", tenant=world.tenant_a)
    assert lines.count() == 2
    assert lines.filter(after__reason="the tenant is being offboarded", object_id=str(first.pk)).exists()


def test_a_use_is_noted_in_redis_and_flushed_without_a_write_per_request(
    world: SimpleNamespace, no_recorded_uses: None
) -> None:
    token, secret = token_create(actor=world.admin_a, tenant=world.tenant_a, name="CI")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            token_authenticate(f"Bearer {secret}")
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)
    token.refresh_from_db()
    assert token.last_used_at is None
    assert token_last_used_flush() == 1
    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < timedelta(seconds=5)
    assert hot_redis().hlen(LAST_USED_KEY) == 0
    assert token_last_used_flush() == 0  # a repeated flush writes nothing


def test_a_flush_keeps_a_use_noted_meanwhile_and_never_moves_time_back(
    world: SimpleNamespace, no_recorded_uses: None
) -> None:
    token, _ = token_create(actor=world.admin_a, tenant=world.tenant_a, name="CI")
    later = timezone.now() + timedelta(hours=1)
    TenantToken.objects.filter(pk=token.pk).update(last_used_at=later)
    hot_redis().hset(LAST_USED_KEY, str(token.pk), f"{time.time():.3f}")
    assert token_last_used_flush() == 0
    token.refresh_from_db()
    assert token.last_used_at == later


def test_a_failed_flush_loses_no_use(world: SimpleNamespace, no_recorded_uses: None) -> None:
    _token, secret = token_create(actor=world.admin_a, tenant=world.tenant_a, name="CI")
    token_authenticate(f"Bearer {secret}")
    with (
        mock.patch.object(TenantToken.objects, "filter", side_effect=DatabaseError("down")),
        pytest.raises(DatabaseError),
    ):
        token_last_used_flush()
    assert hot_redis().hlen(LAST_USED_KEY) == 1
    assert token_last_used_flush() == 1


@pytest.mark.parametrize("prefix", ["ab\x00cd123", "ABCDEF12", "abc", "abcdef123"])
def test_a_prefix_that_is_not_eight_hex_characters_is_refused_before_any_query(
    prefix: str, db: None, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0), pytest.raises(TokenRefused) as refused:
        token_authenticate(f"Bearer sa_{prefix}_{'x' * 43}")
    assert (refused.value.status, refused.value.code) == (401, "token_invalid")

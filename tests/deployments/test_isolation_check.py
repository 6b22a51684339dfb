"""The operator's isolation check: run from the tenant page against the emulator, it records every attempt
refused or served by the tenant's own model, revokes its token, and catches a target resolution that
honours a header."""

from __future__ import annotations

import contextvars
import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from deployments import api
from deployments.services import Draft, inference, isolation
from tenants.models import AuditEvent, TenantToken
from tests.deployments.test_inference_api import apply  # noqa: F401 - the fixture
from tests.factories import make_tenant


@pytest.fixture
def shared(world: SimpleNamespace, aws: Any, package: Any, apply: Any) -> SimpleNamespace:  # noqa: F811
    """Gamma and Delta on one multi-model endpoint; Alpha on a silo real-time endpoint of its own."""
    gamma = make_tenant(slug="gamma", name="Gamma", isolation="bridge")
    delta = make_tenant(slug="delta", name="Delta", isolation="bridge")
    apply(
        Draft(
            name="MME",
            kind="multi_model",
            isolation="bridge",
            members=((gamma, package(gamma)), (delta, package(delta))),
        )
    )
    alpha = world.tenant_a
    apply(Draft(name="A rt", kind="realtime", isolation="silo", tenant=alpha, model_package=package(alpha)))
    return SimpleNamespace(gamma=gamma, delta=delta, alpha=alpha)


def _run(client: Any, world: SimpleNamespace, tenant: Any) -> AuditEvent:
    client.force_login(world.operator)
    response = client.post(reverse("tenant_isolation_check", args=[tenant.pk]))
    assert response.status_code == 302
    return AuditEvent.objects.filter(tenant=tenant, action=isolation.ACTION).get()


def _verdicts(event: AuditEvent) -> dict[str, str]:
    return {attempt["label"]: attempt["verdict"] for attempt in event.after["attempts"]}


def test_every_attempt_is_refused_or_served_by_the_own_model(
    client: Any, world: SimpleNamespace, shared: Any
) -> None:
    for tenant in (shared.gamma, shared.alpha):
        event = _run(client, world, tenant)
        verdicts = _verdicts(event)
        assert event.after["passed"], event.after["attempts"]
        assert set(verdicts.values()) <= {"refused", "own model", "not tried"}
        tried = [label for label, verdict in verdicts.items() if verdict != "not tried"]
        # Its own call, the model and endpoint names in headers, query and body, the revoked token (no other
        # tenant has a multi-container place or an asynchronous prediction here: "not tried", said so).
        assert len(tried) == 8, verdicts
        assert verdicts["The temporary token, once revoked"] == "refused"
        assert TenantToken.objects.get(tenant=tenant).revoked_at is not None
    # Gamma's tricks named Delta's model on the endpoint they share: served by Gamma's own model all the same.
    gamma = AuditEvent.objects.filter(tenant=shared.gamma, action=isolation.ACTION).get()
    smuggled = next(
        a
        for a in gamma.after["attempts"]
        if a["label"] == "X-Amzn-SageMaker-Target-Model header naming Delta’s model"
    )
    assert smuggled["status"] == 200
    assert smuggled["verdict"] == "own model"
    page = client.get(reverse("tenant_detail", args=[shared.gamma.pk])).content.decode()
    assert "Isolation check" in page
    assert "X-Amzn-SageMaker-Target-Model header naming Delta’s model" in page
    assert "ran the isolation check on Gamma" in client.get(reverse("audit_log")).content.decode()


def test_a_target_resolution_that_honours_a_header_fails_the_check(
    client: Any, world: SimpleNamespace, shared: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    current: contextvars.ContextVar[Any] = contextvars.ContextVar("request")
    tenant_of = api._identity

    def remembering(request: Any) -> Any:
        current.set(request)
        return tenant_of(request)

    def honouring(tenant: Any) -> inference.Target:
        target = inference.target_lookup(tenant)
        asked = current.get().headers.get("X-Amzn-SageMaker-Target-Model")
        return dataclasses.replace(target, target_model=asked) if asked else target

    monkeypatch.setattr(api, "_identity", remembering)
    monkeypatch.setattr(api.inference, "target_resolve", honouring)
    event = _run(client, world, shared.gamma)
    assert not event.after["passed"]
    failed = [a for a in event.after["attempts"] if a["verdict"] == "not isolated"]
    assert [a["label"] for a in failed] == ["X-Amzn-SageMaker-Target-Model header naming Delta’s model"]
    assert "1 of" in event.after["outcome"]
    assert TenantToken.objects.get(tenant=shared.gamma).revoked_at is not None


def test_the_token_is_revoked_when_an_attempt_raises(
    world: SimpleNamespace, shared: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(names: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(isolation, "tricks", broken)
    with pytest.raises(RuntimeError):
        isolation.isolation_check_run(actor=world.operator, tenant=shared.gamma)
    assert TenantToken.objects.get(tenant=shared.gamma).revoked_at is not None


def test_a_suspended_tenant_is_refused_everywhere(world: SimpleNamespace, shared: Any) -> None:
    shared.delta.status = "suspended"
    shared.delta.save()
    event = isolation.isolation_check_run(actor=world.operator, tenant=shared.delta)
    tried = [a for a in event.after["attempts"] if a["verdict"] != "not tried"]
    assert event.after["attempts"][0]["label"] == "Suspended tenant"
    assert all(a["verdict"] == "refused" for a in tried)
    assert {a["code"] for a in tried} == {"tenant_suspended", "token_revoked"}

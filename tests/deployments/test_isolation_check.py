"""The operator's isolation check: run from the tenant page against the emulator, it records every attempt
refused or served by the tenant's own model, revokes its token, and catches a target resolution that
honours a header."""

from __future__ import annotations

import contextvars
import dataclasses
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from deployments import api
from deployments.models import IsolationCheck
from deployments.services import Draft, inference, isolation
from deployments.services.isolation_runs import isolation_check_execute, isolation_check_request
from tenants.models import AuditEvent, TenantToken
from tenants.tokens import token_create
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


@pytest.fixture
def run_check(
    client: Any, world: SimpleNamespace, run_worker: Any, django_capture_on_commit_callbacks: Any
) -> Any:
    """Ask for the check on the tenant page as the operator, let the worker run it; its evidence."""

    def run(tenant: Any) -> AuditEvent:
        client.force_login(world.operator)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("tenant_isolation_check", args=[tenant.pk]))
        assert response.status_code == 302
        run_worker()
        return AuditEvent.objects.filter(tenant=tenant, action=isolation.ACTION).get()

    return run


def _verdicts(event: AuditEvent) -> dict[str, str]:
    return {attempt["label"]: attempt["verdict"] for attempt in event.after["attempts"]}


def test_every_attempt_is_refused_or_served_by_the_own_model(
    client: Any, world: SimpleNamespace, shared: Any, run_check: Any
) -> None:
    for tenant in (shared.gamma, shared.alpha):
        event = run_check(tenant)
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
    world: SimpleNamespace, shared: Any, monkeypatch: pytest.MonkeyPatch, run_check: Any
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
    event = run_check(shared.gamma)
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


def _queue(client: Any, world: SimpleNamespace, tenant: Any, callbacks: Any) -> IsolationCheck:
    client.force_login(world.operator)
    with callbacks(execute=True):
        assert client.post(reverse("tenant_isolation_check", args=[tenant.pk])).status_code == 302
    return IsolationCheck.objects.get(tenant=tenant)


def test_the_check_runs_in_the_background_and_the_page_polls_its_progress(
    client: Any,
    world: SimpleNamespace,
    shared: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    check = _queue(client, world, shared.gamma, django_capture_on_commit_callbacks)
    assert check.state == "queued"
    assert not AuditEvent.objects.filter(action=isolation.ACTION).exists()  # nothing ran in the request
    progress = reverse("tenant_isolation_progress", args=[shared.gamma.pk])
    page = client.get(reverse("tenant_detail", args=[shared.gamma.pk])).content.decode()
    assert f'hx-get="{progress}"' in page
    assert "Waiting for a worker to start the check" in page
    assert "Run the isolation check" not in page  # one check at a time
    run_worker()
    check.refresh_from_db()
    assert check.state == "done"
    assert check.event == AuditEvent.objects.get(action=isolation.ACTION, tenant=shared.gamma)
    assert len(check.attempts) == check.total == isolation.ATTEMPTS_TOTAL
    fragment = client.get(progress).content.decode()
    assert "hx-get" not in fragment  # done: the polling stops
    assert "X-Amzn-SageMaker-Target-Model header naming Delta’s model" in fragment


def test_asking_twice_and_running_twice_leave_one_check_one_token_one_event(
    client: Any,
    world: SimpleNamespace,
    shared: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = _queue(client, world, shared.gamma, django_capture_on_commit_callbacks)
    again = isolation_check_request(
        actor=world.operator, tenant=shared.gamma, host="testserver", secure=False
    )
    assert again.pk == first.pk
    run_worker()
    assert isolation_check_execute(check_id=first.pk, tenant_id=str(shared.gamma.pk)) == "nothing to do"
    assert IsolationCheck.objects.filter(tenant=shared.gamma).count() == 1
    assert TenantToken.objects.filter(tenant=shared.gamma).count() == 1
    assert AuditEvent.objects.filter(action=isolation.ACTION, tenant=shared.gamma).count() == 1


def test_a_run_killed_half_way_is_rerun_with_its_token_revoked_and_one_event(
    world: SimpleNamespace, shared: Any
) -> None:
    check = isolation_check_request(
        actor=world.operator, tenant=shared.gamma, host="testserver", secure=False
    )
    # What a worker killed mid-check leaves: the check running, its token active, some attempts saved.
    left, _secret = token_create(actor=None, tenant=shared.gamma, name=isolation.TOKEN_NAME)
    IsolationCheck.objects.filter(pk=check.pk).update(state="running", token=left, attempts=[{"label": "x"}])
    assert isolation_check_execute(check_id=check.pk, tenant_id=str(shared.gamma.pk)) == "done"
    left.refresh_from_db()
    assert left.revoked_at is not None
    assert not TenantToken.objects.filter(tenant=shared.gamma, revoked_at__isnull=True).exists()
    check.refresh_from_db()
    assert (check.state, len(check.attempts)) == ("done", isolation.ATTEMPTS_TOTAL)
    assert AuditEvent.objects.filter(action=isolation.ACTION, tenant=shared.gamma).count() == 1


def test_a_run_whose_attempt_raises_fails_with_its_token_revoked_and_can_be_asked_again(
    world: SimpleNamespace, shared: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = isolation_check_request(
        actor=world.operator, tenant=shared.gamma, host="testserver", secure=False
    )
    monkeypatch.setattr(isolation, "tricks", mock.Mock(side_effect=RuntimeError("boom")))
    assert isolation_check_execute(check_id=check.pk, tenant_id=str(shared.gamma.pk)) == "failed"
    check.refresh_from_db()
    assert check.state == "failed"
    assert "boom" in check.error
    assert TenantToken.objects.get(tenant=shared.gamma).revoked_at is not None
    assert not AuditEvent.objects.filter(action=isolation.ACTION).exists()
    again = isolation_check_request(
        actor=world.operator, tenant=shared.gamma, host="testserver", secure=False
    )
    assert again.pk != check.pk


def test_a_check_whose_job_was_lost_gives_way_after_ten_minutes(world: SimpleNamespace, shared: Any) -> None:
    stuck = isolation_check_request(
        actor=world.operator, tenant=shared.gamma, host="testserver", secure=False
    )
    IsolationCheck.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    fresh = isolation_check_request(
        actor=world.operator, tenant=shared.gamma, host="testserver", secure=False
    )
    assert fresh.pk != stuck.pk
    stuck.refresh_from_db()
    assert stuck.state == "failed"
    assert "abandoned" in stuck.error

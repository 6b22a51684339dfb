"""Suspend, resume and offboard: the transitions the status machine allows, and what offboarding ends."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from tenants import services
from tenants.models import TENANT_TRANSITIONS, AuditEvent, Tenant, TenantStatus
from tests.factories import sign_in


@pytest.fixture
def operator_client(client: Any, world: SimpleNamespace) -> Any:
    client.force_login(world.operator)
    return client


def test_it_suspends_and_resumes_with_a_reason(operator_client: Any, world: SimpleNamespace) -> None:
    tenant = world.tenant_a
    operator_client.post(reverse("tenant_suspend", args=[tenant.pk]), {"reason": "Unpaid invoice"})
    tenant.refresh_from_db()
    assert tenant.status == "suspended"
    assert tenant.status_reason == "Unpaid invoice"
    operator_client.post(reverse("tenant_resume", args=[tenant.pk]), {"reason": "Paid"})
    tenant.refresh_from_db()
    assert tenant.status == "active"
    actions = list(AuditEvent.objects.filter(tenant=tenant).values_list("action", flat=True))
    assert actions[:2] == ["tenant.active", "tenant.suspended"]


def test_a_reason_is_required(operator_client: Any, world: SimpleNamespace) -> None:
    response = operator_client.post(reverse("tenant_suspend", args=[world.tenant_a.pk]), {"reason": ""})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    world.tenant_a.refresh_from_db()
    assert world.tenant_a.status == "active"


@pytest.mark.parametrize(("current", "to"), [
    (current, to)
    for current in TenantStatus.values
    for to in TenantStatus.values
    if to not in TENANT_TRANSITIONS[current]
])  # fmt: skip
def test_the_service_refuses_every_forbidden_transition(
    world: SimpleNamespace, current: str, to: str
) -> None:
    Tenant.objects.filter(pk=world.tenant_a.pk).update(status=current)
    world.tenant_a.refresh_from_db()
    with pytest.raises(services.TransitionError):
        services.tenant_transition(actor=world.operator, tenant=world.tenant_a, to=to)
    world.tenant_a.refresh_from_db()
    assert world.tenant_a.status == current


def test_the_page_refuses_a_forbidden_transition(operator_client: Any, world: SimpleNamespace) -> None:
    url = reverse("tenant_resume", args=[world.tenant_a.pk])  # already active
    assert "cannot be activated" in operator_client.get(url).content.decode()
    response = operator_client.post(url, {"reason": "again"}, follow=True)
    assert "cannot become active" in response.content.decode()
    world.tenant_a.refresh_from_db()
    assert world.tenant_a.status == "active"


def test_a_stale_page_does_not_overwrite_a_newer_status(world: SimpleNamespace) -> None:
    stale = Tenant.objects.get(pk=world.tenant_a.pk)
    services.tenant_transition(actor=world.operator, tenant=world.tenant_a, to="suspended")
    stale.status = "active"  # what an old page believed
    with pytest.raises(services.TransitionError):
        services.tenant_transition(actor=world.operator, tenant=stale, to="suspended")


def test_offboarding_needs_the_slug_typed(operator_client: Any, world: SimpleNamespace) -> None:
    url = reverse("tenant_offboard", args=[world.tenant_a.pk])
    response = operator_client.post(url, {"reason": "Contract ended", "confirm_slug": "wrong"})
    assert "Type “alpha” exactly" in response.content.decode()
    world.tenant_a.refresh_from_db()
    assert world.tenant_a.status == "active"


def test_offboarding_disables_users_and_ends_their_sessions(
    operator_client: Any, world: SimpleNamespace, client_factory: Any
) -> None:
    member = client_factory()
    assert sign_in(member, "victor")
    assert member.get(reverse("tenant_detail", args=[world.tenant_a.pk])).status_code == 200
    url = reverse("tenant_offboard", args=[world.tenant_a.pk])
    operator_client.post(url, {"reason": "Contract ended", "confirm_slug": "alpha"})
    world.tenant_a.refresh_from_db()
    assert world.tenant_a.status == "offboarded"
    world.viewer_a.refresh_from_db()
    assert not world.viewer_a.is_active
    response = member.get(reverse("tenant_detail", args=[world.tenant_a.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not sign_in(member, "victor")
    world.viewer_b.refresh_from_db()
    assert world.viewer_b.is_active  # other tenants untouched


@pytest.fixture
def client_factory() -> Any:
    from django.test import Client

    return Client


@pytest.mark.parametrize(
    ("status", "offered", "not_offered"),
    [
        ("active", ["suspend", "offboard"], ["resume"]),
        ("suspended", ["resume", "offboard"], ["suspend"]),
        ("offboarded", [], ["resume", "suspend", "offboard"]),
    ],
)
def test_the_tenant_page_offers_the_moves_the_status_machine_allows(
    operator_client: Any, world: SimpleNamespace, status: str, offered: list[str], not_offered: list[str]
) -> None:
    Tenant.objects.filter(pk=world.tenant_a.pk).update(status=status)
    body = operator_client.get(reverse("tenant_detail", args=[world.tenant_a.pk])).content.decode()
    for action in offered:
        assert reverse(f"tenant_{action}", args=[world.tenant_a.pk]) in body
    for action in not_offered:
        assert reverse(f"tenant_{action}", args=[world.tenant_a.pk]) not in body

"""Tenant admins invite and remove the users of their own tenant."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tenants.models import AuditEvent, Invitation, Membership

User = get_user_model()


@pytest.fixture
def admin_client(client: Any, world: SimpleNamespace) -> Any:
    client.force_login(world.admin_a)
    return client


def _invite(admin_client: Any, world: SimpleNamespace, email: str = "new@alpha.example.com") -> Invitation:
    response = admin_client.post(
        reverse("tenant_users", args=[world.tenant_a.pk]), {"email": email, "role": "tenant_viewer"}
    )
    assert response.status_code == 302
    return Invitation.objects.get(email=email)


def test_an_admin_invites_a_user_who_joins_with_a_password(
    admin_client: Any, world: SimpleNamespace, client: Any
) -> None:
    invitation = _invite(admin_client, world)
    admin_client.logout()
    url = reverse("invitation_accept", args=[invitation.token])
    response = client.post(url, {"password1": "a-long-new-pass-123", "password2": "a-long-new-pass-123"})
    assert response.status_code == 302
    user = User.objects.get(username="new@alpha.example.com")
    assert user.membership.tenant == world.tenant_a
    assert user.membership.role == "tenant_viewer"
    assert client.get(url).status_code == 410  # used once
    assert AuditEvent.objects.filter(action="user.join", tenant=world.tenant_a).exists()


def test_an_invitation_refuses_weak_or_mismatched_passwords(
    admin_client: Any, world: SimpleNamespace
) -> None:
    invitation = _invite(admin_client, world)
    admin_client.logout()
    url = reverse("invitation_accept", args=[invitation.token])
    body = admin_client.post(url, {"password1": "short", "password2": "short"}).content.decode()
    assert "too short" in body
    body = admin_client.post(url, {"password1": "a-long-new-pass-123", "password2": "other"}).content.decode()
    assert "differ" in body
    assert not User.objects.filter(username="new@alpha.example.com").exists()


def test_an_invitation_cannot_reuse_an_existing_email(admin_client: Any, world: SimpleNamespace) -> None:
    response = admin_client.post(
        reverse("tenant_users", args=[world.tenant_a.pk]),
        {"email": "victor@example.com", "role": "tenant_viewer"},
    )
    assert response.status_code == 200
    assert "victor@example.com" in response.content.decode()  # kept what was typed


def test_unknown_invitation_tokens_are_404(client: Any, db: None) -> None:
    assert client.get(reverse("invitation_accept", args=["nope"])).status_code == 404


def test_an_admin_removes_a_user_of_their_tenant(admin_client: Any, world: SimpleNamespace) -> None:
    url = reverse("tenant_user_remove", args=[world.tenant_a.pk, world.viewer_a.pk])
    assert admin_client.post(url).status_code == 302
    world.viewer_a.refresh_from_db()
    assert not world.viewer_a.is_active
    assert not Membership.objects.filter(user=world.viewer_a).exists()
    assert AuditEvent.objects.get(action="user.remove").before["username"] == "victor"


def test_an_admin_cannot_remove_another_tenants_user(admin_client: Any, world: SimpleNamespace) -> None:
    url = reverse("tenant_user_remove", args=[world.tenant_a.pk, world.viewer_b.pk])
    assert admin_client.post(url).status_code == 404
    url = reverse("tenant_user_remove", args=[world.tenant_b.pk, world.viewer_b.pk])
    assert admin_client.post(url).status_code == 404
    world.viewer_b.refresh_from_db()
    assert world.viewer_b.is_active


def test_an_admin_cannot_remove_themselves(admin_client: Any, world: SimpleNamespace) -> None:
    url = reverse("tenant_user_remove", args=[world.tenant_a.pk, world.admin_a.pk])
    response = admin_client.post(url, follow=True)
    assert "cannot remove yourself" in response.content.decode()
    world.admin_a.refresh_from_db()
    assert world.admin_a.is_active


def test_a_revoked_invitation_stops_working(admin_client: Any, world: SimpleNamespace) -> None:
    invitation = _invite(admin_client, world)
    admin_client.post(reverse("invitation_revoke", args=[world.tenant_a.pk, invitation.pk]))
    admin_client.logout()
    assert admin_client.get(reverse("invitation_accept", args=[invitation.token])).status_code == 410

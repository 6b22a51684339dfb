"""Invitation links can be shown again and renewed from the users page, and a second invitation to the
same email replaces the first (issue 9 item 8)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from tenants.models import AuditEvent, Invitation

User = get_user_model()
EMAIL = "new@alpha.example.com"
PASSWORD = "a-long-new-pass-123"


@pytest.fixture
def admin_client(client: Any, world: SimpleNamespace) -> Any:
    client.force_login(world.admin_a)
    return client


def _invite(client: Any, world: SimpleNamespace, email: str = EMAIL) -> Invitation:
    response = client.post(
        reverse("tenant_users", args=[world.tenant_a.pk]), {"email": email, "role": "tenant_viewer"}
    )
    assert response.status_code == 302
    return Invitation.objects.filter(email__iexact=email).latest("created_at")


def _link(invitation: Invitation) -> str:
    return f"http://testserver{reverse('invitation_accept', args=[invitation.token])}"


def test_a_pending_invitations_link_is_shown_again_on_the_users_page(
    admin_client: Any, world: SimpleNamespace
) -> None:
    invitation = _invite(admin_client, world)
    page = admin_client.get(reverse("tenant_users", args=[world.tenant_a.pk])).content.decode()
    assert f'value="{_link(invitation)}"' in page
    assert reverse("invitation_renew", args=[world.tenant_a.pk, invitation.pk]) in page


def test_an_expired_invitation_is_sent_again_with_a_new_link(
    admin_client: Any, world: SimpleNamespace, client: Any
) -> None:
    invitation = _invite(admin_client, world)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(days=1))
    page = admin_client.get(reverse("tenant_users", args=[world.tenant_a.pk])).content.decode()
    assert "expired" in page
    assert f'value="{_link(invitation)}"' not in page  # a dead link is not offered for copying
    url = reverse("invitation_renew", args=[world.tenant_a.pk, invitation.pk])
    body = admin_client.post(url, follow=True).content.decode()
    renewed = Invitation.objects.get(email=EMAIL, revoked_at__isnull=True)
    assert renewed.pk != invitation.pk
    assert renewed.expires_at > timezone.now() + timedelta(days=6)
    assert f"New link for {EMAIL} (the old one no longer works): {_link(renewed)}" in body
    admin_client.logout()
    assert client.get(reverse("invitation_accept", args=[invitation.token])).status_code == 410
    accepted = client.post(_link(renewed), {"password1": PASSWORD, "password2": PASSWORD})
    assert accepted.status_code == 302
    assert User.objects.get(username=EMAIL).membership.tenant == world.tenant_a


def test_a_second_invitation_to_the_same_email_replaces_the_first(
    admin_client: Any, world: SimpleNamespace, client: Any
) -> None:
    first = _invite(admin_client, world)
    second = _invite(admin_client, world, email=EMAIL.upper())
    assert first.pk != second.pk
    page = admin_client.get(reverse("tenant_users", args=[world.tenant_a.pk])).content.decode()
    assert page.count(f'class="invitation-who">{EMAIL} ') == 1  # one pending invitation, the newest
    assert _link(second) in page
    assert AuditEvent.objects.filter(action="user.invite_revoke", object_id=str(first.pk)).exists()
    admin_client.logout()
    assert client.get(reverse("invitation_accept", args=[first.token])).status_code == 410
    accepted = client.post(_link(second), {"password1": PASSWORD, "password2": PASSWORD})
    assert accepted.status_code == 302


def test_renewing_another_tenants_invitation_is_a_404(admin_client: Any, world: SimpleNamespace) -> None:
    theirs = Invitation.objects.create(
        tenant=world.tenant_b, email="x@beta.example.com", role="tenant_viewer", token="beta-token",
        expires_at=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    for tenant in (world.tenant_a, world.tenant_b):
        assert admin_client.post(reverse("invitation_renew", args=[tenant.pk, theirs.pk])).status_code == 404
    assert Invitation.objects.get(pk=theirs.pk).revoked_at is None

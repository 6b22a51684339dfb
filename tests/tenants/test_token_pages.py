"""The API tokens section of the tenant page: who sees what, create (secret shown once), revoke."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from saasadmin.submissions import REPEATED
from tenants.models import AuditEvent, TenantToken
from tenants.token_usage import token_last_used_flush
from tenants.tokens import TokenRefused, token_authenticate, token_create

SECRET = re.compile(r"sa_[0-9a-f]{8}_[A-Za-z0-9_-]{32,}")
KEY = re.compile(r'name="submit_key" value="([0-9a-f-]+)"')


def _page(client: Any, tenant: Any) -> str:
    return client.get(reverse("tenant_detail", args=[tenant.pk])).content.decode()


def _create(client: Any, tenant: Any, **data: str) -> Any:
    page = _page(client, tenant)
    key = KEY.findall(page)[-1]
    return client.post(reverse("tenant_token_create", args=[tenant.pk]), {"submit_key": key, **data})


def test_a_tenant_admin_creates_a_token_and_sees_its_secret_once(client: Any, world: SimpleNamespace) -> None:
    client.force_login(world.admin_a)
    response = _create(client, world.tenant_a, name="Nightly scoring")
    assert response.status_code == 302
    assert response["Location"].endswith("#api-tokens")
    shown = _page(client, world.tenant_a)
    secret = SECRET.search(shown).group(0)
    assert "shown only this once" in shown
    assert (
        f'curl -H "Authorization: Bearer {secret}" -H "Content-Type: text/csv" '
        "--data-binary @rows.csv http://testserver/api/v1/predict"
    ) in html.unescape(shown)
    assert token_authenticate(f"Bearer {secret}").name == "Nightly scoring"
    again = _page(client, world.tenant_a)
    assert not SECRET.search(again)
    assert "Nightly scoring" in again
    assert f"sa_{secret.split('_')[1]}_…" in again


def test_a_form_sent_twice_creates_one_token(client: Any, world: SimpleNamespace) -> None:
    client.force_login(world.admin_a)
    key = KEY.findall(_page(client, world.tenant_a))[-1]
    url = reverse("tenant_token_create", args=[world.tenant_a.pk])
    first = client.post(url, {"submit_key": key, "name": "CI"})
    second = client.post(url, {"submit_key": key, "name": "CI"})
    assert (first.status_code, second.status_code) == (302, 302)
    assert TenantToken.objects.count() == 1
    assert REPEATED in client.get(second["Location"]).content.decode()


def test_the_expiry_is_the_end_of_the_chosen_day(client: Any, world: SimpleNamespace) -> None:
    client.force_login(world.admin_a)
    day = timezone.now().date() + timedelta(days=30)
    assert _create(client, world.tenant_a, name="Trial", expires_on=day.isoformat()).status_code == 302
    token = TenantToken.objects.get()
    assert token.expires_at == datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert (
        AuditEvent.objects.get(action="token.create")
        .after["expires_at"]
        .startswith((day + timedelta(days=1)).isoformat())
    )


def test_it_explains_what_to_fix(client: Any, world: SimpleNamespace) -> None:
    client.force_login(world.admin_a)
    url = reverse("tenant_token_create", args=[world.tenant_a.pk])
    body = client.post(url, {"name": ""}).content.decode()
    assert "This field is required." in body
    body = client.post(url, {"name": "x", "expires_on": (date.today() - timedelta(days=2)).isoformat()})
    assert "Choose today or a later day" in body.content.decode()
    assert not TenantToken.objects.exists()


def test_finance_and_viewers_see_the_list_without_actions(client: Any, world: SimpleNamespace) -> None:
    token_create(actor=world.admin_a, tenant=world.tenant_a, name="Nightly scoring")
    for reader in (world.viewer_a, world.finance):
        client.force_login(reader)
        page = _page(client, world.tenant_a)
        assert "Nightly scoring" in page
        assert reverse("tenant_token_create", args=[world.tenant_a.pk]) not in page
        assert "/revoke/" not in page


def test_an_operator_revokes_any_token_but_creates_none(client: Any, world: SimpleNamespace) -> None:
    token, secret = token_create(actor=world.admin_b, tenant=world.tenant_b, name="Beta job")
    client.force_login(world.operator)
    page = _page(client, world.tenant_b)
    url = reverse("tenant_token_revoke", args=[world.tenant_b.pk, token.pk])
    assert url in page
    assert reverse("tenant_token_create", args=[world.tenant_b.pk]) not in page
    assert "Revoke the API token “Beta job”?" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert "revoked" in _page(client, world.tenant_b)
    with pytest.raises(TokenRefused, match="was revoked"):
        token_authenticate(f"Bearer {secret}")
    assert AuditEvent.objects.get(action="token.revoke").actor == world.operator


def test_another_tenants_token_is_not_found(client: Any, world: SimpleNamespace) -> None:
    theirs, _ = token_create(actor=world.admin_b, tenant=world.tenant_b, name="Beta job")
    client.force_login(world.admin_a)
    for tenant in (world.tenant_a, world.tenant_b):
        url = reverse("tenant_token_revoke", args=[tenant.pk, theirs.pk])
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert TenantToken.objects.get(pk=theirs.pk).revoked_at is None


def test_the_page_shows_when_a_token_was_last_used(client: Any, world: SimpleNamespace) -> None:
    _token, secret = token_create(actor=world.admin_a, tenant=world.tenant_a, name="CI")
    client.force_login(world.admin_a)
    assert "never" in _page(client, world.tenant_a)
    token_authenticate(f"Bearer {secret}")
    token_last_used_flush()
    assert timezone.now().strftime("%-d %b %Y") in _page(client, world.tenant_a).split("CI", 1)[1]

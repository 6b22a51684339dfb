"""Hostile and malformed requests: answered with 403/404, never a 500."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import sign_in
from tests.test_access_matrix import ALL_PATTERNS, _finished_job, build_kwargs


@pytest.mark.parametrize(
    "path",
    [
        "/tenants/not-a-uuid/",
        "/tenants/00000000-0000-0000-0000-000000000000/",
        "/tenants/123e4567-e89b-12d3-a456-4266141740000/",
        "/tenants/%00/",
        "/tenants/00000000-0000-0000-0000-000000000000/users/99999999999999999999999999/remove/",
        "/tenants/00000000-0000-0000-0000-000000000000/users/-1/remove/",
        "/tenants/00000000-0000-0000-0000-000000000000/invitations/zzz/revoke/",
        "/invitations/" + "x" * 5000 + "/",
    ],
)
def test_malformed_ids_are_404(client: Any, world: SimpleNamespace, path: str) -> None:
    client.force_login(world.operator)
    assert client.get(path).status_code == 404


def test_huge_user_ids_in_real_tenant_urls_are_404(client: Any, world: SimpleNamespace) -> None:
    client.force_login(world.operator)
    path = f"/tenants/{world.tenant_a.pk}/users/{'9' * 18}/remove/"
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404


@pytest.mark.parametrize(("name", "pattern"), ALL_PATTERNS, ids=[name for name, _ in ALL_PATTERNS])
def test_every_post_without_a_csrf_token_is_refused(world: SimpleNamespace, name: str, pattern: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.operator)
    world.rq_job = _finished_job()
    response = client.post(
        reverse(name, kwargs=build_kwargs(pattern, world, world.tenant_a)), {"reason": "x"}
    )
    assert not getattr(pattern.callback, "csrf_exempt", False), f"{name} is CSRF-exempt"
    assert response.status_code in (403, 405), f"{name} answered {response.status_code}"


def test_unknown_user_and_wrong_password_get_the_same_message(client: Any, world: SimpleNamespace) -> None:
    unknown = client.post(reverse("login"), {"username": "nobody", "password": "whatever-pass"})
    wrong = client.post(reverse("login"), {"username": "olivia", "password": "whatever-pass"})
    assert unknown.status_code == wrong.status_code == 200
    assert unknown.context["form"].non_field_errors() == wrong.context["form"].non_field_errors()


def test_repeated_failures_lock_the_account_out(client: Any, world: SimpleNamespace, settings: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "olivia", "password": "bad-password"})
    assert not sign_in(client, "olivia")  # even the right password is refused now
    response = client.post(reverse("login"), {"username": "olivia", "password": "bad-password"})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()


def test_unknown_users_lock_out_the_same_way(client: Any, world: SimpleNamespace, settings: Any) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "ghost", "password": "bad-password"})
    response = client.post(reverse("login"), {"username": "ghost", "password": "bad-password"})
    assert response.status_code == 429


def test_a_user_without_a_role_sees_nothing(client: Any, db: None) -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("norole", password="x-very-long-pass")
    client.force_login(user)
    assert client.get(reverse("home")).status_code == 403
    assert client.get(reverse("tenant_list")).status_code == 403

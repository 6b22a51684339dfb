"""manage.py create_user: the first operator of a new installation."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.factories import make_tenant

User = get_user_model()


@pytest.fixture
def typed_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt: "a-long-operator-pass-42")


def test_it_creates_an_operator_who_is_staff(db: None, typed_password: None) -> None:
    call_command("create_user", "ops", "--role", "operator")
    user = User.objects.get(username="ops")
    assert user.is_staff
    assert user.membership.role == "operator"
    assert user.check_password("a-long-operator-pass-42")


def test_it_creates_a_tenant_admin_for_a_tenant(db: None, typed_password: None) -> None:
    tenant = make_tenant(slug="acme")
    call_command("create_user", "boss", "--role", "tenant_admin", "--tenant", "acme")
    user = User.objects.get(username="boss")
    assert not user.is_staff
    assert user.membership.tenant == tenant


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--role", "tenant_admin"], "need --tenant"),
        (["x", "--role", "operator", "--tenant", "acme"], "must not have one"),
        (["x", "--role", "tenant_viewer", "--tenant", "nope"], "No tenant"),
    ],
)
def test_it_refuses_bad_combinations(db: None, typed_password: None, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("create_user", *args)


def test_it_refuses_a_weak_password(db: None, monkeypatch: Any) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt: "123")
    with pytest.raises(CommandError, match="too short"):
        call_command("create_user", "ops", "--role", "operator")
    assert not User.objects.filter(username="ops").exists()

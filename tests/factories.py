"""Factories in code: a small world of tenants and users for every test."""

from __future__ import annotations

import itertools
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from tenants.models import Membership, Tenant
from tenants.roles import Role

User = get_user_model()
PASSWORD = "correct-horse-battery-staple"
_seq = itertools.count(1)


def make_tenant(**fields: Any) -> Tenant:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "name": f"Tenant {n}",
        "slug": f"tenant-{n}",
        "isolation": "silo",
        "tier": "standard",
        "plan_price": Decimal("100.00"),
        "currency": "USD",
        "contact_email": f"ops{n}@example.com",
        "status": "active",
    }
    defaults.update(fields)
    if defaults["status"] in ("active", "suspended"):  # onboarded, as tenant_transition would record
        defaults.setdefault("onboarded_at", timezone.now())
    return Tenant.objects.create(**defaults)


def make_user(role: str, tenant: Tenant | None = None, username: str | None = None, **fields: Any) -> Any:
    username = username or f"{role}-{next(_seq)}"
    user = User.objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **fields
    )
    Membership.objects.create(user=user, role=role, tenant=tenant)
    return user


def make_world() -> SimpleNamespace:
    """Two tenants (a: ours, b: theirs), vendor staff, and an admin and a viewer in each tenant."""
    a = make_tenant(name="Alpha Corp", slug="alpha")
    b = make_tenant(name="Beta Corp", slug="beta")
    return SimpleNamespace(
        tenant_a=a,
        tenant_b=b,
        operator=make_user(Role.OPERATOR, username="olivia", is_staff=True),
        finance=make_user(Role.FINANCE, username="fred"),
        admin_a=make_user(Role.TENANT_ADMIN, a, username="alice"),
        viewer_a=make_user(Role.TENANT_VIEWER, a, username="victor"),
        admin_b=make_user(Role.TENANT_ADMIN, b, username="bob"),
        viewer_b=make_user(Role.TENANT_VIEWER, b, username="bella"),
    )


def sign_in(client: Any, username: str, password: str = PASSWORD) -> bool:
    """Sign in through the login page (django-axes needs the request), True when it worked."""
    from django.urls import reverse

    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302

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


def make_fleet(deployments: int, tenants: int, *, kind: str = "") -> list[Any]:
    """`tenants` active tenants and `deployments` deployments over them, in a handful of bulk inserts.

    Every tenth deployment is a shared multi-model endpoint with five member tenants (a batch fleet,
    `kind="batch"`, has none); the others are the tenants' own real-time endpoints, or batch
    deployments. Scale tests and bench/fleet.py use it to build thousands of rows quickly.
    """
    from deployments.models import Deployment, DeploymentMember, Kind, Status

    batch = str(next(_seq))
    owners = Tenant.objects.bulk_create(
        Tenant(
            name=f"Fleet {batch}-{n}",
            slug=f"fleet-{batch}-{n}",
            isolation="silo",
            contact_email=f"ops{n}@fleet.example.com",
            status="active",
        )
        for n in range(tenants)
    )
    rows = []
    for n in range(deployments):
        shared = not kind and n % 10 == 9
        rows.append(
            Deployment(
                tenant=None if shared else owners[n % tenants],
                name=f"fleet-{batch}-{n}",
                kind=kind or (Kind.MULTI_MODEL if shared else Kind.REALTIME),
                isolation="bridge" if shared else "silo",
                status=Status.IN_SERVICE,
                observed_generation=1,  # SageMaker has caught up: reconcile leaves it alone
                aws_name=f"sa-fleet-{batch}-{n}",
            )
        )
    created = Deployment.objects.bulk_create(rows)
    DeploymentMember.objects.bulk_create(
        DeploymentMember(deployment=d, tenant=owners[(d.pk + m) % tenants], target=f"m{m}.tar.gz")
        for d in created
        if d.tenant_id is None
        for m in range(min(5, tenants))
    )
    return created

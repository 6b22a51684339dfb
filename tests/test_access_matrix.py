"""Every URL pattern × anonymous and each role × own and other tenant.

The patterns come from the URLconf itself, so a new URL cannot be left out: a pattern whose
parameters no builder here knows fails the test until it is taught how to build them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tenants.models import Invitation, Tenant
from tenants.roles import CAPABILITIES, TENANT_ROLES, Role

ROLES = [Role.OPERATOR, Role.FINANCE, Role.TENANT_ADMIN, Role.TENANT_VIEWER]
# What each URL parameter is, for a given tenant. Later issues add their objects here.
PARAM_BUILDERS: dict[str, Callable[[SimpleNamespace, Tenant], Any]] = {
    "tenant_id": lambda world, tenant: tenant.pk,
    "user_id": lambda world, tenant: (world.viewer_a if tenant == world.tenant_a else world.viewer_b).pk,
    "invitation_id": lambda world, tenant: _invitation(tenant).pk,
    "token": lambda world, tenant: _invitation(tenant).token,
}
# Views whose answer is not the plain 200 for an allowed GET.
SPECIAL_GET: dict[str, Callable[[str | None], int]] = {
    "home": lambda role: 302,  # sends each role to its start page
    "login": lambda role: 302 if role else 200,  # signed-in users are sent on
    "logout": lambda role: 405,  # POST only
}


def _invitation(tenant: Tenant) -> Invitation:
    invitation, _ = Invitation.objects.get_or_create(
        tenant=tenant,
        email=f"new@{tenant.slug}.example.com",
        defaults={
            "role": "tenant_viewer",
            "token": f"token-{tenant.slug}",
            "expires_at": timezone.now() + timedelta(days=1),
        },
    )
    return invitation


def _patterns(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[URLPattern]:
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        else:
            yield entry


ALL_PATTERNS = sorted(_patterns(), key=lambda p: p.name or "")


def test_every_pattern_is_named_and_guarded() -> None:
    for pattern in ALL_PATTERNS:
        assert pattern.name, f"unnamed URL pattern {pattern.pattern}"
        callback = pattern.callback
        capability = getattr(callback, "capability", None)
        assert capability in CAPABILITIES or getattr(callback, "public", False), (
            f"{pattern.name} is neither wrapped by requires(...) nor marked public"
        )


def _expected(pattern: URLPattern, role: str | None, own: bool) -> int:
    callback = pattern.callback
    if pattern.name in SPECIAL_GET and (role or getattr(callback, "public", False)):
        return SPECIAL_GET[pattern.name](role)
    if getattr(callback, "public", False):
        return 200
    if role is None:
        return 302
    if role not in CAPABILITIES[callback.capability]:
        return 403
    tenant_scoped = bool(set(pattern.pattern.converters) & {"tenant_id"})
    if role in TENANT_ROLES and tenant_scoped and not own:
        return 404
    return 200


CASES = [
    pytest.param(p, role, own, id=f"{p.name}-{role or 'anonymous'}-{'own' if own else 'other'}")
    for p in ALL_PATTERNS
    for role in [None, *ROLES]
    for own in (True, False)
]


@pytest.mark.parametrize(("pattern", "role", "own"), CASES)
def test_access_matrix(
    client: Any, world: SimpleNamespace, pattern: URLPattern, role: str | None, own: bool
) -> None:
    users = {
        Role.OPERATOR: world.operator,
        Role.FINANCE: world.finance,
        Role.TENANT_ADMIN: world.admin_a,
        Role.TENANT_VIEWER: world.viewer_a,
    }
    tenant = world.tenant_a if own else world.tenant_b
    missing = set(pattern.pattern.converters) - set(PARAM_BUILDERS)
    assert not missing, f"teach PARAM_BUILDERS to build {missing} for {pattern.name}"
    kwargs = {name: PARAM_BUILDERS[name](world, tenant) for name in pattern.pattern.converters}
    if role is not None:
        client.force_login(users[role])
    response = client.get(reverse(pattern.name, kwargs=kwargs))
    expected = _expected(pattern, role, own)
    assert response.status_code == expected, f"{pattern.name} as {role}: {response.status_code} != {expected}"
    if expected == 302 and role is None:
        assert response["Location"].startswith(reverse("login"))

"""The demo world `seed_demo` builds: tenants of every isolation model and status, one user per role."""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from tenants import services
from tenants.models import Membership, Tenant, TenantStatus
from tenants.roles import Role
from tenants.tokens import TokenRefused, token_authenticate, token_create

User = get_user_model()

# slug, name, isolation, tier, price, currency, final status
DEMO_TENANTS: list[tuple[str, str, str, str, str, str, str]] = [
    ("acme", "Acme Analytics", "silo", "enterprise", "4800.00", "USD", "active"),
    ("globex", "Globex Retail", "silo", "premium", "2400.00", "USD", "active"),
    ("cyberdyne", "Cyberdyne Systems", "silo", "premium", "2400.00", "USD", "active"),
    ("initech", "Initech Insurance", "bridge", "premium", "1800.00", "EUR", "active"),
    ("umbrella", "Umbrella Health", "bridge", "standard", "950.00", "EUR", "active"),
    ("hooli", "Hooli Ads", "bridge", "standard", "950.00", "USD", "active"),
    ("stark", "Stark Logistics", "pool", "standard", "450.00", "USD", "active"),
    ("wayne", "Wayne Foods", "pool", "free", "0.00", "USD", "active"),
    ("wonka", "Wonka Sweets", "pool", "standard", "450.00", "GBP", "active"),
    ("soylent", "Soylent Labs", "silo", "premium", "2400.00", "USD", "onboarding"),
    ("tyrell", "Tyrell Robotics", "pool", "standard", "450.00", "USD", "suspended"),
    ("oscorp", "Oscorp Energy", "bridge", "standard", "950.00", "USD", "offboarded"),
]
# username, role, tenant slug
DEMO_USERS: list[tuple[str, str, str | None]] = [
    ("operator", Role.OPERATOR, None),
    ("finance", Role.FINANCE, None),
    ("acme-admin", Role.TENANT_ADMIN, "acme"),
    ("acme-viewer", Role.TENANT_VIEWER, "acme"),
]
_PATH_TO_STATUS = {
    TenantStatus.ACTIVE: [TenantStatus.ACTIVE],
    TenantStatus.ONBOARDING: [],
    TenantStatus.SUSPENDED: [TenantStatus.ACTIVE, TenantStatus.SUSPENDED],
    TenantStatus.OFFBOARDED: [TenantStatus.ACTIVE, TenantStatus.OFFBOARDING, TenantStatus.OFFBOARDED],
}


def demo_credentials() -> dict[str, str]:
    """The demo users' passwords, generated once and kept in the data directory."""
    path = Path(settings.DATA_DIR) / "demo_credentials.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        if set(stored) >= {name for name, _, _ in DEMO_USERS}:
            return stored
    creds = {name: f"{name}-{secrets.token_urlsafe(6)}" for name, _, _ in DEMO_USERS}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(creds, indent=2))
    path.chmod(0o600)
    return creds


@transaction.atomic
def demo_seed() -> dict[str, Any]:
    """Create (or bring back) the demo tenants and users; running it twice changes nothing."""
    creds = demo_credentials()
    operator = _demo_user("operator", Role.OPERATOR, None, creds["operator"])
    created = 0
    for slug, name, isolation, tier, price, currency, status in DEMO_TENANTS:
        if Tenant.objects.filter(slug=slug).exists():
            continue
        tenant, _ = services.tenant_onboard(
            actor=operator,
            name=name,
            slug=slug,
            isolation=isolation,
            tier=tier,
            plan_price=Decimal(price),
            currency=currency,
            contact_email=f"ops@{slug}.example.com",
        )
        for step in _PATH_TO_STATUS[TenantStatus(status)]:
            reason = "Demo: unpaid invoice" if step == TenantStatus.SUSPENDED else ""
            services.tenant_transition(actor=operator, tenant=tenant, to=step, reason=reason)
        created += 1
    for username, role, tenant_slug in DEMO_USERS:
        member_of = Tenant.objects.get(slug=tenant_slug) if tenant_slug else None
        _demo_user(username, role, member_of, creds[username])
    return {"tenants_created": created, "credentials": creds}


def _demo_user(username: str, role: str, tenant: Tenant | None, password: str) -> Any:
    user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
    user.is_active = True
    user.is_staff = role == Role.OPERATOR  # the queue dashboard (django-rq) checks is_staff
    user.set_password(password)
    user.save()
    Membership.objects.update_or_create(user=user, defaults={"role": role, "tenant": tenant})
    return user


# The demo tenants whose software "calls the API": one token each, kept across restarts. Each is served by
# one kind (deployments/demo.py), so together they cover every kind the API serves: Acme real-time,
# Globex serverless, Cyberdyne async, Umbrella multi-model, Initech and Hooli multi-container, Stark Pool.
DEMO_TOKEN_TENANTS = ("acme", "globex", "cyberdyne", "initech", "umbrella", "hooli", "stark")
DEMO_TOKEN_NAME = "Demo traffic"  # noqa: S105 - the token's name on the page, not a secret


def _demo_tokens_path() -> Path:
    return Path(settings.DATA_DIR) / "demo_tokens.json"


def demo_tokens() -> dict[str, str]:
    """The demo API tokens (tenant slug → secret) stored beside the demo passwords; {} before seeding."""
    path = _demo_tokens_path()
    return json.loads(path.read_text()) if path.exists() else {}


def demo_tokens_seed() -> dict[str, str]:
    """Give each active demo tenant of DEMO_TOKEN_TENANTS a working API token; running it again keeps them.

    A stored secret that no longer works (a fresh database, a revoked token) is replaced by a new one.
    """
    stored, kept = demo_tokens(), {}
    for tenant in Tenant.objects.filter(slug__in=DEMO_TOKEN_TENANTS, status=TenantStatus.ACTIVE):
        secret = stored.get(tenant.slug, "")
        if not _token_of(secret, tenant):
            # The system creates it: vendor staff never hold a tenant's secrets.
            _token, secret = token_create(actor=None, tenant=tenant, name=DEMO_TOKEN_NAME)
        kept[tenant.slug] = secret
    path = _demo_tokens_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(kept, indent=2))
    path.chmod(0o600)
    return kept


def _token_of(secret: str, tenant: Tenant) -> bool:
    """Whether `secret` is an active token of `tenant`."""
    try:
        return bool(secret) and token_authenticate(f"Bearer {secret}").tenant_id == tenant.pk
    except TokenRefused:
        return False

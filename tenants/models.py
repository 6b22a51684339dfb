"""Tenants, the users' memberships and roles, invitations and the audit log."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from tenants.roles import TENANT_ROLES, Role

SLUG_RE = r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"
slug_validator = RegexValidator(
    SLUG_RE,
    "Use 1–40 lowercase letters, digits and hyphens, starting and ending with a letter or digit "
    "(the slug becomes part of S3 keys and SageMaker resource names).",
)
RESERVED_SLUGS = frozenset({"shared", "pool", "admin", "api", "static", "new"})


class Isolation(models.TextChoices):
    SILO = "silo", "Silo"
    BRIDGE = "bridge", "Bridge"
    POOL = "pool", "Pool"


class Tier(models.TextChoices):
    FREE = "free", "Free"
    STANDARD = "standard", "Standard"
    PREMIUM = "premium", "Premium"
    ENTERPRISE = "enterprise", "Enterprise"


class Currency(models.TextChoices):
    USD = "USD", "US dollar"
    EUR = "EUR", "Euro"
    GBP = "GBP", "Pound sterling"


class TenantStatus(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    OFFBOARDING = "offboarding", "Offboarding"
    OFFBOARDED = "offboarded", "Offboarded"


# The only place that says which status may follow which (tenants.services.tenant_transition applies it).
TENANT_TRANSITIONS: dict[str, frozenset[str]] = {
    TenantStatus.ONBOARDING: frozenset({TenantStatus.ACTIVE, TenantStatus.OFFBOARDING}),
    TenantStatus.ACTIVE: frozenset({TenantStatus.SUSPENDED, TenantStatus.OFFBOARDING}),
    TenantStatus.SUSPENDED: frozenset({TenantStatus.ACTIVE, TenantStatus.OFFBOARDING}),
    TenantStatus.OFFBOARDING: frozenset({TenantStatus.OFFBOARDED}),
    TenantStatus.OFFBOARDED: frozenset(),
}
# A tenant in these statuses is on its way out: no new users, deployments or model packages.
LEAVING_STATUSES = frozenset({TenantStatus.OFFBOARDING, TenantStatus.OFFBOARDED})


class Tenant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    slug = models.CharField(max_length=40, unique=True, validators=[slug_validator])
    isolation = models.CharField(max_length=10, choices=Isolation.choices, default=Isolation.POOL)
    tier = models.CharField(max_length=12, choices=Tier.choices, default=Tier.STANDARD)
    plan_price = models.DecimalField(
        "plan price per month",
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    contact_email = models.EmailField(max_length=254)
    status = models.CharField(max_length=12, choices=TenantStatus.choices, default=TenantStatus.ONBOARDING)
    status_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When onboarding finished (the first move to active); empty while the tenant is still onboarding.
    onboarded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["isolation"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return self.name

    def can_become(self, status: str) -> bool:
        return status in TENANT_TRANSITIONS[self.status]

    @property
    def is_leaving(self) -> bool:
        return self.status in LEAVING_STATUSES


class Membership(models.Model):
    """A user's role; tenant roles also name the one tenant the user belongs to."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    role = models.CharField(max_length=20, choices=Role.choices)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="membership_tenant_matches_role",
                condition=(
                    models.Q(role__in=sorted(TENANT_ROLES), tenant__isnull=False)
                    | (~models.Q(role__in=sorted(TENANT_ROLES)) & models.Q(tenant__isnull=True))
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    @property
    def is_tenant_role(self) -> bool:
        return self.role in TENANT_ROLES


class Invitation(models.Model):
    """A one-time link for a new tenant user to choose a password."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=20, choices=[(r.value, r.label) for r in Role if r in TENANT_ROLES])
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.tenant}"


class AuditEvent(models.Model):
    """One operator or tenant-admin action: who, what, on which object, when, before and after."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=60)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_repr}"

    def changes(self) -> list[tuple[str, object, object]]:
        """The fields that differ between before and after, as (field, old, new)."""
        keys = sorted(set(self.before) | set(self.after))
        pairs = [(k, self.before.get(k), self.after.get(k)) for k in keys]
        return [(k, old, new) for k, old, new in pairs if (old or None) != (new or None)]


# Defined in its own module to keep this one short; imported here so Django registers it with the app.
from tenants.models_limits import TierRateLimit  # noqa: E402, F401
from tenants.models_notices import Notice  # noqa: E402, F401
from tenants.models_tokens import TenantToken  # noqa: E402, F401

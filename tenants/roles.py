"""The role table: who may do what. Views check it; the access-matrix test reads it."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OPERATOR = "operator", "Operator"
    FINANCE = "finance", "Finance"
    TENANT_ADMIN = "tenant_admin", "Tenant admin"
    TENANT_VIEWER = "tenant_viewer", "Tenant viewer"


VENDOR_ROLES = frozenset({Role.OPERATOR, Role.FINANCE})
TENANT_ROLES = frozenset({Role.TENANT_ADMIN, Role.TENANT_VIEWER})

# capability -> the roles that have it. Tenant roles only ever reach their own tenant's objects:
# that part is enforced by the scoped lookups in tenants/access.py, not here.
CAPABILITIES: dict[str, frozenset[str]] = {
    # Any signed-in user: their own account and home page.
    "account": frozenset(Role),
    # Read tenants' commercial data (name, plan, price, status, contacts) across all tenants.
    "tenants.view_all": frozenset({Role.OPERATOR, Role.FINANCE}),
    # Read one tenant's page: vendor staff for any tenant, members for their own.
    "tenants.view": frozenset(Role),
    # Onboard, edit, suspend, resume, offboard tenants.
    "tenants.manage": frozenset({Role.OPERATOR}),
    # See and manage a tenant's users (tenant admins for their own tenant only).
    "tenant_users.manage": frozenset({Role.OPERATOR, Role.TENANT_ADMIN}),
    # Create a tenant's API tokens: its own admins only (vendor staff never hold a tenant's secrets).
    "tokens.create": frozenset({Role.TENANT_ADMIN}),
    # Revoke a tenant's API tokens: its admins, and operators for any tenant.
    "tokens.revoke": frozenset({Role.OPERATOR, Role.TENANT_ADMIN}),
    # The vendor-wide audit log.
    "audit.view_all": frozenset({Role.OPERATOR}),
    # Model internals: artifacts, deployments, AWS resources, the queue dashboard.
    "deployments.view": frozenset({Role.OPERATOR}),
    "deployments.manage": frozenset({Role.OPERATOR}),
    # A tenant's batch input and runs: its data files, its runs and their files (members: their own).
    "datasets.view": frozenset({Role.OPERATOR, Role.TENANT_ADMIN, Role.TENANT_VIEWER}),
    # Upload and delete input files, run now, stop a running job, retry a failed run.
    "datasets.manage": frozenset({Role.OPERATOR, Role.TENANT_ADMIN}),
    # Run the "prove isolation" check on a tenant's page (it makes and revokes a token of that tenant).
    "isolation.check": frozenset({Role.OPERATOR}),
    # A tenant's insight dashboards (batch results, charts, CSV downloads): its members, and operators.
    "insights.view": frozenset({Role.OPERATOR, Role.TENANT_ADMIN, Role.TENANT_VIEWER}),
    # The tenant's flagging threshold and column names: its admins.
    "insights.configure": frozenset({Role.TENANT_ADMIN}),
    # Load a run's outputs again (after a fix, or a load that stopped): the tenant's admins and operators.
    "insights.reingest": frozenset({Role.OPERATOR, Role.TENANT_ADMIN}),
    # Every tenant's costs, margins and budgets (insights): the month overview, a tenant's cost page,
    # the CSV export. Money only: no model internals, no tokens.
    "costs.view": frozenset({Role.OPERATOR, Role.FINANCE}),
    # Set budgets and the exchange rates plan prices are converted at.
    "costs.manage": frozenset({Role.OPERATOR, Role.FINANCE}),
    # Let a tenant's admins read their own cost (never the margin), or stop it.
    "costs.share": frozenset({Role.OPERATOR}),
    # A tenant's own cost, when an operator has shared it: its admins only.
    "costs.view_own": frozenset({Role.TENANT_ADMIN}),
}


def role_can(role: str | None, capability: str) -> bool:
    """Whether `role` has `capability`; an unknown capability is a programming error."""
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")
    return role is not None and role in CAPABILITIES[capability]

"""Where later apps plug into the tenant pages, so that tenants imports none of them.

Apps register in their AppConfig.ready(): a section on the tenant page or on the offboarding
confirmation page, a navigation entry, and what offboarding must do before a tenant is offboarded
(deployments tears the tenant's resources down).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from tenants.models import Tenant, TenantStatus


@dataclass(frozen=True)
class TenantSection:
    """A block of the tenant page: `context` returns the template's context, or None to hide it."""

    template: str
    capability: str
    context: Callable[[HttpRequest, Tenant], dict[str, Any] | None]


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    capability: str
    per_tenant: bool = False


TENANT_SECTIONS: list[TenantSection] = []
# Blocks of the offboarding confirmation page, shown before the operator confirms: what offboarding
# will do (deployments: the AWS resources it deletes, the shared endpoints it leaves, the cost that stops).
OFFBOARDING_SECTIONS: list[TenantSection] = []
NAVIGATION: list[NavItem] = [
    NavItem("Tenants", "tenant_list", "tenants.view_all"),
    NavItem("My organisation", "tenant_detail", "tenants.view", per_tenant=True),
    NavItem("Users", "tenant_users", "tenant_users.manage", per_tenant=True),
    NavItem("API limits", "rate_limits", "tenants.manage"),
    NavItem("Audit log", "audit_log", "audit.view_all"),
    NavItem("Queues", "django_rq:home", "deployments.manage"),
]


def _offboard_at_once(*, actor: Any, tenant: Tenant) -> None:
    from tenants.services import tenant_transition

    tenant_transition(actor=actor, tenant=tenant, to=TenantStatus.OFFBOARDED)


# Called once a tenant is `offboarding`; it must lead the tenant to `offboarded` (now or later).
offboarding_handler: list[Callable[..., Any]] = [_offboard_at_once]


# Where the operator goes once a tenant is onboarded (deployments: choose how its model is deployed).
after_onboarding: list[Callable[[Tenant], str]] = []


# The page a tenant's member lands on after signing in (insights: the tenant's dashboard); the tenant page
# when no app registers one.
tenant_landing: list[Callable[[Tenant], str]] = []


def tenant_landing_url(tenant: Tenant) -> str | None:
    return tenant_landing[-1](tenant) if tenant_landing else None


def after_onboarding_redirect(tenant: Tenant) -> str | None:
    return after_onboarding[-1](tenant) if after_onboarding else None


def offboarding_continue(*, actor: Any, tenant: Tenant) -> None:
    offboarding_handler[-1](actor=actor, tenant=tenant)


@dataclass(frozen=True)
class IdentityHold:
    """Something that carries a tenant's identity into AWS, e.g. "2 deployments": while it exists, the
    tenant fields it `pins` ("slug", "isolation") cannot change (names, tags, S3 keys and costs hold them)."""

    what: str
    pins: frozenset[str]


# Apps whose rows carry a tenant's slug or isolation (deployments: its deployments, places on shared
# endpoints, model packages) say so here; tenants.services.tenant_identity_locks reads them.
identity_holders: list[Callable[[Tenant], list[IdentityHold]]] = []


def tenant_identity_holds(tenant: Tenant) -> list[IdentityHold]:
    return [hold for holder in identity_holders for hold in holder(tenant)]

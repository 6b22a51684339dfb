"""The one access mechanism: who the user is, what they may do, and which tenants' rows they may see.

Every view is wrapped by `requires(capability)` (or marked `public`); every tenant-owned lookup goes
through `tenants_for`, `get_tenant_or_404` or `TenantScopedQuerySet.visible_to`, so another tenant's
object is a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponseBase

from tenants.models import Membership, Tenant
from tenants.roles import VENDOR_ROLES, role_can

V = TypeVar("V", bound=Callable[..., HttpResponseBase])
_CACHE_ATTR = "_saasadmin_membership"


def membership_of(user: Any) -> Membership | None:
    """The user's membership (cached on the user object), or None for anonymous or role-less users."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, _CACHE_ATTR):
        membership = Membership.objects.select_related("tenant").filter(user=user).first()
        setattr(user, _CACHE_ATTR, membership)
    return getattr(user, _CACHE_ATTR)


def remember_membership(user: Any, membership: Membership | None) -> None:
    """Keep a membership read with the user (the sign-in backend reads both in one query)."""
    setattr(user, _CACHE_ATTR, membership)


def role_of(user: Any) -> str | None:
    membership = membership_of(user)
    return membership.role if membership else None


def user_can(user: Any, capability: str) -> bool:
    return role_can(role_of(user), capability)


def requires(capability: str) -> Callable[[V], V]:
    """Decorate a view: anonymous users go to the login page, users without `capability` get a 403."""

    def decorator(view: V) -> V:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_can(request.user, capability):
                raise PermissionDenied(f"Your role cannot use this page ({capability}).")
            return view(request, *args, **kwargs)

        wrapped.capability = capability  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def public(view: V) -> V:
    """Mark a view as reachable without signing in (the access-matrix test checks every view is marked)."""
    view.public = True  # type: ignore[attr-defined]
    return view


def sees_every_tenant(user: Any) -> bool:
    """Vendor staff see every tenant (`tenants_for` is all of them)."""
    membership = membership_of(user)
    return membership is not None and membership.role in VENDOR_ROLES


def tenants_for(user: Any) -> models.QuerySet[Tenant]:
    """The tenants `user` may see: all of them for vendor staff, their own for tenant members."""
    membership = membership_of(user)
    if membership is None:
        return Tenant.objects.none()
    if sees_every_tenant(user):
        return Tenant.objects.all()
    if membership.tenant_id is None:  # the membership constraint forbids this; never widen access
        return Tenant.objects.none()
    return Tenant.objects.filter(pk=membership.tenant_id)


def get_tenant_or_404(user: Any, tenant_id: UUID | str) -> Tenant:
    membership = membership_of(user)
    # A tenant member's own tenant was read with the membership in this request: no second query.
    if (
        membership is not None
        and membership.role not in VENDOR_ROLES
        and membership.tenant is not None
        and str(membership.tenant_id) == str(tenant_id)
    ):
        return membership.tenant
    try:
        return tenants_for(user).get(pk=tenant_id)
    except (Tenant.DoesNotExist, ValueError, ValidationError):  # ValidationError: not a UUID at all
        raise Http404("No such tenant") from None


class TenantScopedQuerySet(models.QuerySet):
    """For tenant-owned models: `Model.objects.visible_to(user)` keeps only rows the user may see.

    Rows whose tenant is NULL (shared resources) are visible to vendor staff only.
    """

    tenant_field = "tenant"

    def visible_to(self, user: Any) -> TenantScopedQuerySet:
        membership = membership_of(user)
        if membership is None:
            return self.none()
        if membership.role in VENDOR_ROLES:
            return self
        return self.filter(**{f"{self.tenant_field}_id": membership.tenant_id})

    def for_tenant(self, tenant: Tenant) -> TenantScopedQuerySet:
        return self.filter(**{self.tenant_field: tenant})


def get_scoped_or_404(queryset: TenantScopedQuerySet, user: Any, **lookup: Any) -> Any:
    """Fetch one tenant-owned row the user may see, or answer 404."""
    try:
        return queryset.visible_to(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, ValidationError):
        raise Http404("Not found") from None

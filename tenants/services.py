"""Writes to tenants, their users and invitations. Every write records an audit event."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tenants import extensions
from tenants.audit import audit_record, snapshot
from tenants.audit_text import and_join
from tenants.models import (
    TENANT_TRANSITIONS,
    Invitation,
    Membership,
    Tenant,
    TenantStatus,
)
from tenants.roles import TENANT_ROLES, Role
from tenants.token_generation import tokens_changed
from tenants.tokens import tokens_revoke_all

User = get_user_model()
TENANT_FIELDS = ["name", "slug", "isolation", "tier", "plan_price", "currency", "contact_email", "status"]
INVITATION_DAYS = 7


def email_taken(email: str) -> bool:
    """Whether a user already signs in with, or is reachable at, `email`."""
    return User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists()


class TransitionError(Exception):
    """A status change the tenant's current status does not allow."""


@transaction.atomic
def tenant_onboard(
    *,
    actor: Any,
    name: str,
    slug: str,
    isolation: str,
    tier: str,
    plan_price: Decimal,
    currency: str,
    contact_email: str,
    admin_email: str = "",
) -> tuple[Tenant, Invitation | None]:
    """Create a tenant in `onboarding` and, if given, invite its first admin."""
    tenant = Tenant(
        name=name,
        slug=slug,
        isolation=isolation,
        tier=tier,
        plan_price=plan_price,
        currency=currency,
        contact_email=contact_email,
    )
    tenant.full_clean()
    tenant.save()
    audit_record(
        actor=actor, action="tenant.onboard", obj=tenant, tenant=tenant, after=snapshot(tenant, TENANT_FIELDS)
    )
    invitation = None
    if admin_email:
        invitation = invitation_create(actor=actor, tenant=tenant, email=admin_email, role="tenant_admin")
    return tenant, invitation


@transaction.atomic
def tenant_update(*, actor: Any, tenant: Tenant, **fields: Any) -> Tenant:
    """Change a tenant's editable fields (not its status: that goes through tenant_transition).

    ValidationError (field → why) when a change touches a field `tenant_identity_locks` pins.
    """
    if "status" in fields:
        raise ValueError("status changes go through tenant_transition")
    locks = tenant_identity_locks(tenant)
    refused = {
        name: locks[name]
        for name, value in fields.items()
        if name in locks and value != getattr(tenant, name)
    }
    if refused:
        raise ValidationError(refused)
    before = snapshot(tenant, TENANT_FIELDS)
    for name, value in fields.items():
        setattr(tenant, name, value)
    tenant.full_clean()
    tenant.save()
    tokens_changed()  # the API's token caches hold the tenant too (its tier sets the rate limit)
    after = snapshot(tenant, TENANT_FIELDS)
    if before != after:
        audit_record(
            actor=actor, action="tenant.update", obj=tenant, tenant=tenant, before=before, after=after
        )
    return tenant


def tenant_identity_locks(tenant: Tenant) -> dict[str, str]:
    """The identity fields (slug, isolation) that cannot change now, each with why, for form and service.

    The slug is in SageMaker names, tags, S3 keys and cost allocation; isolation decides which endpoints
    serve the tenant, so changing it under live resources is a move that needs a plan (not offered yet).
    """
    holds = extensions.tenant_identity_holds(tenant)
    locks: dict[str, str] = {}
    held = [hold.what for hold in holds if "slug" in hold.pins]
    if held:
        locks["slug"] = (
            f"The slug cannot change: {tenant.name} has {and_join(held)}, whose SageMaker names, tags, "
            f"S3 keys and cost allocation carry “{tenant.slug}”."
        )
    held = [hold.what for hold in holds if "isolation" in hold.pins]
    if held:
        locks["isolation"] = (
            f"Isolation cannot change here: {tenant.name} has {and_join(held)}, and another isolation "
            "model serves a tenant from other endpoints. That takes a planned move (what is created, moved "
            "and deleted, and the monthly cost before and after), which the console does not offer yet."
        )
    return locks


@transaction.atomic
def tenant_transition(*, actor: Any, tenant: Tenant, to: str, reason: str = "") -> Tenant:
    """Move a tenant to status `to` if TENANT_TRANSITIONS allows it, with a compare-and-set update.

    Raises TransitionError when the move is not allowed or the tenant changed under us.
    """
    current = tenant.status
    if to not in TENANT_TRANSITIONS[current]:
        now, then = TenantStatus(current).label.lower(), TenantStatus(to).label.lower()
        raise TransitionError(f"A tenant that is {now} cannot become {then}.")
    changes = {"status": to, "status_reason": reason[:500], "updated_at": timezone.now()}
    if current == TenantStatus.ONBOARDING and to == TenantStatus.ACTIVE:
        changes["onboarded_at"] = changes["updated_at"]
    updated = Tenant.objects.filter(pk=tenant.pk, status=current).update(**changes)
    if not updated:
        raise TransitionError("The tenant changed while you were looking at it; reload and try again.")
    tenant.refresh_from_db()
    tokens_changed()  # suspending blocks the tenant's tokens at once, in every web process
    audit_record(
        actor=actor,
        action=f"tenant.{to}",
        obj=tenant,
        tenant=tenant,
        before={"status": current},
        after={"status": to, "reason": reason},
    )
    if to == TenantStatus.OFFBOARDING:
        _tenant_users_disable(tenant)
        tokens_revoke_all(actor=actor, tenant=tenant, reason="the tenant is being offboarded")
    return tenant


def _tenant_users_disable(tenant: Tenant) -> None:
    """Disable every user of the tenant and end their sessions; revoke pending invitations."""
    users = User.objects.filter(membership__tenant=tenant)
    for user in users:
        user.is_active = False
        # A new password hash invalidates every existing session (Django checks the session's auth hash).
        user.set_unusable_password()
        user.save(update_fields=["is_active", "password"])
    tenant.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@transaction.atomic
def user_create(
    *, actor: Any, username: str, email: str, role: str, tenant: Tenant | None, password: str
) -> Any:
    """Create a user with a role. Operators are staff: the queue dashboard (django-rq) checks is_staff."""
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError("A user with this username already exists.")
    user = User(username=username, email=email, is_staff=role == Role.OPERATOR)
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    Membership.objects.create(user=user, role=role, tenant=tenant)
    audit_record(actor=actor, action="user.create", obj=user, tenant=tenant, after={"role": role})
    return user


@transaction.atomic
def invitation_create(*, actor: Any, tenant: Tenant, email: str, role: str) -> Invitation:
    """Invite `email` to join `tenant` with a tenant role; the link is valid for a week."""
    if role not in TENANT_ROLES:
        raise ValidationError({"role": "Choose a tenant role."})
    if tenant.is_leaving:
        raise ValidationError("An offboarded tenant cannot get new users.")
    email = User.objects.normalize_email(email).lower()
    if email_taken(email):
        raise ValidationError({"email": "A user with this email already exists."})
    _invitations_replace(actor=actor, tenant=tenant, email=email)
    invitation = Invitation.objects.create(
        tenant=tenant,
        email=email,
        role=role,
        token=secrets.token_urlsafe(32),
        invited_by=actor if getattr(actor, "pk", None) else None,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    audit_record(
        actor=actor, action="user.invite", obj=invitation, tenant=tenant, after={"email": email, "role": role}
    )
    return invitation


def _invitations_replace(*, actor: Any, tenant: Tenant, email: str) -> None:
    """A new invitation replaces the tenant's pending ones for the same email: only the newest link works,
    so a person never holds two links of which the second dead-ends once the first is used."""
    pending = tenant.invitations.select_for_update().filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    )
    for old in pending:
        Invitation.objects.filter(pk=old.pk).update(revoked_at=timezone.now())
        audit_record(
            actor=actor,
            action="user.invite_revoke",
            obj=old,
            tenant=tenant,
            after={"email": email, "reason": "replaced by a new invitation"},
        )


@transaction.atomic
def invitation_renew(*, actor: Any, invitation: Invitation) -> Invitation:
    """Send a pending invitation again: a new link, valid for another week; the old link stops working."""
    if invitation.accepted_at is not None:
        raise ValidationError(f"{invitation.email} already accepted this invitation.")
    return invitation_create(
        actor=actor, tenant=invitation.tenant, email=invitation.email, role=invitation.role
    )


def invitation_is_open(invitation: Invitation) -> bool:
    return (
        invitation.accepted_at is None
        and invitation.revoked_at is None
        and invitation.expires_at > timezone.now()
        and not invitation.tenant.is_leaving
    )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, password: str) -> Any:
    """Create the invited user with `password` and their membership; the link cannot be used again."""
    locked = Invitation.objects.select_for_update().select_related("tenant").get(pk=invitation.pk)
    if not invitation_is_open(locked):
        raise ValidationError("This invitation has expired or was already used.")
    if email_taken(locked.email):
        raise ValidationError("A user with this email already exists.")
    user = User.objects.create_user(username=locked.email, email=locked.email, password=password)
    Membership.objects.create(user=user, role=locked.role, tenant=locked.tenant)
    locked.accepted_at = timezone.now()
    locked.save(update_fields=["accepted_at"])
    audit_record(actor=user, action="user.join", obj=user, tenant=locked.tenant, after={"role": locked.role})
    return user


@transaction.atomic
def tenant_user_remove(*, actor: Any, tenant: Tenant, user: Any) -> None:
    """Take a user out of the tenant: the account is disabled and its sessions end."""
    membership = Membership.objects.get(user=user, tenant=tenant)
    before = {"username": user.get_username(), "role": membership.role, "is_active": user.is_active}
    membership.delete()
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["is_active", "password"])
    audit_record(
        actor=actor, action="user.remove", obj=user, tenant=tenant, before=before, after={"is_active": False}
    )


@transaction.atomic
def invitation_revoke(*, actor: Any, invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(
        actor=actor,
        action="user.invite_revoke",
        obj=invitation,
        tenant=invitation.tenant,
        before={"email": invitation.email, "role": invitation.role},
    )

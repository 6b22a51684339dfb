"""Offboarding: delete what a tenant alone owns, take it off shared endpoints, then mark it offboarded.

Also the way out when a delete cannot finish: an operator marks a deployment removed by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction

from deployments.models import Deployment, DeploymentMember, MemberState, Status
from deployments.services.deployments import deployment_delete
from deployments.services.joining import deployment_member_leave, member_leave_problem
from deployments.services.plans import deletion_plan
from deployments.states import event_record, transition
from tenants.audit import audit_record
from tenants.models import Tenant, TenantStatus
from tenants.services import tenant_transition


@transaction.atomic
def tenant_teardown(*, actor: Any, tenant: Tenant) -> dict[str, int]:
    """Start removing the tenant from SageMaker; it becomes `offboarded` once nothing of it is left.

    A tenant not yet offboarding is moved to offboarding first. Returns how many own deployments are
    being deleted, how many shared ones it is leaving, and how many it is held on (a multi-container
    endpoint that would be left with one container: see `member_leave_problem`); all zero means it is
    offboarded already.
    """
    if tenant.status != TenantStatus.OFFBOARDING and tenant.status != TenantStatus.OFFBOARDED:
        tenant_transition(actor=actor, tenant=tenant, to=TenantStatus.OFFBOARDING, reason="Teardown")
    own = Deployment.objects.filter(tenant=tenant).exclude(status=Status.DELETED)
    for deployment in own:
        deployment_delete(actor=actor, deployment=deployment)
    leaving, held = _memberships_leave(actor=actor, tenant=tenant, record_refusals=True)
    counts = {"deleting": len(own), "leaving": leaving, "held": held}
    tenants_offboard_if_clear(tenant_ids=[tenant.pk])
    return counts


def _memberships_leave(*, actor: Any, tenant: Tenant, record_refusals: bool) -> tuple[int, int]:
    """Take the tenant off each shared endpoint it may leave now; returns (leaving, held).

    A held membership stays until what holds it goes (another tenant joins the multi-container
    endpoint): reconcile tries again (offboardings_continue); the refusal is on the timeline once.
    """
    memberships = DeploymentMember.objects.filter(tenant=tenant).exclude(state=MemberState.LEAVING)
    leaving = held = 0
    for member in memberships.select_related("deployment"):
        problem = member_leave_problem(member.deployment, tenant)
        if problem:
            if record_refusals:
                event_record(member.deployment, action="MemberLeave", outcome="refused", error=problem)
            held += 1
            continue
        deployment_member_leave(actor=actor, deployment=member.deployment, tenant=tenant)
        leaving += 1
    return leaving, held


def offboardings_continue() -> None:
    """For every offboarding tenant, leave the shared endpoints that held it and no longer do."""
    for tenant in Tenant.objects.filter(status=TenantStatus.OFFBOARDING):
        with transaction.atomic():
            _memberships_leave(actor=None, tenant=tenant, record_refusals=False)


def tenant_remaining(tenant_id: UUID) -> int:
    """How many deployments and memberships of the tenant still exist in AWS (or are on their way out)."""
    own = Deployment.objects.filter(tenant_id=tenant_id).exclude(status=Status.DELETED).count()
    return own + DeploymentMember.objects.filter(tenant_id=tenant_id).count()


def tenants_offboard_if_clear(*, tenant_ids: Iterable[UUID | None]) -> list[Tenant]:
    """Move each offboarding tenant with nothing left in SageMaker to offboarded."""
    done = []
    for tenant in Tenant.objects.filter(pk__in=[t for t in tenant_ids if t], status=TenantStatus.OFFBOARDING):
        if tenant_remaining(tenant.pk) == 0:
            done.append(
                tenant_transition(
                    actor=None, tenant=tenant, to=TenantStatus.OFFBOARDED, reason="Teardown done"
                )
            )
    return done


def mark_removed_problem(deployment: Deployment) -> str | None:
    """Why the deployment cannot be marked removed by hand (only a failed delete can), or None."""
    if deployment.status == Status.DELETED:
        return f"{deployment.name} is deleted already."
    if not deployment.is_removed:
        return (
            f"{deployment.name} is not being deleted. Delete it first: only a deployment whose delete "
            "failed can be marked removed by hand."
        )
    if deployment.status != Status.FAILED:
        return f"{deployment.name} is being deleted: wait until the delete finishes or fails."
    return None


@transaction.atomic
def deployment_mark_removed(*, actor: Any, deployment: Deployment, reason: str) -> Deployment:
    """Record that the AWS resources of a deployment whose delete failed were removed by hand.

    The row becomes deleted without an AWS call (a resource left behind is listed by reconcile's orphan
    check, as it carries the product's tags); the reason and the resource names go to the audit log of
    every tenant concerned, whose offboarding may then finish. ValidationError when the deployment's
    delete has not failed (`mark_removed_problem`) or no reason is given.
    """
    # of=self: PostgreSQL cannot lock the nullable side of the outer join to the tenant.
    deployment = (
        Deployment.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=deployment.pk)
    )
    problem = mark_removed_problem(deployment)
    if problem:
        raise ValidationError(problem)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say how the resources were removed: the audit log keeps it."})
    resources = [f"{action.type} {action.name}" for action in deletion_plan(deployment=deployment).actions]
    members = list(deployment.members.select_related("tenant"))
    deployment.members.all().delete()
    transition(deployment, Status.DELETED, reason=f"Removed by hand: {reason}", polls=0, live_spec={})
    concerned: list[Tenant | None] = [m.tenant for m in members] or [deployment.tenant]
    for tenant in concerned:
        audit_record(
            actor=actor,
            action="deployment.mark_removed",
            obj=deployment,
            tenant=tenant,
            before={"status": Status.FAILED.value, "resources": resources},
            after={"status": Status.DELETED.value, "reason": reason},
        )
    tenants_offboard_if_clear(tenant_ids=[deployment.tenant_id, *(m.tenant_id for m in members)])
    return deployment

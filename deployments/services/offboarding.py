"""Offboarding as the operator sees it: the plan before confirming, then what is left and what holds it.

Reads only; the writes are tenant_teardown, deployment_retry and deployment_mark_removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from deployments.models import Deployment, DeploymentMember, MemberState, Status
from deployments.services.joining import member_leave_deletes, member_leave_problem, member_plan
from deployments.services.plans import Plan, deletion_plan
from tenants.models import Tenant


@dataclass(frozen=True)
class PlanPart:
    """One deployment's share of the offboarding plan."""

    deployment: Deployment
    plan: Plan


@dataclass
class OffboardingPlan:
    """What offboarding a tenant does in AWS: what goes, which shared endpoints it leaves, what stays."""

    deleted: list[PlanPart] = field(default_factory=list)  # its own, and shared ones it is the last of
    left: list[PlanPart] = field(default_factory=list)  # shared endpoints that serve on for others
    held: list[tuple[Deployment, str]] = field(default_factory=list)  # cannot leave yet, and why

    @property
    def monthly_stops(self) -> Decimal:
        """The monthly cost of what is deleted (shared endpoints left behind keep costing the same)."""
        return sum((part.plan.monthly_before for part in self.deleted), Decimal("0"))

    @property
    def is_empty(self) -> bool:
        return not (self.deleted or self.left or self.held)


def _own(tenant: Tenant) -> list[Deployment]:
    return list(Deployment.objects.filter(tenant=tenant).exclude(status=Status.DELETED).order_by("name"))


def _memberships(tenant: Tenant) -> list[DeploymentMember]:
    members = DeploymentMember.objects.filter(tenant=tenant).select_related("deployment")
    return list(members.order_by("deployment__name"))


def offboarding_plan(*, tenant: Tenant) -> OffboardingPlan:
    """The plan of offboarding `tenant` (tenant_teardown): the resources deleted, the shared endpoints
    it leaves, the ones that hold it (member_leave_problem), and the monthly cost that stops."""
    plan = OffboardingPlan([PlanPart(d, deletion_plan(deployment=d)) for d in _own(tenant)])
    for member in _memberships(tenant):
        deployment = member.deployment
        if member.state == MemberState.LEAVING or deployment.is_removed:
            continue  # on its way out already
        problem = member_leave_problem(deployment, tenant)
        if problem:
            plan.held.append((deployment, problem))
        elif member_leave_deletes(deployment=deployment):
            plan.deleted.append(PlanPart(deployment, deletion_plan(deployment=deployment)))
        else:
            leave = member_plan(deployment=deployment, tenant=tenant, model_package=None, leaving=True)
            plan.left.append(PlanPart(deployment, leave))
    return plan


@dataclass(frozen=True)
class Remaining:
    """Something of an offboarding tenant still in AWS: where it is, and whether it needs a person.

    `fixes` name what the page offers: retry (deployment_retry), mark_removed, join (another tenant
    joins the endpoint), delete (the whole endpoint).
    """

    deployment: Deployment
    why: str
    blocked: bool
    fixes: tuple[str, ...] = ()


def _being_deleted(deployment: Deployment) -> Remaining:
    """A deployment desired absent: on its way out, or stopped there by a failed delete."""
    if deployment.status == Status.FAILED:
        why = f"Its delete failed: {deployment.last_error or 'no reason was recorded'}"
        return Remaining(deployment, why, True, ("retry", "mark_removed"))
    return Remaining(deployment, "Being deleted.", False)


def _own_remaining(deployment: Deployment) -> Remaining:
    if deployment.is_removed:
        return _being_deleted(deployment)
    return Remaining(deployment, "It is not being deleted.", True, ("delete",))


def _member_remaining(member: DeploymentMember, tenant: Tenant) -> Remaining:
    deployment = member.deployment
    if deployment.is_removed:
        return _being_deleted(deployment)
    if member.state != MemberState.LEAVING:
        problem = member_leave_problem(deployment, tenant)
        if problem:
            return Remaining(deployment, problem, True, ("join", "delete"))
        return Remaining(deployment, "Leaves this endpoint at the next reconcile pass.", False)
    if deployment.status == Status.FAILED:
        why = f"The endpoint's rollout without {tenant} failed: {deployment.last_error}"
        return Remaining(deployment, why, True, ("retry",))
    return Remaining(deployment, "Leaving this shared endpoint.", False)


def offboarding_remaining(*, tenant: Tenant) -> list[Remaining]:
    """What an offboarding tenant still has in AWS; those `blocked` wait for a person's fix."""
    remaining = [_own_remaining(deployment) for deployment in _own(tenant)]
    remaining += [_member_remaining(member, tenant) for member in _memberships(tenant)]
    return remaining

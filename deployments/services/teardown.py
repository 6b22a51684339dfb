"""Offboarding: delete what a tenant alone owns, take it off shared endpoints, then mark it offboarded."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.db import transaction

from deployments.models import Deployment, DeploymentMember, MemberState, Status
from deployments.services.deployments import (
    deployment_delete,
    deployment_member_leave,
    member_leave_problem,
)
from deployments.states import event_record
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
    memberships = DeploymentMember.objects.filter(tenant=tenant).exclude(state=MemberState.LEAVING)
    shared = list(memberships.select_related("deployment"))
    held = 0
    for member in shared:
        problem = member_leave_problem(member.deployment, tenant)
        if problem:  # it stays offboarding until the operator resolves it; the timeline says how
            event_record(member.deployment, action="MemberLeave", outcome="refused", error=problem)
            held += 1
            continue
        deployment_member_leave(actor=actor, deployment=member.deployment, tenant=tenant)
    counts = {"deleting": len(own), "leaving": len(shared) - held, "held": held}
    tenants_offboard_if_clear(tenant_ids=[tenant.pk])
    return counts


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

"""Reads for the deployment pages, always scoped through `TenantScopedQuerySet.visible_to(user)`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import django_rq
from django.db.models import Count, Prefetch, Q, QuerySet
from redis.exceptions import RedisError

from deployments import pricing, resources
from deployments.models import (
    Deployment,
    DeploymentEvent,
    DeploymentMember,
    MemberState,
    ModelPackage,
    Status,
    TransformRun,
)
from deployments.queueing import QUEUE
from deployments.services.reconcile import ALERT_KEY
from deployments.states import ACTIVE, progress
from tenants.access import get_scoped_or_404
from tenants.models import Tenant


def deployment_list(
    *, user: Any, kind: str = "", status: str = "", tenant: Tenant | None = None
) -> QuerySet[Deployment]:
    """The fleet: deployments the user may see, filtered, with tenant, model and member count in one query."""
    visible = cast("QuerySet[Deployment]", Deployment.objects.visible_to(user))
    qs = visible.select_related("tenant", "model_package").annotate(
        member_count=Count("members", filter=~Q(members__state=MemberState.LEAVING))
    )
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if tenant is not None:
        qs = qs.filter(Q(tenant=tenant) | Q(members__tenant=tenant)).distinct()
    return qs.order_by("-created_at", "-id")


def deployment_status_counts(*, user: Any, kind: str = "") -> dict[str, int]:
    """Deployments per status (every status present, zeros included), in one query."""
    qs = Deployment.objects.visible_to(user)
    if kind:
        qs = qs.filter(kind=kind)
    counts = dict(qs.values_list("status").annotate(n=Count("pk")).order_by())
    return {status: counts.get(status, 0) for status in Status.values}


def deployment_get(*, user: Any, deployment_id: int) -> Deployment:
    """One deployment with its members (404 outside the user's tenants)."""
    members = Prefetch("members", DeploymentMember.objects.select_related("tenant", "model_package"))
    qs = Deployment.objects.select_related("tenant", "model_package").prefetch_related(members)
    return get_scoped_or_404(qs, user, pk=deployment_id)


def deployment_timeline(*, deployment: Deployment, limit: int = 200) -> list[DeploymentEvent]:
    """The deployment's latest `limit` events (AWS calls and state changes), oldest first."""
    latest = deployment.events.order_by("-created_at", "-id")[:limit]
    return list(reversed(latest))


@dataclass(frozen=True)
class Progress:
    """What a progress bar shows: a 0–100 figure, a phrase, and whether the page should keep polling."""

    percent: int
    phrase: str
    status: str
    moving: bool


def deployment_progress(*, deployment: Deployment) -> Progress:
    percent, phrase = progress(deployment)
    return Progress(percent, phrase, deployment.status, deployment.status in ACTIVE)


def deployment_monthly_cost(*, deployment: Deployment) -> pricing.Estimate:
    """The deployment's estimated monthly cost from the catalogue (zero once deleted)."""
    if deployment.status == Status.DELETED:
        return pricing.Estimate(Decimal("0.00"), "deleted")
    return pricing.deployment_monthly(deployment.kind, resources.values(deployment))


def model_package_list(
    *, user: Any, tenant: Tenant | None = None, include_shared: bool = True
) -> QuerySet[ModelPackage]:
    """Model packages the user may see; with `tenant`, that tenant's own (and the shared ones)."""
    qs = ModelPackage.objects.visible_to(user).select_related("tenant")
    if tenant is not None:
        qs = (
            qs.filter(Q(tenant=tenant) | Q(tenant__isnull=True))
            if include_shared
            else qs.filter(tenant=tenant)
        )
    return qs


def transform_run_list(
    *, user: Any, deployment: Deployment | None = None, tenant: Tenant | None = None
) -> QuerySet[TransformRun]:
    """Batch runs the user may see, newest first."""
    qs = TransformRun.objects.visible_to(user).select_related("tenant", "deployment")
    if deployment is not None:
        qs = qs.filter(deployment=deployment)
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    return qs


def tenant_memberships(*, user: Any, tenant: Tenant) -> QuerySet[DeploymentMember]:
    """The shared deployments serving `tenant` (its TargetModel or container), as members."""
    return (
        DeploymentMember.objects.visible_to(user)
        .filter(tenant=tenant)
        .select_related("deployment", "model_package")
    )


def reconcile_alert() -> dict[str, str] | None:
    """The reconcile alert waiting for a person ({"at", "message"}, for the fleet page), or None.

    Reconcile raises it when its picture of AWS is implausible (most of the fleet missing from the
    listing) and repairs nothing until a pass sees a plausible picture again or a person confirms.
    """
    try:
        raw = django_rq.get_connection(QUEUE).get(ALERT_KEY)
    except RedisError:
        return None
    return json.loads(raw) if raw else None

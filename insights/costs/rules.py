"""The split rule of a shared deployment: read it, set it (audited), and show what its idle policy does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from deployments.models import Deployment
from insights.costs.money import cents
from insights.models_costs import AllocationLine, CostRule, IdlePolicy, SplitBasis
from tenants.audit import audit_record

MAX_WEIGHT = Decimal(1000)


def cost_rule_for(deployment: Deployment) -> CostRule:
    """The deployment's rule (unsaved defaults when none was set: invocations, idle as overhead)."""
    found = CostRule.objects.filter(deployment=deployment).select_related("updated_by").first()
    return found or CostRule(deployment=deployment)


def _weights_checked(deployment: Deployment, basis: str, weights: dict[str, Any]) -> dict[str, float]:
    members = {str(pk) for pk in deployment.members.values_list("tenant_id", flat=True)}
    checked: dict[str, float] = {}
    for tenant_id, value in weights.items():
        if str(tenant_id) not in members:
            raise ValidationError({"weights": "A weight is for a tenant of this deployment only."})
        weight = Decimal(str(value))
        if not Decimal(0) < weight <= MAX_WEIGHT:
            raise ValidationError({"weights": f"Each weight is a number above 0 and at most {MAX_WEIGHT}."})
        checked[str(tenant_id)] = float(weight)
    return checked if basis == SplitBasis.WEIGHTS else {}


@transaction.atomic
def cost_rule_set(
    *, actor: Any, deployment: Deployment, basis: str, idle_policy: str, weights: dict[str, Any] | None = None
) -> CostRule:
    """Set how `deployment`'s cost is split from the next run on (a rerun applies it to past days)."""
    if not deployment.is_shared:
        raise ValidationError("Only a shared deployment's cost is split: a tenant's own goes all to it.")
    if basis not in SplitBasis.values or idle_policy not in IdlePolicy.values:
        raise ValidationError("Choose one of the rules offered.")
    rule = cost_rule_for(deployment)
    before = {"basis": rule.basis, "idle_policy": rule.idle_policy, "weights": rule.weights}
    rule.basis, rule.idle_policy = basis, idle_policy
    rule.weights = _weights_checked(deployment, basis, weights or {})
    rule.updated_by = actor if getattr(actor, "pk", None) else None
    rule.full_clean()
    rule.save()
    after = {"basis": rule.basis, "idle_policy": rule.idle_policy, "weights": rule.weights}
    if after != before:
        audit_record(
            actor=actor,
            action="deployment.cost_rule",
            obj=deployment,
            tenant=None,
            before=before,
            after=after,
        )
    return rule


@dataclass(frozen=True)
class MemberEffect:
    """One member's cost over the period: what it used, and with the idle spread over the members."""

    tenant_id: UUID
    used: Decimal
    with_idle_spread: Decimal


@dataclass(frozen=True)
class RuleEffect:
    """What the idle policy means for one deployment over a period, from its allocation lines."""

    first_day: date
    last_day: date
    total: Decimal
    idle: Decimal
    members: list[MemberEffect]

    @property
    def idle_share(self) -> Decimal:
        return (self.idle / self.total * 100).quantize(Decimal("0.1")) if self.total else Decimal(0)


def cost_rule_effect(deployment: Deployment, last_day: date, days: int = 30) -> RuleEffect:
    """The last `days` days up to `last_day`: the idle cost, and each member's cost kept apart from it or
    with it spread in proportion to what each paid for use (one query)."""
    first_day = last_day - timedelta(days=days - 1)
    rows = (
        AllocationLine.objects.filter(deployment=deployment, day__gte=first_day, day__lte=last_day)
        .values("tenant_id", "is_idle")
        .annotate(total=Sum("billed_cost"))
        .order_by()
    )
    used: dict[UUID, Decimal] = {}
    idle = Decimal(0)
    for row in rows:
        if row["is_idle"]:
            idle += row["total"]
        if row["tenant_id"] is not None and not row["is_idle"]:
            used[row["tenant_id"]] = used.get(row["tenant_id"], Decimal(0)) + row["total"]
    paid = sum(used.values(), Decimal(0))
    members = [
        MemberEffect(tenant_id, amount, cents(amount + (idle * amount / paid if paid else Decimal(0))))
        for tenant_id, amount in sorted(used.items(), key=lambda item: -item[1])
    ]
    return RuleEffect(first_day, last_day, paid + idle, idle, members)

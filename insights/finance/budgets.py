"""Monthly budgets per tenant or per tier, and the notices raised when a running month heads past them.

`budgets_check` projects the running month from the days allocated so far; a tenant whose projection
reaches 80 % or 100 % of its budget gets a notice for that threshold, once per month (a unique
constraint: the cron may run it any number of times, and two at once, and still raise each notice once).
Each notice then reaches every finance and operator user through the product's notices (the bell with
its unread count, `/notices/`, an email): once per user, keyed by the notice, however often the check runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Max, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from insights.finance.months import Month, current_month, today_utc
from insights.finance.rates import cents
from insights.models_costs import AllocationLine
from insights.models_finance import Budget, BudgetNotice
from tenants.formatting import money_text as money
from tenants.models import Tenant
from tenants.notices import notice_send
from tenants.roles import VENDOR_ROLES

log = logging.getLogger(__name__)
THRESHOLDS = (80, 100)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Budgets:
    """Every budget, loaded in one query: a tenant's own, else its tier's."""

    by_tenant: dict[Any, Decimal]
    by_tier: dict[str, Decimal]

    def for_tenant(self, tenant_id: Any, tier: str) -> Decimal | None:
        return self.by_tenant.get(tenant_id, self.by_tier.get(tier))

    def source(self, tenant_id: Any, tier: str) -> str:
        if tenant_id in self.by_tenant:
            return "tenant"
        return tier if tier in self.by_tier else ""


def budgets_load() -> Budgets:
    by_tenant: dict[Any, Decimal] = {}
    by_tier: dict[str, Decimal] = {}
    for tenant_id, tier, monthly in Budget.objects.values_list("tenant_id", "tier", "monthly"):
        if tenant_id is not None:
            by_tenant[tenant_id] = monthly
        else:
            by_tier[tier] = monthly
    return Budgets(by_tenant, by_tier)


def budget_for(tenant: Tenant) -> tuple[Decimal | None, bool]:
    """The tenant's monthly budget and whether it is its own (else its tier's), in one query."""
    found: dict[Any, Decimal] = dict(
        Budget.objects.filter(Q(tenant=tenant) | Q(tenant=None, tier=tenant.tier)).values_list(
            "tenant_id", "monthly"
        )
    )
    if tenant.pk in found:
        return found[tenant.pk], True
    return found.get(None), False


def _projection(spent: Decimal, month: Month, counted: int) -> Decimal:
    if counted <= 0 or counted >= month.days:
        return spent
    return (spent / counted * month.days).quantize(CENT, ROUND_HALF_UP)


def budgets_check(*, today: date | None = None) -> list[BudgetNotice]:
    """Raise the running month's new budget notices (none twice); returns those raised now."""
    today = today or today_utc()
    month = current_month(today)
    budgets = budgets_load()
    if not budgets.by_tenant and not budgets.by_tier:
        return []
    lines = AllocationLine.objects.filter(day__gte=month.start, day__lt=month.end)
    last_day = lines.aggregate(last=Max("day"))["last"]
    if last_day is None:
        return []
    counted = (last_day - month.start).days + 1
    sums = lines.filter(tenant__isnull=False).values_list("tenant_id").annotate(s=Sum("billed_cost"))
    spent = {tenant_id: cents(total) for tenant_id, total in sums.order_by()}
    tiers = dict(Tenant.objects.filter(pk__in=list(spent)).values_list("pk", "tier"))
    notices = []
    for tenant_id, cost in spent.items():
        budget = budgets.for_tenant(tenant_id, tiers.get(tenant_id, ""))
        if not budget:
            continue
        projected = _projection(cost, month, counted)
        for threshold in THRESHOLDS:
            if projected * 100 >= budget * threshold:
                notices.append(
                    BudgetNotice(
                        tenant_id=tenant_id,
                        month=month.start,
                        threshold=threshold,
                        budget=budget,
                        budget_source=budgets.source(tenant_id, tiers.get(tenant_id, "")),
                        spent=cost,
                        projected=projected,
                        days_counted=counted,
                    )
                )
    fresh = _raise_new(notices, month)
    notices_tell(month)
    return fresh


def _raise_new(notices: list[BudgetNotice], month: Month) -> list[BudgetNotice]:
    """Insert the notices not raised yet this month; those already there stay as first raised."""
    if not notices:
        return []
    before = set(BudgetNotice.objects.filter(month=month.start).values_list("tenant_id", "threshold"))
    BudgetNotice.objects.bulk_create(notices, ignore_conflicts=True)
    fresh = [n for n in notices if (n.tenant_id, n.threshold) not in before]
    for notice in fresh:
        log.info(
            "budget notice: tenant %s projected past %s%% in %s",
            notice.tenant_id,
            notice.threshold,
            month.key,
        )
    return fresh


def _staff() -> QuerySet[Any]:
    """Who hears about budgets: the vendor's finance and operator users (active)."""
    return get_user_model().objects.filter(is_active=True, membership__role__in=VENDOR_ROLES).distinct()


def notices_tell(month: Month) -> int:
    """Tell finance and operators about the month's budget notices not told yet; returns how many users
    were told now. A notice's key names it, so a user hears of it once even when two checks overlap."""
    told = 0
    pending = BudgetNotice.objects.filter(month=month.start, notified_at__isnull=True).select_related(
        "tenant"
    )
    staff = list(_staff()) if pending else []
    for notice in pending:
        tenant = notice.tenant
        told += notice_send(
            users=staff,
            tenant=tenant,
            key=f"budget:{tenant.pk}:{month.key}:{notice.threshold}",
            level="error" if notice.threshold >= 100 else "info",
            title=f"{tenant.name} is heading past {notice.threshold} % of its budget in {month.label}",
            body=(
                f"{tenant.name} has cost {money(notice.spent)} in the first {notice.days_counted} days of "
                f"{month.label}: {money(notice.projected)} projected over the month, against a monthly "
                f"budget of {money(notice.budget)} ({_source(notice)})."
            ),
            url=f"{reverse('cost_tenant', args=[tenant.pk])}?month={month.key}",
        )
        BudgetNotice.objects.filter(pk=notice.pk).update(notified_at=timezone.now())
    return told


def _source(notice: BudgetNotice) -> str:
    if notice.budget_source == "tenant":
        return "its own"
    return f"the {notice.budget_source} tier's"


def notices_for(month: Month) -> list[BudgetNotice]:
    """The month's notices with their tenants (one query): each tenant's highest threshold, highest first."""
    found: dict[object, BudgetNotice] = {}
    for notice in (
        BudgetNotice.objects.filter(month=month.start)
        .select_related("tenant")
        .order_by("-threshold", "-projected")
    ):
        found.setdefault(notice.tenant_id, notice)
    return list(found.values())

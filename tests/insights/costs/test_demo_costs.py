"""The demo's costs come from a simulated history through the ledger and allocation, never written."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum

from deployments.demo import DEMO_DEPLOYMENTS
from insights import demo_costs
from insights.costs.runs import costs_run
from insights.demo_costs import demo_costs_history, history_start
from insights.models_costs import AllocationLine, LedgerLine
from tenants.models import Tenant
from tests.insights.costs.world import endpoint, prices

pytestmark = pytest.mark.django_db
TODAY = date(2026, 4, 16)


@pytest.fixture
def demo_fleet(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The demo tenants, and the demo fleet's rows as seed_deployments declares them (no AWS)."""
    from tenants.demo import demo_seed

    monkeypatch.setattr(demo_costs, "MONTHS", 2)  # two months keep the test quick; the seed does twelve
    demo_seed()
    prices(date(2025, 1, 1))
    tenants = {t.slug: t for t in Tenant.objects.all()}
    fleet = {}
    for name, kind, isolation, owner, _key, settings, members in DEMO_DEPLOYMENTS:
        deployment = endpoint(
            kind, tenant=tenants.get(owner or ""), isolation=isolation, settings=settings, name=name
        )
        for slug, _ in members:
            deployment.members.create(tenant=tenants[slug], target=f"{slug}.tar.gz")
        fleet[name] = deployment
    return fleet


def test_the_demo_year_is_computed_by_the_ledger_and_adds_up(demo_fleet: dict[str, Any]) -> None:
    written = demo_costs_history(TODAY)
    assert written["usage_rows"] > 1000
    assert LedgerLine.objects.count() == AllocationLine.objects.count() == 0  # no cost row is written
    first, last = history_start(TODAY), TODAY - timedelta(days=1)
    assert first == date(2026, 3, 1)
    costs_run(first, last, trigger="demo", today=TODAY)
    day = first
    while day <= last:
        ledger = LedgerLine.objects.filter(day=day).aggregate(t=Sum("billed_cost"))["t"]
        allocated = AllocationLine.objects.filter(day=day).aggregate(t=Sum("billed_cost"))["t"]
        assert Decimal(str(ledger)).quantize(Decimal("0.01")) == Decimal(str(allocated)).quantize(
            Decimal("0.01")
        )
        day += timedelta(days=1)
    shared = demo_fleet["Bridge multi-model"]
    assert AllocationLine.objects.filter(deployment=shared, is_idle=True, tenant=None).exists()  # idle shown
    assert AllocationLine.objects.filter(deployment=demo_fleet["Bridge multi-container"], is_idle=True)
    assert not AllocationLine.objects.filter(deployment=demo_fleet["Bridge multi-container"], tenant=None)
    payers = set(
        AllocationLine.objects.filter(deployment=shared, is_idle=False).values_list("tenant__slug", flat=True)
    )
    assert {"initech", "umbrella"} <= payers


def test_a_second_seed_adds_nothing(demo_fleet: dict[str, Any]) -> None:
    assert demo_costs_history(TODAY)
    assert demo_costs_history(TODAY) == {}

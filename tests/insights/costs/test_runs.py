"""Reruns replace, never double; a run that dies half-way leaves the previous result as it was."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from django.urls import reverse

from insights.costs import runs
from insights.costs.runs import RangeError, costs_previous_day, costs_run
from insights.models_costs import AllocationLine, AllocationRun, LedgerLine
from tenants.roles import Role
from tests.factories import make_user
from tests.insights.costs.world import DAY, at, billed, endpoint, live, prices, reconciles, tenants, then

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_endpoint() -> object:
    prices(then(DAY, -30))
    (acme,) = tenants("acme")
    deployment = endpoint(tenant=acme)
    live(deployment, at(then(DAY, -5)), instance_type="ml.m5.large", instance_count=1)
    return deployment


def _snapshot() -> list[tuple]:
    return list(AllocationLine.objects.order_by("id").values_list("id", "day", "tenant_id", "billed_cost"))


def test_a_rerun_replaces_the_range_and_never_doubles(acme_endpoint: object) -> None:
    costs_run(then(DAY, -2), DAY)
    costs_run(then(DAY, -1), DAY)
    costs_run(then(DAY, -2), DAY)
    assert LedgerLine.objects.count() == AllocationLine.objects.count() == 3
    assert all(billed(then(DAY, -n)) == {"acme": D("2.40")} for n in range(3))
    assert list(AllocationRun.objects.values_list("status", flat=True)) == ["completed"] * 3


def test_a_rerun_of_part_of_a_range_leaves_the_other_days_alone(acme_endpoint: object) -> None:
    costs_run(then(DAY, -2), DAY)
    before = set(AllocationLine.objects.filter(day=then(DAY, -2)).values_list("id", flat=True))
    costs_run(DAY, DAY)
    assert set(AllocationLine.objects.filter(day=then(DAY, -2)).values_list("id", flat=True)) == before


def test_a_run_dying_half_way_leaves_the_previous_result(
    acme_endpoint: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    costs_run(then(DAY, -2), DAY)
    previous = _snapshot()
    real = runs.allocate_day
    calls = []

    def dies_on_the_second_day(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(runs, "allocate_day", dies_on_the_second_day)
    with pytest.raises(RuntimeError):
        costs_run(then(DAY, -2), DAY)
    assert _snapshot() == previous
    assert LedgerLine.objects.count() == 3
    failed = AllocationRun.objects.first()
    assert (failed.status, failed.error) == ("failed", "worker killed")
    assert all(reconciles(then(DAY, -n)) for n in range(3))


def test_the_daily_run_computes_yesterday(acme_endpoint: object) -> None:
    run = costs_previous_day(today=then(DAY, 1))
    assert (run.first_day, run.last_day, run.trigger, run.total) == (DAY, DAY, "cron", D("2.40"))


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (DAY, then(DAY, -1), "ends"),
        (DAY, then(DAY, 1), "past days"),
        (then(DAY, -500), then(DAY, -1), "at most"),
    ],
)
def test_a_range_that_cannot_run_says_why(first: object, last: object, message: str) -> None:
    with pytest.raises(RangeError, match=message):
        costs_run(first, last, today=then(DAY, 1))
    assert not AllocationRun.objects.exists()


def test_the_tenant_cost_page_shows_a_rerun_at_once(acme_endpoint: Any, client: Any) -> None:
    """The page keeps a month's figures per lines version: a rerun that changes them shows on the very
    next view, although nothing else about the tenant changed."""
    costs_run(then(DAY, -2), DAY)
    client.force_login(make_user(Role.FINANCE))
    url = reverse("cost_tenant", args=[acme_endpoint.tenant_id]) + "?month=2026-03"
    assert client.get(url).context["cost"].total == D("7.20")
    page = client.get(url)  # its figures and its body kept, the same
    assert page.context["cost"].total == D("7.20")
    assert "$7.20" in page.content.decode()
    prices(then(DAY, -1), large="0.20")  # the price doubles from the day before DAY, and they are run again
    costs_run(then(DAY, -2), DAY)
    page = client.get(url)
    assert page.context["cost"].total == D("12.00")
    assert "$12.00" in page.content.decode()
    assert "$7.20" not in page.content.decode()

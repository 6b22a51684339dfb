"""The daily job, catching up missed days, and the running month's projection."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import django_rq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from insights import tasks
from insights.costs.projection import month_projection
from insights.costs.runs import costs_run
from insights.models_costs import AllocationRun, LedgerLine
from tests.insights.costs.world import at, endpoint, live, prices, tenants

pytestmark = pytest.mark.django_db
MARCH = date(2026, 3, 1)


@pytest.fixture
def acme() -> object:
    prices(date(2026, 1, 1))
    (tenant,) = tenants("acme")
    deployment = endpoint(tenant=tenant)
    live(deployment, at(date(2026, 2, 20)), instance_type="ml.m5.large", instance_count=1)
    return tenant


def test_the_cron_config_registers_the_daily_costs_and_capacity_sampling() -> None:
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=django_rq.get_connection("default"))
    scheduler.load_config_from_file("saasadmin.cron")
    jobs = {job.name: job for job in scheduler.get_jobs()}
    assert jobs["costs-daily"].cron == "30 0 * * *"
    assert jobs["capacity-sample"].interval == 300


def test_the_daily_job_computes_yesterday_and_catches_up_missed_days(
    acme: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "storage_sample", lambda day: 0)
    monkeypatch.setattr(tasks, "aws_costs_fetch", lambda first, last: 0)
    monkeypatch.setattr(tasks.timezone, "now", lambda: at(date(2026, 3, 5), 0, 30))
    costs_run(date(2026, 3, 1), date(2026, 3, 1))
    tasks.costs_daily()  # the cron was down on the 2nd and 3rd: they are computed with the 4th
    run = AllocationRun.objects.first()
    assert (run.first_day, run.last_day, run.trigger) == (date(2026, 3, 2), date(2026, 3, 4), "cron")
    tasks.costs_daily()  # twice the same day: the same lines, not twice as many
    assert LedgerLine.objects.count() == 4


def test_the_running_month_is_projected_from_the_days_so_far(acme: object) -> None:
    """10 days at $2.40 = $24.00 so far; at that rate March's 31 days make $74.40."""
    costs_run(date(2026, 3, 1), date(2026, 3, 10))
    found = month_projection(MARCH, today=date(2026, 3, 11))
    assert found[acme.pk].so_far == D("24.00")
    assert found[acme.pk].projected == D("74.40")
    assert (found["total"].days_counted, found["total"].days_in_month) == (10, 31)


def test_a_past_month_projects_what_it_cost(acme: object) -> None:
    costs_run(date(2026, 2, 20), date(2026, 2, 28))
    found = month_projection(date(2026, 2, 1), today=date(2026, 3, 11))
    assert found[acme.pk].so_far == found[acme.pk].projected == D("21.60")


def test_the_rerun_command_says_what_it_did_and_refuses_bad_ranges(acme: object, capsys: object) -> None:
    call_command("costs_rerun", "2026-03-01", "2026-03-02")
    assert "4.80" in capsys.readouterr().out
    with pytest.raises(CommandError, match="before it starts"):
        call_command("costs_rerun", "2026-03-02", "2026-03-01")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("costs_rerun", "March")

"""Batch schedules: daily, weekly on a weekday, monthly on a day, at an hour of a time zone (DST too),
and which deployments reconcile finds due."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from deployments.models import Deployment, Kind, TransformRun
from deployments.rules import settings_normalise, settings_problems
from deployments.schedules import last_slot, next_slot, schedule_text
from deployments.services.runs import transform_runs_due
from tests.factories import make_tenant


def values(**chosen: Any) -> dict[str, Any]:
    return settings_normalise(Kind.BATCH, chosen)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_daily_schedule_runs_at_its_hour_in_its_time_zone_across_dst() -> None:
    paris = values(schedule="daily", schedule_hour=2, schedule_timezone="Europe/Paris")
    # Winter: 02:00 Paris is 01:00 UTC; summer: 00:00 UTC.
    assert last_slot(paris, at("2026-01-15T12:00")).astimezone(UTC) == at("2026-01-15T01:00")
    assert last_slot(paris, at("2026-07-15T12:00")).astimezone(UTC) == at("2026-07-15T00:00")
    assert last_slot(paris, at("2026-07-14T23:59")).astimezone(UTC) == at("2026-07-14T00:00")
    assert next_slot(paris, at("2026-07-14T23:59")).astimezone(UTC) == at("2026-07-15T00:00")


def test_a_weekly_schedule_runs_on_its_weekday() -> None:
    weekly = values(schedule="weekly", schedule_weekday="friday", schedule_hour=6, schedule_timezone="UTC")
    # 2026-11-27 is a Friday.
    assert last_slot(weekly, at("2026-11-26T12:00")) == at("2026-11-20T06:00")
    assert last_slot(weekly, at("2026-11-27T07:00")) == at("2026-11-27T06:00")
    assert next_slot(weekly, at("2026-11-27T07:00")) == at("2026-12-04T06:00")


def test_a_monthly_schedule_runs_on_its_day() -> None:
    monthly = values(
        schedule="monthly", schedule_day=15, schedule_hour=0, schedule_timezone="America/New_York"
    )
    assert last_slot(monthly, at("2026-11-27T00:00")).astimezone(UTC) == at("2026-11-15T05:00")
    assert next_slot(monthly, at("2026-11-27T00:00")).astimezone(UTC) == at("2026-12-15T05:00")


def test_a_manual_schedule_never_fires() -> None:
    assert last_slot(values(schedule="manual"), at("2026-11-27T00:00")) is None
    assert schedule_text(values(schedule="manual")) == "Manual: runs only when started"


def test_the_schedule_reads_as_a_sentence() -> None:
    assert schedule_text(values(schedule="daily")) == "Daily at 02:00 (UTC)"
    weekly = values(
        schedule="weekly", schedule_weekday="tuesday", schedule_hour=18, schedule_timezone="Asia/Tokyo"
    )
    assert schedule_text(weekly) == "Weekly on Tuesday at 18:00 (Asia/Tokyo)"
    assert schedule_text(values(schedule="monthly", schedule_day=3)) == "Monthly on day 3 at 02:00 (UTC)"


@pytest.mark.parametrize(
    ("chosen", "field"),
    [
        ({"schedule_timezone": "Mars/Olympus"}, "schedule_timezone"),
        ({"schedule_hour": 24}, "schedule_hour"),
        ({"schedule_day": 31}, "schedule_day"),
        ({"schedule_weekday": "someday"}, "schedule_weekday"),
        ({"input_columns": 0}, "input_columns"),
    ],
)
def test_the_rules_refuse_a_schedule_that_cannot_be(chosen: dict[str, Any], field: str) -> None:
    assert field in settings_problems(Kind.BATCH, values(**chosen))


@pytest.mark.django_db
def test_reconcile_finds_a_deployment_due_once_its_slot_has_passed() -> None:
    tenant = make_tenant(slug="sched")
    deployment = Deployment.objects.create(
        tenant=tenant,
        name="Sched",
        kind=Kind.BATCH,
        isolation="silo",
        aws_name="sa-sched-bt-1",
        status="in_service",
        settings=values(schedule="daily", schedule_hour=2, schedule_timezone="Europe/Paris"),
    )
    TransformRun.objects.create(
        deployment=deployment,
        tenant=tenant,
        sequence=1,
        job_name="sa-sched-bt-1-r1",
        input_prefix="s3://b/i/",
        output_prefix="s3://b/o/",
        status="completed",
    )
    TransformRun.objects.filter(deployment=deployment).update(
        created_at=at("2026-11-26T01:00")
    )  # that day's run
    assert transform_runs_due(now=at("2026-11-26T20:00")) == []
    assert transform_runs_due(now=at("2026-11-27T00:59")) == []
    assert transform_runs_due(now=at("2026-11-27T01:00")) == [deployment]

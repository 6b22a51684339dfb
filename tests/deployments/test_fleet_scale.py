"""At fleet scale (thousands of deployments) the fleet page and reconcile cost what they cost at 20.

Query counts are budgets here; for the fleet page's page of rows, so is the work SQLite does before the
first row comes back (a query that counts members for every row, or sorts the whole fleet, does work in
proportion to the fleet before it can answer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deployments.models import Deployment, TransformRun
from deployments.services import deployments_reconcile
from deployments.services.runs import transform_runs_due
from tests.factories import make_fleet

SMALL, LARGE = (20, 10), (4000, 2000)  # (deployments, tenants), as in bench/fleet.py


@contextmanager
def sqlite_steps(selects: Callable[[str], bool]) -> Iterator[list[int]]:
    """SQLite virtual-machine steps each matching query takes to its first row (empty on other databases)."""
    steps: list[int] = []

    def counted(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if connection.vendor != "sqlite" or not selects(sql):
            return execute(sql, params, many, context)
        ticks = [0]

        def tick() -> int:
            ticks[0] += 1
            return 0  # go on

        connection.connection.set_progress_handler(tick, 1)
        try:
            return execute(sql, params, many, context)
        finally:
            connection.connection.set_progress_handler(None, 0)
            steps.append(ticks[0])

    with connection.execute_wrapper(counted):
        yield steps


def _is_page_of_rows(sql: str) -> bool:
    return sql.startswith('SELECT "deployments_deployment"."id"') and " LIMIT " in sql


def _fleet_page(client: Any) -> tuple[int, int]:
    """(queries, SQLite steps of the page-of-rows query) of one fleet page request."""
    with CaptureQueriesContext(connection) as queries, sqlite_steps(_is_page_of_rows) as steps:
        response = client.get("/deployments/")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == Deployment.objects.count()
    return len(queries), sum(steps)


def test_the_fleet_page_costs_the_same_at_4000_deployments_as_at_20(
    client: Any, world: SimpleNamespace
) -> None:
    client.force_login(world.operator)
    make_fleet(*SMALL)
    small_queries, small_steps = _fleet_page(client)
    make_fleet(LARGE[0] - SMALL[0], LARGE[1] - SMALL[1])
    large_queries, large_steps = _fleet_page(client)
    assert large_queries == small_queries
    # The page of rows is read off an index in order, members counted for its 50 rows only.
    assert large_steps <= 2 * small_steps + 200, (small_steps, large_steps)


def test_the_fleet_page_counts_the_members_of_shared_deployments(client: Any, world: SimpleNamespace) -> None:
    client.force_login(world.operator)
    make_fleet(20, 10)
    rows = client.get("/deployments/").context["page"].object_list
    assert {d.member_count for d in rows if d.tenant_id is None} == {5}
    assert len([d for d in rows if d.tenant_id is None]) == 2


def _batch_fleet(size: tuple[int, int], *, ran_ago: timedelta) -> list[Deployment]:
    """Daily batch deployments in service, each with one run `ran_ago`."""
    deployments = make_fleet(*size, kind="batch")
    runs = TransformRun.objects.bulk_create(
        TransformRun(deployment=d, tenant_id=d.tenant_id, sequence=1, job_name=f"{d.aws_name}-r1")
        for d in deployments
    )
    TransformRun.objects.filter(pk__in=[r.pk for r in runs]).update(created_at=timezone.now() - ran_ago)
    return deployments


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["20", "4000"])
def test_due_batch_runs_are_decided_in_one_query(
    world: SimpleNamespace, size: tuple[int, int], django_assert_num_queries: Any
) -> None:
    recent = _batch_fleet(size, ran_ago=timedelta(hours=1))
    overdue = _batch_fleet((3, 3), ran_ago=timedelta(days=2))
    never_ran = make_fleet(2, 2, kind="batch")
    with django_assert_num_queries(1):
        due = transform_runs_due()
    assert {d.pk for d in due} == {d.pk for d in overdue + never_ran}
    assert not {d.pk for d in due} & {d.pk for d in recent}


def test_a_weekly_schedule_is_not_due_after_two_days(world: SimpleNamespace) -> None:
    weekly = _batch_fleet((2, 2), ran_ago=timedelta(days=2))
    Deployment.objects.filter(pk__in=[d.pk for d in weekly]).update(settings={"schedule": "weekly"})
    manual = make_fleet(1, 1, kind="batch")
    Deployment.objects.filter(pk__in=[d.pk for d in manual]).update(settings={"schedule": "manual"})
    assert transform_runs_due() == []
    six_days_on = timezone.now() + timedelta(days=6)
    assert {d.pk for d in transform_runs_due(now=six_days_on)} == {d.pk for d in weekly}


def _reconcile_queries() -> int:
    with CaptureQueriesContext(connection) as queries:
        report = deployments_reconcile()
    assert report.runs_started == 0
    assert not report.errors
    return len(queries)


def test_reconcile_makes_the_same_queries_at_4000_batch_deployments_as_at_20(
    world: SimpleNamespace, aws: Any
) -> None:
    _batch_fleet(SMALL, ran_ago=timedelta(hours=1))
    small = _reconcile_queries()
    _batch_fleet((LARGE[0] - SMALL[0], LARGE[1] - SMALL[1]), ran_ago=timedelta(hours=1))
    assert _reconcile_queries() == small

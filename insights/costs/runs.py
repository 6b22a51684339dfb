"""Computing and replacing the ledger and allocation of a range of days: the daily run and any rerun.

A run replaces its range's lines in ONE transaction: a rerun never doubles a line, and a run killed
half-way (worker killed, database gone) rolls back and leaves the previous result as it was. The run's
row is written before the transaction (so a run that died shows as running, then failed) and marked
completed inside it, with the lines.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from insights.costs.allocation import allocate_day, rules_for
from insights.costs.bulk import rows_insert
from insights.costs.ledger import ledger_day
from insights.models_costs import AllocationLine, AllocationRun, LedgerLine, RunStatus

log = logging.getLogger(__name__)
# A rerun covers at most this many days: a year and a month of lines in one transaction.
MAX_DAYS = 400
# Two runs at once over overlapping days would each delete what was there and insert: on PostgreSQL they
# take turns on this advisory lock (SQLite lets one writer in at a time anyway).
LOCK_KEY = 120_012
# A run still "running" after this long died with its worker: it is marked failed when the next one starts.
STALE_AFTER = timedelta(hours=2)


class RangeError(ValueError):
    """A range of days no run can compute (reversed, in the future, or too long)."""


def days_between(first_day: date, last_day: date) -> list[date]:
    return [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]


def range_problem(first_day: date, last_day: date, today: date | None = None) -> str | None:
    """Why the range cannot be run, in a sentence; None when it can."""
    today = today or timezone.now().date()
    if last_day < first_day:
        return f"The range ends ({last_day}) before it starts ({first_day})."
    if last_day >= today:
        return f"Only past days can be computed: the range must end before today ({today})."
    if (last_day - first_day).days + 1 > MAX_DAYS:
        return f"A run covers at most {MAX_DAYS} days: split the range."
    return None


def costs_run(
    first_day: date, last_day: date, *, trigger: str = "rerun", today: date | None = None
) -> AllocationRun:
    """Compute the ledger and allocation of every day from `first_day` to `last_day` and replace theirs.

    Raises RangeError for a range that cannot be run; any other error marks the run failed (the
    previous lines stay) and is raised again.
    """
    problem = range_problem(first_day, last_day, today)
    if problem:
        raise RangeError(problem)
    AllocationRun.objects.filter(
        status=RunStatus.RUNNING, started_at__lt=timezone.now() - STALE_AFTER
    ).update(
        status=RunStatus.FAILED,
        error="It stopped before it finished (its worker was killed): nothing of it was kept.",
    )
    run = AllocationRun.objects.create(first_day=first_day, last_day=last_day, trigger=trigger)
    try:
        with transaction.atomic():
            _replace(run, days_between(first_day, last_day))
    except Exception as exc:
        AllocationRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        log.exception("cost run %s–%s failed", first_day, last_day)
        raise
    run.refresh_from_db()
    return run


def _replace(run: AllocationRun, days: list[date]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
    # Allocation lines first: their ledger FK is DO_NOTHING, so each delete is one statement.
    AllocationLine.objects.filter(day__gte=days[0], day__lte=days[-1]).delete()
    LedgerLine.objects.filter(day__gte=days[0], day__lte=days[-1]).delete()
    counts = {"ledger": 0, "allocation": 0}
    total = Decimal(0)
    for day in days:
        ledger = ledger_day(day)
        lines = [drafted.line for drafted in ledger.lines]
        for line in lines:
            line.run = run
        rows_insert(LedgerLine, lines, with_ids=True)
        allocations = allocate_day(
            ledger, rules_for(d.pk for d in ledger.deployments.values() if d.is_shared)
        )
        for allocation in allocations:
            allocation.run = run
            allocation.ledger_line_id = allocation.ledger_line.pk if allocation.ledger_line else None
        rows_insert(AllocationLine, allocations)
        counts["ledger"] += len(lines)
        counts["allocation"] += len(allocations)
        total += sum((line.billed_cost for line in lines), Decimal(0))
    AllocationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.COMPLETED,
        finished_at=timezone.now(),
        ledger_lines=counts["ledger"],
        allocation_lines=counts["allocation"],
        total=total,
    )


def costs_previous_day(today: date | None = None) -> AllocationRun:
    """The daily run: yesterday (UTC)."""
    today = today or timezone.now().date()
    yesterday = today - timedelta(days=1)
    return costs_run(yesterday, yesterday, trigger="cron", today=today)


def lines_version_sql() -> str:
    """SQL for a text that changes whenever a run's lines are committed: how many runs completed and
    when the last one finished (a run is marked completed in the transaction that writes its lines).
    Pages that keep figures worked out from the lines key them by it, and read it in a query they make
    anyway."""
    quote = connection.ops.quote_name
    table, status, finished = (
        quote(AllocationRun._meta.db_table),
        quote("status"),
        quote("finished_at"),
    )
    version = f"CAST(COUNT(*) AS TEXT) || ':' || COALESCE(CAST(MAX({finished}) AS TEXT), '')"
    return f"SELECT {version} FROM {table} WHERE {status} = '{RunStatus.COMPLETED.value}'"  # noqa: S608


def lines_version() -> str:
    """`lines_version_sql`'s text, read on its own."""
    with connection.cursor() as cursor:
        cursor.execute(lines_version_sql())
        return str(cursor.fetchone()[0])

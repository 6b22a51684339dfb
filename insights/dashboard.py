"""Reads for the insight dashboard: a tenant's runs and their stored figures, one run's files and its
flagged rows. Every read is one query whatever the number of runs or rows (the figures were summed at
ingest), and every one is scoped to the tenant.

The reads of every view are `Prepared` (saasadmin/prepared.py): the scoped querysets below, compiled
once per process and run with each view's ids, since building them cost more than running them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import F

from deployments.models import Deployment, Kind, TransformRun, TransformRunFile
from insights.models import INPUT_COLUMNS, InsightSettings, ResultRow, RunSummary
from saasadmin.prepared import Prepared
from tenants.models import Tenant

PAGE_SIZE = 50
RUNS_SHOWN = 30  # the runs the dashboard offers to pick from
# Sort keys of the flagged rows' table → (ORDER BY, its tie-breakers keep pages stable).
BASE_SORTS = {"score": "score", "line": "line", "file": "file"}


@dataclass(frozen=True)
class TrendPoint:
    """One run on the trend chart."""

    label: str
    when: datetime
    rows: int
    rows_above: int
    score_mean: float | None

    @property
    def above_share(self) -> float:
        return self.rows_above / self.rows if self.rows else 0.0


_BATCH_NAMES = Prepared(
    lambda tenant_id: (
        Deployment.objects.for_tenant(Tenant(pk=tenant_id))
        .filter(kind=Kind.BATCH)
        .order_by("name")
        .values_list("name", flat=True)
    ),
    tenant_id=UUID,
)
_RUNS_RECENT = Prepared(
    lambda tenant_id: (
        TransformRun.objects.for_tenant(Tenant(pk=tenant_id))
        .select_related("summary")
        .order_by("-created_at", "-id")[:RUNS_SHOWN]
    ),
    tenant_id=UUID,
)
_RUN = Prepared(
    lambda tenant_id, run_id: (
        TransformRun.objects.for_tenant(Tenant(pk=tenant_id)).select_related("summary").filter(pk=run_id)
    ),
    tenant_id=UUID,
    run_id=int,
)


def batch_deployments(tenant: Tenant) -> list[str]:
    """The names of the tenant's batch deployments (all the dashboard shows of them)."""
    return _BATCH_NAMES(tenant_id=tenant.pk)


def runs_recent(tenant: Tenant, limit: int = RUNS_SHOWN) -> list[TransformRun]:
    """The tenant's latest runs (at most RUNS_SHOWN), newest first, each with its summary (None before
    ingestion). No deployment: the dashboard never shows it, and its JSON settings and specs cost more
    than the runs."""
    return _RUNS_RECENT(tenant_id=tenant.pk)[:limit]


def run_of_tenant(tenant: Tenant, run_id: Any) -> TransformRun | None:
    try:
        found = _RUN(tenant_id=tenant.pk, run_id=int(run_id))
    except (TypeError, ValueError, OverflowError):
        return None
    return found[0] if found else None


def run_shown(runs: list[TransformRun]) -> TransformRun | None:
    """The run the dashboard opens on: the newest that has loaded rows, else the newest ingested one."""
    summarised = [run for run in runs if _summary(run) is not None]
    with_rows = [run for run in summarised if _summary(run).rows]  # type: ignore[union-attr]
    chosen = with_rows or summarised
    return chosen[0] if chosen else None


def _summary(run: TransformRun) -> RunSummary | None:
    try:
        return run.summary  # type: ignore[attr-defined,no-any-return]
    except RunSummary.DoesNotExist:
        return None


def summary_of(run: TransformRun | None) -> RunSummary | None:
    return _summary(run) if run is not None else None


_TREND = Prepared(
    lambda tenant_id: (
        RunSummary.objects.for_tenant(Tenant(pk=tenant_id))
        .order_by("run__created_at", "run_id")
        .values_list("run__sequence", "run__created_at", "rows", "rows_above", "score_mean")
    ),
    tenant_id=UUID,
)
_SETTINGS = Prepared(
    lambda tenant_id: InsightSettings.objects.for_tenant(Tenant(pk=tenant_id))[:1], tenant_id=UUID
)
_FILES = Prepared(
    lambda tenant_id, run_id: (
        TransformRunFile.objects.for_tenant(Tenant(pk=tenant_id))
        .filter(run_id=run_id)
        .select_related("result")
        .order_by("input_key")
    ),
    tenant_id=UUID,
    run_id=int,
)


def trend_points(tenant: Tenant) -> list[TrendPoint]:
    """Every ingested run of the tenant, oldest first, as the trend chart's points (one query)."""
    rows = _TREND(tenant_id=tenant.pk)
    return [TrendPoint(f"Run {seq}", when, n, above, mean) for seq, when, n, above, mean in rows]


def settings_of(tenant: Tenant) -> InsightSettings:
    """The tenant's settings (defaults when never saved; nothing is written by a read)."""
    found = _SETTINGS(tenant_id=tenant.pk)
    return found[0] if found else InsightSettings(tenant=tenant)


def run_files(run: TransformRun) -> list[TransformRunFile]:
    """The run's files (its own tenant's, as the run is), each with its loaded figures."""
    return _FILES(tenant_id=run.tenant_id, run_id=run.pk)


def sorts_for(columns: int) -> dict[str, str]:
    return {**BASE_SORTS, **{name: name for name in INPUT_COLUMNS[:columns]}}


def flagged_page(
    *, tenant: Tenant, run: TransformRun, summary: RunSummary, threshold: float, sort: str, page: Any
) -> Page:
    """One page of the run's rows at or above the threshold, sorted; counted from the stored figures.
    Rows are `(score, file_id, line, *inputs)` tuples: the table shows nothing else, and fifty model
    instances cost more to build than the query takes."""
    key = sort.lstrip("-")
    column = sorts_for(summary.columns).get(key, "score")
    descending = sort.startswith("-") or key not in sorts_for(summary.columns)
    if column in BASE_SORTS:  # never NULL: plain order, which the (tenant, run, score) index serves
        order = F(column).desc() if descending else F(column).asc()
    else:  # an input column may be empty: empty cells last either way
        order = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
    rows = (
        ResultRow.objects.filter(tenant=tenant, run=run, score__gte=threshold)
        .order_by(order, *(("-file_id", "-line") if descending else ("file_id", "line")))
        .values_list("score", "file_id", "line", *INPUT_COLUMNS[: summary.columns])
    )
    paginator = Paginator(rows, PAGE_SIZE)
    paginator.count = summary.rows_above  # stored at ingest: no COUNT(*) over the rows per page view
    return paginator.get_page(page)

"""The insight dashboard: what a tenant lands on, its states, its isolation (page, chart data, CSV), its
query budget, and the threshold a tenant admin sets."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from insights.csv_export import csv_cell
from insights.ingestion import transform_run_ingest
from insights.models import InsightSettings, RunSummary
from tenants.models import AuditEvent
from tests.insights.runs import RunMaker, out_body, rows_of

pytestmark = pytest.mark.django_db


def _ingested(runs: RunMaker, tenant: Any, n: int = 60, **kw: Any) -> Any:
    run = runs.run(
        tenant, {"part-1.csv": out_body(rows_of(n)), "part-2.csv": out_body(rows_of(n, seed=5))}, **kw
    )
    transform_run_ingest(run_id=run.pk, tenant_id=str(tenant.pk))
    return run


def _dashboard(client: Any, user: Any, tenant: Any, **params: Any) -> Any:
    client.force_login(user)
    return client.get(reverse("insights_dashboard", kwargs={"tenant_id": tenant.pk}), params)


def test_a_tenant_member_lands_on_the_dashboard_and_operators_keep_their_start(
    client: Any, world: SimpleNamespace
) -> None:
    client.force_login(world.viewer_a)
    assert client.get("/")["Location"] == f"/tenants/{world.tenant_a.pk}/insights/"
    client.force_login(world.operator)
    assert client.get("/")["Location"] == reverse("tenant_list")


def test_it_shows_the_latest_runs_figures_flagged_rows_and_files(
    client: Any, world: SimpleNamespace, runs: RunMaker
) -> None:
    _ingested(runs, world.tenant_a, created_at=timezone.now() - timedelta(days=40))
    run = _ingested(runs, world.tenant_a, n=80)
    html = _dashboard(client, world.viewer_a, world.tenant_a).content.decode()
    summary = RunSummary.objects.get(run=run)
    assert f"Rows scored in run {run.sequence}" in html
    assert f">{summary.rows}<" in html
    assert f"{summary.rows_above} flagged rows" in html
    assert "part-2.csv" in html
    assert reverse("insights_run_csv", kwargs={"tenant_id": world.tenant_a.pk, "run_id": run.pk}) in html
    assert "Change the threshold" not in html  # viewers do not set it


def test_the_flagged_table_sorts_and_pages(client: Any, world: SimpleNamespace, runs: RunMaker) -> None:
    run = _ingested(runs, world.tenant_a, n=150)
    page = _dashboard(client, world.viewer_a, world.tenant_a, sort="-score")
    rows = page.context["rows"]
    assert len(rows) == 50
    scores = [float(score) for score, _, _, _ in rows]
    assert scores == sorted(scores, reverse=True)
    ascending = _dashboard(client, world.viewer_a, world.tenant_a, sort="x1", page=2).context["rows"]
    firsts = [float(inputs[0].replace(",", "")) for _, _, _, inputs in ascending]
    assert firsts == sorted(firsts)
    assert _dashboard(client, world.viewer_a, world.tenant_a, sort="nonsense; drop").status_code == 200
    assert run.pk == page.context["run"].pk


@pytest.mark.parametrize("status", ["in_progress", "failed"])
def test_running_and_failed_states_say_what_happens_and_what_to_do(
    client: Any, world: SimpleNamespace, runs: RunMaker, status: str
) -> None:
    _ingested(runs, world.tenant_a)
    runs.run(
        world.tenant_a,
        {"p.csv": None},
        status=status,
        failed={"p.csv": "ClientError: Bad input in p.csv"} if status == "failed" else None,
    )
    if status == "failed":
        from deployments.models import TransformRun

        TransformRun.objects.filter(tenant=world.tenant_a, status="failed").update(
            failure_reason="ClientError: Bad input in p.csv at line 3"
        )
    html = _dashboard(client, world.viewer_a, world.tenant_a).content.decode()
    if status == "in_progress":
        assert "is in progress" in html
        assert "refresh in a few minutes" in html
    else:
        assert "failed" in html
        assert "Bad input in p.csv at line 3" in html
        assert "retry the run" in html


def test_empty_states(client: Any, world: SimpleNamespace, runs: RunMaker) -> None:
    html = _dashboard(client, world.viewer_a, world.tenant_a).content.decode()
    assert "No batch scoring yet" in html
    runs.deployment(world.tenant_a)
    assert "No runs yet" in _dashboard(client, world.viewer_a, world.tenant_a).content.decode()


def test_a_quarantined_file_is_explained_on_the_page(
    client: Any, world: SimpleNamespace, runs: RunMaker
) -> None:
    run = runs.run(world.tenant_a, {"good.csv": out_body(rows_of(5)), "bad.csv": b"1,2,3,0.1\n1,2,3,x\n"})
    transform_run_ingest(run_id=run.pk, tenant_id=str(world.tenant_a.pk))
    html = _dashboard(client, world.viewer_a, world.tenant_a).content.decode()
    assert "could not be loaded" in html
    assert "line 2 has the score “x”, which is not a number" in html


def test_the_query_count_does_not_grow_with_runs_or_rows(
    client: Any, world: SimpleNamespace, runs: RunMaker
) -> None:
    _ingested(runs, world.tenant_a, n=10)
    client.force_login(world.viewer_a)
    url = reverse("insights_dashboard", kwargs={"tenant_id": world.tenant_a.pk})
    client.get(url)
    cache.clear()  # a view that makes the run's figures (a later one reads them as made: one query less)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    with CaptureQueriesContext(connection) as kept:
        client.get(url)
    assert len(kept) == len(small) - 1
    for months in range(1, 6):
        _ingested(runs, world.tenant_a, n=200, created_at=timezone.now() - timedelta(days=31 * months))
    _ingested(runs, world.tenant_a, n=400)
    cache.clear()
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]
    chart = reverse("insights_chart_data", kwargs={"tenant_id": world.tenant_a.pk, "chart": "trend"})
    with CaptureQueriesContext(connection) as trend:
        client.get(chart)
    assert len(trend) <= 6


def test_another_tenants_runs_rows_charts_and_csv_are_not_found(
    client: Any, world: SimpleNamespace, runs: RunMaker
) -> None:
    theirs = _ingested(runs, world.tenant_b)
    mine = _ingested(runs, world.tenant_a)
    client.force_login(world.viewer_a)
    a, b = world.tenant_a.pk, world.tenant_b.pk
    assert client.get(reverse("insights_dashboard", kwargs={"tenant_id": b})).status_code == 404
    assert (
        client.get(reverse("insights_run_csv", kwargs={"tenant_id": b, "run_id": theirs.pk})).status_code
        == 404
    )
    # Their run through our tenant's URLs: not found either, never shown.
    assert (
        client.get(reverse("insights_run_csv", kwargs={"tenant_id": a, "run_id": theirs.pk})).status_code
        == 404
    )
    page = client.get(reverse("insights_dashboard", kwargs={"tenant_id": a}), {"run": theirs.pk})
    assert page.context["run"].pk == mine.pk
    chart = reverse("insights_chart_data", kwargs={"tenant_id": a, "chart": "distribution"})
    mine_chart = client.get(chart, {"run": mine.pk}).json()
    assert client.get(chart, {"run": theirs.pk}).json() == mine_chart  # their run is ignored
    assert (
        client.get(reverse("insights_chart_data", kwargs={"tenant_id": b, "chart": "trend"})).status_code
        == 404
    )
    # An operator sees any tenant's.
    client.force_login(world.operator)
    assert (
        client.get(reverse("insights_run_csv", kwargs={"tenant_id": b, "run_id": theirs.pk})).status_code
        == 200
    )


def test_the_csv_streams_every_row_with_formulas_neutralised(
    client: Any, world: SimpleNamespace, runs: RunMaker
) -> None:
    InsightSettings.objects.create(
        tenant=world.tenant_a, threshold=0.5, column_names="=cmd|' /C calc'!A0, +sum, @x"
    )
    runs.deployment(world.tenant_a)
    run = runs.run(world.tenant_a, {"-evil.csv": b"-1.5,2,3,0.75\n4,5,6,0.25\n"})
    transform_run_ingest(run_id=run.pk, tenant_id=str(world.tenant_a.pk))
    client.force_login(world.viewer_a)
    response = client.get(
        reverse("insights_run_csv", kwargs={"tenant_id": world.tenant_a.pk, "run_id": run.pk})
    )
    assert response.streaming
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "file",
        "line",
        "'=cmd|' /C calc'!A0",
        "'+sum",
        "'@x",
        "score",
        "flagged (score ≥ 0.5)",
    ]
    assert rows[1] == ["'-evil.csv", "1", "-1.5", "2.0", "3.0", "0.75", "yes"]
    assert rows[2][-1] == "no"
    assert len(rows) == 3


def test_csv_cells() -> None:
    assert [csv_cell(v) for v in ("=1+1", "+1", "-x", "@a", "\tx", "\rx", "plain", None, -2.5, 3)] == [
        "'=1+1", "'+1", "'-x", "'@a", "'\tx", "'\rx", "plain", "", "-2.5", 3
    ]  # fmt: skip


def test_a_tenant_admin_sets_the_threshold_and_the_flagged_counts_follow(
    client: Any,
    world: SimpleNamespace,
    runs: RunMaker,
    queue: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    run = _ingested(runs, world.tenant_a, n=100)
    url = reverse("insights_settings", kwargs={"tenant_id": world.tenant_a.pk})
    client.force_login(world.admin_a)
    form = client.get(url)
    assert form.status_code == 200
    assert 'name="submit_key"' in form.content.decode()
    refused = client.post(url, {"threshold": "1.7", "column_names": "a, b", "submit_key": "k1"})
    assert refused.status_code == 200
    assert "Ensure this value is less than or equal to 1.0." in refused.content.decode()
    assert 'value="a, b"' in refused.content.decode()  # what was typed is kept
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(url, {"threshold": "0.9", "column_names": "tenure, charges", "submit_key": "k2"})
    assert saved.status_code == 302
    stale = _dashboard(client, world.viewer_a, world.tenant_a).content.decode()
    assert "being brought up to date with the new threshold of 0.9" in stale
    run_worker()  # the recount job
    summary = RunSummary.objects.get(run=run)
    from insights.models import ResultRow

    assert summary.rows_above == ResultRow.objects.filter(run=run, score__gte=0.9).count()
    assert summary.threshold == 0.9
    event = AuditEvent.objects.get(action="insights.settings_update")
    assert event.tenant == world.tenant_a
    html = _dashboard(client, world.viewer_a, world.tenant_a).content.decode()
    assert "being brought up to date" not in html
    assert "tenure" in html
    assert "score ≥ 0.9" in html
    client.force_login(world.viewer_a)
    assert client.get(url).status_code == 403


def test_reingest_replaces_the_runs_rows(
    client: Any, world: SimpleNamespace, runs: RunMaker, django_capture_on_commit_callbacks: Any
) -> None:
    run = _ingested(runs, world.tenant_a, n=30)
    client.force_login(world.admin_a)
    url = reverse("insights_run_reingest", kwargs={"tenant_id": world.tenant_a.pk, "run_id": run.pk})
    enqueued: list[Any] = []
    import insights.tasks as tasks

    real = tasks.enqueue_now
    tasks.enqueue_now = lambda *args, **kw: enqueued.append(args) or True  # type: ignore[assignment]
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"submit_key": "r1"})
    finally:
        tasks.enqueue_now = real
    assert response.status_code == 302
    assert enqueued == [("insights.tasks.transform_run_ingest", run.pk, str(world.tenant_a.pk), True)]
    transform_run_ingest(run_id=run.pk, tenant_id=str(world.tenant_a.pk), force=True)
    assert RunSummary.objects.get(run=run).rows == 60


def test_the_kept_figures_follow_a_reload_the_column_names_and_what_is_asked(
    client: Any, world: SimpleNamespace, runs: RunMaker, s3: Any
) -> None:
    """The run's figures and flagged rows are made once per key: loading the run again, renaming the
    columns, another sort or page each show at once, with nothing else changed."""
    run = _ingested(runs, world.tenant_a, n=120)
    first = _dashboard(client, world.viewer_a, world.tenant_a).content.decode()
    assert "Rows scored in run" in first
    assert ">240<" in first
    assert "tenure</a>" not in first
    InsightSettings.objects.filter(tenant=world.tenant_a).update(column_names="tenure, charges")
    renamed = _dashboard(client, world.viewer_a, world.tenant_a).content.decode()
    assert "tenure</a>" in renamed
    by_line = _dashboard(client, world.viewer_a, world.tenant_a, sort="line").content.decode()
    assert "Line ↑" in by_line
    assert "Line ↑" not in renamed
    # The run loaded again from fewer rows (its second file gone from the output): the new counts show.
    output_key = run.files.order_by("input_key").last().output_key
    bucket, key = output_key.removeprefix("s3://").split("/", 1)
    s3.delete_object(Bucket=bucket, Key=key)
    transform_run_ingest(run_id=run.pk, tenant_id=str(world.tenant_a.pk), force=True)
    reloaded = _dashboard(client, world.viewer_a, world.tenant_a).content.decode()
    assert ">240<" not in reloaded


def test_bad_run_page_and_sort_parameters_answer_the_dashboard_never_a_500(
    client: Any, world: SimpleNamespace, runs: RunMaker
) -> None:
    run = _ingested(runs, world.tenant_a, n=80)
    for params in (
        {"run": "drop table"}, {"run": str(10**30)}, {"run": "-1"}, {"page": "x"}, {"page": "999999"},
        {"page": "-3"}, {"sort": "nonexistent"}, {"sort": "--score"}, {"sort": "x9"},
        {"run": str(run.pk), "sort": "-x1", "page": "2"},
    ):  # fmt: skip
        response = _dashboard(client, world.viewer_a, world.tenant_a, **params)
        assert response.status_code == 200, params
        assert "Flagged rows" in response.content.decode(), params

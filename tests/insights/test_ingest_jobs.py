"""Ingestion as RQ jobs: the run-finished signal enqueues it, a duplicate delivery loads nothing twice,
and the minute's resume pass picks up runs whose ingestion was lost or killed."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from deployments.models import TransformRun, TransformRunFile
from deployments.signals import transform_run_finished
from insights.ingestion import transform_run_ingest
from insights.models import InsightSettings, ResultRow, RunSummary
from insights.tasks import ingest_resume
from tests.deployments.conftest import queue, run_worker  # noqa: F401 - fixtures
from tests.insights.runs import RunMaker, out_body, rows_of

pytestmark = pytest.mark.django_db


def test_a_duplicate_delivery_of_a_runs_end_loads_its_rows_once(
    world: SimpleNamespace,
    runs: RunMaker,
    queue: Any,  # noqa: F811
    run_worker: Callable[[], int],  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    run = runs.run(world.tenant_a, {"a.csv": out_body(rows_of(70)), "b.csv": out_body(rows_of(30))})
    with django_capture_on_commit_callbacks(execute=True):  # django-rq enqueues once the test's
        transform_run_finished.send(sender=TransformRun, run=run)  # transaction commits
        transform_run_finished.send(sender=TransformRun, run=run)
    assert queue.count == 2
    run_worker()
    assert ResultRow.objects.filter(run=run).count() == 100
    assert RunSummary.objects.get(run=run).rows == 100


def test_the_resume_pass_enqueues_runs_left_waiting_or_loading_once(
    world: SimpleNamespace,
    runs: RunMaker,
    queue: Any,  # noqa: F811
    run_worker: Callable[[], int],  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    lost = runs.run(world.tenant_a, {"a.csv": out_body(rows_of(10))})  # its enqueue was lost
    killed = runs.run(world.tenant_b, {"b.csv": out_body(rows_of(20))})
    TransformRunFile.objects.filter(run=killed).update(ingest_status="loading")  # a worker died mid-load
    runs.run(world.tenant_a, {"c.csv": None}, status="in_progress")  # not ended: not ingested yet
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest_resume() == {"resumed": 2}
    with django_capture_on_commit_callbacks(execute=True):
        assert ingest_resume() == {"resumed": 0}  # their jobs are waiting already
    run_worker()
    assert ResultRow.objects.filter(run=lost).count() == 10
    assert ResultRow.objects.filter(run=killed).count() == 20
    assert ingest_resume() == {"resumed": 0}


def test_the_resume_pass_recounts_after_a_threshold_change_whose_job_was_lost(
    world: SimpleNamespace,
    runs: RunMaker,
    queue: Any,  # noqa: F811
    run_worker: Callable[[], int],  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    run = runs.run(world.tenant_a, {"a.csv": out_body(rows_of(100))})
    transform_run_ingest(run_id=run.pk, tenant_id=str(world.tenant_a.pk))
    InsightSettings.objects.filter(tenant=world.tenant_a).update(threshold=0.9)  # no recount enqueued
    with django_capture_on_commit_callbacks(execute=True):
        ingest_resume()
    run_worker()
    summary = RunSummary.objects.get(run=run)
    assert summary.threshold == 0.9
    assert summary.rows_above == ResultRow.objects.filter(run=run, score__gte=0.9).count()

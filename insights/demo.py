"""The demo's batch history (`make run`): months of runs of each demo tenant's batch deployment, made by
real transform jobs in the emulator over generated input — one run with a failed file, the last one in
progress when the history is complete.

It goes through the product's own paths: files uploaded with `dataset_upload`, runs started with
`transform_run_start`, jobs run by the worker, outputs ingested on the run's end. Only the dates are
made up: each run's creation is moved back in time, one run every SPACING, so that the dashboard has
months to show. `demo_history_step` does one step and is enqueued again until the history is complete
(a run at a time: a deployment never runs two jobs at once). In `make run` the emulator paces the last run's
job alone (run_stack: `--transform-paced-jobs "*-r10"`), so that it stays in progress for minutes.
"""

from __future__ import annotations

import io
import zlib
from datetime import timedelta
from typing import Any

import numpy as np
from django.db import transaction

from deployments import resources
from deployments.aws import storage
from deployments.models import ACTIVE_RUN_STATUSES, DatasetFile, Deployment, Kind, Status, TransformRun
from deployments.services.datasets import dataset_delete, dataset_upload
from deployments.services.runs import transform_run_start
from insights.models import InsightSettings, RunSummary
from tenants.models import Tenant, TenantStatus

# The demo tenants with a batch deployment (deployments/demo.py) and so a history.
DEMO_HISTORY_TENANTS = ("acme", "globex")
RUNS = 10  # per demo tenant: nine ended, the last in progress
SPACING = timedelta(days=18)  # about six months of history
FAILED_RUN = 7  # this run's input holds a file the model refuses (five columns for six features)
ROWS_PER_FILE = 1500
SEGMENTS = ("north", "south")
# The demo models' inputs, as emulator/artifacts.py trains them (insights imports nothing of the emulator).
COLUMN_NAMES = (
    "tenure_months, monthly_charges, support_tickets, logins_per_week, contract_months, late_payments"
)


def _features(slug: str, sequence: int, segment: str) -> bytes:
    """Churn-like rows that drift from run to run (more tickets and late payments), CSV without header."""
    rng = np.random.default_rng(zlib.crc32(f"{slug}-{sequence}-{segment}".encode()))
    drift = sequence / RUNS
    n = ROWS_PER_FILE
    rows = np.column_stack(
        [
            rng.integers(1, 72, n),
            rng.normal(70 + 10 * drift, 25, n).clip(10, 200).round(2),
            rng.poisson(1.0 + 1.5 * drift + (0.5 if segment == "south" else 0), n),
            rng.gamma(2.0, 2.0 - drift, n).round(1),
            rng.choice([1, 12, 24], n),
            rng.poisson(0.3 + 0.5 * drift, n),
        ]
    )
    return "\n".join(",".join(format(float(v), "g") for v in row) for row in rows).encode() + b"\n"


def _deployment(tenant: Tenant) -> Deployment | None:
    return (
        Deployment.objects.filter(tenant=tenant, kind=Kind.BATCH, status=Status.IN_SERVICE)
        .order_by("created_at")
        .first()
    )


def _backdate(deployment: Deployment) -> list[TransformRun]:
    """Move each ended run back to its place in the history; returns the runs whose rows must be loaded
    again (ingested before their date moved, so filed under the wrong month)."""
    anchor = deployment.created_at
    moved = []
    for run in deployment.runs.filter(sequence__lt=RUNS).exclude(status__in=ACTIVE_RUN_STATUSES):
        when = anchor - (RUNS - run.sequence) * SPACING
        in_place = abs((run.created_at - when).total_seconds()) < 60
        if in_place and run.finished_at is not None and run.finished_at < when + SPACING:
            continue
        TransformRun.objects.filter(pk=run.pk).update(
            created_at=when, started_at=when + timedelta(minutes=1), finished_at=when + timedelta(minutes=7)
        )
        if not in_place and RunSummary.objects.filter(run=run).exists():
            moved.append(run)
    return moved


def _inputs_replace(tenant: Tenant, sequence: int) -> None:
    """The run's input area: this run's segment files (uploaded as a tenant admin would), and for the
    failed run one more file that arrived by another way and that the model refuses."""
    prefix = resources.input_prefix(tenant)
    for uri in DatasetFile.objects.filter(tenant=tenant).values_list("uri", flat=True):
        dataset_delete(actor=None, tenant=tenant, uri=uri)
    bad = prefix + "segment-east.csv"
    if sequence == FAILED_RUN:
        storage.object_put(bad, b"12,70.5,1,3.2,12,0\n30,55.0,2,1.5,24\n")
    else:
        storage.object_delete(bad)
    for segment in SEGMENTS:
        body = _features(tenant.slug, sequence, segment)
        dataset_upload(actor=None, tenant=tenant, name=f"segment-{segment}.csv", fileobj=io.BytesIO(body))


def _tenant_step(tenant: Tenant) -> bool:
    """Start the tenant's next history run when it may; True once its history is complete."""
    deployment = _deployment(tenant)
    if deployment is None:
        return False  # not in service yet
    InsightSettings.objects.get_or_create(
        tenant=tenant, defaults={"threshold": 0.6, "column_names": COLUMN_NAMES}
    )
    from insights.tasks import ingest_enqueue

    for run in _backdate(deployment):
        ingest_enqueue(run.pk, str(run.tenant_id), force=True)
    runs = list(deployment.runs.all())
    if len(runs) >= RUNS:
        return True
    if any(run.status in ACTIVE_RUN_STATUSES for run in runs):
        return False
    if any(not RunSummary.objects.filter(run=run).exists() for run in runs if run.status != "skipped"):
        return False  # the last run's outputs are still being loaded: keep its input until then
    sequence = max((run.sequence for run in runs), default=0) + 1
    _inputs_replace(tenant, sequence)
    with transaction.atomic():
        run = transform_run_start(actor=None, deployment=deployment)
        if run.sequence < RUNS:
            when = deployment.created_at - (RUNS - run.sequence) * SPACING
            TransformRun.objects.filter(pk=run.pk).update(created_at=when)
    return run.sequence >= RUNS


def demo_history_step(slugs: tuple[str, ...] = DEMO_HISTORY_TENANTS) -> dict[str, Any]:
    """One step for each demo tenant; enqueues the next step until every history is complete."""
    from deployments.queueing import enqueue_now

    tenants = Tenant.objects.filter(slug__in=slugs, status=TenantStatus.ACTIVE)
    done = {tenant.slug: _tenant_step(tenant) for tenant in tenants}
    if not all(done.values()):
        enqueue_now("insights.tasks.demo_history_step", delay=3.0)
    return done

"""The demo's batch history: real runs through the worker and the emulator, spread back over months,
one with a failed file, all ingested; stepping again changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from deployments.models import Status, TransformRun
from deployments.services import Draft, deployment_apply
from insights import demo
from insights.models import RunSummary
from tests.deployments.conftest import (  # noqa: F401 - fixtures
    aws,
    demo_artifacts,
    package,
    queue,
    run_worker,
)

pytestmark = pytest.mark.django_db


def test_the_history_is_made_of_real_runs_months_apart(
    world: SimpleNamespace,
    aws: Any,  # noqa: F811
    package: Callable[..., Any],  # noqa: F811
    run_worker: Callable[[], int],  # noqa: F811
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(demo, "RUNS", 4)
    monkeypatch.setattr(demo, "FAILED_RUN", 2)
    monkeypatch.setattr(demo, "ROWS_PER_FILE", 50)
    draft = Draft(
        name="Alpha history",
        kind="batch",
        isolation="silo",
        tenant=world.tenant_a,
        model_package=package(world.tenant_a),
        settings={"schedule": "manual", "join_source": "Input"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        deployment = deployment_apply(actor=world.operator, draft=draft)
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE
    for _ in range(12):
        with django_capture_on_commit_callbacks(execute=True):
            demo.demo_history_step(slugs=("alpha",))
        run_worker()
    runs = list(TransformRun.objects.filter(deployment=deployment).order_by("sequence"))
    assert [r.status for r in runs] == ["completed", "failed", "completed", "completed"]
    assert runs[0].created_at < runs[1].created_at < runs[2].created_at < runs[3].created_at
    assert (runs[2].created_at - runs[0].created_at).days >= 30
    # Each run reads the segment files (and the file the demo artifacts keep in the input area).
    rows = [RunSummary.objects.get(run=r).rows for r in runs]
    assert rows[0] == rows[1] == rows[2] == rows[3] >= 100
    failed = RunSummary.objects.get(run=runs[1])
    assert failed.files_failed == 1
    assert "segment-east.csv" in runs[1].failure_reason
    assert runs[1].finished_at < runs[2].created_at  # its end moved back in time with it
    with django_capture_on_commit_callbacks(execute=True):
        assert demo.demo_history_step(slugs=("alpha",)) == {"alpha": True}
    assert TransformRun.objects.filter(deployment=deployment).count() == 4

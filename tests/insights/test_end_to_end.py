"""The whole path through real RQ workers and the emulator: a tenant admin uploads a file, the batch
schedule fires, the transform job writes a `.out` per file, the run's end is ingested, and the dashboard's
numbers are the model's own predictions on the uploaded rows."""

from __future__ import annotations

import io
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import xgboost

from deployments.models import RunStatus, Status, TransformRun
from deployments.services import Draft, deployment_apply
from deployments.services.datasets import dataset_upload
from deployments.services.runs import transform_runs_start_all_due
from emulator.artifacts import churn_features, train_xgboost
from emulator.testing import csv_body
from insights.models import ResultRow, RunSummary
from tenants.roles import Role
from tests.deployments.conftest import (  # noqa: F401 - fixtures
    aws,
    demo_artifacts,
    package,
    queue,
    run_worker,
)
from tests.factories import make_tenant, make_user

pytestmark = pytest.mark.django_db(transaction=False)


def test_an_upload_is_scored_ingested_and_shown_with_the_models_predictions(
    world: SimpleNamespace,
    aws: Any,  # noqa: F811
    package: Callable[..., Any],  # noqa: F811
    run_worker: Callable[[], int],  # noqa: F811
    client: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    tenant = make_tenant(name="Insight End2End", slug="insight-e2e", isolation="silo")
    admin = make_user(Role.TENANT_ADMIN, tenant, username="e2e-admin")
    features = churn_features("insight-e2e", 240)
    dataset_upload(actor=admin, tenant=tenant, name="customers.csv", fileobj=io.BytesIO(csv_body(features)))
    draft = Draft(
        name="E2E scoring",
        kind="batch",
        isolation="silo",
        tenant=tenant,
        model_package=package(None),
        settings={"schedule": "daily", "join_source": "Input"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        deployment = deployment_apply(actor=world.operator, draft=draft)
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    if not TransformRun.objects.filter(deployment=deployment).exists():
        with django_capture_on_commit_callbacks(execute=True):
            transform_runs_start_all_due()  # the schedule fires (reconcile's pass)
        run_worker()
    run = TransformRun.objects.get(deployment=deployment)
    assert run.status == RunStatus.COMPLETED, run.failure_reason

    expected = train_xgboost("shared").predict(xgboost.DMatrix(features))
    stored = np.array(ResultRow.objects.filter(run=run).order_by("line").values_list("score", flat=True))
    np.testing.assert_allclose(stored, expected, rtol=1e-5, atol=1e-6)
    first = ResultRow.objects.filter(run=run).order_by("line").first()
    assert first.inputs(6) == pytest.approx([float(v) for v in features[0]])
    summary = RunSummary.objects.get(run=run)
    flagged = int((expected >= 0.5).sum())
    assert (summary.rows, summary.rows_above, summary.files_loaded) == (240, flagged, 1)

    viewer = make_user(Role.TENANT_VIEWER, tenant, username="e2e-viewer")
    client.force_login(viewer)
    page = client.get("/", follow=True)
    assert page.redirect_chain[-1][0] == f"/tenants/{tenant.pk}/insights/"
    html = page.content.decode()
    assert "240" in html
    assert f"{flagged:,}" in html
    assert "customers.csv" in html

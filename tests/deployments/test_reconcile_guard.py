"""Reconcile never acts on an implausible picture of AWS: an empty listing does not recreate the fleet,
and an endpoint missing from the listing is confirmed by DescribeEndpoint before it is repaired."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deployments.aws import sagemaker as sm
from deployments.models import Deployment, DeploymentEvent, Kind, Status
from deployments.selectors import reconcile_alert
from deployments.services import Draft, deployment_apply, deployments_reconcile, reconcile_last_report

FLEET = 3_500


def _fleet(size: int) -> None:
    """`size` in-service real-time endpoints, caught up with their desired state, in one insert."""
    Deployment.objects.bulk_create(
        Deployment(
            name=f"fleet {i}",
            kind=Kind.REALTIME,
            isolation="pool",
            status=Status.IN_SERVICE,
            aws_name=f"sa-fleet-rt-{i:08x}",
            model_name=f"sa-fleet-rt-{i:08x}-g1",
            config_name=f"sa-fleet-rt-{i:08x}-g1",
            live_model_name=f"sa-fleet-rt-{i:08x}-g1",
            live_config_name=f"sa-fleet-rt-{i:08x}-g1",
            generation=1,
            observed_generation=1,
            target_generation=1,
        )
        for i in range(size)
    )


@pytest.fixture
def empty_aws(aws: Any, slow_emulator_factory: Any, settings: Any) -> Any:
    """An emulator restarted without its data: ListEndpoints answers, with nothing."""
    fresh = slow_emulator_factory(0.0)
    settings.EMULATOR_URL = fresh.url
    return fresh


@pytest.fixture
def _clear_alert() -> Any:
    from deployments.services.reconcile import _alert_store

    _alert_store(None)
    yield
    _alert_store(None)


@pytest.mark.usefixtures("_clear_alert")
def test_an_empty_listing_at_fleet_scale_changes_nothing_and_raises_one_alert(
    db: None, empty_aws: Any, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    _fleet(FLEET)
    before = timezone.now()
    with (
        CaptureQueriesContext(connection) as queries,
        caplog.at_level(logging.WARNING, logger="deployments.services.reconcile"),
        django_capture_on_commit_callbacks(execute=False) as enqueued,
    ):
        report = deployments_reconcile()

    assert Deployment.objects.filter(status=Status.IN_SERVICE).count() == FLEET
    assert not Deployment.objects.filter(updated_at__gte=before).exists()  # 0 rows changed
    assert not DeploymentEvent.objects.exists()  # not a DescribeEndpoint per row, nor a drift line
    assert (report.drifted, report.resumed, enqueued) == ([], [], [])
    (alert,) = report.alerts
    assert alert.startswith(f"ListEndpoints does not show {FLEET} of the {FLEET} in-service endpoints")
    assert "nothing was repaired" in alert
    assert reconcile_alert()["message"] == alert  # for the fleet page
    assert reconcile_last_report().alerts == [alert]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [f"reconcile alert: {alert}"]
    assert len(queries) <= 10, [q["sql"][:120] for q in queries.captured_queries]


@pytest.mark.usefixtures("_clear_alert")
def test_a_person_confirms_the_missing_endpoints_are_gone(
    db: None, empty_aws: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _fleet(3)
    assert deployments_reconcile().alerts  # 3 of 3 missing: more than one endpoint of a fleet of 3
    assert reconcile_alert() is not None
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        report = deployments_reconcile(repair_missing=True)
    assert report.alerts == []
    assert reconcile_alert() is None
    assert len(report.drifted) == len(enqueued) == 3
    assert set(Deployment.objects.values_list("status", flat=True)) == {Status.CREATING}
    # Each was confirmed missing by DescribeEndpoint before it was repaired.
    described = DeploymentEvent.objects.filter(action="DescribeEndpoint")
    assert list(described.values_list("outcome", flat=True)) == ["NotFound"] * 3


def test_an_endpoint_missing_from_the_listing_but_described_is_left_alone(
    world: SimpleNamespace,
    aws: Any,
    package: Any,
    run_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    tenant = world.tenant_a
    with django_capture_on_commit_callbacks(execute=True):
        live = deployment_apply(
            actor=world.operator,
            draft=Draft(
                name="A", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant)
            ),
        )
    run_worker()
    live.refresh_from_db()
    assert live.status == Status.IN_SERVICE
    monkeypatch.setattr(sm, "endpoint_statuses", lambda prefix: {})  # a listing that lags or lost a page
    with django_capture_on_commit_callbacks(execute=True):
        report = deployments_reconcile()
    assert (report.drifted, report.alerts) == ([], [])
    live.refresh_from_db()
    assert (live.status, live.drift) == (Status.IN_SERVICE, "")
    described = DeploymentEvent.objects.filter(deployment=live, action="DescribeEndpoint").last()
    assert described.outcome == "ok"

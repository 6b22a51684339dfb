"""An AWS outage longer than a few retries: deployments in flight ride it out, with the default settings,
and a deployment that outlived the retry window is started again by reconcile once AWS answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from deployments import conf
from deployments.models import Deployment, DeploymentEvent, Status
from deployments.services import Draft, deployment_apply, deployments_reconcile, provision


class Clock:
    """The time `django.utils.timezone.now` answers: a test moves it by the delays the jobs ask for."""

    def __init__(self) -> None:
        self.now: datetime = timezone.now()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class OutageEmulator:
    """An emulator on a fixed port that can be stopped (connections refused) and started again there."""

    def __init__(self, data_dir: Path) -> None:
        import emulator

        self._start = lambda port: emulator.start(port=port, data_dir=data_dir)
        self.handle: Any = self._start(0)
        self.url = self.handle.url
        self.running = True

    def stop(self) -> None:
        self.handle.stop()
        self.running = False

    def start(self) -> None:
        self.handle = self._start(self.handle.port)  # the same port, the state it saved
        self.running = True


@pytest.fixture
def outage_emulator(aws: Any, tmp_path: Path, settings: Any) -> Iterator[OutageEmulator]:
    handle = OutageEmulator(tmp_path / "emulator")
    settings.EMULATOR_URL = handle.url
    # One attempt per call: botocore's own retries would sleep in real time, not on the test's clock.
    settings.AWS_MAX_ATTEMPTS = 1
    yield handle
    if handle.running:
        handle.stop()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(timezone, "now", lambda: fake.now)
    return fake


def _apply(world: SimpleNamespace, package: Any, capture: Any, tenant: Any, **extra: Any) -> Deployment:
    with capture(execute=bool(extra.pop("enqueue", True))):
        return deployment_apply(
            actor=world.operator,
            draft=Draft(
                name="A",
                kind="realtime",
                isolation="silo",
                tenant=tenant,
                model_package=package(tenant, **extra),
            ),
        )


def test_a_deployment_in_flight_rides_out_a_35_minute_aws_outage_with_the_defaults(
    world: SimpleNamespace,
    package: Any,
    outage_emulator: OutageEmulator,
    clock: Clock,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.DEPLOYMENT_POLL_BASE_SECONDS = 2.0  # production's backoff (the aws fixture polls at once)
    delays: list[float] = []
    monkeypatch.setattr(provision, "enqueue_on_commit", lambda *_, delay=0.0: delays.append(delay))
    deployment = _apply(world, package, django_capture_on_commit_callbacks, world.tenant_a, enqueue=False)

    def advance() -> None:
        provision.deployment_advance(deployment_id=deployment.pk, tenant_id=str(deployment.tenant_id))
        deployment.refresh_from_db()

    outage_emulator.stop()
    outage_ends = clock.now + timedelta(minutes=35)
    attempts = 0
    while clock.now < outage_ends:  # each job runs when the delay the previous one asked for has passed
        advance()
        assert deployment.status == Status.CREATING, deployment.last_error
        assert "EndpointConnectionError" in deployment.last_error
        clock.advance(delays[-1])
        attempts += 1
    outage_emulator.start()
    for _ in range(10):
        advance()
        if deployment.status == Status.IN_SERVICE:
            break
        clock.advance(delays[-1])

    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    assert attempts > 5  # the old limit: "Gave up after 5 retries"
    assert max(delays) == conf.retry_max_delay_seconds() == 120.0
    assert (deployment.retries, deployment.retrying_since, deployment.failed_transient) == (0, None, False)
    outcomes = DeploymentEvent.objects.filter(deployment=deployment, action="CreateModel")
    assert list(outcomes.values_list("outcome", flat=True)) == ["Transient"] * attempts + ["ok"]


def test_a_deployment_failed_by_an_outage_is_retried_by_reconcile_once_aws_answers(
    world: SimpleNamespace,
    package: Any,
    outage_emulator: OutageEmulator,
    settings: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    terminal = _apply(world, package, capture, world.tenant_b, key="no-such-tenant")
    run_worker()
    terminal.refresh_from_db()
    assert (terminal.status, terminal.failed_transient) == (Status.FAILED, False)  # SageMaker said why

    settings.DEPLOYMENT_RETRY_FOR_SECONDS = 0  # give up at the first transient error
    outage_emulator.stop()
    deployment = _apply(world, package, capture, world.tenant_a)
    run_worker()
    deployment.refresh_from_db()
    assert (deployment.status, deployment.failed_transient) == (Status.FAILED, True)
    assert "Reconcile retries this deployment once AWS answers again" in deployment.last_error

    with capture(execute=True):
        report = deployments_reconcile()  # AWS still down: nothing to retry yet
    assert report.errors[0].startswith("ListEndpoints: EndpointConnectionError")
    assert Deployment.objects.get(pk=deployment.pk).status == Status.FAILED

    outage_emulator.start()
    with capture(execute=True):
        report = deployments_reconcile()
    assert report.resumed == [deployment.pk]
    run_worker()
    deployment.refresh_from_db()
    terminal.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    assert terminal.status == Status.FAILED  # a terminal failure waits for a person

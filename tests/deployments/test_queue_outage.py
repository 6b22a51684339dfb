"""Polls lost to a Redis outage or a killed worker: reconcile resumes a poll overdue by a few times its
delay (not only after 10 minutes) and leaves alone one that is only waiting its turn; end to end, with
real worker, scheduler and cron processes, a deployment reaches In service after the fault."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from deployments.models import Deployment, Kind, Status
from deployments.queueing import ADVANCE, enqueue_now, rows_with_live_jobs
from deployments.rules import settings_normalise
from deployments.services import Draft, deployment_apply, deployments_reconcile
from deployments.services.reconcile import QUEUE_KEPT_KEY
from tests.deployments.conftest import BUCKET, client_for
from tests.deployments.test_crash import _database_url
from tests.outage import PrivateRedis, Process, process_env, wait_until


def _creating(tenant: Any, *, polls: int, seconds_ago: float) -> Deployment:
    """A row creating its endpoint, last polled `seconds_ago` after `polls` polls; no job anywhere."""
    deployment = Deployment.objects.create(
        tenant=tenant,
        name="A",
        kind=Kind.REALTIME,
        isolation="silo",
        aws_name=f"sa-{tenant.slug}-overdue",
        settings=settings_normalise(Kind.REALTIME, {}),
        status=Status.CREATING,
    )
    touched = timezone.now() - timedelta(seconds=seconds_ago)
    Deployment.objects.filter(pk=deployment.pk).update(polls=polls, polled_at=touched, updated_at=touched)
    return deployment


@pytest.fixture
def two_second_polls(aws: Any, settings: Any, queue: Any) -> None:
    """Polls 2, 4, 8 … s apart, as in production; the queue empty (every job lost)."""
    settings.DEPLOYMENT_POLL_BASE_SECONDS = 2


def _reconcile(capture: Any) -> list[int]:
    with capture(execute=True):
        return deployments_reconcile().resumed


@pytest.mark.usefixtures("two_second_polls")
def test_reconcile_resumes_a_poll_overdue_by_a_few_times_its_delay(
    world: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    # The 3rd poll was due 8 s after the row was saved: a minute later (3 x 8 s + 30 s) it was lost.
    deployment = _creating(world.tenant_a, polls=3, seconds_ago=60)

    assert _reconcile(django_capture_on_commit_callbacks) == [deployment.pk]
    assert str(deployment.pk) in rows_with_live_jobs(ADVANCE)


@pytest.mark.usefixtures("two_second_polls")
def test_reconcile_leaves_a_poll_that_is_not_late_yet(
    world: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    _creating(world.tenant_a, polls=3, seconds_ago=40)
    assert _reconcile(django_capture_on_commit_callbacks) == []


@pytest.mark.usefixtures("two_second_polls")
def test_reconcile_resumes_every_poll_at_once_when_redis_lost_its_data(
    world: SimpleNamespace, django_capture_on_commit_callbacks: Any, queue: Any
) -> None:
    deployment = _creating(world.tenant_a, polls=3, seconds_ago=5)  # its poll is due in 3 s: not late
    queue.connection.delete(QUEUE_KEPT_KEY)  # Redis restarted empty: the scheduled poll went with it

    assert _reconcile(django_capture_on_commit_callbacks) == [deployment.pk]
    assert _reconcile(django_capture_on_commit_callbacks) == []  # its poll is queued now: no second one


@pytest.mark.usefixtures("two_second_polls")
@pytest.mark.parametrize("delay", [0, 600], ids=["queued-behind-others", "scheduled-later"])
def test_reconcile_leaves_a_late_row_whose_job_is_waiting(
    world: SimpleNamespace, django_capture_on_commit_callbacks: Any, queue: Any, delay: float
) -> None:
    """A long queue (or a job scheduled far ahead) is not a lost job: no second poll chain."""
    deployment = _creating(world.tenant_a, polls=3, seconds_ago=120)
    with django_capture_on_commit_callbacks(execute=True):  # django-rq enqueues on commit
        enqueue_now(ADVANCE, deployment.pk, str(deployment.tenant_id), delay=delay)

    assert _reconcile(django_capture_on_commit_callbacks) == []
    assert queue.count + ScheduledJobRegistry(queue=queue).count == 1


# End to end: real processes share the test database (an in-memory SQLite cannot; see test_crash.py).
E2E = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stack(
    world: SimpleNamespace,
    slow_emulator_factory: Any,
    package: Any,
    settings: Any,
    private_redis: PrivateRedis,
    processes: Callable[..., Process],
) -> SimpleNamespace:
    """A worker and the scheduler on a Redis the test stops and starts, and a deployment applied."""
    slow = slow_emulator_factory(4.0)  # endpoints take 4 s to create: polls wait in the scheduler
    settings.EMULATOR_URL = slow.url
    settings.RQ_QUEUES = {"default": {"URL": private_redis.url, "DEFAULT_TIMEOUT": 600}}
    env = process_env(
        private_redis.url,
        DATABASE_URL=_database_url(),
        EMULATOR_URL=slow.url,
        AWS_MODE="emulated",
        AWS_REGION="us-east-1",
        SAASADMIN_BUCKET=BUCKET,
        DEPLOYMENT_MAX_POLLS="100000",
        DEPLOYMENT_POLL_BASE_SECONDS="1",
        DEPLOYMENT_OVERDUE_GRACE_SECONDS="1",
    )
    worker = processes("rqworker", "default", env=env)
    scheduler = processes("run_scheduler", env=env)
    tenant = world.tenant_a
    draft = Draft(name="A", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant))
    return SimpleNamespace(
        env=env,
        start=processes,
        redis=private_redis,
        emulator=slow,
        running=[worker, scheduler],
        deployment=deployment_apply(actor=world.operator, draft=draft),
    )


def _status(deployment: Deployment) -> str:
    return Deployment.objects.get(pk=deployment.pk).status


def _sagemaker_in_service(stack: SimpleNamespace) -> bool:
    name = Deployment.objects.get(pk=stack.deployment.pk).aws_name
    endpoints = client_for(stack.emulator.url, "sagemaker").list_endpoints(NameContains=name)["Endpoints"]
    return bool(endpoints) and endpoints[0]["EndpointStatus"] == "InService"


def _poll_waits_in_the_scheduler(stack: SimpleNamespace) -> bool:
    """Creating, no job running or queued, its next poll scheduled at least a second ahead."""
    connection = stack.redis.connection()
    ahead = connection.zrangebyscore("rq:scheduled:default", timezone.now().timestamp() + 1, "+inf")
    idle = not connection.zcard("rq:wip:default") and not connection.llen("rq:queue:default")
    return idle and bool(ahead) and _status(stack.deployment) == Status.CREATING


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_deployment_reaches_in_service_after_a_redis_outage(stack: SimpleNamespace) -> None:
    cron = stack.start("run_cron", "tests.deployments.cron_fast", env=stack.env)  # reconcile every 2 s
    everyone = [*stack.running, cron]
    wait_until(lambda: _poll_waits_in_the_scheduler(stack), timeout=60, what="a poll waits", logs=everyone)

    stack.redis.stop()
    # SageMaker finishes during the outage; the scheduled poll is lost with Redis's data.
    wait_until(lambda: _sagemaker_in_service(stack), timeout=60, what="SageMaker reports InService")
    assert _status(stack.deployment) == Status.CREATING
    stack.redis.start()

    wait_until(
        lambda: _status(stack.deployment) == Status.IN_SERVICE,
        timeout=60,
        what="the deployment is in service after the outage",
        logs=everyone,
    )
    assert all(process.alive for process in everyone)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_deployment_reaches_in_service_after_its_worker_is_killed(stack: SimpleNamespace) -> None:
    """No reconcile here: the poll scheduled before the kill is enqueued by the scheduler, untouched."""
    worker, scheduler = stack.running
    wait_until(lambda: _poll_waits_in_the_scheduler(stack), timeout=60, what="a poll waits", logs=[worker])

    worker.kill()  # SIGKILL, the worker and any work horse
    restarted = stack.start("rqworker", "default", env=stack.env)

    wait_until(
        lambda: _status(stack.deployment) == Status.IN_SERVICE,
        timeout=60,
        what="the deployment is in service after the worker was killed",
        logs=[restarted, scheduler],
    )

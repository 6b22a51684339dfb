"""Waiting is a poll re-enqueued through RQ's scheduler with exponential backoff, never a sleep in a job."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler

from deployments.models import Status
from deployments.services import Draft, deployment_apply


def test_polls_are_scheduled_with_growing_delays(
    world: SimpleNamespace,
    aws: Any,
    slow_emulator_factory: Any,
    package: Any,
    queue: Any,
    run_worker: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Creating for far longer than the test: the delays are read from the first polls, whatever the load.
    slow = slow_emulator_factory(600.0)
    settings.EMULATOR_URL = slow.url
    settings.DEPLOYMENT_POLL_BASE_SECONDS = 2
    tenant = world.tenant_a
    with django_capture_on_commit_callbacks(execute=True):
        draft = Draft(
            name="A", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant)
        )
        deployment = deployment_apply(actor=world.operator, draft=draft)
    registry = ScheduledJobRegistry(queue=queue)
    scheduler = RQScheduler([queue], connection=queue.connection)
    scheduler.acquire_locks()
    delays = []
    for _ in range(3):
        run_worker()
        deployment.refresh_from_db()
        assert deployment.status == Status.CREATING, deployment.last_error
        (job_id,) = registry.get_job_ids()  # one poll waits in the scheduler, no job runs meanwhile
        job = queue.fetch_job(job_id)
        delays.append(math.ceil((registry.get_scheduled_time(job) - datetime.now(UTC)).total_seconds()))
        registry.schedule(job, datetime.now(UTC))  # time passes: the scheduler's next tick enqueues it
        scheduler.enqueue_scheduled_jobs()
        time.sleep(0.02)
    scheduler.release_locks()
    assert deployment.polls == 3
    first, second, third = delays  # 2 s, 4 s, 8 s; RQ stores whole seconds, so allow one less
    assert 1 <= first <= 2
    assert 3 <= second <= 4
    assert 7 <= third <= 8

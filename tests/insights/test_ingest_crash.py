"""A forking RQ worker SIGKILLed while it loads a `.out`: none of the file's rows are kept, the page
says the load stopped, and the retried job loads the file exactly once."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from types import SimpleNamespace
from typing import Any

import psutil
import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from deployments.models import TransformRunFile
from insights.models import ResultRow
from insights.tasks import ingest_enqueue, ingest_resume
from tests.deployments.conftest import BUCKET
from tests.deployments.test_crash import _database_url, _wait, _worker
from tests.insights.runs import RunMaker, out_body

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROWS = 200_000


def _kill(worker: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker and its work horse, which RQ runs in a process group of its own (os.setpgrp)."""
    with contextlib.suppress(psutil.NoSuchProcess):
        for horse in psutil.Process(worker.pid).children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                horse.kill()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        worker.wait(timeout=10)


def test_a_worker_killed_mid_load_keeps_nothing_and_the_retry_loads_once(
    world: SimpleNamespace,
    runs: RunMaker,
    emulator_handle: Any,
    queue: Any,
    client: Any,
) -> None:
    rows = [([float(i), 1.0, 2.0], (i % 1000) / 1000) for i in range(ROWS)]
    run = runs.run(world.tenant_a, {"big.csv": out_body(rows)})
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "EMULATOR_URL": emulator_handle.url,
        "AWS_MODE": "emulated",
        "AWS_REGION": "us-east-1",
        "SAASADMIN_BUCKET": BUCKET,
        "DEBUG": "0",
        "SECURE_HTTPS": "0",
        "STATIC_MANIFEST": "0",
        "SECRET_KEY": "crash-test",
    }
    ingest_enqueue(run.pk, str(world.tenant_a.pk))
    file = TransformRunFile.objects.filter(run=run)
    worker = _worker(env)
    _wait(lambda: file.get().ingest_status == "loading", timeout=60)
    time.sleep(0.3)  # into the COPY
    _kill(worker)
    assert file.get().ingest_status == "loading"
    assert not ResultRow.objects.filter(run=run).exists()
    client.force_login(world.viewer_a)
    page = client.get(reverse("insights_dashboard", kwargs={"tenant_id": world.tenant_a.pk}), {"run": run.pk})
    assert "still loading" in page.content.decode() or "No results to show yet" in page.content.decode()

    # The job is abandoned. RQ would retry it in a few seconds (with a scheduler running); here its retry is
    # dropped, to show that the minute's resume pass alone brings the file in.
    StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 3600)
    scheduled = ScheduledJobRegistry(queue=queue)
    for job_id in scheduled.get_job_ids():
        scheduled.remove(job_id, delete_job=True)
    assert ingest_resume() == {"resumed": 1}
    rescue = _worker(env, "--burst")
    try:
        assert rescue.wait(timeout=300) == 0
    finally:
        _kill(rescue)
    assert file.get().ingest_status == "loaded"
    assert ResultRow.objects.filter(run=run).count() == ROWS

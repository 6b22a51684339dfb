"""A rerun process SIGKILLed in the middle of its transaction: the previous lines are all still there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings

from insights.costs.runs import costs_run
from insights.models_costs import AllocationLine, AllocationRun, LedgerLine, RunStatus
from tests.deployments.test_crash import _database_url
from tests.insights.costs.world import DAY, at, endpoint, live, prices, tenants, then

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
DAYS = 300  # long enough to be killed half-way


def _snapshot() -> list[tuple]:
    return list(AllocationLine.objects.order_by("id").values_list("id", "day", "tenant_id", "billed_cost"))


def test_a_killed_rerun_leaves_the_previous_result() -> None:
    url = _database_url()
    prices(then(DAY, -DAYS - 10))
    a, b, c = tenants("a", "b", "c")
    for owner in (a, b, c):
        live(endpoint(tenant=owner), at(then(DAY, -DAYS - 5)), instance_type="ml.m5.large", instance_count=1)
    first = then(DAY, -DAYS)
    costs_run(first, DAY)
    before = _snapshot()
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "SECURE_HTTPS": "0", "STATIC_MANIFEST": "0",
           "SECRET_KEY": "kill-test", "REDIS_URL": django_settings.REDIS_URL}  # fmt: skip
    rerun = subprocess.Popen(
        [sys.executable, "manage.py", "costs_rerun", first.isoformat(), DAY.isoformat()],
        cwd=django_settings.BASE_DIR, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not AllocationRun.objects.filter(status=RunStatus.RUNNING).exists():
        assert time.monotonic() < deadline, "the rerun never started"
        time.sleep(0.02)
    time.sleep(0.5)  # into its transaction: old lines deleted, new ones being written
    assert rerun.poll() is None, "the rerun finished before it could be killed: make DAYS larger"
    os.killpg(rerun.pid, signal.SIGKILL)
    rerun.wait(timeout=10)
    assert _snapshot() == before
    assert LedgerLine.objects.count() == len(before) == 3 * (DAYS + 1)
    killed = AllocationRun.objects.get(status=RunStatus.RUNNING)
    # The next run marks it failed once it is stale, and replaces the lines once, never doubling them.
    AllocationRun.objects.filter(pk=killed.pk).update(started_at=killed.started_at - timedelta(hours=3))
    costs_run(then(DAY, -1), DAY)
    assert AllocationRun.objects.get(pk=killed.pk).status == RunStatus.FAILED
    assert LedgerLine.objects.count() == 3 * (DAYS + 1)

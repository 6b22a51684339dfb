"""Usage metering: every API request counted once, per tenant × deployment × minute, through failed and
repeated flushes (deployments/metering.py, deployments/services/usage_flush.py)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import django_rq
import pytest
import redis
from django.db import DatabaseError
from django.db.models import Sum
from django.test import override_settings

from deployments import metering
from deployments.models import Deployment, UsageFlushBatch, UsageMinute
from deployments.services import usage_flush as flush_module
from deployments.services.usage_flush import UsageFlushIncomplete, usage_flush
from tests.factories import make_tenant

T0 = datetime(2026, 3, 2, 10, 15, 20, tzinfo=UTC)
AFTER = T0 + timedelta(minutes=5)


@pytest.fixture(autouse=True)
def _clean_usage_keys() -> None:
    client = metering.metering_redis()
    for key in client.scan_iter(f"{metering.KEY_PREFIX}:*"):
        client.delete(key)


def make_deployment(tenant: Any, name: str = "model") -> Deployment:
    return Deployment.objects.create(
        tenant=tenant, name=name, kind="realtime", isolation="silo", aws_name=f"{tenant.slug}-{name}"
    )


def record(tenant: Any, deployment: Deployment, outcome: str = "ok", at: datetime = T0, **kw: Any) -> None:
    values = {"bytes_in": 100, "bytes_out": 10, "latency_ms": 2.0, **kw}
    metering.usage_record(tenant_id=tenant.id, deployment_id=deployment.id, outcome=outcome, at=at, **values)


def invocations(**lookup: Any) -> int:
    return UsageMinute.objects.filter(**lookup).aggregate(n=Sum("invocations"))["n"] or 0


def test_it_counts_every_call_across_a_failed_and_a_repeated_flush(db: None) -> None:
    tenant = make_tenant()
    deployment = make_deployment(tenant)
    for _ in range(37):
        record(tenant, deployment)
    failing = mock.patch.object(flush_module, "_rows_add", side_effect=DatabaseError("disk full"))
    with failing, pytest.raises(UsageFlushIncomplete):
        usage_flush(now=AFTER)
    assert invocations() == 0
    assert metering.metering_redis().scard(metering.FLUSHING_SET) == 1, "the batch waits for the next flush"
    assert not UsageFlushBatch.objects.exists(), "the ledger rolled back with the rows"

    report = usage_flush(now=AFTER)
    assert (report.applied, invocations()) == (1, 37)
    assert usage_flush(now=AFTER).applied == 0
    assert invocations() == 37


def test_a_batch_applied_before_a_crash_is_not_added_twice(db: None) -> None:
    tenant = make_tenant()
    deployment = make_deployment(tenant)
    for _ in range(5):
        record(tenant, deployment)
    # The rows commit, then Redis stops answering before the flushing key is deleted.
    redis_gone = mock.patch.object(flush_module, "_batch_forget", side_effect=redis.ConnectionError("gone"))
    with redis_gone, pytest.raises(UsageFlushIncomplete):
        usage_flush(now=AFTER)
    assert invocations() == 5
    report = usage_flush(now=AFTER)
    assert (report.applied, report.already_applied, invocations()) == (0, 1, 5)
    assert metering.metering_redis().scard(metering.FLUSHING_SET) == 0


def test_a_late_request_into_a_taken_minute_is_added_to_its_row(db: None) -> None:
    tenant = make_tenant()
    deployment = make_deployment(tenant)
    record(tenant, deployment, latency_ms=4.0)
    usage_flush(now=AFTER)
    record(tenant, deployment, latency_ms=9.5)
    usage_flush(now=AFTER)
    row = UsageMinute.objects.get()
    assert (row.invocations, row.latency_ms_sum, row.latency_ms_max) == (2, 13.5, 9.5)
    assert row.minute == T0.replace(second=0)


def test_it_keeps_the_open_minute_in_redis(db: None) -> None:
    tenant = make_tenant()
    deployment = make_deployment(tenant)
    record(tenant, deployment, at=AFTER)
    assert usage_flush(now=AFTER).taken == 0
    assert invocations() == 0
    # Five seconds into the next minute, the minute is closed.
    assert usage_flush(now=AFTER.replace(second=0) + timedelta(minutes=1, seconds=5)).taken == 1
    assert invocations() == 1


def test_it_counts_errors_by_class_bytes_and_latency(db: None) -> None:
    tenant = make_tenant()
    deployment = make_deployment(tenant)
    record(tenant, deployment, bytes_in=1000, bytes_out=50, latency_ms=12.25)
    record(tenant, deployment, "throttled", bytes_in=7, bytes_out=0, latency_ms=0)
    record(tenant, deployment, "model_error", latency_ms=30.5)
    record(tenant, deployment, "model_error", latency_ms=1.0)
    record(tenant, deployment, at=T0 + timedelta(minutes=1))
    usage_flush(now=AFTER)
    first, second = UsageMinute.objects.order_by("minute")
    assert (first.invocations, first.errors_throttled, first.errors_model, first.errors_timeout) == (
        4,
        1,
        2,
        0,
    )
    assert (first.bytes_in, first.bytes_out) == (1207, 70)
    assert (first.latency_ms_sum, first.latency_ms_max) == (pytest.approx(43.75), 30.5)
    assert second.invocations == 1


def test_two_tenants_concurrent_callers_are_counted_apart(db: None) -> None:
    a, b = make_tenant(), make_tenant()
    deployment_a, deployment_b = make_deployment(a), make_deployment(b)
    calls = 150

    def caller(tenant: Any, deployment: Deployment) -> None:
        for i in range(calls):
            record(tenant, deployment, "timeout" if i % 10 == 0 else "ok")

    threads = [threading.Thread(target=caller, args=(a, deployment_a)) for _ in range(4)]
    threads += [threading.Thread(target=caller, args=(b, deployment_b)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage_flush(now=AFTER)
    assert invocations(tenant=a, deployment=deployment_a) == 4 * calls
    assert invocations(tenant=b, deployment=deployment_b) == 3 * calls
    assert UsageMinute.objects.get(tenant=b).errors_timeout == 3 * calls // 10


def test_a_request_costs_one_redis_round_trip(db: None) -> None:
    tenant = make_tenant()
    deployment = make_deployment(tenant)
    record(tenant, deployment)  # the first call loads the script into Redis
    connection_class = metering.metering_redis().connection_pool.connection_class
    original = connection_class.send_packed_command
    sent: list[object] = []

    def counted(self: Any, command: Any, check_health: bool = True) -> None:
        sent.append(command)
        original(self, command, check_health)

    with mock.patch.object(connection_class, "send_packed_command", counted):
        for outcome in ("ok", "throttled", "server_error"):
            record(tenant, deployment, outcome)
    assert len(sent) == 3, "one packet (EVALSHA) per request"


def test_it_refuses_an_unknown_outcome() -> None:
    with pytest.raises(ValueError, match="unknown outcome 'oops'"):
        metering.usage_record(
            tenant_id="t", deployment_id=1, outcome="oops", bytes_in=0, bytes_out=0, latency_ms=0
        )


def test_a_redis_outage_does_not_fail_the_request(tmp_path: Any) -> None:
    metering.metering_redis.cache_clear()
    metering._record_script.cache_clear()
    try:
        with override_settings(REDIS_URL=f"unix://{tmp_path}/nothing.sock"):
            metering.usage_record(
                tenant_id="t", deployment_id=1, outcome="ok", bytes_in=1, bytes_out=1, latency_ms=1
            )
    finally:
        metering.metering_redis.cache_clear()
        metering._record_script.cache_clear()


def test_the_cron_job_flushes_closed_minutes(db: None) -> None:
    from rq.cron import CronScheduler

    from deployments import tasks

    scheduler = CronScheduler(connection=django_rq.get_connection("default"))
    scheduler.load_config_from_file("saasadmin.cron")
    flush = next(job for job in scheduler.get_jobs() if job.name == "usage-flush")
    assert (flush.func, flush.interval) == (tasks.usage_flush, 60)
    tenant = make_tenant()
    record(tenant, make_deployment(tenant), at=datetime.now(UTC) - timedelta(minutes=2))
    assert tasks.usage_flush() == {"taken": 1, "applied": 1, "already_applied": 0}
    assert invocations() == 1

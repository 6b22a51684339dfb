"""The queue's long-running processes ride out a Redis outage: real processes, a real redis-server that
the test stops and starts again (empty, as a Redis without persistence comes back)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from rq import Queue

from saasadmin.queue_processes import scheduler_name
from tests.outage import PrivateRedis, Process, process_env, wait_until

pytestmark = pytest.mark.slow
PROBES = "tests.saasadmin.probe_jobs"


def _queue(server: PrivateRedis) -> Queue:
    return Queue("default", connection=server.connection())


def _has_worker(server: PrivateRedis) -> bool:
    return bool(server.connection().scard("rq:workers"))


def test_a_worker_rides_out_an_outage_in_the_middle_of_a_job(
    private_redis: PrivateRedis, processes: Callable[..., Process], tmp_path: Path
) -> None:
    worker = processes("rqworker", "default", env=process_env(private_redis.url))
    wait_until(lambda: _has_worker(private_redis), timeout=60, what="the worker registers", logs=[worker])
    started, release, done = (str(tmp_path / name) for name in ("started", "release", "done"))
    _queue(private_redis).enqueue(f"{PROBES}.touch_when_released", started, release, done)
    wait_until(Path(started).exists, timeout=60, what="the job starts", logs=[worker])

    private_redis.stop()  # the outage begins while the job runs
    Path(release).touch()
    wait_until(Path(done).exists, timeout=60, what="the job ends", logs=[worker])
    # The work horse is done and the worker cannot record the job's outcome: it must wait, not exit.
    wait_until(
        lambda: "Redis went away while job" in worker.output() or not worker.alive,
        timeout=60,
        what="the worker notices the outage",
        logs=[worker],
    )
    assert worker.alive, worker.output()

    private_redis.start()
    after = tmp_path / "after"
    _queue(private_redis).enqueue(f"{PROBES}.touch", str(after))
    wait_until(after.exists, timeout=60, what="a job enqueued after the outage runs", logs=[worker])
    assert worker.alive
    assert _has_worker(private_redis), "the worker registers again in the Redis that came back empty"


def test_processes_started_during_an_outage_wait_for_redis(
    private_redis: PrivateRedis, processes: Callable[..., Process], tmp_path: Path
) -> None:
    private_redis.stop()
    env = process_env(private_redis.url, PROBE_DIR=str(tmp_path))
    everyone = [
        processes("rqworker", "default", env=env),
        processes("run_scheduler", env=env),
        processes("run_cron", "tests.saasadmin.cron_probe", env=env),
    ]
    for process in everyone:
        wait_until(
            lambda p=process: "Redis is not answering" in p.output() or not p.alive,
            timeout=60,
            what=f"{process.args[0]} waits for Redis",
            logs=everyone,
        )
    assert all(p.alive for p in everyone), [(p.args, p.output()[-2000:]) for p in everyone if not p.alive]

    private_redis.start()
    wait_until(lambda: list(tmp_path.glob("cron-*")), timeout=60, what="the cron's job runs", logs=everyone)


def test_the_scheduler_and_the_cron_ride_out_an_outage(
    private_redis: PrivateRedis, processes: Callable[..., Process], tmp_path: Path
) -> None:
    env = process_env(private_redis.url, PROBE_DIR=str(tmp_path))
    worker = processes("rqworker", "default", env=env)
    scheduler = processes("run_scheduler", env=env)
    cron = processes("run_cron", "tests.saasadmin.cron_probe", env=env)
    everyone = [worker, scheduler, cron]
    ticks = lambda: len(list(tmp_path.glob("cron-*")))  # noqa: E731
    wait_until(lambda: ticks() >= 2, timeout=60, what="the cron's job runs", logs=everyone)

    private_redis.stop()
    for process in (scheduler, cron):
        wait_until(
            lambda p=process: "Redis is not answering" in p.output() or not p.alive,
            timeout=60,
            what=f"{process.args[0]} notices the outage",
            logs=everyone,
        )
    assert all(p.alive for p in everyone), [(p.args, p.output()[-2000:]) for p in everyone if not p.alive]

    private_redis.start()
    before = ticks()
    delayed = tmp_path / "delayed"
    _queue(private_redis).enqueue_in(timedelta(seconds=1), f"{PROBES}.touch", str(delayed))
    wait_until(delayed.exists, timeout=60, what="a delayed job runs after the outage", logs=everyone)
    wait_until(lambda: ticks() > before, timeout=60, what="the cron ticks after the outage", logs=everyone)
    assert all(p.alive for p in everyone)


def test_the_cron_runs_its_interval_jobs_as_soon_as_redis_is_back(
    private_redis: PrivateRedis, processes: Callable[..., Process], tmp_path: Path
) -> None:
    """Reconcile puts back what a Redis that came back empty lost: it must not wait for its next tick."""
    env = process_env(private_redis.url, PROBE_DIR=str(tmp_path), PROBE_INTERVAL="3600")
    everyone = [processes("rqworker", "default", env=env)]
    everyone.append(processes("run_cron", "tests.saasadmin.cron_probe", env=env))
    ticks = lambda: len(list(tmp_path.glob("cron-*")))  # noqa: E731
    wait_until(lambda: ticks() == 1, timeout=60, what="the hourly job runs at start", logs=everyone)

    private_redis.stop()
    wait_until(lambda: "Redis is not answering" in everyone[1].output(), timeout=60, what="outage seen")
    private_redis.start()

    wait_until(lambda: ticks() == 2, timeout=60, what="the hourly job runs again at once", logs=everyone)


def test_a_restarted_scheduler_takes_its_lock_back_at_once(
    private_redis: PrivateRedis, processes: Callable[..., Process], tmp_path: Path
) -> None:
    env = process_env(private_redis.url)
    worker = processes("rqworker", "default", env=env)
    scheduler = processes("run_scheduler", env=env)
    lock = "rq:scheduler-lock:default"
    connection = private_redis.connection()
    wait_until(lambda: connection.get(lock), timeout=60, what="the scheduler locks", logs=[scheduler])

    scheduler.kill()
    # The dead scheduler's lock would lapse after 61 s; make it last an hour, so that only a scheduler
    # that takes back its own lock can schedule anything within this test.
    assert connection.get(lock) == scheduler_name().encode()
    connection.expire(lock, 3600)
    restarted = processes("run_scheduler", env=env)
    delayed = tmp_path / "delayed"
    _queue(private_redis).enqueue_in(timedelta(seconds=1), f"{PROBES}.touch", str(delayed))
    wait_until(delayed.exists, timeout=60, what="the restarted scheduler schedules", logs=[restarted, worker])


def test_a_second_scheduler_of_the_same_name_refuses_to_start(
    private_redis: PrivateRedis, processes: Callable[..., Process]
) -> None:
    env = process_env(private_redis.url)
    first = processes("run_scheduler", env=env)
    connection = private_redis.connection()
    wait_until(
        lambda: connection.exists(f"rq:scheduler:{scheduler_name()}"),
        timeout=60,
        what="the first scheduler registers",
        logs=[first],
    )
    second = processes("run_scheduler", env=env)
    assert second.popen.wait(timeout=60) != 0
    assert "runs here already" in second.output()
    assert "--name" in second.output()
    assert first.alive

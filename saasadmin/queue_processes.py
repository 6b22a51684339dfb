"""The queue's long-running processes, made to ride out a Redis outage of minutes: the RQ worker, RQ's
scheduler run as a process of its own, and the cron that enqueues reconcile. Each waits for Redis with
backoff (saasadmin/redis_outage.py) and carries on; none exits because Redis went away.

Why the scheduler is a process of its own (`manage.py run_scheduler`) rather than `rqworker
--with-scheduler` (read in RQ 3.0's rq/scheduler.py and rq/worker/base.py):
- the worker's scheduler is a forked child whose loop catches nothing: the first Redis error kills it,
  and the worker only looks at it again in its maintenance, every 10 minutes;
- after a worker is SIGKILLed, its scheduler lock (named after the dead worker, a random name) lives on
  for 61 s, and the new worker retries the lock only at that same 10-minute maintenance;
- a shorter maintenance interval would also clean every registry that often, and still leave the
  61 s lock of a dead worker.
A scheduler process of its own lives apart from workers (killing or restarting one does not touch
it), survives outages with the loop below, and keeps a stable name per host, so that when it is itself
restarted it takes back its own lock at once instead of waiting for the old one to lapse.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import Any, TypeVar

from django_rq.cron import DjangoCronScheduler
from rq import Worker, cron_scheduler_registry, worker_registration
from rq.exceptions import SchedulerNotFound, StopRequested
from rq.scheduler import RQScheduler
from rq.utils import now as rq_now

from saasadmin.redis_outage import REDIS_DOWN, RedisBackoff, retry_ceiling_seconds, sleep_unless

log = logging.getLogger(__name__)
T = TypeVar("T")
# RQ retries a scheduler lock held by another scheduler every 120 s. Taking the lock is one atomic
# compare-and-set, so a standby may try every few seconds and take over soon after the holder's lapses.
LOCK_RETRY_SECONDS = 5.0


class ResilientWorker(Worker):
    """RQ's forking worker, waiting out Redis outages instead of exiting (the RQ_WORKER_CLASS setting)."""

    # RQ's own reconnect loop (while it waits for a job) doubles its wait up to 60 s, so the worker would
    # notice Redis back up to a minute late; cap it like every other process.
    max_connection_wait_time = retry_ceiling_seconds()

    def _through_outage(self, step: Callable[..., T], *args: Any) -> T:
        """Run one idempotent step of the work loop, again after a wait while Redis does not answer."""
        backoff = RedisBackoff(f"Worker {self.name}", log)
        while True:
            try:
                result = step(*args)
            except REDIS_DOWN as exc:
                sleep_unless(backoff.failed(exc), lambda: self._stop_requested)
                if self._stop_requested:  # asked to stop while busy: no need to wait for Redis first
                    raise StopRequested() from None
                continue
            backoff.succeeded()
            return result

    def _set_ip_address(self, connection: Any) -> None:
        # Called when the worker is created: a worker started during an outage waits for Redis.
        self._through_outage(super()._set_ip_address, connection)

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        self._through_outage(super().bootstrap, *args, **kwargs)

    def check_for_suspension(self, burst: bool) -> None:
        self._through_outage(super().check_for_suspension, burst)

    def run_maintenance_tasks(self) -> None:
        self._through_outage(super().run_maintenance_tasks)

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        return self._through_outage(super().dequeue_job_and_maintain_ttl, timeout, max_idle_time)

    def execute_job(self, job: Any, queue: Any) -> None:
        """Run one job; if Redis went away meanwhile, the job's outcome cannot be recorded in the queue.

        The job is not run again here: its work is in the database, and reconcile resumes what it left.
        """
        try:
            super().execute_job(job, queue)
        except REDIS_DOWN as exc:
            log.warning(
                "Worker %s: Redis went away while job %s ran (%s); its outcome is not recorded in the "
                "queue, and reconcile resumes whatever the job left to do",
                self.name,
                job.id,
                exc,
            )
            self._through_outage(self.connection.ping)

    def set_shutdown_requested_date(self) -> None:
        # Called from the signal handler of a warm shutdown: an outage must not turn it into a crash.
        with suppress(*REDIS_DOWN):
            super().set_shutdown_requested_date()

    def maintain_heartbeats(self, job: Any, execution: Any) -> None:
        # While the work horse runs: a missed heartbeat during an outage is caught up by the next one;
        # letting the error out would abandon the horse still running.
        with suppress(*REDIS_DOWN):
            super().maintain_heartbeats(job, execution)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        """Refresh the worker's record; write it again when Redis lost it (restarted empty)."""
        if pipeline is not None:
            super().heartbeat(timeout, pipeline=pipeline)
            return
        try:
            with self.connection.pipeline() as batch:
                super().heartbeat(timeout, pipeline=batch)
                batch.hexists(self.key, "birth")
                *_, registered = batch.execute()
            if not registered:
                self._register_again()
        except REDIS_DOWN as exc:
            log.debug("Worker %s: heartbeat skipped, Redis is not answering (%s)", self.name, exc)

    def _register_again(self) -> None:
        """Write the worker's record and registration again, so that the dashboard and the fleet page
        see it after Redis restarted without its data."""
        log.warning("Worker %s: Redis lost this worker's record; registering it again", self.name)
        with self.connection.pipeline() as batch:
            batch.hset(self.key, mapping=self.serialize())
            worker_registration.register(self, batch)
            batch.expire(self.key, self.worker_ttl + 60)
            batch.execute()

    def teardown(self) -> None:
        try:
            super().teardown()
        except REDIS_DOWN as exc:
            log.warning("Worker %s: stopped; Redis did not answer to record it (%s)", self.name, exc)


class ResilientScheduler(RQScheduler):
    """RQ's scheduler run in the foreground of its own process (manage.py run_scheduler): moves delayed
    jobs (polls, retries) onto their queue when due, and waits out Redis outages."""

    @property
    def should_reacquire_locks(self) -> bool:
        if self._queue_names == self.acquired_locks:
            return False
        if self.lock_acquisition_time is None:
            return True
        return (datetime.now() - self.lock_acquisition_time).total_seconds() > LOCK_RETRY_SECONDS

    def work(self) -> None:
        """Every `interval` seconds: keep or take the locks, heartbeat, enqueue the jobs that are due."""
        self._install_signal_handlers()
        backoff = RedisBackoff(f"Scheduler {self.name}", log)
        born = False
        while not self._stop_requested:
            try:
                if not born:
                    self.register_birth()
                    born = True
                self._tick()
            except REDIS_DOWN as exc:
                born = False  # Redis may come back without our record: write it again
                sleep_unless(backoff.failed(exc), lambda: self._stop_requested)
                continue
            backoff.succeeded()
            sleep_unless(self.interval, lambda: self._stop_requested)
        with suppress(*REDIS_DOWN):
            self.stop()
        log.info("Scheduler %s: stopped", self.name)

    def _tick(self) -> None:
        if self.should_reacquire_locks:
            self.acquire_locks()
        # Refreshes the locks this scheduler holds, and takes them back if Redis restarted without them.
        self.heartbeat()
        self.enqueue_scheduled_jobs()


def scheduler_name() -> str:
    """A stable name per host: a restarted scheduler takes back its own lock at once."""
    return f"{socket.gethostname()}-scheduler"


def scheduler_twin(name: str, connection: Any) -> str | None:
    """Why another scheduler of this name looks alive (two with one name would both schedule), or None."""
    try:
        other = RQScheduler.fetch(name, connection)
    except SchedulerNotFound:
        return None
    if other.pid in (0, os.getpid()):
        return None
    if other.hostname != socket.gethostname():
        return f"a scheduler named {name} runs on {other.hostname} (pid {other.pid})"
    try:
        os.kill(other.pid, 0)
    except ProcessLookupError:
        return None  # its process is gone (killed): this one takes over
    except PermissionError:
        pass
    return f"a scheduler named {name} runs here already (pid {other.pid})"


class ResilientCron(DjangoCronScheduler):
    """django-rq's cron scheduler (reconcile every minute) that waits out Redis outages.

    When Redis answers again, the interval jobs run at once: a Redis that came back empty lost the
    scheduled polls, and reconcile puts them back (deployments/services/reconcile.py).
    """

    def start(self) -> None:
        self.log.info("CronScheduler %s: starting...", self.name)
        self._install_signal_handlers()  # SIGTERM/SIGINT raise StopRequested wherever the loop is
        try:
            self._loop(RedisBackoff(f"Cron {self.name}", log))
        except (KeyboardInterrupt, StopRequested):
            self.log.info("CronScheduler %s: stop requested", self.name)
        finally:
            with suppress(*REDIS_DOWN):
                self.register_death()

    def _request_stop(self, signum: int, frame: Any) -> None:
        # One stop is enough: a second signal (Ctrl-C, then the supervisor's SIGTERM) must not interrupt
        # the goodbye with a second StopRequested.
        for stop in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop, lambda *_: None)
        super()._request_stop(signum, frame)

    def _loop(self, backoff: RedisBackoff) -> None:
        """Enqueue what is due; look at Redis at least every few seconds (RQ's loop sleeps up to a
        minute), so that an outage, or a Redis that came back empty, is noticed in seconds."""
        born = False
        while True:
            try:
                if not born or self._forgotten():
                    if born or backoff.down:  # after an outage: reconcile now what it may have lost
                        self._interval_jobs_due()
                    self.register_birth()
                    born = True
                if self.enqueue_jobs():
                    self.save()
                self.heartbeat()
            except REDIS_DOWN as exc:
                born = False
                time.sleep(backoff.failed(exc))
                continue
            backoff.succeeded()
            time.sleep(min(self.calculate_sleep_interval(), retry_ceiling_seconds()))

    def _forgotten(self) -> bool:
        """Whether Redis lost this cron's registration: it restarted empty since the last look."""
        return self.connection.zscore(cron_scheduler_registry.get_registry_key(), self.name) is None

    def _interval_jobs_due(self) -> None:
        """Make the every-N-seconds jobs (reconcile) due now; the hourly ones keep their hour."""
        log.warning("Cron %s: after a Redis outage or restart, enqueueing the interval jobs now", self.name)
        for job in self.get_jobs():
            if job.interval:
                job.next_enqueue_time = rq_now()

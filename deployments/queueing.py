"""Enqueueing jobs on commit, now or later (RQ's scheduler runs delayed polls); a lost enqueue is logged,
and reconcile picks up the rows it left behind. Job ids name the row they move, so that reconcile can
tell a row whose job is lost from one whose job is only waiting its turn."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import uuid4

import django_rq
from django.db import transaction
from redis.exceptions import RedisError
from rq import Retry
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

log = logging.getLogger(__name__)
QUEUE = "default"
# A job whose worker died is retried by RQ's abandoned-job cleanup (steps are idempotent).
RETRY = Retry(max=3, interval=[5, 30, 120])
# Polls are many and their results (a status) are on the row already: keep them briefly.
RESULT_TTL = 60


@dataclass
class EnqueueWatch:
    """The enqueues lost (Redis unreachable) while the watch was open: a page can tell the truth."""

    lost: list[str] = field(default_factory=list)


_watch: contextvars.ContextVar[EnqueueWatch | None] = contextvars.ContextVar("enqueue_watch", default=None)


@contextlib.contextmanager
def enqueues_watched() -> Iterator[EnqueueWatch]:
    """Note the enqueues that fail inside the block (including those run when its transaction commits)."""
    watch = EnqueueWatch()
    token = _watch.set(watch)
    try:
        yield watch
    finally:
        _watch.reset(token)


def _job_id(func: str, args: tuple[Any, ...]) -> str | None:
    """`deployment_advance-42-<random>`: unique, and names the row the job moves (args[0])."""
    return f"{func.rsplit('.', 1)[-1]}-{args[0]}-{uuid4().hex[:12]}" if args else None


def enqueue_now(func: str, *args: Any, delay: float = 0.0) -> bool:
    """Enqueue `func` (dotted path) with `args`, after `delay` seconds; False when Redis is unreachable."""
    options = {"retry": RETRY, "result_ttl": RESULT_TTL, "job_id": _job_id(func, args)}
    try:
        queue = django_rq.get_queue(QUEUE)
        if delay > 0:
            queue.enqueue_in(timedelta(seconds=delay), func, *args, **options)
        else:
            queue.enqueue(func, *args, **options)
    except RedisError as exc:
        log.warning("could not enqueue %s%r (%s); reconcile will pick the row up", func, args, exc)
        watch = _watch.get()
        if watch is not None:
            watch.lost.append(func)
        return False
    return True


def enqueue_on_commit(func: str, *args: Any, delay: float = 0.0) -> None:
    """Enqueue once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: enqueue_now(func, *args, delay=delay))


def rows_with_live_jobs(func: str) -> set[str]:
    """Ids of the rows that have a `func` job waiting in the queue, scheduled for later, or running on a
    worker that still heartbeats. Raises RedisError when Redis does not answer.

    RQ's intermediate queue (dequeued, not yet started) does not count: a worker killed in that moment leaves
    the job there until RQ's maintenance, minutes later, and the row would wait that long. A job that really
    is about to start is in the started registry microseconds later; resuming such a row at worst starts a
    second poll, and the steps are idempotent."""
    queue = django_rq.get_queue(QUEUE)
    with queue.connection.pipeline(transaction=False) as batch:
        batch.lrange(queue.key, 0, -1)
        batch.zrange(ScheduledJobRegistry(queue=queue).key, 0, -1)
        # Started entries are "<job id>:<execution id>", scored with their expiry: a killed worker's lapse.
        batch.zrangebyscore(StartedJobRegistry(queue=queue).key, time.time(), "+inf")
        found = batch.execute()
    prefix = f"{func.rsplit('.', 1)[-1]}-"
    job_ids = (entry.decode().split(":", 1)[0] for entries in found for entry in entries)
    return {job_id[len(prefix) :].split("-", 1)[0] for job_id in job_ids if job_id.startswith(prefix)}


ADVANCE = "deployments.tasks.deployment_advance"
RUN_ADVANCE = "deployments.tasks.transform_run_advance"
RUN_NOTIFY = "deployments.tasks.transform_run_notify"

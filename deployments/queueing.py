"""Enqueueing jobs on commit, now or later (RQ's scheduler runs delayed polls); a lost enqueue is logged,
and reconcile picks up the rows it left behind."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import django_rq
from django.db import transaction
from redis.exceptions import RedisError
from rq import Retry

log = logging.getLogger(__name__)
QUEUE = "default"
# A job whose worker died is retried by RQ's abandoned-job cleanup (steps are idempotent).
RETRY = Retry(max=3, interval=[5, 30, 120])
# Polls are many and their results (a status) are on the row already: keep them briefly.
RESULT_TTL = 60


def enqueue_now(func: str, *args: Any, delay: float = 0.0) -> bool:
    """Enqueue `func` (dotted path) with `args`, after `delay` seconds; False when Redis is unreachable."""
    try:
        queue = django_rq.get_queue(QUEUE)
        if delay > 0:
            queue.enqueue_in(timedelta(seconds=delay), func, *args, retry=RETRY, result_ttl=RESULT_TTL)
        else:
            queue.enqueue(func, *args, retry=RETRY, result_ttl=RESULT_TTL)
    except RedisError as exc:
        log.warning("could not enqueue %s%r (%s); reconcile will pick the row up", func, args, exc)
        return False
    return True


def enqueue_on_commit(func: str, *args: Any, delay: float = 0.0) -> None:
    """Enqueue once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: enqueue_now(func, *args, delay=delay))


ADVANCE = "deployments.tasks.deployment_advance"
RUN_ADVANCE = "deployments.tasks.transform_run_advance"

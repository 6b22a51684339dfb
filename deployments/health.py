"""Is the queue doing its work? What the fleet page tells operators about Redis, the workers, RQ's
scheduler and reconcile, in sentences that say what waits and what to start."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import django_rq
from django.utils import timezone
from redis.exceptions import RedisError
from rq import Worker
from rq.scheduler import RQScheduler

from deployments.queueing import QUEUE
from deployments.selectors import reconcile_alert
from deployments.services.reconcile import ReconcileReport, reconcile_last_report

# Reconcile runs every minute (saasadmin/cron.py): a report older than this means the cron is not running.
RECONCILE_LATE = timedelta(minutes=3)
QUEUE_DOWN = (
    "The job queue (Redis) is not answering. Changes you apply are saved, and start when the queue is "
    "back: reconcile picks them up."
)


@dataclass
class QueueHealth:
    """The fleet page's banner: `problems` are sentences (none when all is well); reconcile's alert
    waiting for a person ({"at", "message"}), and its last report."""

    problems: list[str] = field(default_factory=list)
    queue_down: bool = False
    workers: int = 0
    alert: dict[str, str] | None = None
    alert_at: datetime | None = None
    report: ReconcileReport | None = None
    report_at: datetime | None = None


def queue_health() -> QueueHealth:
    """Ask Redis who is there: workers registered, a scheduler holding its lock, reconcile's last report."""
    try:
        queue = django_rq.get_queue(QUEUE)
        queue.connection.ping()
        workers = len(Worker.all(queue=queue))
        scheduling = bool(queue.connection.exists(RQScheduler.get_locking_key(QUEUE)))
    except RedisError:
        return QueueHealth(problems=[QUEUE_DOWN], queue_down=True)
    health = QueueHealth(workers=workers, alert=reconcile_alert(), report=reconcile_last_report())
    if health.report is not None:
        health.report_at = datetime.fromisoformat(health.report.at)
    if health.alert is not None:
        health.alert_at = datetime.fromisoformat(health.alert["at"])
    if not workers:
        health.problems.append(
            "No worker is answering: deployments wait in the queue until one runs "
            "(manage.py rqworker default)."
        )
    if not scheduling:
        health.problems.append(
            "RQ's scheduler is not running: status polls and retries wait until it does "
            "(manage.py run_scheduler)."
        )
    health.problems.extend(_reconcile_problems(health.report_at))
    return health


def _reconcile_problems(at: datetime | None) -> list[str]:
    if at is None:
        return ["Reconcile has not run in the last day: is the cron running (manage.py run_cron)?"]
    if timezone.now() - at > RECONCILE_LATE:
        late = at.strftime("%H:%M UTC")
        return [f"Reconcile has not run since {late}: is the cron running (manage.py run_cron)?"]
    return []

"""manage.py run_scheduler — RQ's scheduler as a process of its own: it moves delayed jobs (status polls,
retries) onto their queue when due, and rides out Redis outages (why a process of its own:
saasadmin/queue_processes.py). Run one per host; a second one on another host is a standby."""

from __future__ import annotations

from typing import Any

import django_rq
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from saasadmin.queue_processes import ResilientScheduler, scheduler_name, scheduler_twin
from saasadmin.redis_outage import REDIS_DOWN


class Command(BaseCommand):
    help = "Run RQ's scheduler for delayed jobs (polls, retries), riding out Redis outages."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("queues", nargs="*", help="queues to schedule for (default: all of RQ_QUEUES)")
        parser.add_argument(
            "--name", default="", help="the scheduler's name (default: <host>-scheduler, stable on restarts)"
        )
        parser.add_argument("--interval", type=int, default=1, help="seconds between two rounds")

    def handle(self, *args: Any, queues: list[str], name: str, interval: int, **options: Any) -> None:
        queues = queues or list(settings.RQ_QUEUES)
        name = name or scheduler_name()
        connection = django_rq.get_connection(queues[0])
        scheduler = ResilientScheduler(queues, connection=connection, interval=interval, name=name)
        try:
            twin = scheduler_twin(name, scheduler.connection)
        except REDIS_DOWN:
            twin = None  # Redis is down: nobody is scheduling, and the loop waits for it
        if twin:
            raise CommandError(f"Not starting: {twin}. Give this one another --name.")
        self.stdout.write(f"Scheduler {name}: scheduling for {', '.join(queues)} every {interval} s")
        scheduler.work()

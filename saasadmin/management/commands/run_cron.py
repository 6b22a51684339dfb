"""manage.py run_cron [config] — the cron (reconcile every minute, saasadmin/cron.py), riding out Redis
outages: a tick missed during one is enqueued as soon as Redis answers again. Run exactly one."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand

from saasadmin.queue_processes import ResilientCron


class Command(BaseCommand):
    help = "Run the cron that enqueues reconcile, riding out Redis outages."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("config", nargs="?", default="saasadmin.cron", help="module registering the jobs")

    def handle(self, *args: Any, config: str, **options: Any) -> None:
        cron = ResilientCron(logging_level=logging.INFO)
        cron.load_config_from_file(config)
        self.stdout.write(f"Cron: {len(cron.get_jobs())} jobs from {config}")
        cron.start()

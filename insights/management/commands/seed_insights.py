"""manage.py seed_insights — start the demo's batch history (insights/demo.py) in the worker."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from deployments.queueing import enqueue_now


class Command(BaseCommand):
    help = "Start making the demo tenants' months of batch runs (run after seed_deployments; needs a worker)."

    def handle(self, *args: Any, **options: Any) -> None:
        if enqueue_now("insights.tasks.demo_history_step"):
            self.stdout.write("Demo batch history: started; the worker makes one run after another.")
        else:
            self.stderr.write("Demo batch history: Redis is unreachable; run seed_insights again later.")

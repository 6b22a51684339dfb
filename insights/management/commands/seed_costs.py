"""manage.py seed_costs — the demo's year of costs: a simulated history of the demo fleet, then the same
ledger and allocation as every day's run, then Cost Explorer's (emulated) figures; idempotent."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from deployments.aws import AwsError
from insights.costs.runs import costs_run
from insights.demo_costs import demo_costs_history, history_months, history_start
from insights.demo_reconcile import demo_cost_explorer
from insights.models_costs import AllocationRun, RunStatus


class Command(BaseCommand):
    help = "Give the demo tenants twelve months of costs (run after seed_demo and seed_deployments)."

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.now().date()
        # On SQLite the stack's workers wait for each of these transactions: leave them room between two.
        pause = 0.3 if connection.vendor == "sqlite" else 0.0
        written = demo_costs_history(today, pause=pause)
        if written:
            self.stdout.write(
                f"Costs: a simulated year of the demo fleet ({written['events']} timeline lines, "
                f"{written['usage_rows']} hours of API usage, {written['storage_samples']} S3 samples)."
            )
        first, last = history_start(today), today - timedelta(days=1)
        done = AllocationRun.objects.filter(trigger="demo", status=RunStatus.COMPLETED).exists()
        if written or not done:
            started = time.perf_counter()
            runs = []
            for month_first, month_last in history_months(today):
                runs.append(costs_run(month_first, month_last, trigger="demo", today=today))
                time.sleep(pause)
            lines, total = sum(r.allocation_lines for r in runs), sum(r.total for r in runs)
            self.stdout.write(
                f"Costs: {first} to {last} computed by the ledger and allocation, a run per month ({lines} "
                f"allocation lines, ${total:,.2f}) in {time.perf_counter() - started:.1f} s."
            )
        if settings.AWS_MODE == "emulated":
            try:
                fetched = demo_cost_explorer(first, last)
            except (AwsError, OSError) as exc:
                self.stdout.write(f"Costs: Cost Explorer (emulated) not read: {exc}")
            else:
                if fetched:
                    self.stdout.write(
                        f"Costs: Cost Explorer's figures read for reconcile ({fetched} groups)."
                    )

"""manage.py seed_deployments — declare the demo fleet (every kind) and enqueue it, and write a few days
of demo API usage for it; idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from deployments.demo import demo_deployments_seed
from deployments.demo_usage import DAYS, demo_usage_seed


class Command(BaseCommand):
    help = "Declare the demo deployments (run after seed_demo and python -m emulator.artifacts)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = demo_deployments_seed()
        self.stdout.write(
            f"Deployments: {counts['created']} declared and enqueued, {counts['existing']} already there, "
            f"{counts['unavailable']} left out (tenants or artifacts missing: python -m emulator.artifacts)."
        )
        rows = demo_usage_seed()
        if rows:
            self.stdout.write(f"API usage: {DAYS} days of demo history written ({rows} rows).")

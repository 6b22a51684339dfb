"""manage.py seed_deployments — declare the demo fleet (every kind) and enqueue it; idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from deployments.demo import demo_deployments_seed


class Command(BaseCommand):
    help = "Declare the demo deployments (run after seed_demo and python -m emulator.artifacts)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = demo_deployments_seed()
        self.stdout.write(
            f"Deployments: {counts['created']} declared and enqueued, {counts['existing']} already there, "
            f"{counts['unavailable']} left out (tenants or artifacts missing: python -m emulator.artifacts)."
        )

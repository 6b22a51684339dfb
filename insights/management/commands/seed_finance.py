"""manage.py seed_finance — the demo's exchange rates, tier budgets and budget notices (after seed_costs)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from insights.finance.demo import demo_finance_seed


class Command(BaseCommand):
    help = "Give the demo exchange rates, tier budgets and Acme's cost shown to its admins (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        done = demo_finance_seed()
        self.stdout.write(
            f"Finance: {done['rates']} exchange rates added, {done['notices']} budget notices raised; "
            "Acme's admins see its cost."
        )

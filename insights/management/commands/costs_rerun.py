"""manage.py costs_rerun FIRST [LAST] — recompute the cost ledger and allocation of past days."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from insights.costs.runs import RangeError, costs_run


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date: write it as YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = "Recompute the cost ledger and allocation of a range of past days (replaces their lines at once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("first", help="first day, YYYY-MM-DD")
        parser.add_argument("last", nargs="?", help="last day (default: the first)")

    def handle(self, *args: Any, first: str, last: str | None = None, **options: Any) -> None:
        first_day = _day(first)
        last_day = _day(last) if last else first_day
        try:
            run = costs_run(first_day, last_day, trigger="rerun")
        except RangeError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{first_day} to {last_day}: {run.ledger_lines} ledger lines, {run.allocation_lines} "
                f"allocation lines, ${run.total:,.2f} in all."
            )
        )

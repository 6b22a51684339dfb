"""Months as the finance pages name them (`?month=2026-10`): parsing, bounds, and the running month."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_YEAR = 2000


class BadMonth(ValueError):
    """A month parameter that is not a month (the page answers 400 and says why)."""


class FutureMonth(LookupError):
    """A month that has not started: there is nothing to show (the page answers 404)."""


@dataclass(frozen=True)
class Month:
    """One calendar month, UTC: [start, end) and how much of it has passed on `today`."""

    start: date

    @cached_property
    def end(self) -> date:
        """The next month's first day (exclusive)."""
        return (self.start + timedelta(days=32)).replace(day=1)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @cached_property
    def days(self) -> int:
        return calendar.monthrange(self.start.year, self.start.month)[1]

    @property
    def key(self) -> str:
        return f"{self.start:%Y-%m}"

    @property
    def label(self) -> str:
        return f"{self.start:%B %Y}"

    def previous(self) -> Month:
        return Month((self.start - timedelta(days=1)).replace(day=1))

    def next(self) -> Month:
        return Month(self.end)

    def back(self, months: int) -> Month:
        month = self
        for _ in range(months):
            month = month.previous()
        return month

    def is_running(self, today: date) -> bool:
        return self.start <= today < self.end


def today_utc() -> date:
    return datetime.now(UTC).date()


def current_month(today: date | None = None) -> Month:
    return Month((today or today_utc()).replace(day=1))


def month_parse(text: str | None, today: date | None = None) -> Month:
    """`2026-10` → that month; blank → the running month. Raises BadMonth for anything else, FutureMonth
    for a month that has not started."""
    today = today or today_utc()
    if not text:
        return current_month(today)
    found = MONTH_RE.match(text.strip())
    if not found:
        raise BadMonth(f"“{text[:40]}” is not a month: write it as YYYY-MM, for example {today:%Y-%m}.")
    year, number = int(found[1]), int(found[2])
    if not 1 <= number <= 12 or year < FIRST_YEAR:
        raise BadMonth(f"“{text[:40]}” is not a month this product has costs for (from {FIRST_YEAR} on).")
    month = Month(date(year, number, 1))
    if month.start > today:
        raise FutureMonth(f"{month.label} has not started yet: there are no costs for it.")
    return month


def months_back(month: Month, count: int) -> list[Month]:
    """`count` months ending with `month`, oldest first."""
    found = [month]
    for _ in range(count - 1):
        found.append(found[-1].previous())
    return list(reversed(found))

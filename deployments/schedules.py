"""When a batch deployment's schedule runs: daily, weekly on a weekday or monthly on a day, at an hour of
its time zone (DST included: 02:00 Europe/Paris is 01:00 UTC in winter and 00:00 UTC in summer)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from deployments.rules import WEEKDAYS

SCHEDULED = ("daily", "weekly", "monthly")


def _zone(values: dict[str, Any]) -> ZoneInfo:
    try:
        return ZoneInfo(values.get("schedule_timezone") or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def _slot_on(day: datetime, values: dict[str, Any]) -> datetime:
    return day.replace(hour=int(values.get("schedule_hour") or 0), minute=0, second=0, microsecond=0)


def _matches(day: datetime, values: dict[str, Any]) -> bool:
    if values["schedule"] == "weekly":
        return WEEKDAYS[day.weekday()] == values.get("schedule_weekday", "monday")
    if values["schedule"] == "monthly":
        return day.day == int(values.get("schedule_day") or 1)
    return True


def last_slot(values: dict[str, Any], now: datetime) -> datetime | None:
    """The latest time at or before `now` the schedule asked for a run (aware); None when manual."""
    if values.get("schedule") not in SCHEDULED:
        return None
    local = now.astimezone(_zone(values))
    for back in range(0, 32):
        slot = _slot_on(local - timedelta(days=back), values)
        if slot <= local and _matches(slot, values):
            return slot
    return None


def next_slot(values: dict[str, Any], now: datetime) -> datetime | None:
    """The next time after `now` the schedule runs, in its time zone; None when manual."""
    if values.get("schedule") not in SCHEDULED:
        return None
    local = now.astimezone(_zone(values))
    for ahead in range(0, 33):
        slot = _slot_on(local + timedelta(days=ahead), values)
        if slot > local and _matches(slot, values):
            return slot
    return None


def schedule_text(values: dict[str, Any]) -> str:
    """The schedule as people say it: "Weekly on Monday at 02:00 (Europe/Paris)"."""
    kind = values.get("schedule") or "manual"
    if kind not in SCHEDULED:
        return "Manual: runs only when started"
    at = f"at {int(values.get('schedule_hour') or 0):02d}:00 ({_zone(values).key})"
    if kind == "weekly":
        return f"Weekly on {str(values.get('schedule_weekday', 'monday')).capitalize()} {at}"
    if kind == "monthly":
        return f"Monthly on day {int(values.get('schedule_day') or 1)} {at}"
    return f"Daily {at}"

"""Riding out a Redis outage: which errors mean "Redis is not answering", and a backoff that says so in
the log once (then once a minute), waits a little longer after each failure up to a ceiling, and says
when Redis answers again."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

from saasadmin.env import envfloat

# Refused, reset, socket gone, or no answer in time: an outage, worth waiting out. Other Redis errors
# (a wrong command, an out-of-memory refusal) are bugs or configuration and are not retried silently.
REDIS_DOWN: tuple[type[Exception], ...] = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
REMIND_EVERY_SECONDS = 60.0


def retry_ceiling_seconds() -> float:
    """The longest wait between two attempts to reach Redis: how late a process notices Redis is back."""
    return envfloat("REDIS_RETRY_MAX_SECONDS", 5.0)


class RedisBackoff:
    """Exponential waits between attempts to reach Redis, from `first` up to the ceiling, with log lines
    a person can act on: when the outage starts, a reminder each minute, and when it ends."""

    def __init__(self, who: str, log: logging.Logger, *, first: float = 0.5) -> None:
        self.who = who
        self.log = log
        self.first = first
        self.ceiling = retry_ceiling_seconds()
        self.delay = first
        self.down_since: float | None = None
        self.reminded_at = 0.0

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, exc: Exception) -> float:
        """Note a failed attempt; return how many seconds to wait before the next one."""
        now = time.monotonic()
        if self.down_since is None:
            self.down_since = self.reminded_at = now
            self.delay = self.first
            self.log.warning(
                "%s: Redis is not answering (%s); retrying, at most %g s apart", self.who, exc, self.ceiling
            )
        else:
            self.delay = min(self.delay * 2, self.ceiling)
            if now - self.reminded_at >= REMIND_EVERY_SECONDS:
                self.reminded_at = now
                self.log.warning(
                    "%s: Redis still not answering after %.0f s (%s)", self.who, now - self.down_since, exc
                )
        return self.delay

    def succeeded(self) -> None:
        """Note an attempt that Redis answered; logs the end of an outage."""
        if self.down_since is not None:
            down_for = time.monotonic() - self.down_since
            self.log.warning("%s: Redis answers again after %.0f s; carrying on", self.who, down_for)
            self.down_since = None


def sleep_unless(seconds: float, stopped: Callable[[], bool]) -> None:
    """Sleep `seconds` in short slices, returning early once `stopped()` says so (a shutdown request)."""
    deadline = time.monotonic() + seconds
    while not stopped():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.2))

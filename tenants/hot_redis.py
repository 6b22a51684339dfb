"""The Redis client of the API's hot path: one connection pool per process, short timeouts.

django-rq's `get_connection` builds a new client (and pool) on every call, which costs a connect per
request; the API's token and rate-limit checks share this one instead.
"""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings

# A hot-path call that waits longer than this for Redis is better refused than left hanging.
SOCKET_TIMEOUT_SECONDS = 0.5


@lru_cache(maxsize=2)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=SOCKET_TIMEOUT_SECONDS
    )


def hot_redis() -> redis.Redis:
    """The shared client for settings.REDIS_URL (built on first use, never at import)."""
    return _client(settings.REDIS_URL)

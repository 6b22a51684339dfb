"""The tokens' generation: one Redis counter that every change able to refuse a token moves forward.

The API keeps authenticated tokens in each web process (tenants/token_cache.py) and trusts an entry only
while this counter still reads what it read before loading it. Revoking a token, suspending, resuming,
offboarding or editing a tenant (its tier sets its rate limit) call `tokens_changed`, so every process
drops what it knew on its next request: "suspending blocks its tokens at once" holds with the cache warm.
"""

from __future__ import annotations

import logging

import redis
from django.db import transaction

from tenants.hot_redis import hot_redis

log = logging.getLogger(__name__)
GENERATION_KEY = "saasadmin:tokens:generation"


def generation_read() -> str:
    """The current generation ("0" before any change); raises redis.RedisError when Redis is away."""
    value = hot_redis().get(GENERATION_KEY)
    if value is None:
        return "0"
    return value.decode() if isinstance(value, bytes) else str(value)


def _bump() -> None:
    try:
        hot_redis().incr(GENERATION_KEY)
    except redis.RedisError as exc:
        # The caches then trust their entries until TOKEN_CACHE_MAX_AGE (tenants/token_cache.py) at most.
        log.warning("Could not tell the API's token caches about a change: %s", exc)


def tokens_changed() -> None:
    """Invalidate every process's token cache, now and again once the current transaction commits.

    Now, so that a request in this process (or a test inside one transaction) sees it at once; again
    after the commit, so that a process that re-read the database before the commit (and so still saw
    the old row) drops that entry too.
    """
    _bump()
    transaction.on_commit(_bump)

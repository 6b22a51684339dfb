"""Usage metering on the inference API's hot path: one Redis round trip per request, no database write.

Each request adds to a per-minute Redis hash (`usage:m:<epoch minute>`) whose fields are
`<tenant id>|<deployment id>|<metric>`: invocations, errors per class, bytes in and out, model latency
sum and max. One Lua script does all of it, so a request costs one command (EVALSHA) and is applied
atomically — the flush (deployments/services/usage_flush.py) can never take half a request. The script
also notes the minute in an index (a sorted set) so that the flush finds open minutes without SCAN.

Metering never fails a prediction: when Redis does not answer (or refuses, e.g. out of memory), the
request is served and its usage is lost (logged, at most once a minute): counting must not slow or break
the hot path.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime
from functools import lru_cache
from uuid import UUID

import redis
from django.conf import settings
from redis.commands.core import Script

log = logging.getLogger(__name__)

OK = "ok"
# The error classes a request can end in; each is counted apart (the usage page and the cost split read them).
ERROR_CLASSES: tuple[str, ...] = (
    "client_error",
    "throttled",
    "model_error",
    "timeout",
    "not_ready",
    "server_error",
    "rate_limited",  # the tenant's own rate limit (429), counted by the API's gate (deployments/api_gate.py)
    "not_serving",  # the tenant's deployment is not in service (409)
)
OUTCOMES: frozenset[str] = frozenset((OK, *ERROR_CLASSES))
# Refused by the API itself before SageMaker was called (400/413/415, the rate limit, not in service):
# counted in their error column but not as invocations, which the cost pages split shared endpoints by.
REFUSAL_CLASSES: frozenset[str] = frozenset(("client_error", "rate_limited", "not_serving"))

KEY_PREFIX = "usage"
# A sorted set: member and score are an epoch minute whose usage the flush has not taken yet.
MINUTES_INDEX = f"{KEY_PREFIX}:minutes"
FLUSHING_SET = f"{KEY_PREFIX}:flushing"  # set of flushing keys taken from a minute and not yet applied

# Field suffixes inside a minute hash (short: they are written on every request).
INVOCATIONS, BYTES_IN, BYTES_OUT, LATENCY_SUM, LATENCY_MAX = "n", "bi", "bo", "ls", "lm"
ERROR_FIELD_PREFIX = "e:"

# KEYS: minute hash, minutes index. ARGV: minute, field prefix, error field ('' when ok), bytes in,
# bytes out, latency ms, invocations (1, or 0 for bytes sent later: an async result fetched). The max
# is a compare-and-set, which is why this is a script and not a pipeline.
_RECORD_LUA = """
local h, p, lat = KEYS[1], ARGV[2], tonumber(ARGV[6])
redis.call('HINCRBY', h, p .. 'n', ARGV[7])
if ARGV[3] ~= '' then redis.call('HINCRBY', h, p .. ARGV[3], 1) end
redis.call('HINCRBY', h, p .. 'bi', ARGV[4])
redis.call('HINCRBY', h, p .. 'bo', ARGV[5])
redis.call('HINCRBYFLOAT', h, p .. 'ls', ARGV[6])
local max = redis.call('HGET', h, p .. 'lm')
if (not max) or lat > tonumber(max) then redis.call('HSET', h, p .. 'lm', ARGV[6]) end
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
return 1
"""

_LOG_EVERY_SECONDS = 60.0
_last_logged = 0.0


def minute_key(minute: int) -> str:
    return f"{KEY_PREFIX}:m:{minute}"


def epoch_minute(at: datetime) -> int:
    """The minute `at` falls in, as whole minutes since the epoch (UTC)."""
    return int(at.timestamp() // 60)


@lru_cache(maxsize=1)
def metering_redis() -> redis.Redis:
    """The hot path's own client: short timeouts, so a hung Redis costs a request ~0.25 s, not minutes."""
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.METERING_REDIS_TIMEOUT,
        socket_timeout=settings.METERING_REDIS_TIMEOUT,
    )


@lru_cache(maxsize=1)
def _record_script() -> Script:
    # EVALSHA after the first call: the script's text travels once per connection pool, not per request.
    return metering_redis().register_script(_RECORD_LUA)


def usage_record(
    *,
    tenant_id: UUID | str,
    deployment_id: int,
    outcome: str,
    bytes_in: int,
    bytes_out: int,
    latency_ms: float,
    at: datetime | None = None,
    invocations: int = 1,
) -> None:
    """Count one API request against its tenant × deployment × minute (one Redis round trip).

    `outcome` is "ok" or one of ERROR_CLASSES; anything else is a programming error and raises ValueError.
    `invocations=0` adds bytes to the minute without counting a request (an async result fetched later);
    a refusal of REFUSAL_CLASSES never counts as an invocation.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}: expected one of {sorted(OUTCOMES)}")
    if outcome in REFUSAL_CLASSES:
        invocations = 0
    minute = epoch_minute(at or datetime.now(UTC))
    error_field = "" if outcome == OK else ERROR_FIELD_PREFIX + outcome
    args: list[str | int] = [
        minute,
        f"{tenant_id}|{deployment_id}|",
        error_field,
        int(bytes_in),
        int(bytes_out),
    ]
    try:
        _record_script()(
            keys=[minute_key(minute), MINUTES_INDEX],
            args=[*args, _latency_text(latency_ms), int(invocations)],
        )
    except redis.RedisError as exc:
        _log_lost(exc)


def _latency_text(latency_ms: float) -> str:
    """Milliseconds as HINCRBYFLOAT and Lua's tonumber read them (no exponent; NaN or negative → 0)."""
    value = float(latency_ms)
    return f"{value:.3f}" if math.isfinite(value) and value > 0 else "0"


def _log_lost(exc: Exception) -> None:
    """Say once a minute (not once a request) that usage is being lost while Redis fails."""
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= _LOG_EVERY_SECONDS:
        _last_logged = now
        log.warning("usage metering: Redis is not answering (%s); requests are served but not counted", exc)

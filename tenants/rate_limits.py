"""The API's per-tenant rate limit: a token bucket per tenant in Redis, sized by the tenant's tier.

Each tier has a rate (requests per second, the bucket's refill) and a burst (its size). Operators set
them on the API limits page; a tier they never set uses TIER_DEFAULTS. `rate_limit_take` takes one
request from the tenant's bucket in one Redis round trip (a Lua script, so concurrent callers on any
number of web processes cannot both take the last request).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import redis
from django.db import transaction

from tenants.audit import audit_record
from tenants.hot_redis import hot_redis
from tenants.models import Tier
from tenants.models_limits import TierRateLimit

log = logging.getLogger(__name__)
BUCKET_KEY = "saasadmin:ratelimit:{tenant_id}"
# Each web process re-reads the operators' limits this often; the process that saves them at once.
CONFIG_TTL_SECONDS = 10.0


@dataclass(frozen=True)
class RateLimit:
    requests_per_second: Decimal
    burst: int


TIER_DEFAULTS: dict[str, RateLimit] = {
    Tier.FREE: RateLimit(Decimal("1"), 5),
    Tier.STANDARD: RateLimit(Decimal("10"), 20),
    Tier.PREMIUM: RateLimit(Decimal("50"), 100),
    Tier.ENTERPRISE: RateLimit(Decimal("200"), 400),
}

# KEYS[1] the bucket (hash: tokens, at); ARGV rate per second, burst. Redis's own clock, so web hosts
# with skewed clocks share one truth. Returns "0" when taken, else the seconds until one is available.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""
_cache: dict[str, Any] = {"at": float("-inf"), "limits": {}, "script": None}


def tier_limits(*, fresh: bool = False) -> dict[str, RateLimit]:
    """Every tier's limit: the operators' where set, else the default (cached CONFIG_TTL_SECONDS)."""
    now = time.monotonic()
    if fresh or now - _cache["at"] > CONFIG_TTL_SECONDS:
        limits = dict(TIER_DEFAULTS)
        for row in TierRateLimit.objects.all():
            limits[row.tier] = RateLimit(row.requests_per_second, row.burst)
        _cache.update(at=now, limits=limits)
    return _cache["limits"]


def tenant_rate_limit(tenant: Any) -> RateLimit:
    return tier_limits().get(tenant.tier, TIER_DEFAULTS[Tier.STANDARD])


def rate_limit_take(tenant: Any) -> float | None:
    """Take one request from `tenant`'s bucket: None when allowed, else seconds to wait (Retry-After).

    A Redis outage lets the request through (and logs it): the limit protects shared endpoints from
    one tenant's bursts, which is not worth refusing every tenant while Redis is away.
    """
    limit = tenant_rate_limit(tenant)
    if _cache["script"] is None:
        _cache["script"] = hot_redis().register_script(_TAKE)
    key = BUCKET_KEY.format(tenant_id=tenant.pk)
    try:
        args = [str(limit.requests_per_second), limit.burst]
        wait = float(_cache["script"](keys=[key], args=args, client=hot_redis()))
    except redis.RedisError as exc:
        log.warning("Rate limit of tenant %s not checked, Redis did not answer: %s", tenant.slug, exc)
        return None
    return wait if wait > 0 else None


@transaction.atomic
def rate_limits_set(*, actor: Any, limits: dict[str, RateLimit]) -> int:
    """Store operators' limits per tier (audited, one event per changed tier); returns how many changed."""
    current = tier_limits(fresh=True)
    changed = 0
    for tier, limit in limits.items():
        before = current[tier]
        if (before.requests_per_second, before.burst) == (limit.requests_per_second, limit.burst):
            continue
        row, _created = TierRateLimit.objects.get_or_create(
            tier=tier, defaults={"requests_per_second": limit.requests_per_second, "burst": limit.burst}
        )
        row.requests_per_second, row.burst = limit.requests_per_second, limit.burst
        row.updated_by = actor if getattr(actor, "pk", None) else None
        row.full_clean()
        row.save()
        audit_record(
            actor=actor, action="rate_limit.update", obj=row, tenant=None,
            before={"requests_per_second": str(before.requests_per_second), "burst": before.burst},
            after={"requests_per_second": str(limit.requests_per_second), "burst": limit.burst},
        )  # fmt: skip
        changed += 1
    # Read again on next use: in this transaction it sees the new rows, after a rollback the old ones.
    tier_limits_forget()
    transaction.on_commit(tier_limits_forget)
    return changed


def tier_limits_forget() -> None:
    _cache["at"] = float("-inf")

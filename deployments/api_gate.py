"""The inference API's gate: one Redis round trip per request before the model is called.

One Lua script, atomically: (1) checks that the tokens' generation still reads what the caller's cached
token was loaded under (tenants/token_cache.py) — if not, nothing else happens and the token is checked
against the database again; (2) notes the token's last use (tenants/token_usage.py's hash); (3) takes one
request from the tenant's rate-limit bucket (tenants/rate_limits.py's token bucket, Redis's clock); and
(4) when the request is refused — by the rate limit (429) or because the deployment is not in service
(409) — counts that refusal in the usage minute (deployments/metering.py's hash; an error, not an
invocation: SageMaker was not called), so refusals are metered without a round trip of their own. A
served request is metered after the model answers, when the response is closed (deployments/api.py).

When Redis does not answer, the token is checked against the database on every request (the cache is
not trusted), and neither the rate limit nor the last use is recorded: refusing every tenant while Redis
is away would be worse than letting one burst through.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from functools import lru_cache

import redis
from redis.commands.core import Script

from deployments import metering
from deployments.services.inference import InferenceRefused
from tenants.hot_redis import hot_redis
from tenants.rate_limits import BUCKET_KEY, tenant_rate_limit
from tenants.token_cache import Identity, identity_reload
from tenants.token_generation import GENERATION_KEY
from tenants.token_usage import LAST_USED_KEY

log = logging.getLogger(__name__)

# KEYS: generation, last-used hash, rate-limit bucket, usage minute hash, usage minutes index.
# ARGV: 1 generation expected, 2 token id, 3 rate per second ('' = take nothing), 4 burst, 5 epoch minute,
# 6 usage field prefix ('' = no deployment to meter), 7 refusal's error field ('' = none yet),
# 8 the rate limit's error field. Returns {'stale', generation} or {'ok', seconds to wait ('0': go)}.
_GATE_LUA = """
local generation = redis.call('GET', KEYS[1]) or '0'
if generation ~= ARGV[1] then return {'stale', generation} end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('HSET', KEYS[2], ARGV[2], string.format('%.3f', now))
local refusal, wait = ARGV[7], 0
if refusal == '' and ARGV[3] ~= '' then
  local rate, burst = tonumber(ARGV[3]), tonumber(ARGV[4])
  local state = redis.call('HMGET', KEYS[3], 'tokens', 'at')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
  if tokens >= 1 then
    tokens = tokens - 1
  else
    wait = (1 - tokens) / rate
    refusal = ARGV[8]
  end
  redis.call('HSET', KEYS[3], 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[3], math.ceil(burst / rate * 1000) + 1000)
end
if refusal ~= '' and ARGV[6] ~= '' then
  redis.call('HINCRBY', KEYS[4], ARGV[6] .. refusal, 1)
  redis.call('ZADD', KEYS[5], ARGV[5], ARGV[5])
end
return {'ok', tostring(wait)}
"""
RATE_LIMITED = metering.ERROR_FIELD_PREFIX + "rate_limited"


@lru_cache(maxsize=1)
def _gate_script() -> Script:
    # EVALSHA after the first call: the script's text travels once per connection pool, not per request.
    return hot_redis().register_script(_GATE_LUA)


def gate_pass(
    identity: Identity,
    *,
    deployment_id: int | None = None,
    take: bool = False,
    refusal: str = "",
) -> Identity:
    """Confirm `identity` is current, note its use and, with `take`, take one request from its tenant's
    rate limit; meter a refusal (the rate limit's, or `refusal`, an error class of deployments.metering)
    against `deployment_id` when given.

    Returns the identity to go on with (reloaded from the database when the cached one was stale).
    Raises TokenRefused when the reloaded token no longer passes, InferenceRefused(429) past the limit.
    """
    for _attempt in range(2):
        tenant = identity.token.tenant
        try:
            status, value = _run(identity, deployment_id, take, refusal)
        except redis.RedisError as exc:
            log.warning("API gate: Redis did not answer (%s); the token is checked in the database", exc)
            return identity_reload(identity, cache=False) if identity.cached else identity
        if status == "stale":
            identity = identity_reload(identity)  # TokenRefused when revoked, suspended, offboarded
            continue
        wait = float(value)
        if wait > 0:
            raise InferenceRefused(
                429,
                "rate_limited",
                f"{tenant.name} is past its API rate limit: wait {math.ceil(wait)} s and try again.",
                math.ceil(wait),
                deployment_id=deployment_id,
            )
        return identity
    # The generation moved twice in a row (changes racing this request): the token was checked against
    # the database an instant ago, which is what an uncached request gets.
    return identity


def _run(identity: Identity, deployment_id: int | None, take: bool, refusal: str) -> tuple[str, str]:
    tenant = identity.token.tenant
    limit = tenant_rate_limit(tenant)
    minute = metering.epoch_minute(datetime.now(UTC))
    keys = [
        GENERATION_KEY,
        LAST_USED_KEY,
        BUCKET_KEY.format(tenant_id=tenant.pk),
        metering.minute_key(minute),
        metering.MINUTES_INDEX,
    ]
    args: list[str | int] = [
        identity.generation or "-",  # never matches: an uncached identity is re-checked (when Redis is back)
        identity.token.pk,
        str(limit.requests_per_second) if take and not refusal else "",
        limit.burst,
        minute,
        f"{tenant.pk}|{deployment_id}|" if deployment_id is not None else "",
        metering.ERROR_FIELD_PREFIX + refusal if refusal else "",
        RATE_LIMITED,
    ]
    status, value = _gate_script()(keys=keys, args=args)
    return status.decode(), value.decode()

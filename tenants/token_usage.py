"""When each API token was last used: a Redis hash written per request, flushed to the database by cron.

A database write per API call would cost more than the whole hot-path budget and lock rows under load;
an HSET is one fast Redis command. The cron's flush (`token_last_used_flush`, every minute) copies the
times to `TenantToken.last_used_at`, so the tenant page is at most a minute behind.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import redis
from django.db.models import Q

from tenants.hot_redis import hot_redis
from tenants.models_tokens import TenantToken

log = logging.getLogger(__name__)
LAST_USED_KEY = "saasadmin:tokens:last_used"  # hash: token id → epoch seconds of the latest use

# Remove each flushed field only if it still holds the value flushed: a use recorded meanwhile stays
# for the next flush. KEYS[1] the hash; ARGV field, value, field, value …
_FORGET_FLUSHED = """
local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    removed = removed + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return removed
"""


def token_used(token: TenantToken) -> None:
    """Note that `token` was used now. A Redis outage only loses this note: the request goes on."""
    try:
        hot_redis().hset(LAST_USED_KEY, str(token.pk), f"{time.time():.3f}")
    except redis.RedisError as exc:
        log.warning("Could not record the last use of API token %s: %s", token.prefix, exc)


def _text(value: bytes | str) -> str:
    """A Redis reply as text (this client answers bytes; one built with decode_responses, str)."""
    return value.decode() if isinstance(value, bytes) else value


def token_last_used_flush() -> int:
    """Copy the recorded last-use times to the database; returns how many tokens were updated.

    Safe to repeat and to fail half-way: each update only moves a time forward, and the Redis fields are
    removed after the database has them (and only if no newer use came in meanwhile).
    """
    connection = hot_redis()
    recorded = {_text(key): _text(value) for key, value in connection.hgetall(LAST_USED_KEY).items()}
    updated = 0
    for token_id, stamp in recorded.items():
        if not token_id.isdigit():
            continue
        moment = datetime.fromtimestamp(float(stamp), tz=UTC)
        updated += TenantToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=moment), pk=int(token_id)
        ).update(last_used_at=moment)
    if recorded:
        pairs = [part for item in recorded.items() for part in item]
        connection.eval(_FORGET_FLUSHED, 1, LAST_USED_KEY, *pairs)
    return updated

"""The per-tenant API rate limit: a token bucket per tenant in Redis, sized by tier, set by operators."""

from __future__ import annotations

import re
import threading
import time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from django.urls import reverse

from tenants import rate_limits
from tenants.models import AuditEvent, Tier, TierRateLimit
from tenants.rate_limits import TIER_DEFAULTS, RateLimit, rate_limit_take, rate_limits_set, tier_limits
from tests.factories import make_tenant


def _allowed(tenant: object, calls: int) -> int:
    return sum(rate_limit_take(tenant) is None for _ in range(calls))


def test_a_burst_is_served_then_refused_with_a_sensible_retry_after(world: SimpleNamespace) -> None:
    free = make_tenant(tier="free")
    limit = TIER_DEFAULTS["free"]  # 1 request per second, bursts of 5
    assert _allowed(free, limit.burst) == limit.burst
    wait = rate_limit_take(free)
    assert wait is not None
    assert 0.5 < wait <= 1.0  # one request's worth of refill at 1/s, minus what refilled meanwhile
    time.sleep(wait)
    assert rate_limit_take(free) is None  # refilled after the advertised wait


def test_two_tenants_have_buckets_of_their_own(world: SimpleNamespace) -> None:
    rate_limits_set(actor=world.operator, limits={"standard": RateLimit(Decimal("0.01"), 3)})
    assert _allowed(world.tenant_a, 5) == 3
    assert rate_limit_take(world.tenant_a) is not None
    assert _allowed(world.tenant_b, 3) == 3


def test_an_operators_change_takes_effect(world: SimpleNamespace) -> None:
    rate_limits_set(actor=world.operator, limits={"standard": RateLimit(Decimal("0.01"), 2)})
    assert _allowed(world.tenant_a, 4) == 2
    assert rate_limit_take(world.tenant_a) > 50  # 1 request per 100 s
    rate_limits_set(actor=world.operator, limits={"standard": RateLimit(Decimal("1000"), 50)})
    time.sleep(0.01)
    assert rate_limit_take(world.tenant_a) is None
    event = AuditEvent.objects.filter(action="rate_limit.update").first()
    assert event.after == {"requests_per_second": "1000", "burst": 50}
    assert TierRateLimit.objects.get(tier="standard").burst == 50


def test_an_unchanged_limit_records_nothing(world: SimpleNamespace) -> None:
    assert rate_limits_set(actor=world.operator, limits=dict(TIER_DEFAULTS)) == 0
    assert not AuditEvent.objects.filter(action="rate_limit.update").exists()
    assert tier_limits(fresh=True) == TIER_DEFAULTS


def test_concurrent_callers_never_take_more_than_the_burst(world: SimpleNamespace) -> None:
    rate_limits_set(actor=world.operator, limits={"standard": RateLimit(Decimal("0.01"), 10)})
    tier_limits()  # loaded before the threads (which have no access to the test's transaction)
    allowed: list[int] = []

    def caller() -> None:
        allowed.append(_allowed(world.tenant_a, 10))

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sum(allowed) == 10


def test_a_redis_outage_lets_requests_through(
    world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    away = redis.Redis.from_url("unix:///nonexistent/redis.sock", socket_connect_timeout=0.1)
    monkeypatch.setattr(rate_limits, "hot_redis", lambda: away)
    assert rate_limit_take(world.tenant_a) is None


def test_an_operator_sets_a_tiers_limits_on_the_page(client: Any, world: SimpleNamespace) -> None:
    client.force_login(world.operator)
    url = reverse("rate_limits")
    page = client.get(url).content.decode()
    assert "API rate limits" in page
    key = re.search(r'name="submit_key" value="([0-9a-f-]+)"', page).group(1)
    data = {f"{tier}_{part}": "" for tier in Tier.values for part in ("rate", "burst")}
    for tier, limit in TIER_DEFAULTS.items():
        data.update({f"{tier}_rate": str(limit.requests_per_second), f"{tier}_burst": str(limit.burst)})
    refused = client.post(url, {**data, "premium_rate": "0", "submit_key": key}).content.decode()
    assert "greater than or equal to 0.01" in refused
    response = client.post(url, {**data, "premium_rate": "75.5", "premium_burst": "150", "submit_key": key})
    assert response.status_code == 302
    assert tier_limits()["premium"] == RateLimit(Decimal("75.50"), 150)
    assert "75.5" in client.get(url).content.decode()
    assert AuditEvent.objects.filter(action="rate_limit.update").count() == 1


def test_a_tenant_reads_its_tiers_limit_on_its_page(client: Any, world: SimpleNamespace) -> None:
    client.force_login(world.viewer_a)
    page = client.get(reverse("tenant_detail", args=[world.tenant_a.pk])).content.decode()
    assert "allows 10 requests per second, in bursts of up to 20" in page
    assert client.get(reverse("rate_limits")).status_code == 403

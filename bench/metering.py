"""Benchmark usage metering on the hot path: one usage_record call against one Redis PING (the cheapest
round trip to the same server, measured in the same run).

Run standalone: `.venv/bin/python bench/metering.py`. The last line is `usage_record_p50_ms=<value>`
(the issue's budget for the whole gateway's added p50 is 2 ms; metering should take well under 0.5 ms).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saasadmin.settings")

import django

CALLS = 5000
# A minute long past, in a key of its own: the benchmark never touches usage a flush would take.
AT = datetime(2001, 1, 1, tzinfo=UTC)


def timed_ms(call: Callable[[], object], times: int) -> list[float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    django.setup()
    from django.conf import settings

    from deployments import metering
    from saasadmin.embedded import redis_start

    if "REDIS_URL" not in os.environ:
        redis_start(settings.EMBEDDED_REDIS_SOCKET)
    client = metering.metering_redis()

    def record() -> None:
        metering.usage_record(
            tenant_id="bench",
            deployment_id=1,
            outcome="ok",
            bytes_in=512,
            bytes_out=32,
            latency_ms=4.2,
            at=AT,
        )

    record()  # loads the script
    ping = timed_ms(client.ping, CALLS)
    records = timed_ms(record, CALLS)
    minute = metering.epoch_minute(AT)
    counted = int(client.hget(metering.minute_key(minute), "bench|1|n") or 0)
    client.delete(metering.minute_key(minute))
    client.zrem(metering.MINUTES_INDEX, minute)
    p50, p99 = statistics.median(records), statistics.quantiles(records, n=100)[98]
    ping_p99 = statistics.quantiles(ping, n=100)[98]
    print(
        f"PING p50 {statistics.median(ping):.3f} ms, p99 {ping_p99:.3f} ms; "
        f"usage_record p50 {p50:.3f} ms, p99 {p99:.3f} ms"
    )
    print(
        f"usage_record / PING = {p50 / statistics.median(ping):.2f}; {counted} of {CALLS + 1} calls counted"
    )
    assert counted == CALLS + 1, "every call counted"
    print(f"usage_record_p50_ms={p50:.3f}")


if __name__ == "__main__":
    main()

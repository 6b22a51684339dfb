"""Moving metered usage from Redis into UsageMinute rows, without losing or double-counting any of it.

1. Take: each closed minute's hash is renamed, atomically (a Lua script), to a flushing key of its own
   (`usage:flushing:<minute>:<batch>`) listed in a set. A request that still lands in that minute later
   recreates the minute's hash, which a later flush takes as another batch: rows add up, nothing is lost.
2. Apply: in one transaction, the batch's counts are added to the rows (an upsert that adds) and the batch
   id is written to the UsageFlushBatch ledger. Only after the commit is the flushing key deleted.

A flush that fails leaves its flushing key in place, and the next run applies it. A batch applied whose key
survived (a crash after the commit) is found in the ledger and only deleted: a rerun counts nothing twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import django_rq
import redis
from django.db import IntegrityError, connection, transaction

from deployments import metering
from deployments.models import Deployment, UsageFlushBatch, UsageMinute
from deployments.queueing import QUEUE

log = logging.getLogger(__name__)

# A minute is closed this many seconds after it ends: requests finishing at its edge are in by then.
CLOSE_AFTER_SECONDS = 5
FLUSHING_PREFIX = f"{metering.KEY_PREFIX}:flushing:"
ERROR_COLUMNS: dict[str, str] = {
    "client_error": "errors_client",
    "throttled": "errors_throttled",
    "model_error": "errors_model",
    "timeout": "errors_timeout",
    "not_ready": "errors_not_ready",
    "server_error": "errors_server",
    "rate_limited": "errors_rate_limited",
    "not_serving": "errors_not_serving",
}
assert set(ERROR_COLUMNS) == set(metering.ERROR_CLASSES), "every error class has its column"
COUNT_COLUMNS = ("invocations", *ERROR_COLUMNS.values(), "bytes_in", "bytes_out", "latency_ms_sum")
_METRIC_COLUMNS = {
    metering.INVOCATIONS: "invocations",
    metering.BYTES_IN: "bytes_in",
    metering.BYTES_OUT: "bytes_out",
    metering.LATENCY_SUM: "latency_ms_sum",
    metering.LATENCY_MAX: "latency_ms_max",
    **{metering.ERROR_FIELD_PREFIX + name: column for name, column in ERROR_COLUMNS.items()},
}

# KEYS: minute hash, flushing key, minutes index, flushing set. ARGV: minute.
_TAKE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('SADD', KEYS[4], KEYS[2])
end
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""


class UsageFlushIncomplete(Exception):
    """Some batches could not be applied; they stay in Redis and the next flush applies them."""


@dataclass
class FlushReport:
    taken: int = 0
    applied: int = 0
    already_applied: int = 0
    failed: list[str] = field(default_factory=list)


def usage_flush(*, now: datetime | None = None) -> FlushReport:
    """Take the closed minutes out of Redis and add every pending batch (new or left by a failed flush)."""
    # The queue's connection, not the hot path's: a worker may wait longer for a big minute's hash.
    client = django_rq.get_connection(QUEUE)
    report = FlushReport(taken=_minutes_take(client, now or datetime.now(UTC)))
    for key in sorted(_text(member) for member in client.smembers(metering.FLUSHING_SET)):
        try:
            applied = _batch_apply(client, key)
        except Exception:
            log.exception("usage flush: batch %s was not applied; the next flush retries it", key)
            report.failed.append(key)
            continue
        if applied:
            report.applied += 1
        else:
            report.already_applied += 1
    if report.failed:
        raise UsageFlushIncomplete(f"{len(report.failed)} usage batch(es) left for the next flush: {report}")
    return report


def _minutes_take(client: redis.Redis, now: datetime) -> int:
    """Rename each closed minute's hash to a new flushing key; return how many minutes were taken."""
    closed_before = metering.epoch_minute(now) - (1 if now.second < CLOSE_AFTER_SECONDS else 0)
    minutes = [
        int(_text(m)) for m in client.zrangebyscore(metering.MINUTES_INDEX, "-inf", f"({closed_before}")
    ]
    take = client.register_script(_TAKE_LUA)
    for minute in minutes:
        flushing = f"{FLUSHING_PREFIX}{minute}:{uuid.uuid4().hex}"
        keys = [metering.minute_key(minute), flushing, metering.MINUTES_INDEX, metering.FLUSHING_SET]
        take(keys=keys, args=[minute])
    return len(minutes)


def _batch_apply(client: redis.Redis, key: str) -> bool:
    """Add one flushing batch to the rows unless the ledger has it; forget the key after the commit."""
    batch = key.removeprefix(FLUSHING_PREFIX)
    minute = datetime.fromtimestamp(int(batch.split(":", 1)[0]) * 60, UTC)
    rows = _rows(client.hgetall(key))
    applied = False
    try:
        with transaction.atomic():
            # First, so that a second flusher of the same batch waits here, then fails the unique check.
            if not UsageFlushBatch.objects.filter(batch=batch).exists():
                known = _known(rows)
                UsageFlushBatch.objects.create(batch=batch, rows=len(known))
                _rows_add(minute, known)
                applied = True
    except IntegrityError:
        if not UsageFlushBatch.objects.filter(batch=batch).exists():
            raise
        applied = False  # another flusher applied it at the same time
    _batch_forget(client, key)
    return applied


def _batch_forget(client: redis.Redis, key: str) -> None:
    """Delete an applied batch from Redis (if this fails, the next flush finds it in the ledger)."""
    pipe = client.pipeline(transaction=True)
    pipe.delete(key)
    pipe.srem(metering.FLUSHING_SET, key)
    pipe.execute()


Row = dict[str, float]


def _text(value: Any) -> str:
    """A Redis reply as text (the client answers bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _rows(fields: Mapping[bytes | str, bytes | str]) -> dict[tuple[str, int], Row]:
    """`tenant|deployment|metric → value` fields grouped into one row of columns per tenant × deployment."""
    rows: dict[tuple[str, int], Row] = {}
    for raw_field, raw_value in fields.items():
        tenant, deployment, metric = _text(raw_field).split("|", 2)
        column = _METRIC_COLUMNS.get(metric)
        if column is None:
            log.warning("usage flush: unknown metric %r ignored", metric)
            continue
        rows.setdefault((tenant, int(deployment)), {})[column] = float(raw_value)
    return rows


def _known(rows: dict[tuple[str, int], Row]) -> dict[tuple[str, int], Row]:
    """The rows whose tenant and deployment exist: usage of a deployment deleted meanwhile bills no one."""
    pairs = Deployment.objects.filter(id__in={d for _, d in rows}).values_list("id", flat=True)
    existing_deployments = set(pairs)
    tenants = {str(t) for t in _tenant_ids({t for t, _ in rows})}
    kept = {k: v for k, v in rows.items() if k[0] in tenants and k[1] in existing_deployments}
    for tenant, deployment in set(rows) - set(kept):
        log.warning(
            "usage flush: tenant %s / deployment %s no longer exist; usage dropped", tenant, deployment
        )
    return kept


def _tenant_ids(candidates: Iterable[str]) -> list[uuid.UUID]:
    from tenants.models import Tenant

    valid = []
    for candidate in candidates:
        try:
            valid.append(uuid.UUID(candidate))
        except ValueError:
            continue
    return list(Tenant.objects.filter(id__in=valid).values_list("id", flat=True))


def _rows_add(minute: datetime, rows: dict[tuple[str, int], Row]) -> None:
    """Insert each row, or add its counts to the row already there (max for the latency maximum)."""
    if not rows:
        return
    table = connection.ops.quote_name(UsageMinute._meta.db_table)
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    columns = ["tenant_id", "deployment_id", "minute", *COUNT_COLUMNS, "latency_ms_max"]
    updates = [f"{c} = {table}.{c} + excluded.{c}" for c in COUNT_COLUMNS]
    updates.append(f"latency_ms_max = {greatest}({table}.latency_ms_max, excluded.latency_ms_max)")
    # Identifiers come from the model's metadata, never from input; every value is a parameter.
    placeholders = ", ".join(["%s"] * len(columns))
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "  # noqa: S608
        f"ON CONFLICT (tenant_id, deployment_id, minute) DO UPDATE SET {', '.join(updates)}"
    )
    at = connection.ops.adapt_datetimefield_value(minute)
    params: list[list[Any]] = [
        [_tenant_param(tenant), deployment, at, *_values(row)] for (tenant, deployment), row in rows.items()
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _values(row: Row) -> list[float | int]:
    counts = [row.get(c, 0.0) if c == "latency_ms_sum" else int(row.get(c, 0)) for c in COUNT_COLUMNS]
    return [*counts, row.get("latency_ms_max", 0.0)]


def _tenant_param(tenant: str) -> object:
    """A tenant id as the database's UUID column takes it (SQLite stores hex without dashes)."""
    return UsageMinute._meta.get_field("tenant").target_field.get_db_prep_value(  # type: ignore[union-attr]
        uuid.UUID(tenant), connection
    )

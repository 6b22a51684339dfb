"""Time the cost ledger and allocation of one day for 2,000 tenants (issue 12 aims at 10 s or less).

    DEBUG=0 SECURE_HTTPS=0 STATIC_MANIFEST=0 SECRET_KEY=x .venv/bin/python bench/finance_ledger.py

The fleet: every tenant has its own real-time endpoint (one in ten an async endpoint scaling to zero at
night, one in ten a serverless one) and is a member of one of 200 shared multi-model endpoints (10 members
each, one of them joining at noon); every shared member and serverless owner has a day of hourly API usage,
every tenant an S3 sample. `costs_run` of that day (ledger, allocation, the day's lines replaced in one
transaction) is timed three times, median reported; reruns replace, so each run does the full work.

PostgreSQL when `BENCH_POSTGRES` (an admin URL, default postgres://postgres@127.0.0.1:5432/postgres)
answers: a scratch database is created and dropped; otherwise a throwaway SQLite file. `bench/finance.py`
imports `allocation_day_2000_tenants_s` to run the same measurement in its own database.
Last line: `allocation_day_2000_tenants_s=<value>`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TENANTS = 2000
SHARED_SIZE = 10
RUNS = 3
DAY = date(2026, 3, 10)
MONTH = timedelta(days=30)


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY, day_time(hour, minute), tzinfo=UTC)


def build_fleet(tenants: int = TENANTS, prefix: str = "bench") -> None:
    """The fleet and its day of inputs, in bulk inserts (ids from RETURNING on both databases)."""
    from deployments.catalogue import catalogue_version_record
    from deployments.models import (
        CatalogueVersion,
        Deployment,
        DeploymentEvent,
        DeploymentMember,
        UsageMinute,
    )
    from insights.models_costs import CapacitySample, StorageSample
    from tenants.models import Tenant

    if not CatalogueVersion.objects.exists():
        catalogue_version_record()
    owners = Tenant.objects.bulk_create(
        Tenant(
            name=f"{prefix} {n}",
            slug=f"{prefix}-{n}",
            isolation="bridge",
            contact_email=f"o{n}@x.example.com",
            status="active",
        )
        for n in range(tenants)
    )
    kinds = ["async" if n % 10 == 3 else "serverless" if n % 10 == 7 else "realtime" for n in range(tenants)]
    own = Deployment.objects.bulk_create(
        Deployment(
            tenant=t,
            name=f"{t.slug} own",
            kind=kind,
            isolation="silo",
            status="in_service",
            aws_name=f"sa-{t.slug}-own",
            settings={"memory_mb": 2048} if kind == "serverless" else {},
        )
        for t, kind in zip(owners, kinds, strict=True)
    )
    shared = Deployment.objects.bulk_create(
        Deployment(
            tenant=None,
            name=f"{prefix} shared {n}",
            kind="multi_model",
            isolation="bridge",
            status="in_service",
            aws_name=f"sa-{prefix}-mme-{n}",
        )
        for n in range(tenants // SHARED_SIZE)
    )
    variant, serverless = {"instance_type": "ml.m5.large", "instance_count": 1}, {"memory_mb": 2048}
    events = [
        DeploymentEvent(
            deployment=d,
            action="Status",
            outcome="in_service",
            created_at=_at(0) - MONTH,
            detail={"live": True, "variant": serverless if d.kind == "serverless" else variant},
        )
        for d in [*own, *shared]
    ]
    members, usage = [], []
    for n, tenant in enumerate(owners):
        deployment = shared[n // SHARED_SIZE]
        joined = _at(12) if n % SHARED_SIZE == 0 else _at(0) - MONTH
        members.append(DeploymentMember(deployment=deployment, tenant=tenant, target=f"{tenant.slug}.tar.gz"))
        events.append(
            DeploymentEvent(
                deployment=deployment,
                tenant=tenant,
                action="Member",
                outcome="joined",
                created_at=joined,
                detail={"tenant": str(tenant.pk), "member": "joined"},
            )
        )
        for hour in range(joined.hour if joined.date() == DAY else 5, 24):
            usage.append(
                UsageMinute(
                    tenant=tenant,
                    deployment=deployment,
                    minute=_at(hour, 3),
                    invocations=10 + n % 7,
                    latency_ms_sum=50.0 + n % 11,
                    bytes_in=4000,
                )
            )
        if own[n].kind == "serverless":
            usage += [
                UsageMinute(
                    tenant=tenant,
                    deployment=own[n],
                    minute=_at(hour, 5),
                    invocations=30,
                    latency_ms_sum=600.0,
                    bytes_in=9000,
                )
                for hour in range(24)
            ]
    DeploymentEvent.objects.bulk_create(events, batch_size=2000)
    DeploymentMember.objects.bulk_create(members, batch_size=2000)
    UsageMinute.objects.bulk_create(usage, batch_size=5000)
    CapacitySample.objects.bulk_create(
        CapacitySample(deployment=d, at=at, instance_count=count)
        for d in own
        if d.kind == "async"
        for at, count in ((_at(7), 1), (_at(20), 0))
    )
    StorageSample.objects.bulk_create(
        StorageSample(tenant=t, day=DAY, prefix=f"s3://bench/datasets/{t.slug}/", bytes=(n + 1) * 10**8)
        for n, t in enumerate(owners)
    )


def allocation_day_2000_tenants_s(tenants: int = TENANTS, *, build: bool = True) -> float:
    """Median seconds of `costs_run` of one day over the fleet above (Django set up, database migrated)."""
    from insights.costs.runs import costs_run

    if build:
        build_fleet(tenants)
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run = costs_run(DAY, DAY, trigger="bench")
        samples.append(time.perf_counter() - started)
    assert run.allocation_lines > tenants, "the fleet was not built"
    return statistics.median(samples)


def _postgres_scratch() -> tuple[str, Any] | None:
    """A scratch PostgreSQL database's URL and a function that drops it; None when no server answers."""
    admin = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
    try:
        import psycopg

        connection = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except Exception:  # no server: the bench runs on SQLite instead
        return None
    name = f"bench_finance_ledger_{os.getpid()}"
    connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.close()

    return admin.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="bench-finance-ledger-"))
    postgres = _postgres_scratch()
    url, drop = postgres if postgres else (f"sqlite:///{scratch / 'bench.sqlite3'}", lambda: None)
    os.environ.update({"DATA_DIR": str(scratch), "DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    for name, value in {"SECRET_KEY": "bench-only", "SECURE_HTTPS": "0", "STATIC_MANIFEST": "0"}.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saasadmin.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        build_fleet()
        print(f"built {TENANTS} tenants' day in {time.perf_counter() - started:.1f} s on {url.split(':')[0]}")
        seconds = allocation_day_2000_tenants_s(build=False)
        from insights.models_costs import AllocationLine, LedgerLine

        lines, shares = LedgerLine.objects.count(), AllocationLine.objects.count()
        print(f"one day: {lines} ledger lines, {shares} allocation lines")
        print(f"allocation_day_2000_tenants_s={seconds:.2f}")
    finally:
        drop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

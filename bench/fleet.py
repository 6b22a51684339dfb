"""Time the fleet page's database queries at 4,000 deployments (2,000 tenants) against 20 (10 tenants).

    DEBUG=0 SECURE_HTTPS=0 STATIC_MANIFEST=0 SECRET_KEY=x .venv/bin/python bench/fleet.py

It builds the fleet in a throwaway SQLite file (bulk inserts, as tests/factories.make_fleet does), signs an
operator in, requests /deployments/ several times at each size and sums the time of the page's queries
(median of the requests). A page that aggregates before it paginates grows with the fleet; one that
paginates first stays near flat. Last line: `fleet_query_4000_vs_20_ratio=<value>`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REQUESTS = 15
SMALL, LARGE = (20, 10), (4000, 2000)  # (deployments, tenants)


def _prepare(scratch: Path) -> Any:
    """Django on a fresh SQLite file in `scratch`, migrated; returns a test client signed in as operator."""
    os.environ.update({"DATA_DIR": str(scratch), "DATABASE_URL": f"sqlite:///{scratch / 'fleet.sqlite3'}"})
    for name, value in {"SECRET_KEY": "bench-only", "SECURE_HTTPS": "0", "STATIC_MANIFEST": "0"}.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saasadmin.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from tenants.roles import Role
    from tests.factories import make_user

    setup_test_environment()  # lets the test client's host in
    call_command("migrate", verbosity=0)
    client = Client()
    client.force_login(make_user(Role.OPERATOR, username="bench-operator"))
    return client


def _page_query_seconds(client: Any) -> float:
    """The median, over REQUESTS requests of the fleet page, of the summed time of its queries."""
    from django.db import connection

    spent: list[float] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append(time.perf_counter() - start)

    samples = []
    with connection.execute_wrapper(timed):
        for _ in range(REQUESTS):
            spent.clear()
            assert client.get("/deployments/").status_code == 200
            samples.append(sum(spent))
    return statistics.median(samples)


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    try:
        client = _prepare(scratch)
        from deployments.models import Deployment
        from tenants.models import Tenant
        from tests.factories import make_fleet

        make_fleet(*SMALL)
        small = _page_query_seconds(client)
        make_fleet(LARGE[0] - SMALL[0], LARGE[1] - SMALL[1])
        large = _page_query_seconds(client)
        print(f"deployments={Deployment.objects.count()} tenants={Tenant.objects.count()}")
        print(f"fleet_query_ms_at_{SMALL[0]}={small * 1000:.2f}")
        print(f"fleet_query_ms_at_{LARGE[0]}={large * 1000:.2f}")
        print(f"fleet_query_4000_vs_20_ratio={large / small:.2f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

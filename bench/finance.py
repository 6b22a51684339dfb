"""Time the finance pages against the raw SQL each needs, on 2,000 tenants × 24 months of daily cost lines.

    DEBUG=0 SECURE_HTTPS=0 STATIC_MANIFEST=0 SECRET_KEY=x .venv/bin/python bench/finance.py

PostgreSQL only (`DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/postgres): it creates a
throwaway database beside it, migrates it and fills it with INSERT … SELECT over generate_series (every
tenant has its own real-time endpoint; 800 of them also share 100 multi-model endpoints, 8 to one, with
idle overhead every day): about 1.5 M ledger and 2.1 M allocation lines in a few seconds. Then, warm, the
median of several requests of

- the month overview (`/costs/`), against the grouped aggregate it needs (every tenant's month and
  previous month, and the kind and idle totals);
- one shared tenant's cost page (`/costs/tenants/<id>/`), against its month's lines joined to their
  ledger lines and its twelve months' totals (warm: the page keeps a month's figures per tenant and
  lines version; `tenant_page_first_view_ms` is the view that works them out);

through Django's test client (server time: middleware, session, view, template), and the raw SQL through
a cursor on the same connection. It also times one day's ledger and allocation for 2,000 tenants when
`bench/finance_ledger.py` (the ledger's own benchmark) offers a function for it. Last line:
`finance_vs_sql_ratio=<the worse of the two page / SQL ratios>`. `--keep` keeps the database (its name is
printed) to look at the pages by hand. `--db NAME` uses the database NAME and keeps it: the first run
creates and fills it, later runs time the pages on the same lines without the two minutes of building
(`--db bench_finance --skip-ledger` leaves the one-day ledger timing out too, for quick page runs).
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TENANTS = int(os.environ.get("FINANCE_BENCH_TENANTS", "2000"))
MONTHS = int(os.environ.get("FINANCE_BENCH_MONTHS", "24"))
SHARED_ENDPOINTS, MEMBERS = TENANTS // 20, 8
REQUESTS = 9


def _database(name: str | None) -> tuple[str, str]:
    """(the server's URL, the bench database's URL) from DATABASE_URL: `name`, or a fresh one."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parsed = urlparse(base)
    if not parsed.scheme.startswith("postgres"):
        sys.exit("bench/finance.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    name = name or f"bench_finance_{os.getpid()}"
    return base, urlunparse(parsed._replace(path=f"/{name}"))


def _option(flag: str) -> str | None:
    """The value after `flag` on the command line, if given."""
    if flag in sys.argv[:-1]:
        return sys.argv[sys.argv.index(flag) + 1]
    return None


def _exists(base: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(base, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return found is not None


def _admin(base: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(sql)


def _setup(url: str) -> None:
    # The test client's host is allowed by setting rather than by setup_test_environment(), whose
    # instrumented template rendering (a signal and a context copy per template) is not server time.
    os.environ.update({"DATABASE_URL": url, "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "testserver"})
    for name, value in {"SECRET_KEY": "bench-only", "SECURE_HTTPS": "0", "STATIC_MANIFEST": "0"}.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DATA_DIR", str(ROOT / ".data" / "bench-finance"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saasadmin.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _fleet(first_day: date) -> tuple[list[Any], list[Any]]:
    """Tenants, their own endpoints, the shared endpoints and their members (bulk inserts)."""
    from decimal import Decimal

    from deployments.models import Deployment, DeploymentMember, Kind
    from tenants.models import Tenant

    currencies = ("USD", "USD", "EUR", "GBP")
    tenants = Tenant.objects.bulk_create(
        Tenant(
            name=f"Customer {n:04}",
            slug=f"customer-{n}",
            isolation="silo" if n % 5 else "bridge",
            tier=("free", "standard", "premium", "enterprise")[n % 4],
            plan_price=Decimal(50 + (n % 40) * 25),
            currency=currencies[n % 4],
            contact_email=f"ops{n}@example.com",
            status="active",
        )
        for n in range(TENANTS)
    )
    Tenant.objects.update(created_at=datetime.combine(first_day, datetime.min.time(), tzinfo=UTC))
    own = Deployment.objects.bulk_create(
        Deployment(
            tenant=t, name=f"{t.slug}-rt", kind=Kind.REALTIME, isolation="silo", aws_name=f"sa-{t.slug}-rt"
        )
        for t in tenants
    )
    shared = Deployment.objects.bulk_create(
        Deployment(
            tenant=None, name=f"mme-{n}", kind=Kind.MULTI_MODEL, isolation="bridge", aws_name=f"sa-mme-{n}"
        )
        for n in range(SHARED_ENDPOINTS)
    )
    DeploymentMember.objects.bulk_create(
        DeploymentMember(deployment=d, tenant=tenants[n * MEMBERS + m], target=f"m{m}.tar.gz")
        for n, d in enumerate(shared)
        for m in range(MEMBERS)
    )
    return tenants, own + shared


ALLOCATION_COLUMNS = """INSERT INTO insights_allocationline (day, ledger_line_id, tenant_id, deployment_id,
    resource_id, kind, isolation, usage_type, basis, share_numerator, share_denominator, invocations,
    hours_present, is_idle, idle_policy, cost, billed_cost, currency, run_id)"""
# Own endpoints: 12 to 24 h of one ml.m5.large a day, varying per tenant and day; shared ones: 2 instances.
LEDGER_SQL = """
    INSERT INTO insights_ledgerline (day, deployment_id, tenant_id, resource_id, kind, isolation,
        usage_type, quantity, unit, unit_price, cost, billed_cost, seconds, instance_type,
        instance_count, invocations, currency, price_version_id, run_id)
    SELECT d::date, dep.id, dep.tenant_id,
        'arn:aws:sagemaker:us-east-1:123456789012:endpoint/' || dep.aws_name, dep.kind, dep.isolation,
        'USE1-Host:ml.m5.large', q.hours, 'Hrs', 0.115, round(q.hours * 0.115, 8),
        round(q.hours * 0.115, 2), (q.hours * 3600)::int, 'ml.m5.large', q.instances,
        CASE WHEN dep.tenant_id IS NULL
             THEN 4000 + (dep.id * 7 + extract(doy FROM d)::int) %% 3000 ELSE 0 END,
        'USD', %(version)s, NULL
    FROM generate_series(%(first)s::date, %(last)s::date, '1 day') AS d
    CROSS JOIN deployments_deployment AS dep
    CROSS JOIN LATERAL (
        SELECT CASE WHEN dep.tenant_id IS NULL THEN 48
                    ELSE 12 + (dep.id + extract(doy FROM d)::int) %% 13 END AS hours,
               CASE WHEN dep.tenant_id IS NULL THEN 2 ELSE 1 END AS instances) AS q
"""
# Silo lines: the whole ledger line to its tenant.
SILO_SQL = f"""{ALLOCATION_COLUMNS}
    SELECT l.day, l.id, l.tenant_id, l.deployment_id, l.resource_id, l.kind, l.isolation,
        l.usage_type, 'silo', 1, 1, 0, 24, false, '', l.cost, l.billed_cost, 'USD', NULL
    FROM insights_ledgerline l WHERE l.tenant_id IS NOT NULL"""  # noqa: S608 - constants only
# Shared lines: 80 % used, split by invocations among the members (the n-th weighs n of 36); 20 % idle.
SHARED_SQL = f"""{ALLOCATION_COLUMNS}
    SELECT l.day, l.id, m.tenant_id, l.deployment_id, l.resource_id, l.kind, l.isolation,
        l.usage_type, 'invocations', l.invocations * m.rank / 36, l.invocations,
        l.invocations * m.rank / 36, 24, false, '', round(l.cost * 0.8 * m.rank / 36, 8),
        round(l.billed_cost * 0.8 * m.rank / 36, 2), 'USD', NULL
    FROM insights_ledgerline l
    JOIN (SELECT deployment_id, tenant_id,
                 row_number() OVER (PARTITION BY deployment_id ORDER BY id) AS rank
          FROM deployments_deploymentmember) m ON m.deployment_id = l.deployment_id
    WHERE l.tenant_id IS NULL"""  # noqa: S608 - constants only
# Idle overhead: what the eight shares left of each shared line, to the cent.
IDLE_SQL = f"""{ALLOCATION_COLUMNS}
    SELECT l.day, l.id, NULL, l.deployment_id, l.resource_id, l.kind, l.isolation, l.usage_type,
        'idle', 9.6, 48, 0, 0, true, 'overhead', round(l.cost * 0.2, 8),
        l.billed_cost - (SELECT sum(round(l.billed_cost * 0.8 * r / 36, 2)) FROM generate_series(1, 8) r),
        'USD', NULL
    FROM insights_ledgerline l WHERE l.tenant_id IS NULL"""  # noqa: S608 - constants only


def _lines(first_day: date, last_day: date) -> None:
    """Every day's ledger lines, then their allocation, with INSERT … SELECT over generate_series."""
    from django.db import connection

    from deployments.catalogue import catalogue_version_record

    # The real catalogue, valid from the first day: the ledger's own timing (run later in this database)
    # prices its day with it too.
    version = catalogue_version_record(valid_from=first_day)
    with connection.cursor() as cursor:
        # A bulk load: indexes built once at the end, and foreign keys not checked row by row (the rows
        # reference what _fleet just made; session_replication_role needs the superuser CI connects as).
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('insights_ledgerline', 'insights_allocationline') AND indexname NOT LIKE '%%_pkey'"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(LEDGER_SQL, {"version": version.pk, "first": first_day, "last": last_day})
        for sql in (SILO_SQL, SHARED_SQL, IDLE_SQL):
            cursor.execute(sql)
        cursor.execute("SET session_replication_role = DEFAULT")
        for _, definition in indexes:
            cursor.execute(definition)
        # The planner's statistics, as autovacuum would have them on a live database (without the
        # deployments', a join to them is planned for 500 rows and hashes all 4,300).
        for table in ("insights_ledgerline", "insights_allocationline", "tenants_tenant"):
            cursor.execute(f"ANALYZE {table}")
        for table in ("deployments_deployment", "deployments_deploymentmember"):
            cursor.execute(f"ANALYZE {table}")


def _median(action: Callable[[], Any], times: int = REQUESTS) -> float:
    action()  # warm
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


OVERVIEW_SQL = [
    """SELECT tenant_id, sum(billed_cost) FILTER (WHERE day >= %(start)s),
              sum(billed_cost) FILTER (WHERE day < %(start)s), max(day)
       FROM insights_allocationline
       WHERE day >= %(previous)s AND day < %(end)s AND tenant_id IS NOT NULL GROUP BY tenant_id""",
    """SELECT kind, tenant_id IS NULL, sum(billed_cost) FILTER (WHERE day >= %(start)s),
              sum(billed_cost) FILTER (WHERE day < %(start)s)
       FROM insights_allocationline WHERE day >= %(previous)s AND day < %(end)s GROUP BY 1, 2""",
]
TENANT_SQL = [
    """SELECT a.*, l.quantity, l.unit, l.unit_price, l.billed_cost, l.instance_type, l.invocations
       FROM insights_allocationline a LEFT JOIN insights_ledgerline l ON l.id = a.ledger_line_id
       WHERE a.tenant_id = %(tenant)s AND a.day >= %(start)s AND a.day < %(end)s ORDER BY a.day, a.id""",
    """SELECT date_trunc('month', day), sum(billed_cost) FROM insights_allocationline
       WHERE tenant_id = %(tenant)s AND day >= %(year)s AND day < %(end)s GROUP BY 1""",
    # The Silo estimate's input: the tenant's metered use of its shared endpoints that month.
    """SELECT deployment_id, sum(invocations), sum(latency_ms_sum), max(invocations), sum(bytes_in)
       FROM deployments_usageminute WHERE tenant_id = %(tenant)s AND minute >= %(start)s
       AND minute < %(end)s GROUP BY 1""",
]


def _raw(statements: list[str], params: dict[str, Any]) -> Callable[[], None]:
    from django.db import connection

    def run() -> None:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql, params)
                cursor.fetchall()

    return run


def _page(client: Any, url: str) -> Callable[[], None]:
    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return get


def _finance_user() -> Any:
    """The finance user the pages are read as (the one an earlier run made, on a reused database)."""
    from django.contrib.auth import get_user_model

    from tenants.roles import Role
    from tests.factories import make_user

    found = get_user_model().objects.filter(username="bench-finance").first()
    return found or make_user(Role.FINANCE, username="bench-finance")


def _ledger_day_seconds() -> float | None:
    """bench/finance_ledger.py's one-day ledger + allocation time for 2,000 tenants, in this database (its
    fleet is built beside ours, after the pages are timed), when it offers a function for it."""
    path = ROOT / "bench" / "finance_ledger.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("finance_ledger", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    for name in ("allocation_day_2000_tenants_s", "one_day_allocation_seconds"):
        if callable(getattr(module, name, None)):
            return float(getattr(module, name)())
    return None


def main() -> None:
    reuse = _option("--db")
    base, url = _database(reuse)
    name = urlparse(url).path.lstrip("/")
    keep = "--keep" in sys.argv or reuse is not None
    if not (reuse and _exists(base, name)):
        _admin(base, f'CREATE DATABASE "{name}"')
    try:
        _setup(url)
        from django.test import Client

        from insights.finance.months import current_month
        from insights.models_costs import AllocationLine, LedgerLine
        from tenants.models import Tenant

        month = current_month()
        first = month.back(MONTHS - 1).start
        started = time.perf_counter()
        tenants = list(Tenant.objects.filter(slug__startswith="customer-").order_by("name"))
        if len(tenants) == TENANTS and AllocationLine.objects.exists():
            print(f"reused {name}: {len(tenants)} tenants (built by an earlier run)")
        else:
            tenants, _ = _fleet(first)
            _lines(first, date.today() - timedelta(days=1))
            spent = time.perf_counter() - started
            print(f"generated: {len(tenants)} tenants, {LedgerLine.objects.count():,} ledger and "
                  f"{AllocationLine.objects.count():,} allocation lines in {spent:.1f} s")  # fmt: skip
        client = Client()
        client.force_login(_finance_user())
        shown = month.previous()
        params = {
            "start": shown.start, "end": shown.end, "previous": shown.previous().start,
            "year": shown.back(11).start, "tenant": tenants[0].pk,
        }  # fmt: skip
        overview_page = _median(_page(client, f"/costs/?month={shown.key}"))
        overview_sql = _median(_raw(OVERVIEW_SQL, params))
        tenant_page = _median(_page(client, f"/costs/tenants/{tenants[0].pk}/?month={shown.key}"))
        tenant_sql = _median(_raw(TENANT_SQL, params))
        # The month's figures (per lines version) and the Silo estimate (per ledger figures) are worked out
        # once per tenant and month: a first view pays both.
        from django.core.cache import cache

        cache.clear()
        started = time.perf_counter()
        _page(client, f"/costs/tenants/{tenants[0].pk}/?month={shown.key}")()
        first_view = time.perf_counter() - started
        print(f"overview_page_ms={overview_page * 1000:.1f} overview_sql_ms={overview_sql * 1000:.1f} "
              f"ratio={overview_page / overview_sql:.2f}")  # fmt: skip
        print(f"tenant_page_ms={tenant_page * 1000:.1f} tenant_sql_ms={tenant_sql * 1000:.1f} "
              f"ratio={tenant_page / tenant_sql:.2f}")  # fmt: skip
        print(
            f"tenant_page_first_view_ms={first_view * 1000:.1f} (month figures and Silo estimate worked out)"
        )
        floor = _median(_page(client, "/healthz"))
        print(f"request_floor_ms={floor * 1000:.1f} (renders nothing: middleware, session and user)")
        signed_in = _median(_page(client, "/notices/"))
        print(f"signed_in_floor_ms={signed_in * 1000:.1f} (the notices page: session, user, membership, "
              "unread count and the layout every signed-in page pays)")  # fmt: skip
        skipped = "--skip-ledger" in sys.argv
        day = None if skipped else _ledger_day_seconds()
        why = "left out by --skip-ledger" if skipped else "bench/finance_ledger.py offers no function for it"
        print(f"allocation_one_day_s={day:.2f}" if day is not None else f"allocation_one_day_s=n/a ({why})")
        print(f"finance_vs_sql_ratio={max(overview_page / overview_sql, tenant_page / tenant_sql):.2f}")
    finally:
        from django.db import connections

        connections.close_all()
        if keep:
            print(f"kept: {url}", file=sys.stderr)
        else:
            _admin(base, f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()

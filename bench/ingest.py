"""Ingestion into PostgreSQL against `psql \\copy`, and the tenant dashboard against the SQL behind it.

    DEBUG=0 SECURE_HTTPS=0 STATIC_MANIFEST=0 SECRET_KEY=x .venv/bin/python bench/ingest.py [--rows 1000000]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres] [--dashboard-only]

A 1,000,000-row `.out` (six input columns joined with the score, as JoinSource=Input writes it) is put in
the emulator's S3 (moto, in the emulator's own process). The product ingests it with its own code
(insights.ingestion: S3 stream → COPY into a staging table → the partitioned results table, one
transaction) in a child process, whose peak RSS is read from the kernel (os.wait4). In the same run
`psql \\copy` loads the same file, from local disk, into an identical partitioned table with the same
indexes: the practical limit. Each load runs twice, alternating, and the faster of each counts.

Then the tenant's dashboard (the page a tenant lands on, and the two charts' data its script asks for) is
timed warm through Django's test client against the SQL those warm requests send, run directly, best of
20 each; beside them the signed-in floor (the notices page: the layout and an empty list) and the views
with the run's figures and flagged rows made anew each time (nothing kept: one query more).
`--dashboard-only`: the file is ingested once by the product, untimed, and
only the dashboard is timed — the same rows as a full run (BENCH_PROFILE=cumulative prints a cProfile of
the three requests; BENCH_PROFILE_PAGE=floor profiles the floor instead). A throwaway database
(`bench_ingest`) is created on the server of `--database-url` and dropped at the end. Last line:
`ingest_vs_copy_ratio=<value>`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from _ports import free_port, wait_port

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BUCKET = "saasadmin-bench"
DATABASE = "bench_ingest"
INPUTS = 6


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)


def _write_out_file(path: Path, rows: int) -> None:
    """Churn-like inputs (the demo models' six columns) and a score per row, CSV without header."""
    import numpy as np

    rng = np.random.default_rng(11)
    with path.open("w") as out:
        for start in range(0, rows, 100_000):
            n = min(100_000, rows - start)
            block = np.column_stack(
                [
                    rng.integers(1, 72, n),
                    rng.normal(70, 25, n).round(2),
                    rng.poisson(1.5, n),
                    rng.gamma(2.0, 2.0, n).round(1),
                    rng.choice([1, 12, 24], n),
                    rng.poisson(0.4, n),
                    rng.beta(2, 5, n).round(6),
                ]
            )
            np.savetxt(out, block, fmt="%g", delimiter=",")


def _environment(scratch: Path, emulator_url: str, database_url: str) -> None:
    os.environ.update(
        {
            "DATA_DIR": str(scratch),
            "DATABASE_URL": database_url,
            "AWS_MODE": "emulated",
            "EMULATOR_URL": emulator_url,
            "SAASADMIN_BUCKET": BUCKET,
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            "DJANGO_SETTINGS_MODULE": "saasadmin.settings",
            "DEBUG": "0",
            "SECURE_HTTPS": "0",
            "STATIC_MANIFEST": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only"),
        }
    )


def _world(out_file: Path, rows: int) -> tuple[int, str]:
    """A tenant, its batch deployment and one completed run whose one file is the `.out` (in S3)."""
    import boto3
    from django.conf import settings
    from django.utils import timezone

    from deployments.models import Deployment, TransformRun, TransformRunFile
    from deployments.rules import settings_normalise
    from tests.factories import make_tenant, make_user

    s3 = boto3.client(
        "s3",
        endpoint_url=settings.EMULATOR_URL,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the emulator's dummy credentials
    )
    s3.create_bucket(Bucket=BUCKET)
    tenant = make_tenant(name="Bench Corp", slug="bench")
    make_user("tenant_viewer", tenant, username="bench-viewer")
    deployment = Deployment.objects.create(
        tenant=tenant,
        name="Bench scoring",
        kind="batch",
        isolation="silo",
        aws_name="sa-bench-batch",
        status="in_service",
        settings=settings_normalise("batch", {"join_source": "Input", "input_columns": INPUTS}),
    )
    run = TransformRun.objects.create(
        deployment=deployment,
        tenant=tenant,
        sequence=1,
        job_name="sa-bench-batch-r1",
        input_prefix=f"s3://{BUCKET}/datasets/bench/input/",
        output_prefix=f"s3://{BUCKET}/datasets/bench/output/sa-bench-batch-r1/",
        status="completed",
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    key = "datasets/bench/output/sa-bench-batch-r1/part-000.csv.out"
    s3.upload_file(str(out_file), BUCKET, key)
    TransformRunFile.objects.create(
        run=run,
        tenant=tenant,
        input_key=f"{run.input_prefix}part-000.csv",
        output_key=f"s3://{BUCKET}/{key}",
        size_bytes=out_file.stat().st_size,
        status="succeeded",
        rows_in=rows,
    )
    return run.pk, str(tenant.pk)


def _child_ingest(run_id: int, tenant_id: str) -> None:
    """In the child: ingest the run (forced, so a second round replaces the first) and print the time."""
    import django

    django.setup()
    from insights.ingestion import transform_run_ingest

    started = time.perf_counter()
    outcome = transform_run_ingest(run_id=run_id, tenant_id=tenant_id, force=True)
    print(f"{time.perf_counter() - started:.4f} {outcome}")


def _product_load(run_id: int, tenant_id: str, database_url: str) -> tuple[float, int]:
    """(seconds, peak RSS in bytes) of one ingestion in a child process, into an empty table as \\copy's."""
    _admin(database_url, "TRUNCATE insights_resultrow")
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", str(run_id), tenant_id], stdout=subprocess.PIPE, cwd=ROOT
    )
    assert child.stdout is not None
    output = child.stdout.read().decode()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0 or "ingested" not in output:
        raise RuntimeError(f"the ingestion child failed: {output!r}")
    return float(output.split()[0]), usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def _reference_table(database_url: str, tenant_id: str, run_id: int) -> None:
    """The results table's twin under another name, its keys filled by defaults, for `\\copy`."""
    from insights.partitions import results_table_ddl

    statements = [
        "DROP TABLE IF EXISTS bench_copy CASCADE",
        "DROP SEQUENCE IF EXISTS bench_copy_line",
        *results_table_ddl("bench_copy"),
        "CREATE SEQUENCE bench_copy_line",
        f"ALTER TABLE bench_copy ALTER tenant_id SET DEFAULT '{tenant_id}', "
        f"ALTER run_month SET DEFAULT date_trunc('month', now())::date, ALTER run_id SET DEFAULT {run_id}, "
        "ALTER file_id SET DEFAULT 0, ALTER line SET DEFAULT nextval('bench_copy_line')",
        "CREATE TABLE bench_copy_this_month PARTITION OF bench_copy FOR VALUES FROM "
        "(date_trunc('month', now())::date) TO ((date_trunc('month', now()) + interval '1 month')::date)",
    ]
    for statement in statements:
        _admin(database_url, statement)


def _copy_load(database_url: str, out_file: Path) -> float:
    _admin(database_url, "TRUNCATE bench_copy")
    columns = ", ".join(f"x{n}" for n in range(1, INPUTS + 1))
    started = time.perf_counter()
    subprocess.run(
        ["psql", database_url, "-q", "-v", "ON_ERROR_STOP=1", "-c",
         f"\\copy bench_copy ({columns}, score) FROM '{out_file}' (FORMAT csv)"],
        check=True,
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument(
        "--dashboard-only",
        action="store_true",
        help="ingest the file once (untimed, no \\copy) and time only the dashboard against its SQL",
    )
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        _child_ingest(int(args.child[0]), args.child[1])
        return
    port = free_port()
    emulator = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port)], cwd=ROOT)
    database_url = _with_database(args.database_url, DATABASE)
    _admin(args.database_url, f"DROP DATABASE IF EXISTS {DATABASE}")
    _admin(args.database_url, f"CREATE DATABASE {DATABASE}")
    try:
        wait_port(port, emulator)
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
            scratch = Path(tmp)
            _environment(scratch, f"http://127.0.0.1:{port}", database_url)
            import django

            django.setup()
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            out_file = scratch / "part-000.csv.out"
            _write_out_file(out_file, args.rows)
            size_mb = out_file.stat().st_size / 2**20
            run_id, tenant_id = _world(out_file, args.rows)
            if args.dashboard_only:
                _product_load(run_id, tenant_id, database_url)
                _dashboard_report(tenant_id, run_id)
                return
            _reference_table(database_url, tenant_id, run_id)
            copies, loads, peaks = [], [], []
            for _ in range(2):
                copies.append(_copy_load(database_url, out_file))
                seconds, peak = _product_load(run_id, tenant_id, database_url)
                loads.append(seconds)
                peaks.append(peak)
            copy_rate, load_rate = args.rows / min(copies), args.rows / min(loads)
            print(f"file: {args.rows:,} rows, {size_mb:.1f} MB, {INPUTS} input columns and a score")
            print(f"psql \\copy (local file):       {copy_rate:12,.0f} rows/s  (runs: {_seconds(copies)})")
            print(f"product ingestion (S3 → COPY): {load_rate:12,.0f} rows/s  (runs: {_seconds(loads)})")
            print(f"ingestion peak RSS (child process): {max(peaks) / 2**20:.0f} MB (aim ≤ 300 MB)")
            _dashboard_report(tenant_id, run_id)
            print(f"ingest_vs_copy_ratio={load_rate / copy_rate:.3f}")
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        _admin(args.database_url, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def _seconds(runs: list[float]) -> str:
    return ", ".join(f"{s:.2f} s" for s in runs)


def _best(action: Callable[[], object], repeat: int = 20) -> float:
    action()  # warm: imports, template loading, connections
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def _best_in_turns(
    first: Callable[[], object], second: Callable[[], object], repeat: int = 20
) -> tuple[float, float]:
    """The best of `repeat` timings of each, taken in turns: a slow spell of the shared machine falls on
    both, not on whichever ran during it."""
    first(), second()  # warm
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for action, kept in ((first, timings[0]), (second, timings[1])):
            started = time.perf_counter()
            action()
            kept.append(time.perf_counter() - started)
    return min(timings[0]), min(timings[1])


def _dashboard_report(tenant_id: str, run_id: int) -> None:
    """The tenant's dashboard (page and both charts' data, asked for as the page's script asks) against
    the SQL behind it, run directly."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from tenants.models import Membership

    client = Client()
    client.force_login(Membership.objects.get(tenant_id=tenant_id).user)
    urls = [
        reverse("insights_dashboard", kwargs={"tenant_id": tenant_id}),
        reverse("insights_chart_data", kwargs={"tenant_id": tenant_id, "chart": "distribution"})
        + f"?run={run_id}",
        reverse("insights_chart_data", kwargs={"tenant_id": tenant_id, "chart": "trend"}),
    ]

    def pages() -> None:
        for url in urls:
            assert client.get(url).status_code == 200

    from django.core.cache import cache

    pages()  # warm: templates loaded, queries prepared, the run's figures made (views_dashboard._figures)

    def pages_anew() -> None:
        cache.clear()  # the run's figures and flagged rows made again on each view
        pages()

    made_anew = _best(pages_anew, repeat=5)
    # The statements of a view as it is timed (warm), with their parameters bound (Django records them so).
    with CaptureQueriesContext(connection) as captured:
        pages()
    statements = [
        q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]

    def raw() -> None:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
                cursor.fetchall() if cursor.description else None

    page, sql = _best_in_turns(pages, raw)
    # The signed-in floor: three requests of a page that renders the layout and an empty list (notices).
    notices = reverse("notices")
    floor = _best(lambda: [client.get(notices) for _ in urls])
    if os.environ.get("BENCH_QUERIES"):
        print("\n".join(statements))
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        floor_pages = lambda: [client.get(notices) for _ in urls]  # noqa: E731
        profile.runcall(floor_pages if os.environ.get("BENCH_PROFILE_PAGE") == "floor" else pages)
        pstats.Stats(profile).sort_stats(os.environ["BENCH_PROFILE"]).print_stats(35)
    print(f"dashboard (page + 2 chart data, {len(statements)} queries): {page * 1000:.1f} ms; "
          f"the same SQL alone: {sql * 1000:.1f} ms; ratio {page / sql:.1f}x (aim ≤ 3x)")  # fmt: skip
    print(f"signed-in floor (3 requests of the notices page, layout only): {floor * 1000:.1f} ms")
    print(f"with the run's figures made anew on each view (one query more): {made_anew * 1000:.1f} ms")


if __name__ == "__main__":
    main()

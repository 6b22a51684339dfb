"""The results table on PostgreSQL: partitioned by month, partitions created as runs need them.

Declarative partitioning (RANGE on `run_month`): a month's rows live in `insights_resultrow_yYYYYmMM`,
so dropping or archiving old months is a metadata operation and a run's rows sit in one partition. Every
index leads with the tenant: each dashboard query names one tenant and one run. The primary key holds the
partition key, as PostgreSQL requires of unique indexes on a partitioned table.
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, ProgrammingError, connection, transaction
from psycopg import sql

from insights.models import INPUT_COLUMNS

TABLE = "insights_resultrow"


def results_table_ddl(table: str = TABLE, *, partitioned: bool = True) -> list[str]:
    """CREATE statements for the results table (and its score index) under `table`."""
    inputs = ", ".join(f"{name} double precision" for name in INPUT_COLUMNS)
    partition = " PARTITION BY RANGE (run_month)" if partitioned else ""
    index = "result_tenant_run_score" if table == TABLE else f"{table}_tenant_run_score"
    return [
        f"CREATE TABLE {table} (tenant_id uuid NOT NULL, run_month date NOT NULL, run_id bigint NOT NULL, "
        f"file_id bigint NOT NULL, line integer NOT NULL CHECK (line >= 0), score double precision NOT NULL, "
        f"{inputs}, PRIMARY KEY (tenant_id, run_month, file_id, line)){partition}",
        f"CREATE INDEX {index} ON {table} (tenant_id, run_id, score)",
    ]


def month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return (
        month.replace(year=month.year + 1, month=1)
        if month.month == 12
        else month.replace(month=month.month + 1)
    )


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def partition_ensure(month: date) -> None:
    """Create the month's partition unless it exists (PostgreSQL only; a no-op elsewhere).

    Two workers may race to create it: IF NOT EXISTS answers the second, and a create that loses the race
    inside PostgreSQL's catalog is the same outcome (a savepoint keeps the caller's transaction usable).
    """
    if connection.vendor != "postgresql":
        return
    month = month_start(month)
    statement = sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
        sql.Identifier(partition_name(month)),
        sql.Identifier(TABLE),
        sql.Literal(month),
        sql.Literal(_next_month(month)),
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    except (IntegrityError, ProgrammingError):
        # Another worker created it in the same instant (DuplicateTable, or the catalog's unique index).
        if partition_name(month) not in partitions_present():
            raise


def partitions_present() -> list[str]:
    """The partitions of the results table, oldest month first (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY c.relname",
            [TABLE],
        )
        return [row[0] for row in cursor.fetchall()]

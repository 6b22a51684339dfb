"""The day's ledger and allocation read the same number of times for 10 tenants as for 60."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from insights.costs.runs import costs_run

pytestmark = pytest.mark.django_db
BENCH = Path(__file__).resolve().parents[3] / "bench" / "finance_ledger.py"


def _bench() -> object:
    spec = importlib.util.spec_from_file_location("finance_ledger", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reads(tenants: int, prefix: str) -> int:
    bench = _bench()
    bench.build_fleet(tenants, prefix=prefix)
    with CaptureQueriesContext(connection) as queries:
        costs_run(bench.DAY, bench.DAY, trigger="bench")
    return sum(1 for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT"))


def test_the_reads_do_not_grow_with_tenants() -> None:
    small = _reads(10, "small")
    assert small < 25
    assert _reads(60, "large") == small

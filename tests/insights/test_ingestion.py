"""Ingestion: `.out` files from S3 into the results table, all of a file or none of it, on SQLite and
PostgreSQL alike; bad files quarantined with the reason; a run ingested twice is still counted once."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from deployments.models import TransformRunFile
from insights.ingestion import transform_run_ingest
from insights.models import FileResult, ResultRow, RunSummary
from tests.insights.runs import RunMaker, out_body, rows_of

pytestmark = pytest.mark.django_db


def _ingest(run: Any, **kw: Any) -> str:
    return transform_run_ingest(run_id=run.pk, tenant_id=str(run.tenant_id), **kw)


def _files(run: Any) -> dict[str, TransformRunFile]:
    return {f.input_key.rsplit("/", 1)[1]: f for f in TransformRunFile.objects.filter(run=run)}


def test_it_loads_every_row_with_its_inputs_and_figures(world: SimpleNamespace, runs: RunMaker) -> None:
    rows = rows_of(250)
    run = runs.run(world.tenant_a, {"part-1.csv": out_body(rows[:100]), "part-2.csv": out_body(rows[100:])})
    assert _ingest(run) == "ingested"
    stored = ResultRow.objects.filter(run=run).order_by("file_id", "line")
    assert stored.count() == 250
    first = stored.first()
    assert (first.line, first.x1, first.x2, first.x3, first.x4, first.score) == (1, 0.0, 0.0, 0.0, None, 0.0)
    summary = RunSummary.objects.get(run=run)
    assert summary.rows == 250
    assert summary.files_loaded == 2
    assert summary.columns == 3
    assert summary.rows_above == sum(score >= 0.5 for _, score in rows)
    assert sum(summary.histogram) == 250
    assert summary.histogram[19] == sum(score >= 0.95 for _, score in rows)
    assert summary.score_mean == pytest.approx(sum(s for _, s in rows) / 250)
    files = _files(run)
    assert files["part-2.csv"].rows_out == 150
    assert files["part-2.csv"].ingest_status == "loaded"
    assert FileResult.objects.get(file=files["part-1.csv"]).rows == 100


def test_ingesting_twice_or_by_force_never_doubles(world: SimpleNamespace, runs: RunMaker) -> None:
    run = runs.run(world.tenant_a, {"a.csv": out_body(rows_of(40))})
    _ingest(run)
    _ingest(run)  # a second delivery of the run's end: the loaded file is skipped
    _ingest(run, force=True)  # re-ingesting replaces the file's rows
    assert ResultRow.objects.filter(run=run).count() == 40
    assert RunSummary.objects.get(run=run).rows == 40


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"1,2,3,0.5\n1,2,0.5\n4,5,6,0.1\n", "line 2 has 3 columns where 4 were expected"),
        (b"1,2,3,0.5\n1,2,3,high\n4,5,6,oops\n", "line 2 has the score “high”, which is not a number"),
        (b"1,2,3,0.5\n1,2,3,\n", "line 2 has no score"),
    ],
    ids=["wrong-column-count", "non-numeric-score", "missing-score"],
)
def test_a_malformed_file_is_quarantined_whole_with_examples(
    world: SimpleNamespace, runs: RunMaker, body: bytes, expected: str
) -> None:
    run = runs.run(world.tenant_a, {"good.csv": out_body(rows_of(10)), "bad.csv": body})
    _ingest(run)
    bad = _files(run)["bad.csv"]
    assert bad.ingest_status == "quarantined"
    assert expected in bad.ingest_reason
    assert "nothing of the file was loaded" in bad.ingest_reason
    assert bad.rows_malformed >= 1
    assert not ResultRow.objects.filter(file=bad).exists()
    assert ResultRow.objects.filter(run=run).count() == 10  # the good file is still loaded
    summary = RunSummary.objects.get(run=run)
    assert (summary.files_loaded, summary.files_quarantined, summary.rows) == (1, 1, 10)


def test_malformed_rows_are_all_counted(world: SimpleNamespace, runs: RunMaker) -> None:
    body = out_body(rows_of(20)) + b"1,2\n" * 7 + b"1,2,3,x\n" * 3
    run = runs.run(world.tenant_a, {"bad.csv": body})
    _ingest(run)
    bad = _files(run)["bad.csv"]
    assert bad.rows_malformed == 10
    assert bad.ingest_reason.startswith("10 of 30 rows are malformed")


def test_an_empty_or_truncated_or_missing_output_is_quarantined(
    world: SimpleNamespace, runs: RunMaker
) -> None:
    whole = out_body(rows_of(30))
    run = runs.run(
        world.tenant_a,
        {
            "empty.csv": b"",
            "cut.csv": whole[:-7],
            "short.csv": whole[: whole.index(b"\n", 200) + 1],
            "gone.csv": None,
        },
        rows_in={"empty.csv": 30, "cut.csv": 30, "short.csv": 30, "gone.csv": 30},
    )
    _ingest(run)
    files = _files(run)
    assert {f.ingest_status for f in files.values()} == {"quarantined"}
    assert "empty" in files["empty.csv"].ingest_reason
    assert "cut short" in files["short.csv"].ingest_reason
    assert "for 30 input rows" in files["short.csv"].ingest_reason
    assert "malformed" in files["cut.csv"].ingest_reason or "cut short" in files["cut.csv"].ingest_reason
    assert "missing" in files["gone.csv"].ingest_reason
    assert not ResultRow.objects.filter(run=run).exists()


def test_a_load_stopped_half_way_keeps_nothing_and_a_retry_completes(
    world: SimpleNamespace, runs: RunMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    import insights.ingestion as ingestion

    body = out_body(rows_of(5000))
    run = runs.run(world.tenant_a, {"big.csv": body})
    real = ingestion.object_chunks

    def dying(uri: str, chunk_bytes: int = 1024 * 1024) -> Any:
        yield from real(uri, 4096)
        raise ConnectionResetError("the worker lost its connection")

    monkeypatch.setattr(ingestion, "object_chunks", lambda uri, chunk_bytes=0: dying(uri))
    with pytest.raises(ConnectionResetError):
        _ingest(run)
    file = _files(run)["big.csv"]
    assert file.ingest_status == "loading"
    assert "Loading stopped before it finished" in file.ingest_reason
    assert "retried" in file.ingest_reason
    assert not ResultRow.objects.filter(run=run).exists()
    monkeypatch.setattr(ingestion, "object_chunks", real)
    _ingest(run)
    assert ResultRow.objects.filter(run=run).count() == 5000
    assert _files(run)["big.csv"].ingest_status == "loaded"


def test_failed_files_are_not_ingested_and_are_counted(world: SimpleNamespace, runs: RunMaker) -> None:
    run = runs.run(
        world.tenant_a,
        {"ok.csv": out_body(rows_of(5)), "broken.csv": None},
        status="failed",
        failed={"broken.csv": "ClientError: Bad input in broken.csv at line 3"},
    )
    _ingest(run)
    summary = RunSummary.objects.get(run=run)
    assert (summary.rows, summary.files_loaded, summary.files_failed) == (5, 1, 1)
    assert _files(run)["broken.csv"].ingest_status == "waiting"


def test_scores_are_joined_with_their_inputs_when_sagemaker_did_not(
    world: SimpleNamespace, runs: RunMaker
) -> None:
    runs.deployment(world.tenant_a, join_source="None")
    inputs = b"1,2\n3,4\n5,6\n"
    key = "datasets/alpha/input/plain.csv"
    runs.s3.put_object(Bucket="saasadmin-tests", Key=key, Body=inputs)
    try:
        run = runs.run(world.tenant_a, {"plain.csv": b"0.1\n0.9\n0.5\n"})
        _ingest(run)
    finally:  # the emulator's S3 lives for the session: tenant alpha's input area must stay as found
        runs.s3.delete_object(Bucket="saasadmin-tests", Key=key)
    stored = list(ResultRow.objects.filter(run=run).order_by("line").values_list("x1", "x2", "score"))
    assert stored == [(1.0, 2.0, 0.1), (3.0, 4.0, 0.9), (5.0, 6.0, 0.5)]


def test_a_run_of_another_tenant_id_is_refused(world: SimpleNamespace, runs: RunMaker) -> None:
    run = runs.run(world.tenant_a, {"a.csv": out_body(rows_of(3))})
    assert transform_run_ingest(run_id=run.pk, tenant_id=str(world.tenant_b.pk)) == "missing"
    assert not ResultRow.objects.exists()


def test_scores_without_inputs_are_quarantined_with_the_reason(
    world: SimpleNamespace, runs: RunMaker
) -> None:
    run = runs.run(world.tenant_a, {"scores-only.csv": b"0.1\n0.9\n"})
    _ingest(run)
    file = _files(run)["scores-only.csv"]
    assert file.ingest_status == "quarantined"
    assert "JoinSource=Input" in file.ingest_reason

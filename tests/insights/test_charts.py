"""The usage chart is a pure function: rows in, figure out (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from insights.charts import usage_figure
from insights.selectors import UsageRow, usage_totals

DAY1 = datetime(2026, 3, 1, tzinfo=UTC)
DAY2 = datetime(2026, 3, 2, tzinfo=UTC)


def row(
    start: datetime | None, deployment_id: int, name: str, n: int, errors: int = 0, **kw: float
) -> UsageRow:
    values = {"bytes_in": n * 100, "bytes_out": n * 10, "latency_ms_sum": n * 5.0, "latency_ms_max": 20.0}
    values.update(kw)
    return UsageRow(
        start=start,
        deployment_id=deployment_id,
        deployment_name=name,
        deployment_kind="realtime",
        shared=False,
        invocations=n,
        errors=errors,
        **values,  # type: ignore[arg-type]
    )


ROWS = [row(DAY1, 1, "alpha-rt", 10, 1), row(DAY1, 2, "pool-mme", 4), row(DAY2, 1, "alpha-rt", 6, 2)]


def test_it_stacks_predictions_by_deployment_with_errors_below() -> None:
    figure = usage_figure(ROWS, bucket="day")
    bars = [t for t in figure.data if t.type == "bar" and t.yaxis == "y"]
    assert [(b.name, list(b.y)) for b in bars] == [("alpha-rt", [10, 6]), ("pool-mme", [4])]
    assert bars[0].xperiod == 86_400_000
    assert figure.layout.barmode == "stack"
    errors = next(t for t in figure.data if t.name == "Errors (all deployments)")
    assert (list(errors.y), errors.yaxis) == ([1, 2], "y2")
    assert figure.layout.yaxis.title.text == "Predictions per day"


def test_it_draws_mean_latency_per_deployment_below() -> None:
    figure = usage_figure([row(DAY1, 1, "alpha-rt", 4, latency_ms_sum=10.0)], bucket="hour")
    latency = next(t for t in figure.data if t.name == "alpha-rt · mean latency")
    assert list(latency.y) == [2.5]
    assert latency.yaxis == "y3"
    assert figure.layout.yaxis.title.text == "Predictions per hour"


def test_it_labels_deployments_as_asked() -> None:
    figure = usage_figure(ROWS, bucket="day", label=lambda r: f"#{r.deployment_id}")
    assert [t.name for t in figure.data if t.type == "bar"] == ["#1", "#2", "Errors (all deployments)"]


def test_an_empty_period_is_an_empty_figure() -> None:
    figure = usage_figure([], bucket="day")
    assert [t.name for t in figure.data] == ["Errors (all deployments)"]
    assert list(figure.data[0].y) == []


def test_totals_add_up_per_deployment() -> None:
    totals = usage_totals(ROWS)
    assert [(t.deployment_name, t.invocations, t.errors, t.bytes_in) for t in totals] == [
        ("alpha-rt", 16, 3, 1600),
        ("pool-mme", 4, 0, 400),
    ]
    assert totals[0].latency_ms_mean == 5.0
    assert totals[0].start is None

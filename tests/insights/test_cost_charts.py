"""The cost charts and the FOCUS rows are pure functions: numbers in, figure or CSV out (no database)."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from decimal import Decimal

import plotly.graph_objects as go
import pytest

from insights.charts import cost_daily_figure, cost_kinds_figure, cost_months_figure
from insights.finance.focus import COLUMNS, FocusLine, focus_csv_chunks
from insights.finance.months import BadMonth, FutureMonth, Month, month_parse

DAYS = [date(2026, 2, 1) + timedelta(days=n) for n in range(28)]
LABELS = {"realtime": "Real-time endpoint", "multi_model": "Multi-model endpoint"}


def test_the_daily_chart_stacks_kinds_over_every_day_of_the_month() -> None:
    daily = {
        DAYS[0]: {"realtime": Decimal("2.76"), "multi_model": Decimal("2.25")},
        DAYS[2]: {"realtime": Decimal("1")},
    }
    figure = go.Figure(cost_daily_figure(daily, days=DAYS, labels=LABELS))  # plotly validates every property
    assert [t.name for t in figure.data] == ["Real-time endpoint", "Multi-model endpoint"]
    realtime = figure.data[0]
    assert len(realtime.x) == 28
    assert list(realtime.y[:3]) == [2.76, 0.0, 1.0]
    assert figure.layout.barmode == "stack"
    assert figure.layout.yaxis.tickprefix == "$"
    json.dumps(cost_daily_figure(daily, days=DAYS, labels=LABELS))  # plain JSON for json_script


def test_the_months_chart_marks_the_selected_month() -> None:
    figure = go.Figure(
        cost_months_figure(
            [(date(2026, 1, 1), Decimal("10")), (date(2026, 2, 1), Decimal("12.5"))],
            selected=date(2026, 2, 1),
        )
    )
    bar = figure.data[0]
    assert list(bar.y) == [10.0, 12.5]
    assert bar.marker.color[1] != bar.marker.color[0]


def test_the_kinds_chart_shows_idle_last_this_month_and_last() -> None:
    kinds = [
        ("realtime", "Real-time endpoint", Decimal("85.56"), Decimal("80")),
        ("s3", "S3 storage", Decimal("1"), Decimal("0")),
    ]
    figure = go.Figure(
        cost_kinds_figure(
            kinds, idle=Decimal("31"), idle_previous=Decimal("30"), month="March", previous="February"
        )
    )
    this = next(t for t in figure.data if t.name == "March")
    assert list(this.y) == ["Real-time endpoint", "S3 storage", "Idle (vendor overhead)"]
    assert list(this.x) == [85.56, 1.0, 31.0]


def _line(**changes: object) -> FocusLine:
    values: dict[str, object] = {
        "day": date(2026, 2, 28), "cost": Decimal("2.25"), "description": "Alpha's share of bridge-mme",
        "resource_id": "arn:aws:sagemaker:eu-west-1:1:endpoint/sa-bridge-mme", "resource_name": "bridge-mme",
        "resource_type": "Multi-model endpoint", "region": "eu-west-1", "quantity": Decimal("36.000000"),
        "unit": "Hrs", "unit_price": Decimal("0.1150000000"), "tenant_slug": "alpha", "tenant_name": "Alpha",
        "rule": "Its invocations", "share": Decimal("0.75"), "basis": "300 / 400", "idle": False,
        "tags": {"saasadmin:tenant": "alpha"},
    }  # fmt: skip
    values.update(changes)
    return FocusLine(**values)  # type: ignore[arg-type]


def test_focus_rows_name_the_charge_period_and_costs() -> None:
    rows = list(csv.DictReader("".join(focus_csv_chunks([_line()])).splitlines()))
    assert list(rows[0]) == list(COLUMNS)
    row = rows[0]
    assert row["ChargePeriodStart"] == "2026-02-28T00:00:00Z"
    assert row["ChargePeriodEnd"] == "2026-03-01T00:00:00Z"
    assert row["BillingPeriodStart"] == "2026-02-01T00:00:00Z"
    assert row["BilledCost"] == row["EffectiveCost"] == "2.25"
    assert row["ConsumedQuantity"] == "36"
    assert row["ListUnitPrice"] == "0.115"
    assert json.loads(row["Tags"]) == {"saasadmin:tenant": "alpha"}
    assert row["x_AllocationShare"] == "0.75"


def test_focus_cells_never_run_as_spreadsheet_formulas() -> None:
    text = "".join(
        focus_csv_chunks([_line(tenant_name="=HYPERLINK(1)", description="+1", cost=Decimal("-0.01"))])
    )
    row = next(csv.DictReader(text.splitlines()))
    assert row["SubAccountName"] == "'=HYPERLINK(1)"
    assert row["ChargeDescription"] == "'+1"
    assert row["BilledCost"] == "-0.01"  # a number keeps its sign


@pytest.mark.parametrize("text", ["2026-00", "2026-13", "26-01", "2026/01", "1999-12", "x" * 300])
def test_a_month_is_yyyy_mm(text: str) -> None:
    with pytest.raises(BadMonth):
        month_parse(text, today=date(2026, 11, 27))


def test_months_have_bounds_and_the_future_is_not_a_month_yet() -> None:
    month = month_parse("2024-02", today=date(2026, 11, 27))
    assert (month.start, month.end, month.days) == (date(2024, 2, 1), date(2024, 3, 1), 29)
    assert month.previous() == Month(date(2024, 1, 1))
    assert month_parse("", today=date(2026, 11, 27)).key == "2026-11"
    with pytest.raises(FutureMonth):
        month_parse("2026-12", today=date(2026, 11, 27))

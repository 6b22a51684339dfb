"""Charts as pure functions: rows in, a plotly figure out (no database, no request)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from insights.dashboard import TrendPoint
from insights.selectors import UsageRow

T = TypeVar("T")

# The product's palette (static/css/app.css), one colour per deployment in turn.
PALETTE = ("#4f46e5", "#0891b2", "#db2777", "#65a30d", "#d97706", "#7c3aed", "#0f766e", "#9f1239")
ERROR_COLOUR = "#dc2626"
PERIOD_MS = {"day": 86_400_000, "hour": 3_600_000}  # each bar spans its day or hour
TICKS = {"day": "%a %-d %b", "hour": "%-d %b %H:%M"}
FONT = "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif"


def usage_figure(
    rows: Sequence[UsageRow], *, bucket: str, label: Callable[[UsageRow], str] | None = None
) -> go.Figure:
    """Predictions per day/hour stacked by deployment; below, errors, then each deployment's mean latency."""
    label = label or (lambda row: row.deployment_name)
    figure = make_subplots(
        rows=3, cols=1, shared_xaxes=True, row_heights=[0.56, 0.18, 0.26], vertical_spacing=0.06
    )
    period = {"xperiod": PERIOD_MS[bucket], "xperiodalignment": "middle"}
    names: dict[int, str] = {}
    for row in rows:
        names.setdefault(row.deployment_id, label(row))
    for index, (deployment_id, name) in enumerate(names.items()):
        mine = [row for row in rows if row.deployment_id == deployment_id]
        colour = PALETTE[index % len(PALETTE)]
        x = [row.start for row in mine]
        figure.add_trace(
            go.Bar(
                x=x,
                y=[r.invocations for r in mine],
                name=name,
                marker_color=colour,
                legendgroup=name,
                **period,
            ),
            row=1,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[round(r.latency_ms_mean, 2) for r in mine],
                name=f"{name} · mean latency",
                mode="lines+markers",
                line={"color": colour, "width": 2},
                marker={"size": 4},
                legendgroup=name,
                showlegend=False,
                **period,
            ),
            row=3,
            col=1,
        )
    figure.add_trace(_errors_trace(rows, period), row=2, col=1)
    _layout(figure, bucket)
    return figure


def _errors_trace(rows: Sequence[UsageRow], period: dict[str, object]) -> go.Bar:
    errors: dict[object, int] = {}
    for row in rows:
        errors[row.start] = errors.get(row.start, 0) + row.errors
    return go.Bar(
        x=list(errors),
        y=list(errors.values()),
        name="Errors (all deployments)",
        marker_color=ERROR_COLOUR,
        **period,
    )


def _layout(figure: go.Figure, bucket: str) -> None:
    per = "day" if bucket == "day" else "hour"
    figure.update_layout(
        barmode="stack",
        bargap=0.25,
        margin={"l": 56, "r": 16, "t": 16, "b": 40},
        font={"family": FONT, "size": 12, "color": "#374151"},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        legend={"orientation": "h", "y": -0.12, "x": 0},
        hovermode="x unified",
        height=520,
    )
    grid = {"gridcolor": "#e5e7eb", "zerolinecolor": "#e5e7eb"}
    figure.update_yaxes(title_text=f"Predictions per {per}", rangemode="tozero", row=1, col=1, **grid)
    figure.update_yaxes(title_text="Errors", rangemode="tozero", row=2, col=1, **grid)
    figure.update_yaxes(title_text="Mean latency (ms)", rangemode="tozero", row=3, col=1, **grid)
    figure.update_xaxes(type="date", showgrid=False, tickformat=TICKS[bucket], ticklabelmode="period")
    if bucket == "day":
        figure.update_xaxes(dtick=PERIOD_MS["day"])  # one label per day, under its bar


# Runs' figures: the dashboard's charts. A chart's JSON must stay under 300 KB whatever the history, so
# long series are thinned on the server to at most this many points, keeping each bucket's extremes.
MAX_POINTS = 600
FLAGGED_COLOUR, CALM_COLOUR = "#db2777", "#4f46e5"


def downsample(points: Sequence[T], value: Callable[[T], float], max_points: int = MAX_POINTS) -> list[T]:
    """At most `max_points` of `points`, in order: per bucket of neighbours, the lowest and the highest
    (so peaks and dips survive), plus the first and last points."""
    if len(points) <= max_points:
        return list(points)
    buckets = max(1, (max_points - 2) // 2)
    size = (len(points) - 2) / buckets
    kept = [points[0]]
    for b in range(buckets):
        bucket = points[1 + int(b * size) : 1 + int((b + 1) * size)]
        if not bucket:
            continue
        low = min(range(len(bucket)), key=lambda i: value(bucket[i]))
        high = max(range(len(bucket)), key=lambda i: value(bucket[i]))
        kept.extend(bucket[i] for i in sorted({low, high}))
    kept.append(points[-1])
    return kept


Figure = dict[str, Any]  # a plotly figure as its JSON: {"data": [...], "layout": {...}}
AXIS_GRID = {"gridcolor": "#e5e7eb", "zerolinecolor": "#e5e7eb"}


def score_distribution_figure(histogram: Sequence[int], threshold: float) -> Figure:
    """How a run's scores spread over [0, 1]: one bar per bin, the bins at or above the threshold in the
    flagged colour, and the threshold as a dashed line.

    The dashboard's figures are plain JSON-ready dicts (plotly's figure schema), not graph objects:
    building and validating those costs tens of milliseconds per figure, which a page view should not pay.
    """
    bins = len(histogram) or 1
    width = 1 / bins
    bar = {
        "type": "bar",
        "x": [round((i + 0.5) * width, 4) for i in range(bins)],
        "y": list(histogram),
        "width": width * 0.92,
        "marker": {
            "color": [
                FLAGGED_COLOUR if round((i + 1) * width, 9) > threshold else CALM_COLOUR for i in range(bins)
            ]
        },
        "customdata": [f"{i * width:.2f}–{(i + 1) * width:.2f}" for i in range(bins)],
        "hovertemplate": "Score %{customdata}: %{y:,} rows<extra></extra>",
    }
    layout = _runs_layout(height=320)
    layout["shapes"] = [
        {
            "type": "line", "x0": threshold, "x1": threshold, "xref": "x", "y0": 0, "y1": 1, "yref": "paper",
            "line": {"color": "#111827", "dash": "dash", "width": 2},
        }
    ]  # fmt: skip
    layout["annotations"] = [
        {"x": threshold, "y": 1, "xref": "x", "yref": "paper", "yanchor": "bottom", "showarrow": False,
         "text": f"threshold {threshold:g}"}
    ]  # fmt: skip
    layout["xaxis"] = {"title": {"text": "Score"}, "range": [0, 1], "dtick": 0.1, "showgrid": False}
    layout["yaxis"] = {"title": {"text": "Rows"}, "rangemode": "tozero", **AXIS_GRID}
    return {"data": [bar], "layout": layout}


def run_trend_figure(points: Sequence[TrendPoint]) -> Figure:
    """Key figures across runs: rows scored (bars) and the share flagged and mean score (lines, in %)."""
    points = downsample(points, lambda p: p.above_share)
    x = [p.when.isoformat() for p in points]
    labels = [p.label for p in points]
    rows = {
        "type": "bar", "x": x, "y": [p.rows for p in points], "name": "Rows scored",
        "marker": {"color": "#c7d2fe"}, "customdata": labels,
        "hovertemplate": "%{customdata}: %{y:,} rows<extra></extra>",
    }  # fmt: skip
    flagged = {
        "type": "scatter", "x": x, "y": [round(p.above_share * 100, 2) for p in points], "yaxis": "y2",
        "name": "Flagged (% of rows)", "mode": "lines+markers", "line": {"color": FLAGGED_COLOUR, "width": 2},
        "marker": {"size": 5}, "customdata": labels,
        "hovertemplate": "%{customdata}: %{y:.1f}% flagged<extra></extra>",
    }  # fmt: skip
    mean = {
        "type": "scatter", "x": x, "yaxis": "y2", "name": "Mean score (%)", "mode": "lines",
        "y": [None if p.score_mean is None else round(p.score_mean * 100, 2) for p in points],
        "line": {"color": "#0891b2", "width": 2, "dash": "dot"}, "customdata": labels,
        "hovertemplate": "%{customdata}: mean score %{y:.1f}%<extra></extra>",
    }  # fmt: skip
    layout = _runs_layout(height=320)
    layout.update(
        showlegend=True,
        legend={"orientation": "h", "y": -0.2, "x": 0},
        xaxis={"type": "date", "showgrid": False},
        yaxis={"title": {"text": "Rows scored"}, "rangemode": "tozero", **AXIS_GRID},
        yaxis2={"range": [0, 100], "ticksuffix": "%", "showgrid": False, "overlaying": "y", "side": "right"},
    )
    return {"data": [rows, flagged, mean], "layout": layout}


def _runs_layout(*, height: int) -> dict[str, Any]:
    return {
        "margin": {"l": 56, "r": 48, "t": 24, "b": 40},
        "font": {"family": FONT, "size": 12, "color": "#374151"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": False,
        "bargap": 0.08,
        "height": height,
    }


# --- Cost charts ---------------------------------------------------------------------------------------
# Built as plotly's figure JSON (the `{"data": [...], "layout": {...}}` plotly.js draws) rather than through
# plotly.graph_objects: validating a Figure costs ~15 ms, several times the SQL behind a tenant's cost page.
# tests/insights/test_cost_charts.py feeds each one to go.Figure, which validates every property.

# One colour per cost kind, the same on every cost chart; idle is grey, never hidden.
KIND_COLOURS = {
    "realtime": "#4f46e5",
    "async": "#0891b2",
    "serverless": "#65a30d",
    "batch": "#d97706",
    "multi_model": "#db2777",
    "multi_container": "#7c3aed",
    "s3": "#0f766e",
    "idle": "#9ca3af",
}
MONEY_AXIS = {"tickprefix": "$", "tickformat": ",.2f", "rangemode": "tozero", "gridcolor": "#e5e7eb"}


def _cost_layout(height: int, **extra: object) -> dict[str, object]:
    return {
        "barmode": "stack",
        "bargap": 0.25,
        "height": height,
        "margin": {"l": 64, "r": 16, "t": 16, "b": 40},
        "font": {"family": FONT, "size": 12, "color": "#374151"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "legend": {"orientation": "h", "y": -0.15, "x": 0},
        "hovermode": "x unified",
        "yaxis": MONEY_AXIS,
        **extra,
    }


def _dollars(value: Decimal) -> float:
    return float(value)


def cost_daily_figure(
    daily: Mapping[date, Mapping[str, Decimal]], *, days: Sequence[date], labels: Mapping[str, str]
) -> dict[str, object]:
    """A month's cost per day, stacked by kind (`days`: every day of the month, so gaps show as gaps)."""
    kinds = sorted({kind for by_kind in daily.values() for kind in by_kind}, key=list(KIND_COLOURS).index)
    x = [day.isoformat() for day in days]
    data = [
        {
            "type": "bar",
            "name": labels.get(kind, kind),
            "x": x,
            "y": [_dollars(daily.get(day, {}).get(kind, Decimal(0))) for day in days],
            "marker": {"color": KIND_COLOURS.get(kind, PALETTE[0])},
            "hovertemplate": "%{y:$,.2f}",
            "xperiod": PERIOD_MS["day"],
            "xperiodalignment": "middle",
        }
        for kind in kinds
    ]
    xaxis = {"type": "date", "tickformat": "%-d %b", "showgrid": False, "dtick": PERIOD_MS["day"] * 7}
    return {"data": data, "layout": _cost_layout(320, xaxis=xaxis)}


def cost_months_figure(
    months: Sequence[tuple[date, Decimal]], *, selected: date | None = None
) -> dict[str, object]:
    """Cost per month (its first day, amount), oldest first; the selected month's bar in the brand colour."""
    colours = [PALETTE[0] if start == selected else "#c7d2fe" for start, _ in months]
    data = [
        {
            "type": "bar",
            "name": "Cost",
            "x": [start.isoformat() for start, _ in months],
            "y": [_dollars(amount) for _, amount in months],
            "marker": {"color": colours},
            "hovertemplate": "%{x|%B %Y}: %{y:$,.2f}<extra></extra>",
            "xperiod": "M1",
            "xperiodalignment": "middle",
        }
    ]
    xaxis = {"type": "date", "tickformat": "%b %y", "dtick": "M3", "showgrid": False}
    layout = _cost_layout(220, showlegend=False, hovermode="closest", xaxis=xaxis)
    return {"data": data, "layout": layout}


def cost_kinds_figure(
    kinds: Sequence[tuple[str, str, Decimal, Decimal]],
    *,
    idle: Decimal,
    idle_previous: Decimal,
    month: str,
    previous: str,
) -> dict[str, object]:
    """This month and last side by side per kind (kind, label, this, last), idle overhead last."""
    rows = [*kinds, ("idle", "Idle (vendor overhead)", idle, idle_previous)]
    labels = [label for _, label, _, _ in rows]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": name,
            "y": labels,
            "x": [_dollars(row[column]) for row in rows],  # type: ignore[arg-type]  # columns 2, 3: Decimal
            "marker": {"color": colour},
            "hovertemplate": "%{y}: %{x:$,.2f}<extra>" + name + "</extra>",
        }
        for name, column, colour in ((previous, 3, "#c7d2fe"), (month, 2, PALETTE[0]))
    ]
    layout = _cost_layout(
        max(200, 56 * len(rows)),
        barmode="group",
        hovermode="closest",
        xaxis=MONEY_AXIS,
        yaxis={"autorange": "reversed", "automargin": True},
        margin={"l": 16, "r": 16, "t": 8, "b": 40},
        legend={"orientation": "h", "y": -0.2, "x": 0, "traceorder": "reversed"},
    )
    return {"data": data, "layout": layout}

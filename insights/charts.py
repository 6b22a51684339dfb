"""Charts as pure functions: rows in, a plotly figure out (no database, no request)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from insights.selectors import UsageRow

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

"""The dashboard's charts are pure functions: runs' figures in, a plotly figure out (no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import plotly.graph_objects as go

from insights.charts import MAX_POINTS, downsample, run_trend_figure, score_distribution_figure
from insights.dashboard import TrendPoint
from insights.outfiles import Figures, histogram_bin

START = datetime(2024, 1, 1, tzinfo=UTC)


def test_the_distribution_has_one_bar_per_bin_and_marks_the_threshold() -> None:
    histogram = [i * 10 for i in range(20)]
    figure = score_distribution_figure(histogram, 0.7)
    bars = figure["data"][0]
    assert bars["y"] == histogram
    assert bars["x"][0] == 0.025
    assert bars["x"][-1] == 0.975
    flagged = [colour for colour in bars["marker"]["color"] if colour == "#db2777"]
    assert len(flagged) == 6  # bins 0.70–0.75 … 0.95–1.00
    assert figure["layout"]["shapes"][0]["x0"] == 0.7
    go.Figure(figure)  # a valid plotly figure


def test_an_empty_histogram_still_draws() -> None:
    assert len(score_distribution_figure([], 0.5)["data"]) == 1


def _points(n: int) -> list[TrendPoint]:
    return [
        TrendPoint(f"Run {i}", START + timedelta(hours=i), 1000 + i % 17, (i * 7) % 1000, 0.3)
        for i in range(n)
    ]


def test_the_trend_has_rows_share_flagged_and_mean_score() -> None:
    figure = run_trend_figure(_points(3))
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["Rows scored", "Flagged (% of rows)", "Mean score (%)"]
    assert figure["data"][1]["y"] == [0.0, 0.7, 1.4]
    assert figure["data"][2]["y"] == [30.0, 30.0, 30.0]
    go.Figure(figure)  # a valid plotly figure


def test_a_long_history_is_downsampled_under_300_kb() -> None:
    points = _points(200_000)
    figure = run_trend_figure(points)
    assert len(figure["data"][0]["x"]) <= MAX_POINTS
    assert len(json.dumps(figure).encode()) < 300_000


def test_downsampling_keeps_the_ends_and_the_extremes() -> None:
    values = [0.0] * 10_000
    values[4321], values[7777] = 99.0, -99.0
    kept = downsample(list(range(10_000)), lambda i: values[i], max_points=100)
    assert len(kept) <= 100
    assert kept[0] == 0
    assert kept[-1] == 9_999
    assert 4321 in kept
    assert 7777 in kept
    assert kept == sorted(kept)


def test_histogram_bins_clamp_scores_outside_zero_to_one() -> None:
    assert [histogram_bin(s) for s in (-0.5, 0.0, 0.049, 0.05, 0.999, 1.0, 7.0)] == [0, 0, 0, 1, 19, 19, 19]
    figures = Figures()
    for score in (0.1, 0.9, 0.95):
        figures.add(score, threshold=0.9)
    assert (figures.rows, figures.rows_above, figures.score_min, figures.score_max) == (3, 2, 0.1, 0.95)

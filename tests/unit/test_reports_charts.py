"""The reports' server-drawn charts: axis maxima, labels, and every bar's and point's position
worked out by hand (sizes and positions are SVG attributes, so they are the chart)."""

from __future__ import annotations

import pytest

from api.pages.reports import (
    PLOT_LEFT,
    PLOT_WIDTH,
    bar_chart,
    count_ceiling,
    line_chart,
    percent_ceiling,
    short,
    stacked_chart,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 4), (3.9, 4), (4, 4), (7.1, 8), (11, 12), (12.1, 20), (28.4, 40), (66.7, 80), (100, 100)],
)
def test_the_percent_axis_ends_on_a_round_number(value, expected):
    assert percent_ceiling(value) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Oakfield Primary", "Oakfield Primary"),
        ("A" * 30, "A" * 30),
        ("St Mary's Catholic Primary School and Nursery", "St Mary's Catholic Primary Sc…"),
    ],
)
def test_long_labels_are_cut_to_fit(label, expected):
    assert short(label) == expected


def test_grouped_bars():
    chart = bar_chart(
        "c",
        "Title",
        "Description",
        [("persistent", "Persistent"), ("severe", "Severe")],
        [("Oakfield", [50.0, 25.0]), ("Riverside", [None, 100.0])],
        maximum=100,
    )
    assert (
        chart.rows[1].note == ""
        and bar_chart("e", "T", "D", [("s", "S")], [("A", [None])]).rows[0].note == "None to show"
    )
    scale = PLOT_WIDTH / 100
    first, second = chart.rows
    assert [(b.x, b.y, b.width, b.height, b.css) for b in first.bars] == [
        (PLOT_LEFT, 8, 50 * scale, 14, "persistent"),
        (PLOT_LEFT, 24, 25 * scale, 14, "severe"),
    ]
    assert [b.text for b in first.bars] == ["50.0%", "25.0%"]
    assert first.bars[0].title == "Oakfield: Persistent 50.0%"
    # The second group starts after the first (two bars of 14 with a gap of 2: 30) and a gap of
    # 12, at 50; its first value is missing (no bar), its second is 16 lower.
    assert [(b.y, b.width, b.css) for b in second.bars] == [(66, PLOT_WIDTH, "severe")]
    assert first.y == 8 + 15 + 5
    assert [(t.x, t.text) for t in chart.ticks] == [
        (220, "0%"),
        (305, "25%"),
        (390, "50%"),
        (475, "75%"),
        (560, "100%"),
    ]
    assert chart.plot_bottom == 8 + 2 * (30 + 12) - 12 + 4
    assert chart.height == int(chart.plot_bottom + 28)


def test_the_axis_fits_the_largest_value_when_no_maximum_is_given():
    chart = bar_chart("c", "T", "D", [("s", "S")], [("A", [12.0]), ("B", [3.0])])
    assert [t.text for t in chart.ticks] == ["0%", "3%", "6%", "9%", "12%"]
    assert chart.rows[0].bars[0].width == PLOT_WIDTH


def test_stacked_bars_and_their_total():
    chart = stacked_chart(
        "c",
        "T",
        "D",
        [("stage-1", "Monitor"), ("stage-2", "Listen"), ("stage-3", "Facilitate")],
        [("Oak Lead", [3, 0, 2]), ("River Lead", [1, 1, 1])],
    )
    # The largest total is 5: the axis goes to 8 in steps of 2, 42.5 units of width per case.
    oak = chart.rows[0].bars
    assert [(b.x, b.width, b.css) for b in oak] == [
        (220, 127.5, "stage-1"),
        (347.5, 85.0, "stage-3"),
    ]
    assert oak[-1].text == "5" and oak[0].text == ""
    assert oak[1].title == "Oak Lead: Facilitate 2"
    assert [t.text for t in chart.ticks] == ["0", "2", "4", "6", "8"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 4), (3, 4), (4, 4), (5, 8), (9, 12), (37, 40), (81, 100), (150, 200)],
)
def test_count_axes_have_whole_number_steps(value, expected):
    assert count_ceiling(value) == expected


def test_a_line_per_series_skipping_months_without_a_value():
    chart = line_chart(
        "t",
        "T",
        "D",
        ["Sep", "Oct", "Nov"],
        [("absence", "Absence", [10.0, 5.0, None]), ("persistent", "PA", [20.0, 40.0, 30.0])],
    )
    # x from 56 to 620 in two steps of 282; y from 220 (0 %) up to 12 (the axis maximum 40 %),
    # 5.2 units a point.
    absence, persistent = chart.lines
    assert absence.points == "56.0,168.0 338.0,194.0"
    assert persistent.points == "56.0,116.0 338.0,12.0 620.0,64.0"
    assert persistent.dots[2][2] == "Nov: PA 30.0%"
    assert [t.text for t in chart.x_ticks] == ["Sep", "Oct", "Nov"]
    assert [t.text for t in chart.y_ticks] == ["0%", "10%", "20%", "30%", "40%"]

"""The dashboard's SVG charts: well-formed, escaped, mirrored right to left, readable when
empty, and numbers written the way the page's language writes them."""

from __future__ import annotations

import datetime
import math
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.utils import translation

from vefa.analytics import charts

HOSTILE = "<script>alert(1)</script>&\"' قهوه \u202e"
SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    """The chart as XML: fails on anything that is not well-formed (an unescaped name)."""
    return ET.fromstring(str(markup))


def _rect_xs(root: ET.Element) -> list[float]:
    return [float(r.get("x", "0")) for r in root.iter(f"{SVG}rect")]


def _cells(n: int = 2) -> dict[tuple[int, int], charts.Cell]:
    return {
        (i, j): charts.Cell(
            level=(i * n + j) / (n * n),
            text=str(i * n + j),
            title=f"{HOSTILE} {i},{j}",
            href=f"/customers/?r_score={i}&f_score={j}",
        )
        for i in range(n)
        for j in range(n)
    }


# --- heat map -------------------------------------------------------------------------------


def test_heat_map_is_well_formed_labelled_and_escaped():
    markup = charts.heat_map(
        chart_id="chart-x",
        title=HOSTILE,
        description="desc " + HOSTILE,
        row_labels=[HOSTILE, "R 1"],
        column_labels=["F 1", HOSTILE],
        cells=_cells(),
        rtl=False,
        x_title="x",
        y_title="y",
    )
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    root = _parse(markup)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-x-title chart-x-desc"
    assert root.find(f"{SVG}title").text == HOSTILE
    links = list(root.iter(f"{SVG}a"))
    assert len(links) == 4
    assert links[0].get("href") == "/customers/?r_score=0&f_score=0"
    assert links[0].find(f"{SVG}title").text.startswith(HOSTILE)


def test_heat_map_mirrors_right_to_left():
    common = {
        "chart_id": "c",
        "title": "t",
        "description": "d",
        "row_labels": ["a"],
        "column_labels": ["1", "2", "3"],
        "cells": {(0, j): charts.Cell(level=0.5, text=str(j), title=str(j)) for j in range(3)},
    }
    ltr = _parse(charts.heat_map(**common, rtl=False))
    rtl = _parse(charts.heat_map(**common, rtl=True))
    assert ltr.get("direction") == "ltr" and rtl.get("direction") == "rtl"
    assert "direction:rtl" in rtl.get("style")
    left, right = _rect_xs(ltr), _rect_xs(rtl)
    # The first column is at the left in English and at the right in Persian.
    assert left == sorted(left)
    assert right == sorted(right, reverse=True)
    width = float(ltr.get("viewBox").split()[2])
    cell_w = float(next(ltr.iter(f"{SVG}rect")).get("width"))
    for a, b in zip(left, right, strict=True):
        assert a + b + cell_w == pytest.approx(width, abs=0.2)
    # Row labels: next to the grid on the reading start side.
    label_l = next(t for t in ltr.iter(f"{SVG}text") if t.text == "a")
    label_r = next(t for t in rtl.iter(f"{SVG}text") if t.text == "\u2068a\u2069")
    assert float(label_l.get("x")) < min(left)
    assert float(label_r.get("x")) > max(r + cell_w for r in right)
    assert label_l.get("text-anchor") == label_r.get("text-anchor") == "end"


def test_texts_of_a_right_to_left_chart_are_isolated():
    rows = [charts.BarRow("a", [(-5, "-TRY 5.00")])]
    kwargs = {"chart_id": "b", "title": "t", "description": "d", "rows": rows, "series": ["x"]}
    rtl = _parse(charts.bar_chart(**kwargs, rtl=True, empty=""))
    ltr = _parse(charts.bar_chart(**kwargs, rtl=False, empty=""))
    assert "\u2068-TRY 5.00\u2069" in [t.text for t in rtl.iter(f"{SVG}text")]
    assert "-TRY 5.00" in [t.text for t in ltr.iter(f"{SVG}text")]


def test_heat_map_empty_data_says_so():
    for rows, columns, cells in (([], ["1"], _cells()), (["a"], [], _cells()), (["a"], ["1"], {})):
        markup = charts.heat_map(
            chart_id="c",
            title="t",
            description="d",
            row_labels=rows,
            column_labels=columns,
            cells=cells,
            rtl=False,
            empty="Nothing " + HOSTILE,
        )
        assert "<svg" not in markup
        assert "Nothing &lt;script&gt;" in markup


def test_heat_map_colours_follow_the_level():
    assert charts.shade(0.0) == "#e7f1ff"
    assert charts.shade(1.0) == "#0d6efd"
    assert charts.shade(5.0) == charts.shade(1.0)
    assert charts.shade(-1) == charts.shade(0.0)
    assert charts.shade(None) == "#f1f3f5"
    assert charts.ink(0.9) == "#ffffff" and charts.ink(0.1) == "#212529"


# --- funnel, histogram, bars, line --------------------------------------------------------


def test_funnel_bars_are_centred_and_sized_by_value():
    root = _parse(
        charts.funnel(
            chart_id="f",
            title="t",
            description="d",
            steps=[charts.Bar(HOSTILE, 100, "100"), charts.Bar("b", 25, "25")],
            rtl=False,
            empty="",
        )
    )
    rects = list(root.iter(f"{SVG}rect"))
    widths = [float(r.get("width")) for r in rects]
    assert widths[0] == pytest.approx(4 * widths[1])
    for rect in rects:
        centre = float(rect.get("x")) + float(rect.get("width")) / 2
        assert centre == pytest.approx(charts.WIDTH / 2)
    assert root.find(f"{SVG}g/{SVG}title").text == f"{HOSTILE}: 100"


@pytest.mark.parametrize("values", [[], [0, 0], [None, float("nan")]])
def test_funnel_without_customers_is_an_empty_state(values):
    markup = charts.funnel(
        chart_id="f",
        title="t",
        description="d",
        steps=[charts.Bar("x", v, "") for v in values],
        rtl=False,
        empty="none",
    )
    assert "<svg" not in markup and "none" in markup


def test_histogram_runs_from_the_reading_start():
    bins = [charts.Bar(f"b{k}", v, str(v)) for k, v in enumerate([5, 10, 1])]
    ltr = _parse(
        charts.histogram(
            chart_id="h", title="t", description="d", bins=bins, rtl=False, x_title="x", empty=""
        )
    )
    rtl = _parse(
        charts.histogram(
            chart_id="h", title="t", description="d", bins=bins, rtl=True, x_title="x", empty=""
        )
    )
    assert _rect_xs(ltr) == sorted(_rect_xs(ltr))
    assert _rect_xs(rtl) == sorted(_rect_xs(rtl), reverse=True)
    heights = [float(r.get("height")) for r in ltr.iter(f"{SVG}rect")]
    assert heights[1] == max(heights) and heights[1] == pytest.approx(10 * heights[2])


def test_histogram_handles_huge_and_invalid_values():
    bins = [
        charts.Bar("big", 10**30, "big"),
        charts.Bar("inf", float("inf"), "inf"),
        charts.Bar("neg", -5, "neg"),
        charts.Bar("none", None, "none"),
    ]
    root = _parse(
        charts.histogram(
            chart_id="h", title="t", description="d", bins=bins, rtl=False, x_title="", empty=""
        )
    )
    heights = [float(r.get("height")) for r in root.iter(f"{SVG}rect")]
    assert heights[0] == pytest.approx(200.0)
    assert heights[1:] == [0.0, 0.0, 0.0]
    assert all(math.isfinite(h) for h in heights)


def test_bar_chart_draws_losses_towards_the_reading_start_in_red():
    rows = [
        charts.BarRow(HOSTILE, [(1000, "1,000"), (-500, "-500")]),
        charts.BarRow("b", [(Decimal("250"), "250"), (0, "0")]),
    ]
    ltr = _parse(
        charts.bar_chart(
            chart_id="b",
            title="t",
            description="d",
            rows=rows,
            series=["rev", "margin"],
            rtl=False,
            empty="",
        )
    )
    rtl = _parse(
        charts.bar_chart(
            chart_id="b",
            title="t",
            description="d",
            rows=rows,
            series=["rev", "margin"],
            rtl=True,
            empty="",
        )
    )
    bars = [r for r in ltr.iter(f"{SVG}rect") if r.get("rx") == "2"]
    red = [r for r in bars if r.get("fill") == charts.NEGATIVE]
    assert len(red) == 1
    positive = bars[0]
    # The loss ends where the revenue starts (the zero line), on the other side.
    assert float(red[0].get("x")) + float(red[0].get("width")) == pytest.approx(
        float(positive.get("x"))
    )
    rtl_bars = [r for r in rtl.iter(f"{SVG}rect") if r.get("rx") == "2"]
    rtl_red = next(r for r in rtl_bars if r.get("fill") == charts.NEGATIVE)
    assert float(rtl_red.get("x")) == pytest.approx(
        float(rtl_bars[0].get("x")) + float(rtl_bars[0].get("width"))
    )
    titles = [t.text for t in ltr.iter(f"{SVG}title")]
    assert f"{HOSTILE} · margin: -500" in titles


def test_bar_chart_with_only_zeros_is_empty():
    markup = charts.bar_chart(
        chart_id="b",
        title="t",
        description="d",
        rows=[charts.BarRow("a", [(0, "0")])],
        series=["x"],
        rtl=False,
        empty="no revenue",
    )
    assert "<svg" not in markup and "no revenue" in markup


def test_pareto_line_mirrors_and_marks_eighty_percent():
    points = [(0.2, 0.8), (1.0, 1.0)]
    kwargs = {
        "chart_id": "p",
        "title": HOSTILE,
        "description": "d",
        "points": points,
        "mark_x": 0.2,
        "x_title": "x",
        "y_title": "y",
        "mark_label": "20% " + HOSTILE,
        "empty": "",
    }
    ltr = _parse(charts.pareto_line(**kwargs, rtl=False))
    rtl = _parse(charts.pareto_line(**kwargs, rtl=True))
    d_ltr = ltr.find(f"{SVG}path").get("d")
    d_rtl = rtl.find(f"{SVG}path").get("d")
    xs_ltr = [float(x) for x in re.findall(r"[ML]([\d.]+),", d_ltr)]
    xs_rtl = [float(x) for x in re.findall(r"[ML]([\d.]+),", d_rtl)]
    assert xs_ltr == sorted(xs_ltr) and xs_rtl == sorted(xs_rtl, reverse=True)
    for a, b in zip(xs_ltr, xs_rtl, strict=True):
        assert a + b == pytest.approx(charts.WIDTH, abs=0.2)
    marks = [line for line in ltr.iter(f"{SVG}line") if line.get("class") == "vefa-chart-mark"]
    assert len(marks) == 2  # the 80 % line and the share of customers reaching it
    assert any(t.text == "20% " + HOSTILE for t in ltr.iter(f"{SVG}text"))


def test_pareto_line_clamps_and_skips_bad_points():
    root = _parse(
        charts.pareto_line(
            chart_id="p",
            title="t",
            description="d",
            points=[(-1, 2), (float("nan"), 0.5), (0.5, None), (2, 0.9)],
            mark_x=None,
            rtl=False,
            x_title="",
            y_title="",
            mark_label="",
            empty="",
        )
    )
    path = root.find(f"{SVG}path").get("d")
    assert path.count("L") == 2  # (0, 1) and (1, 0.9): NaN and null points dropped
    assert "nan" not in path.lower()
    empty = charts.pareto_line(
        chart_id="p",
        title="t",
        description="d",
        points=[],
        mark_x=None,
        rtl=False,
        x_title="",
        y_title="",
        mark_label="",
        empty="no value",
    )
    assert "<svg" not in empty and "no value" in empty


# --- matrix table and KPI tiles ---------------------------------------------------------------


def test_matrix_table_shades_by_row_share_and_escapes():
    markup = charts.matrix_table(
        caption=HOSTILE,
        corner="from/to",
        row_labels=[HOSTILE, "b"],
        column_labels=[HOSTILE, "b"],
        values={(0, 0): 3, (0, 1): 1, (1, 1): 2},
        empty="",
    )
    assert "<script>" not in markup
    root = ET.fromstring(str(markup).replace("&nbsp;", " "))
    cells = list(root.iter("td"))
    assert [c.text for c in cells] == ["3", "1", "0", "2"]
    assert cells[0].get("title") == "75.0%"
    assert "vefa-diagonal" in cells[0].get("class") and "vefa-diagonal" in cells[3].get("class")
    assert "transparent" in cells[2].get("style")
    assert "nothing" in charts.matrix_table(
        caption="", corner="", row_labels=["a"], column_labels=["a"], values={}, empty="nothing"
    )


@pytest.mark.parametrize(
    ("change", "better", "arrow", "tone"),
    [
        (0.1, True, "▲", "text-success"),
        (-0.1, True, "▼", "text-danger"),
        (0.1, False, "▲", "text-danger"),
        (-0.1, False, "▼", "text-success"),
        (0.0, True, "▬", "text-body-secondary"),
        (None, True, "▬", "text-body-secondary"),
        (float("nan"), True, "▬", "text-body-secondary"),
    ],
)
def test_kpi_tile_arrow_and_colour(change, better, arrow, tone):
    markup = charts.kpi_tile(
        label=HOSTILE,
        value="1 <b>",
        change=change,
        change_text=charts.fmt_change(change),
        previous="2",
        higher_is_better=better,
    )
    assert arrow in markup and tone in markup
    assert "<script>" not in markup and "1 &lt;b&gt;" in markup
    assert 'class="visually-hidden"' in markup


# --- formatting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "number", "share", "money"),
    [
        ("en", "1,234,567", "12.5%", "TRY1,234.56"),
        ("tr", "1.234.567", "%12,5", "₺1.234,56"),
        ("sr-latn", "1.234.567", "12,5%", "1.234,56\xa0TRY"),
    ],
)
def test_numbers_follow_the_language(language, number, share, money):
    with translation.override(language):
        assert charts.fmt_int(1234567) == number
        assert charts.fmt_share(0.125) == share
        assert charts.fmt_money(123456, "TRY") == money


def test_persian_numbers_and_money():
    with translation.override("fa"):
        assert translation.get_language_bidi()
        assert charts.fmt_money(123456, "IRR").replace("\u200e", "").endswith("1,235")
        assert charts.fmt_month(datetime.date(2025, 3, 1)) == "مارس 2025"


def test_missing_and_invalid_numbers_print_a_dash():
    for value in (None, float("nan"), float("inf"), "x", True):
        assert charts.fmt_int(value) == "—"
        assert charts.fmt_share(value) == "—"
        assert charts.fmt_money(value, "TRY") == "—"
        assert charts.fmt_change(value) == "—"
    assert charts.fmt_change(0.123) == "+12.3%"
    assert charts.fmt_change(-0.05) == "-5.0%"


def test_money_in_cents_is_exact_however_large():
    assert charts.cents_to_units(12345678901234567891, "TRY") == Decimal("123456789012345678.91")
    assert charts.cents_to_units(-5, "TRY") == Decimal("-0.05")
    assert charts.fmt_money(10**22, "XYZ") != "—"
    assert charts.fmt_money(150, "not a currency") == "1.50 not a currency"

"""The bars-over-time chart of the service dashboard (``vefa.common.charts.time_bars``)."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from vefa.common.charts import Bar, time_bars

SVG = "{http://www.w3.org/2000/svg}"


def chart(bars, rtl=False, **kwargs):
    return time_bars(
        chart_id="c", title="Complaints", description="per day", bars=bars, rtl=rtl,
        empty="Nothing", **kwargs,
    )  # fmt: skip


def test_one_bar_per_period_with_thinned_labels():
    bars = [Bar(f"day {i}", i % 5, str(i % 5)) for i in range(30)]
    root = ET.fromstring(str(chart(bars)))
    rects = root.findall(f"{SVG}g/{SVG}rect")
    assert len(rects) == 30
    heights = [float(r.get("height")) for r in rects]
    assert max(heights) == 140.0 and heights[0] == 0.0
    labels = [t.text for t in root.findall(f"{SVG}text") if t.text and t.text.startswith("day")]
    assert 1 < len(labels) <= 8
    titles = [g.find(f"{SVG}title").text for g in root.findall(f"{SVG}g")]
    assert titles[4] == "day 4: 4"


def test_empty_and_all_zero_show_the_message():
    assert "Nothing" in str(chart([]))
    assert "Nothing" in str(chart([Bar("a", 0, "0")]))


def test_labels_are_escaped_and_rtl_mirrors():
    bars = [Bar("<script>alert(1)</script>", 3, "3"), Bar("ب", 1, "۱")]
    text = str(chart(bars, rtl=True))
    assert "<script>" not in text and "&lt;script&gt;" in text
    root = ET.fromstring(text)
    assert root.get("direction") == "rtl"
    first, second = root.findall(f"{SVG}g/{SVG}rect")
    assert float(first.get("x")) > float(second.get("x"))  # the first period on the right


def test_bad_values_do_not_break_the_chart():
    bars = [Bar("a", None, "—"), Bar("b", float("nan"), "—"), Bar("c", -4, "-4"), Bar("d", 2, "2")]
    root = ET.fromstring(str(chart(bars)))
    heights = [float(r.get("height")) for r in root.findall(f"{SVG}g/{SVG}rect")]
    assert heights == [0.0, 0.0, 0.0, 140.0]


def test_long_tick_labels_are_spaced_so_they_never_touch():
    """Dates written out in full ("Oct 26, 2026") take more room: fewer ticks, none overlapping."""
    bars = [Bar(f"Oct {i + 1}, 2026", 1, "1") for i in range(30)]
    root = ET.fromstring(str(chart(bars)))
    ticks = [t for t in root.findall(f"{SVG}text") if t.text and t.text.startswith("Oct")]
    xs = sorted(float(t.get("x")) for t in ticks)
    assert len(xs) >= 2
    room = min(b - a for a, b in itertools.pairwise(xs))
    assert room >= len("Oct 26, 2026") * 11 * 0.6

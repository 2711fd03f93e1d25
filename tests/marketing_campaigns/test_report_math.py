"""The report's arithmetic on hand-made cases: rates, ROI, cost per acquisition, uplift and
its z-test, with empty groups and divisions by zero."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from vefa.marketing.selectors.reports import (
    Counts,
    Figures,
    cost_per_acquisition,
    rate,
    roi,
    two_proportion_z,
    uplift,
)


def test_rate_and_empty_whole():
    assert rate(25, 100) == Decimal("0.25")
    assert rate(0, 100) == 0
    assert rate(3, 0) is None
    assert rate(None, 10) is None


def test_roi_hand_made():
    # Spent 1,000, brought 3,500: (3500 - 1000) / 1000 = 2.5 (250 %).
    assert roi(Decimal("3500"), Decimal("1000")) == Decimal("2.5")
    # Lost money: 400 back for 1,000 spent = -60 %.
    assert roi(Decimal("400"), Decimal("1000")) == Decimal("-0.6")
    assert roi(Decimal("400"), Decimal("0")) is None
    assert roi(None, Decimal("10")) is None


def test_cost_per_acquisition():
    assert cost_per_acquisition(Decimal("1000"), 8) == Decimal("125")
    assert cost_per_acquisition(Decimal("1000"), 0) is None
    assert cost_per_acquisition(None, 3) is None


def test_uplift_hand_made():
    # Sent 1,000, 50 bought (5 %); control 100, 2 bought (2 %): +3 points, +150 %.
    result = uplift(converted=50, sent=1000, control_converted=2, control_size=100)
    assert result.treated_rate == Decimal("0.05")
    assert result.control_rate == Decimal("0.02")
    assert result.absolute == Decimal("0.03")
    assert result.relative == Decimal("1.5")
    # Pooled p = 52/1100; z = 0.03 / sqrt(p(1-p)(1/1000 + 1/100)).
    p = 52 / 1100
    expected = 0.03 / math.sqrt(p * (1 - p) * (1 / 1000 + 1 / 100))
    assert result.z == pytest.approx(expected)
    assert result.z == pytest.approx(1.3478, abs=1e-3)
    assert result.significant is False


def test_uplift_significant_with_large_groups():
    result = uplift(converted=600, sent=10000, control_converted=40, control_size=1000)
    assert result.absolute == Decimal("0.02")
    assert result.z == pytest.approx(2.6, abs=0.1)
    assert result.p_value is not None and result.p_value < 0.05
    assert result.significant is True


def test_uplift_negative():
    result = uplift(converted=10, sent=1000, control_converted=5, control_size=100)
    assert result.absolute == Decimal("-0.04")
    assert result.relative == Decimal("-0.8")
    assert result.z is not None and result.z < 0


def test_uplift_without_control_group_or_conversions():
    empty = uplift(converted=5, sent=100, control_converted=0, control_size=0)
    assert empty.control_rate is None
    assert empty.absolute is None and empty.relative is None
    assert empty.significant is None
    zero_control = uplift(converted=5, sent=100, control_converted=0, control_size=10)
    assert zero_control.absolute == Decimal("0.05")
    # Relative uplift over a zero rate is undefined.
    assert zero_control.relative is None
    nobody = uplift(converted=0, sent=100, control_converted=0, control_size=10)
    assert nobody.z is None and nobody.p_value is None


def test_two_proportion_z_symmetry_and_bounds():
    z, p = two_proportion_z(30, 100, 20, 100) or (0, 0)
    z2, p2 = two_proportion_z(20, 100, 30, 100) or (0, 0)
    assert z == pytest.approx(-z2)
    assert p == pytest.approx(p2)
    assert 0 <= p <= 1
    assert two_proportion_z(1, 0, 1, 10) is None
    assert two_proportion_z(10, 10, 10, 10) is None


def test_figures_combine_counts():
    counts = Counts(
        recipients=900,
        sent=800,
        delivered=780,
        opened=300,
        clicked=80,
        replied=5,
        converted=40,
        responded=100,
        control=100,
        control_converted=2,
        revenue=Decimal("12000"),
    )
    figures = Figures(label="", counts=counts, cost=Decimal("2000"), track_opens=False)
    assert figures.conversion_rate == Decimal("0.05")
    assert figures.response_rate == Decimal("0.125")
    assert figures.roi == Decimal("5")
    assert figures.cost_per_acquisition == Decimal("50")
    assert figures.open_rate is None  # opens not tracked
    assert figures.uplift.absolute == Decimal("0.03")
    nothing = Figures(label="", counts=Counts(), cost=Decimal("0"), track_opens=True)
    assert nothing.conversion_rate is None
    assert nothing.roi is None
    assert nothing.cost_per_acquisition is None
    assert nothing.uplift.absolute is None

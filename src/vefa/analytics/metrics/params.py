"""Settings of the customer metrics (RFM, loyalty ladder, A/B/C value, decline, overdue).

Every setting is a frozen dataclass with documented defaults, so a run's settings can be
stored next to its results and compared. Each dataclass checks itself when built: nonsense
(a negative window, an A share above the B share, a ladder whose steps overlap, segment
rules that leave a cell of the R×F grid unassigned) raises ``ValueError`` naming the field,
instead of producing plausible-looking but wrong numbers later.

The module also holds the few argument checks the metric functions share
(``check_day``, ``check_positive``, ``require_columns``), so that every metric rejects bad
input with the same clear message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import narwhals as nw

Basis = Literal["revenue", "margin"]
BASES: tuple[Basis, ...] = ("revenue", "margin")

#: RFM segment codes, from the best customers to the lost ones.
SEGMENT_CODES: tuple[str, ...] = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cannot_lose",
    "hibernating",
    "lost",
)

SCORES = range(1, 6)


def check_int(name: str, value: Any) -> int:
    """``value`` as an ``int``; booleans and floats are refused (``True`` is not 1 day)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    return value


def check_positive(name: str, value: Any) -> int:
    """A strictly positive integer (window lengths, counts)."""
    value = check_int(name, value)
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def check_day(name: str, value: Any) -> int:
    """A day number (days since 1970-01-01) within the range of the ``int32`` day columns."""
    value = check_int(name, value)
    if not -(2**31) < value < 2**31:
        raise ValueError(f"{name} {value} is outside the range of day numbers")
    return value


def check_share(name: str, value: Any, *, allow_one: bool = True) -> float:
    """A share in (0, 1] (or (0, 1) when ``allow_one`` is false)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    share = float(value)
    upper_ok = share <= 1 if allow_one else share < 1
    if math.isnan(share) or share <= 0 or not upper_ok:
        bound = "1" if allow_one else "1 (exclusive)"
        raise ValueError(f"{name} must be greater than 0 and at most {bound}, got {value!r}")
    return share


def require_columns(frame: nw.LazyFrame[Any], columns: tuple[str, ...], what: str) -> None:
    """Fail early, naming the frame and the columns, when a frame lacks a needed column.

    Without this the engine fails at collection time with its own (engine-specific)
    message; the schema of a lazy frame is known without running it.
    """
    if not isinstance(frame, nw.LazyFrame):
        raise TypeError(f"{what} must be a Narwhals LazyFrame, not {type(frame).__name__}")
    present = set(frame.collect_schema().names())
    missing = [column for column in columns if column not in present]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {', '.join(missing)}")


@dataclass(frozen=True)
class SegmentRule:
    """One RFM segment: the customers whose R and F scores fall in both inclusive ranges."""

    code: str
    r_min: int
    r_max: int
    f_min: int
    f_max: int

    def __post_init__(self) -> None:
        if self.code not in SEGMENT_CODES:
            raise ValueError(f"unknown RFM segment code {self.code!r}; use one of {SEGMENT_CODES}")
        for name in ("r_min", "r_max", "f_min", "f_max"):
            value = check_int(name, getattr(self, name))
            if value not in SCORES:
                raise ValueError(f"{self.code}: {name} must be a score from 1 to 5, got {value}")
        if self.r_min > self.r_max or self.f_min > self.f_max:
            raise ValueError(f"{self.code}: a minimum score is above its maximum")

    def cells(self) -> list[tuple[int, int]]:
        return [
            (r, f)
            for r in range(self.r_min, self.r_max + 1)
            for f in range(self.f_min, self.f_max + 1)
        ]


#: The R×F segment map widely used with RFM quintiles (5 = best), with its low corner split
#: by recency into ``hibernating`` (R 2) and ``lost`` (R 1) so that the eleven named segments
#: cover the 25 cells exactly once:
#:
#: ===  ==============  ===================  ===================  ===========  ===========
#: R    F 1             F 2                  F 3                  F 4          F 5
#: ===  ==============  ===================  ===================  ===========  ===========
#: 5    new             potential_loyalists  potential_loyalists  champions    champions
#: 4    promising       potential_loyalists  potential_loyalists  loyal        loyal
#: 3    about_to_sleep  about_to_sleep       need_attention       loyal        loyal
#: 2    hibernating     hibernating          at_risk              at_risk      cannot_lose
#: 1    lost            lost                 at_risk              at_risk      cannot_lose
#: ===  ==============  ===================  ===================  ===========  ===========
DEFAULT_SEGMENTS: tuple[SegmentRule, ...] = (
    SegmentRule("champions", r_min=5, r_max=5, f_min=4, f_max=5),
    SegmentRule("loyal", r_min=3, r_max=4, f_min=4, f_max=5),
    SegmentRule("potential_loyalists", r_min=4, r_max=5, f_min=2, f_max=3),
    SegmentRule("new", r_min=5, r_max=5, f_min=1, f_max=1),
    SegmentRule("promising", r_min=4, r_max=4, f_min=1, f_max=1),
    SegmentRule("need_attention", r_min=3, r_max=3, f_min=3, f_max=3),
    SegmentRule("about_to_sleep", r_min=3, r_max=3, f_min=1, f_max=2),
    SegmentRule("at_risk", r_min=1, r_max=2, f_min=3, f_max=4),
    SegmentRule("cannot_lose", r_min=1, r_max=2, f_min=5, f_max=5),
    SegmentRule("hibernating", r_min=2, r_max=2, f_min=1, f_max=2),
    SegmentRule("lost", r_min=1, r_max=1, f_min=1, f_max=2),
)


@dataclass(frozen=True)
class RfmParams:
    """Settings of ``rfm.rfm``.

    ``window_days`` (365): the purchases counted are those of the last ``window_days`` days
    before the run's ``as_of_day``. A year covers every season once, so a customer who buys
    each spring is not scored as lapsed in the autumn.

    ``segments``: the rules mapping (R score, F score) to a segment code; they must cover
    every one of the 25 cells exactly once, which is checked here.
    """

    window_days: int = 365
    segments: tuple[SegmentRule, ...] = DEFAULT_SEGMENTS

    def __post_init__(self) -> None:
        check_positive("window_days", self.window_days)
        if not isinstance(self.segments, tuple) or not all(
            isinstance(rule, SegmentRule) for rule in self.segments
        ):
            raise TypeError("segments must be a tuple of SegmentRule")
        owners: dict[tuple[int, int], list[str]] = {}
        for rule in self.segments:
            for cell in rule.cells():
                owners.setdefault(cell, []).append(rule.code)
        missing = [cell for cell in _all_cells() if cell not in owners]
        doubled = {cell: codes for cell, codes in owners.items() if len(codes) > 1}
        if missing:
            cells = ", ".join(f"R{r}F{f}" for r, f in missing)
            raise ValueError(f"segments leave the (R, F) cell(s) {cells} without a segment")
        if doubled:
            cells = ", ".join(f"R{r}F{f} ({'/'.join(c)})" for (r, f), c in sorted(doubled.items()))
            raise ValueError(f"segments give the cell(s) {cells} more than one segment")

    def segment_of(self, r_score: int, f_score: int) -> str:
        """The segment code of one cell (used by the pages' legends and by the tests)."""
        for rule in self.segments:
            if rule.r_min <= r_score <= rule.r_max and rule.f_min <= f_score <= rule.f_max:
                return rule.code
        raise ValueError(f"scores must be from 1 to 5, got R{r_score}F{f_score}")


def _all_cells() -> list[tuple[int, int]]:
    return [(r, f) for r in SCORES for f in SCORES]


@dataclass(frozen=True)
class LadderParams:
    """Settings of ``ladder.ladder``: steps by the number of orders in the window.

    ``window_days`` (365): orders of the last year count. Each ``*_orders`` setting is the
    fewest orders of its step. Steps (defaults): ``one_time`` 1 order; ``occasional`` from
    ``occasional_orders`` (2) to ``regular_orders`` - 1 (3); ``regular`` from
    ``regular_orders`` (4, about once a quarter) to ``loyal_orders`` - 1 (9); ``loyal`` from
    ``loyal_orders`` (10: about monthly, allowing two missed months).
    The quarter and month marks follow the ordering rhythms of the businesses a CRM serves,
    which a split by quantiles would not: the steps stay comparable between years and
    between companies.
    """

    window_days: int = 365
    occasional_orders: int = 2
    regular_orders: int = 4
    loyal_orders: int = 10

    def __post_init__(self) -> None:
        check_positive("window_days", self.window_days)
        for name in ("occasional_orders", "regular_orders", "loyal_orders"):
            check_int(name, getattr(self, name))
        if self.occasional_orders < 2:
            raise ValueError(
                "occasional_orders must be at least 2 (one order is one_time), got "
                f"{self.occasional_orders}"
            )
        if not self.occasional_orders < self.regular_orders < self.loyal_orders:
            raise ValueError(
                "ladder thresholds must rise: occasional_orders < regular_orders < loyal_orders, "
                f"got {self.occasional_orders}, {self.regular_orders}, {self.loyal_orders}"
            )


@dataclass(frozen=True)
class ValueParams:
    """Settings of ``value.value_classes`` (A/B/C classes by value, the Pareto view).

    ``a_share`` (0.8) and ``b_share`` (0.95): class A is the smallest set of best customers
    that brings ``a_share`` of the (positive) value, A and B together the smallest set that
    brings ``b_share``; the rest is C. ``window_days`` (365) and ``basis`` (``"revenue"``,
    or ``"margin"`` = revenue - cost) choose what value is counted.
    """

    a_share: float = 0.8
    b_share: float = 0.95
    window_days: int = 365
    basis: Basis = "revenue"

    def __post_init__(self) -> None:
        a_share = check_share("a_share", self.a_share)
        b_share = check_share("b_share", self.b_share)
        if a_share > b_share:
            raise ValueError(f"a_share ({a_share}) must not be above b_share ({b_share})")
        check_positive("window_days", self.window_days)
        if self.basis not in BASES:
            raise ValueError(f"basis must be one of {BASES}, got {self.basis!r}")


@dataclass(frozen=True)
class DeclineParams:
    """Settings of ``decline.decline`` and ``decline.overdue``.

    Decline compares the last ``period_days`` (365) with the ``period_days`` before them. A
    customer is *declining* when they had at least ``min_prior_orders`` (2) orders in the
    earlier period (one order is too little to call a trend) and their orders or their
    revenue fell by ``drop_share`` (0.3, i.e. 30 %) or more.

    Overdue looks at the purchases of the last ``overdue_history_days`` (730): a customer
    with orders on at least ``overdue_min_orders`` (3) distinct days has a mean gap between
    purchases; they are *overdue* when the days since their last purchase reach
    ``overdue_factor`` (1.5) times that gap. Two gaps are the fewest that make a rhythm;
    1.5 leaves room for the normal scatter around it.
    """

    drop_share: float = 0.3
    period_days: int = 365
    min_prior_orders: int = 2
    overdue_factor: float = 1.5
    overdue_min_orders: int = 3
    overdue_history_days: int = 730

    def __post_init__(self) -> None:
        check_share("drop_share", self.drop_share)
        check_positive("period_days", self.period_days)
        check_positive("min_prior_orders", self.min_prior_orders)
        factor = self.overdue_factor
        if isinstance(factor, bool) or not isinstance(factor, int | float):
            raise TypeError(f"overdue_factor must be a number, not {type(factor).__name__}")
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f"overdue_factor must be a positive number, got {factor!r}")
        check_int("overdue_min_orders", self.overdue_min_orders)
        if self.overdue_min_orders < 2:
            raise ValueError(
                "overdue_min_orders must be at least 2 (a gap needs two purchases), got "
                f"{self.overdue_min_orders}"
            )
        check_positive("overdue_history_days", self.overdue_history_days)

"""Settings of the basket, wallet, profitability and service metrics, with their defaults.

Every settings object is a frozen dataclass that checks its values when it is built, so a
wrong setting fails at once with the field's name instead of producing a silently wrong
figure deep inside a query. Money is an integer number of cents of the reporting currency,
as everywhere in the analytical store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any

import narwhals as nw

# A unit cost above this (ten billion currency units) is certainly a typing error, and
# keeping it this low means count x unit cost cannot overflow a 64-bit integer.
MAX_UNIT_COST = 10**12
# Thousands of years: longer windows are typing errors, and the limit keeps day arithmetic
# far from the 32-bit range of the day numbers.
MAX_WINDOW_DAYS = 1_000_000


def check_share(name: str, value: Any, *, allow_zero: bool = True) -> float:
    """``value`` as a float in [0, 1] (or (0, 1]); a bool or a non-number is refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number between 0 and 1, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or value > 1 or (value == 0 and not allow_zero):
        low = "0" if allow_zero else "above 0"
        raise ValueError(f"{name} must be between {low} and 1, not {value!r}")
    return float(value)


def check_count(name: str, value: Any, *, minimum: int = 0, maximum: int | None = None) -> int:
    """``value`` as an int within the bounds; floats and bools are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number, not {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{name} must be {bound}, not {value!r}")
    return value


def check_day(name: str, value: Any) -> int:
    """A day number (days since 1970-01-01) that fits the store's 32-bit day columns."""
    return check_count(name, value, minimum=-(2**31) + MAX_WINDOW_DAYS, maximum=2**31 - 1)


def check_window(name: str, value: Any) -> int:
    return check_count(name, value, minimum=1, maximum=MAX_WINDOW_DAYS)


def percentile_fraction(share: float) -> Fraction:
    """The percentile as an exact fraction with a denominator of at most 10 000.

    The peer rank ``ceil(share * n)`` is then computed in integers on every engine, so a
    float rounding (``0.56 * 25 = 14.000000000000002``) cannot move it by one.
    """
    return Fraction(share).limit_denominator(10_000)


def _check_fields(instance: Any, checks: dict[str, Any]) -> None:
    for field in fields(instance):
        check = checks.get(field.name)
        if check is not None:
            check(field.name, getattr(instance, field.name))


@dataclass(frozen=True)
class BasketParams:
    """Thresholds of the association rules.

    ``min_support``: the smallest share of baskets that must hold both items of a rule (and
    so each item alone); items below it are dropped before pairs are formed, which is what
    keeps the self-join small. ``min_confidence``: the smallest P(consequent | antecedent).
    ``max_rules``: how many rules to keep, the best by lift.
    """

    min_support: float = 0.001
    min_confidence: float = 0.1
    max_rules: int = 1000

    def __post_init__(self) -> None:
        check_share("min_support", self.min_support, allow_zero=False)
        check_share("min_confidence", self.min_confidence)
        check_count("max_rules", self.max_rules, minimum=1, maximum=10_000_000)


@dataclass(frozen=True)
class WalletParams:
    """Share of wallet: the spend window and the peer estimate of the wallet.

    The peer wallet of a customer without a declared one is the ``peer_percentile``
    (nearest rank) of the window's spend among buyers of the same industry and size band,
    used only when the group has at least ``min_peers`` buyers.
    """

    window_days: int = 365
    peer_percentile: float = 0.9
    min_peers: int = 5

    def __post_init__(self) -> None:
        check_window("window_days", self.window_days)
        check_share("peer_percentile", self.peer_percentile, allow_zero=False)
        check_count("min_peers", self.min_peers, minimum=1)


@dataclass(frozen=True)
class BreadthParams:
    """Category breadth: the window and when a customer buys from *few* categories.

    A customer is flagged when any threshold that is set is met: at most
    ``few_max_categories`` categories, or a breadth (bought / total) of at most
    ``few_max_share``. ``None`` switches a threshold off.
    """

    window_days: int = 365
    few_max_categories: int | None = 2
    few_max_share: float | None = None

    def __post_init__(self) -> None:
        check_window("window_days", self.window_days)
        if self.few_max_categories is not None:
            check_count("few_max_categories", self.few_max_categories)
        if self.few_max_share is not None:
            check_share("few_max_share", self.few_max_share)


def _check_cost(name: str, value: Any) -> None:
    check_count(name, value, minimum=0, maximum=MAX_UNIT_COST)


@dataclass(frozen=True)
class CostParams:
    """Unit costs of the customer cost model, in cents of the reporting currency.

    Every cost defaults to 0: what a call or a ticket costs depends on the business and the
    currency, so nothing is invented; set them to get service, marketing and sales costs.

    - ``ticket_cost`` per service ticket opened in the window, ``return_cost`` per return,
      ``complaint_cost`` per interaction of kind ``complaint`` (complaints recorded in the
      contact history before or besides tickets);
    - ``send_cost`` per campaign send whose own ``cost`` is unknown (null);
    - ``call_cost``, ``meeting_cost``, ``appointment_cost``, ``visit_cost``, ``task_cost``
      per activity of that kind whose status is in ``activity_statuses`` (done work only,
      by default: planned and cancelled activities cost nothing yet).
    """

    ticket_cost: int = 0
    return_cost: int = 0
    complaint_cost: int = 0
    send_cost: int = 0
    call_cost: int = 0
    meeting_cost: int = 0
    appointment_cost: int = 0
    visit_cost: int = 0
    task_cost: int = 0
    activity_statuses: tuple[str, ...] = ("done",)

    def __post_init__(self) -> None:
        _check_fields(self, {f.name: _check_cost for f in fields(self) if f.name.endswith("_cost")})
        statuses = self.activity_statuses
        if not isinstance(statuses, tuple) or not all(isinstance(s, str) for s in statuses):
            raise TypeError("activity_statuses must be a tuple of strings")

    def activity_costs(self) -> dict[str, int]:
        """Unit cost per activity kind (the kinds of ``interactions.ActivityKind``)."""
        return {
            "call": self.call_cost,
            "meeting": self.meeting_cost,
            "appointment": self.appointment_cost,
            "visit": self.visit_cost,
            "task": self.task_cost,
        }


def in_window(as_of_day: int, window_days: int | None, column: str = "day") -> nw.Expr:
    """``as_of_day - window_days <= column < as_of_day`` (no lower bound without a window).

    ``as_of_day`` is the first day not counted, as in every metric of the store.
    """
    check_day("as_of_day", as_of_day)
    condition = nw.col(column) < as_of_day
    if window_days is not None:
        check_window("window_days", window_days)
        condition = condition & (nw.col(column) >= as_of_day - window_days)
    return condition

"""Customer lifetime value: the BG/NBD purchase model and the Gamma-Gamma spend model.

Everything here works on NumPy arrays, one element per customer, and is fitted by maximum
likelihood with SciPy; ``summary_frame`` is the one Narwhals metric (the per-customer summary
the models need, computed on the analytical store by either engine).

The per-customer summary of a calibration period (what both models read):

- ``frequency`` (x): the number of *repeat* transactions: purchase days after the first one.
  Several purchases on the same day are one transaction, so x = distinct purchase days - 1.
- ``recency`` (t_x): the time from the first purchase to the last one (0 when x = 0).
- ``T``: the time from the first purchase to the end of the calibration period.
- ``monetary_value`` (m_x): the mean value of the repeat transactions (a transaction's value is
  the sum of that day's purchases); 0 when x = 0. The first purchase is left out because the
  Gamma-Gamma model describes repeat spending (Fader, Hardie & Lee 2005, JMR).

Time is counted in weeks (days / 7) or in days; the fitted parameters depend on the unit (the
rate ``alpha`` is per unit), so predictions must use the unit of the fit.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing
Science 24(2)): while alive, a customer buys as a Poisson process of rate lambda, with lambda
~ Gamma(r, alpha) across customers; after each repeat purchase the customer drops out for good
with probability p, p ~ Beta(a, b). Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV",
Journal of Marketing Research 42(4)): a customer's transaction values are Gamma(p, nu) with
nu ~ Gamma(q, gamma) across customers, independent of the purchase process.

Discounted CLV over a horizon H cut into n equal periods of length H / n (``clv``)::

    CLV = margin * E[M] * sum_{k=1..n} (E[Y(k H/n)] - E[Y((k-1) H/n)]) / (1 + d) ** k

where E[Y(t)] is the BG/NBD conditional expectation of the purchases in the next t time units,
E[M] the Gamma-Gamma expected transaction value and d the discount rate per period: the
purchases expected in period k are valued at the end of that period.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import narwhals as nw
import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext_lazy as _
from scipy import optimize, special

TimeUnit = Literal["week", "day"]
TIME_UNITS: dict[str, int] = {"week": 7, "day": 1}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Log-parameters are kept within exp(+-20): beyond that a parameter is 0 or infinite for every
# practical purpose.
_LOG_BOUND = 20.0
# A log-parameter beyond +-15 (a parameter above 3e6 or below 3e-7) is heading for a bound: the
# likelihood keeps rising along a ridge and the data do not pin the parameter down.
_LOG_RUNAWAY = 15.0
# Largest gradient component (of the mean log-likelihood) accepted at a stalled optimum.
_GRADIENT_TOLERANCE = 1e-6
# How often a search that gave up is continued from where it stopped.
_RESTARTS = 2
_OPTIONS: dict[str, dict[str, Any]] = {
    "L-BFGS-B": {"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9},
    "TNC": {"maxfun": 2000, "ftol": 1e-15, "gtol": 1e-9},
}
# ``expected_purchases`` divides by (a - 1); closer to 1 than this it averages a = 1 -+ eps.
_A_NEAR_ONE = 1e-6


class ClvError(ValueError):
    """The data cannot give a model or a prediction (too little data, no convergence, ...)."""


# --- parameters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD: purchase rate ~ Gamma(r, alpha), dropout probability ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int = 0

    def as_dict(self) -> dict[str, float]:
        return {
            "r": self.r,
            "alpha": self.alpha,
            "a": self.a,
            "b": self.b,
            "log_likelihood": self.log_likelihood,
        }


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma: transaction value ~ Gamma(p, nu), nu ~ Gamma(q, gamma)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    customers: int = 0

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma}


@dataclass(frozen=True)
class Summary:
    """One element per customer, customers in ascending order of their key."""

    customer: npt.NDArray[Any]
    frequency: IntArray
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray

    def __len__(self) -> int:
        return len(self.customer)


@dataclass(frozen=True)
class Predictions:
    """Per-customer predictions, in the order of the summary they were made from."""

    p_alive: FloatArray
    expected_purchases: FloatArray
    expected_spend: FloatArray
    clv: FloatArray


# --- the summary ----------------------------------------------------------------------------


def _unit_days(time_unit: str) -> int:
    if time_unit not in TIME_UNITS:
        raise ClvError(
            _("Unknown time unit %(unit)r: use one of %(units)s.")
            % {"unit": time_unit, "units": ", ".join(TIME_UNITS)}
        )
    return TIME_UNITS[time_unit]


def summary_from_arrays(
    customer: npt.ArrayLike,
    day: npt.ArrayLike,
    amount: npt.ArrayLike,
    *,
    calibration_end_day: int,
    time_unit: TimeUnit = "week",
) -> Summary:
    """Frequency, recency, T and monetary value per customer from transaction arrays.

    ``customer`` holds any sortable keys, ``day`` integer day numbers (days since 1970-01-01;
    ``datetime64`` values are converted), ``amount`` the value of each purchase. Purchases
    after ``calibration_end_day`` (the last day of the calibration period, included) are left
    out; same-day purchases of a customer are one transaction whose value is their sum.

    Sorting one int64 key (customer code * day span + day) is what makes ten million rows take
    a few seconds: no Python loop, one ``argsort`` and a few ``reduceat``.
    """
    unit = _unit_days(time_unit)
    amounts = _as_float(amount, "amount")
    customers = np.asarray(customer)
    days = np.asarray(day)
    if np.issubdtype(days.dtype, np.datetime64):
        days = days.astype("datetime64[D]").astype(np.int64)
    if not (customers.ndim == days.ndim == amounts.ndim == 1):
        raise ClvError(_("Customer, day and amount must be one-dimensional arrays."))
    if not (len(customers) == len(days) == len(amounts)):
        raise ClvError(_("Customer, day and amount arrays must have the same length."))
    if len(days) == 0:
        raise ClvError(_("No transactions on or before the end of the calibration period."))
    if not np.issubdtype(days.dtype, np.integer):
        raise ClvError(_("Days must be integer day numbers or datetime64 values."))
    days = days.astype(np.int64)
    keep = days <= calibration_end_day
    customers, days, amounts = customers[keep], days[keep], amounts[keep]
    if len(days) == 0:
        raise ClvError(_("No transactions on or before the end of the calibration period."))

    first_day = int(days.min())
    span = int(days.max()) - first_day + 1
    codes: IntArray
    if (
        np.issubdtype(customers.dtype, np.integer)
        and int(customers.min()) >= -(2**62)
        and int(customers.max()) < 2**62
        and (int(customers.max()) - int(customers.min())) < (2**62) // span
    ):
        # Integer keys with a small enough range are their own codes: no extra sort.
        low = int(customers.min())
        codes = customers.astype(np.int64) - low
        customer_dtype = customers.dtype

        def keys_of(code: IntArray) -> npt.NDArray[Any]:
            return (code + low).astype(customer_dtype)

    else:
        uniques, inverse = np.unique(customers, return_inverse=True)
        codes = inverse.astype(np.int64).ravel()
        if len(uniques) >= (2**62) // span:
            raise ClvError(_("Too many customers over too long a period."))

        def keys_of(code: IntArray) -> npt.NDArray[Any]:
            return np.asarray(uniques[code])

    key = codes * span + (days - first_day)
    order = np.argsort(key, kind="stable")
    key = key[order]
    amounts = amounts[order]

    # One row per (customer, day): a transaction with the day's total.
    day_start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    day_key = key[day_start]
    day_amount = np.add.reduceat(amounts, day_start)
    day_code = day_key // span
    day_number = day_key % span

    # One row per customer.
    start = np.flatnonzero(np.r_[True, day_code[1:] != day_code[:-1]])
    end = np.r_[start[1:], len(day_code)] - 1
    count = end - start + 1
    first = day_number[start]
    last = day_number[end]
    total = np.add.reduceat(day_amount, start)
    frequency = (count - 1).astype(np.int64)
    repeat_total = total - day_amount[start]
    with np.errstate(divide="ignore", invalid="ignore"):
        monetary = np.where(frequency > 0, repeat_total / np.maximum(frequency, 1), 0.0)
    end_offset = calibration_end_day - first_day
    return Summary(
        customer=keys_of(day_code[start]),
        frequency=frequency,
        recency=((last - first) / unit).astype(np.float64),
        T=((end_offset - first) / unit).astype(np.float64),
        monetary_value=monetary.astype(np.float64),
    )


summary = summary_from_arrays
"""The contract's name for :func:`summary_from_arrays`."""


def summary_frame(
    transactions: nw.LazyFrame[Any], *, calibration_end_day: int, time_unit: TimeUnit = "week"
) -> nw.LazyFrame[Any]:
    """The per-customer summary as a lazy metric over ``transactions`` (either engine).

    Columns: customer_id (int64), frequency (int64: distinct purchase days - 1), recency,
    T (float64, in ``time_unit``), monetary_value (float64: mean revenue in cents of the repeat
    purchase days, 0 without any). Only purchases with ``day <= calibration_end_day`` count:
    the day is the *last* day of the calibration period (a run's ``as_of_day - 1``), so that
    T matches the published CDNOW figures. Same definitions as :func:`summary_from_arrays`.
    """
    unit = _unit_days(time_unit)
    daily = (
        transactions.filter(nw.col("day") <= calibration_end_day)
        .group_by("customer_id", "day")
        .agg(nw.col("revenue").sum().alias("day_revenue"))
    )
    per_customer = daily.group_by("customer_id").agg(
        nw.col("day").min().alias("first_day"),
        nw.col("day").max().alias("last_day"),
        nw.len().alias("days"),
        nw.col("day_revenue").sum().alias("total"),
    )
    first_revenue = daily.join(
        per_customer.select("customer_id", nw.col("first_day").alias("day")),
        on=["customer_id", "day"],
        how="inner",
    ).select("customer_id", nw.col("day_revenue").alias("first_revenue"))
    frequency = nw.col("days").cast(nw.Int64) - 1
    return per_customer.join(first_revenue, on="customer_id", how="inner").select(
        nw.col("customer_id").cast(nw.Int64),
        frequency.alias("frequency"),
        ((nw.col("last_day") - nw.col("first_day")).cast(nw.Float64) / unit).alias("recency"),
        ((calibration_end_day - nw.col("first_day")).cast(nw.Float64) / unit).alias("T"),
        nw.when(frequency > 0)
        .then(
            (nw.col("total") - nw.col("first_revenue")).cast(nw.Float64)
            / frequency.cast(nw.Float64)
        )
        .otherwise(nw.lit(0.0))
        .cast(nw.Float64)
        .alias("monetary_value"),
    )


# --- checks and grouping ------------------------------------------------------------------


def _as_float(values: npt.ArrayLike, name: str) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ClvError(_("%(name)s must be numbers.") % {"name": name}) from exc
    if array.ndim != 1:
        raise ClvError(_("%(name)s must be a one-dimensional array.") % {"name": name})
    if not np.all(np.isfinite(array)):
        raise ClvError(_("%(name)s must be finite numbers.") % {"name": name})
    return array


def _rfm(
    frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The three BG/NBD inputs as float arrays, checked against their definitions."""
    x = _as_float(frequency, "frequency")
    tx = _as_float(recency, "recency")
    t_obs = _as_float(T, "T")
    if not (len(x) == len(tx) == len(t_obs)):
        raise ClvError(_("frequency, recency and T must have the same length."))
    if np.any(x < 0) or np.any(x != np.floor(x)):
        raise ClvError(_("frequency must be whole numbers of at least 0."))
    if np.any(tx < 0):
        raise ClvError(_("recency must not be negative."))
    if np.any(tx > t_obs * (1 + 1e-12) + 1e-12):
        raise ClvError(_("recency must not exceed T."))
    return x, tx, t_obs


def _group(*columns: FloatArray) -> tuple[list[FloatArray], IntArray, FloatArray]:
    """Distinct rows of ``columns``, the index of each input row's group, and the group sizes.

    A million customers share far fewer distinct (x, t_x, T) rows (whole days, whole purchase
    counts), so likelihoods and predictions are evaluated once per distinct row.
    """
    code = np.zeros(len(columns[0]), dtype=np.int64)
    uniques: list[FloatArray] = []
    for column in columns:
        values, inverse = np.unique(column, return_inverse=True)
        uniques.append(values)
        code = code * len(values) + inverse.ravel()
    groups, first, inverse, counts = np.unique(
        code, return_index=True, return_inverse=True, return_counts=True
    )
    del groups
    return [column[first] for column in columns], inverse.ravel(), counts.astype(np.float64)


def _dot(a: FloatArray, b: FloatArray) -> float:
    """Sum of a * b without BLAS, added pairwise (NumPy's ``sum``) for accuracy.

    ``a @ b`` hands long vectors to a multi-threaded BLAS whose threads spin while waiting;
    on a busy machine (a worker next to the web server) that made the fits ten times slower.
    """
    return float(np.sum(a * b))


def _weights(weights: npt.ArrayLike | None, size: int) -> FloatArray:
    if weights is None:
        return np.ones(size)
    w = _as_float(weights, "weights")
    if len(w) != size or np.any(w < 0):
        raise ClvError(_("weights must be one non-negative number per customer."))
    return w


def _flat(result: optimize.OptimizeResult) -> bool:
    """The gradient vanishes at the point reached: rounding hides any further gain there."""
    return float(np.max(np.abs(result.jac))) <= _GRADIENT_TOLERANCE


def _maximise(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    start: FloatArray,
    model: str,
) -> FloatArray:
    """Maximise a log-likelihood over log-parameters with L-BFGS-B and its exact gradient.

    A line search that gives up (``ABNORMAL``) leaves the point it reached; the search is
    continued from there by another method, a few times at most. Floating-point details of
    the machine (SIMD paths in NumPy) decide whether the first search gives up, so without
    this the same data could fit on one machine and not on another.
    """
    point = np.asarray(start, dtype=np.float64)
    # L-BFGS-B first; a search that gave up is continued by a truncated Newton search (TNC),
    # which does not share L-BFGS-B's line search.
    for method in ("L-BFGS-B", *("TNC",) * _RESTARTS):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            result = optimize.minimize(
                lambda theta: tuple(-v for v in objective(theta)),
                point,
                jac=True,
                method=method,
                bounds=[(-_LOG_BOUND, _LOG_BOUND)] * len(point),
                options=_OPTIONS[method],
            )
        converged = result.success or _flat(result)
        if converged or not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
            break
        point = np.asarray(result.x, dtype=np.float64)
    theta = np.asarray(result.x, dtype=np.float64)
    if not np.all(np.isfinite(theta)) or not np.isfinite(result.fun):
        raise ClvError(
            _("The %(model)s model did not converge: the likelihood is not finite.")
            % {"model": model}
        )
    if np.any(np.abs(theta) >= _LOG_RUNAWAY):
        raise ClvError(
            _(
                "The %(model)s model did not converge: a parameter ran off to 0 or infinity, "
                "so the data do not determine it (too few customers or repeat purchases?)."
            )
            % {"model": model}
        )
    # The line search can give up a hair from the optimum, where rounding hides any further
    # gain; a vanishing gradient there is a maximum all the same.
    if not result.success and not _flat(result):
        raise ClvError(
            _("The %(model)s model did not converge (the optimiser stopped: %(reason)s).")
            % {"model": model, "reason": str(result.message).strip(" :") or result.status}
        )
    return theta


# --- BG/NBD ---------------------------------------------------------------------------------


def _bgnbd_objective(
    x: FloatArray, tx: FloatArray, t_obs: FloatArray, w: FloatArray
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Mean log-likelihood of the BG/NBD and its gradient in (log r, log alpha, log a, log b).

    Per customer, with B the beta function::

        L = B(a, b+x)/B(a, b) * G(r+x)/G(r) * alpha^r
            * [ (alpha+T)^-(r+x) + [x>0] a/(b+x-1) * (alpha+t_x)^-(r+x) ]

    The bracket is summed in log space (log-sum-exp); the terms that depend on x only are
    computed once per distinct x.
    """
    total = float(w.sum())
    xs, x_index = np.unique(x, return_inverse=True)
    x_index = x_index.ravel()
    xs_weight = np.bincount(x_index, weights=w, minlength=len(xs)).astype(np.float64)
    repeat = x > 0
    x_minus_1 = np.where(repeat, x - 1, 0.0)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = np.exp(theta)
        # Terms of x only, once per distinct x.
        a1 = special.gammaln(r + xs) - special.gammaln(r) + r * math.log(alpha)
        a2 = special.betaln(a, b + xs) - special.betaln(a, b)
        psi_r = special.digamma(r + xs) - special.digamma(r) + math.log(alpha)
        psi_abx = special.digamma(a + b + xs)
        d_a2_a = special.digamma(a + b) - psi_abx
        d_a2_b = d_a2_a + special.digamma(b + xs) - special.digamma(b)
        log_at = np.log(alpha + t_obs)
        log_atx = np.log(alpha + tx)
        rx = r + x
        a3 = -rx * log_at
        bx1 = b + x_minus_1
        a4 = np.where(repeat, math.log(a) - np.log(bx1) - rx * log_atx, -np.inf)
        top = np.maximum(a3, a4)
        e3 = np.exp(a3 - top)
        e4 = np.exp(a4 - top)
        norm = e3 + e4
        w3 = e3 / norm
        w4 = e4 / norm
        ll = _dot(xs_weight, a1 + a2) + _dot(w, top + np.log(norm))
        grad_r = _dot(xs_weight, psi_r) - _dot(w, w3 * log_at + w4 * log_atx)
        grad_alpha = total * r / alpha - _dot(w, rx * (w3 / (alpha + t_obs) + w4 / (alpha + tx)))
        grad_a = _dot(xs_weight, d_a2_a) + _dot(w, w4) / a
        grad_b = _dot(xs_weight, d_a2_b) - _dot(w, np.where(repeat, w4 / bx1, 0.0))
        grad = np.array([grad_r * r, grad_alpha * alpha, grad_a * a, grad_b * b])
        return ll / total, grad / total

    return objective


def bgnbd_log_likelihood(
    params: BgNbdParams | tuple[float, float, float, float],
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
) -> float:
    """The BG/NBD log-likelihood of the data at ``params`` (r, alpha, a, b)."""
    r, alpha, a, b = (
        (params.r, params.alpha, params.a, params.b) if isinstance(params, BgNbdParams) else params
    )
    x, tx, t_obs = _rfm(frequency, recency, T)
    w = np.ones(len(x))
    mean, _grad = _bgnbd_objective(x, tx, t_obs, w)(np.log([r, alpha, a, b]))
    return mean * len(x)


def fit_bgnbd(
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters (r, alpha, a, b) for the customers given.

    ``weights`` counts how many customers each row stands for. Identical (x, t_x, T) rows are
    merged first, so a million customers cost what their distinct rows cost. Raises
    ``ClvError`` when there is nothing to fit (no customer, no repeat purchase) or when the
    optimiser does not reach an interior maximum.
    """
    x, tx, t_obs = _rfm(frequency, recency, T)
    w = _weights(weights, len(x))
    if len(x) == 0 or w.sum() <= 0:
        raise ClvError(_("No customers to fit the purchase model on."))
    if not np.any((x > 0) & (w > 0)):
        raise ClvError(
            _("No customer made a repeat purchase: the purchase model needs some repeat buyers.")
        )
    (gx, gtx, gt), index, _counts = _group(x, tx, t_obs)
    gw = np.bincount(index, weights=w, minlength=len(gx)).astype(np.float64)
    objective = _bgnbd_objective(gx, gtx, gt, gw)
    # Start at the moments of a customer: rate ~ purchases per unit of time.
    rate = _dot(gw, gx) / max(_dot(gw, gt), 1e-12)
    start = np.log(np.array([1.0, 1.0 / max(rate, 1e-6), 1.0, 1.0]))
    start = np.clip(start, -_LOG_BOUND + 1, _LOG_BOUND - 1)
    theta = _maximise(objective, start, "BG/NBD")
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    mean, _grad = objective(theta)
    return BgNbdParams(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=float(mean * gw.sum()),
        customers=round(float(gw.sum())),
    )


def p_alive(
    params: BgNbdParams, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
) -> FloatArray:
    """P(still active at T | x, t_x, T): 1 for x = 0, else

    1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)),

    computed as a logistic function of the log odds so that it cannot overflow.
    """
    x, tx, t_obs = _rfm(frequency, recency, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    log_odds = np.where(
        repeat,
        math.log(a)
        - np.log(b + np.where(repeat, x - 1, 0.0))
        + (r + x) * (np.log(alpha + t_obs) - np.log(alpha + tx)),
        -np.inf,
    )
    return np.asarray(special.expit(-log_odds), dtype=np.float64)


def _conditional_expectation(
    r: float,
    alpha: float,
    a: float,
    b: float,
    t: float,
    x: FloatArray,
    tx: FloatArray,
    t_obs: FloatArray,
) -> FloatArray:
    """E[Y(t) | x, t_x, T] (FHL 2005, eq. 10) for arrays of distinct rows.

    (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; z)]
    divided by 1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x), with z = t/(alpha+T+t).

    Euler's transformation 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) turns the
    product in the bracket into (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose factors stay
    bounded when r + x is large, where the direct form multiplies a vanishing power by a huge
    hypergeometric value.
    """
    if t == 0:
        return np.zeros(len(x))
    z = t / (alpha + t_obs + t)
    c = a + b + x - 1
    bracket = 1.0 - np.exp((a - 1) * np.log1p(-z)) * special.hyp2f1(a + b - 1 - r, a - 1, c, z)
    numerator = c / (a - 1) * bracket
    repeat = x > 0
    log_odds = np.where(
        repeat,
        math.log(a)
        - np.log(b + np.where(repeat, x - 1, 0.0))
        + (r + x) * (np.log(alpha + t_obs) - np.log(alpha + tx)),
        -np.inf,
    )
    # numerator / (1 + exp(log_odds)) == numerator * expit(-log_odds)
    return np.asarray(numerator * special.expit(-log_odds), dtype=np.float64)


def _expected_grouped(
    params: BgNbdParams, t: float, x: FloatArray, tx: FloatArray, t_obs: FloatArray
) -> FloatArray:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1) < _A_NEAR_ONE:
        # (a - 1) is a removable singularity; the mean of both sides is exact to O(eps^2).
        low = _conditional_expectation(r, alpha, 1 - _A_NEAR_ONE, b, t, x, tx, t_obs)
        high = _conditional_expectation(r, alpha, 1 + _A_NEAR_ONE, b, t, x, tx, t_obs)
        return (low + high) / 2
    return _conditional_expectation(r, alpha, a, b, t, x, tx, t_obs)


def _check_time(value: float, name: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ClvError(_("%(name)s must be a finite number of at least 0.") % {"name": name})
    return number


def expected_purchases(
    params: BgNbdParams,
    t: float,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
) -> FloatArray:
    """Expected number of purchases in the next ``t`` time units, given (x, t_x, T)."""
    horizon = _check_time(t, "t")
    x, tx, t_obs = _rfm(frequency, recency, T)
    (gx, gtx, gt), index, _counts = _group(x, tx, t_obs)
    with np.errstate(all="ignore"):
        values = _expected_grouped(params, horizon, gx, gtx, gt)[index]
    _finite(values, "expected purchases")
    return values


def _finite(values: FloatArray, what: str) -> None:
    if not np.all(np.isfinite(values)):
        raise ClvError(
            _("The %(what)s could not be computed for some customers (numeric overflow).")
            % {"what": what}
        )


# --- Gamma-Gamma ----------------------------------------------------------------------------


def _gamma_gamma_objective(
    x: FloatArray, m: FloatArray, w: FloatArray
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Mean log-likelihood of the Gamma-Gamma model and its gradient in (log p, log q, log g).

    For a customer with x repeat transactions of mean value m (the density of m)::

        log L = lnG(px+q) - lnG(px) - lnG(q) + q ln g + (px-1) ln m + px ln x - (px+q) ln(xm+g)

    Mean values are continuous, so rows rarely repeat; instead the sums of the terms linear in
    p are computed once, the gamma functions once per distinct x, and each evaluation costs
    one logarithm and one division per customer.
    """
    total = float(w.sum())
    xs, x_index = np.unique(x, return_inverse=True)
    xs_weight = np.bincount(x_index.ravel(), weights=w, minlength=len(xs)).astype(np.float64)
    log_m = np.log(m)
    sum_log_m = _dot(w, log_m)
    sum_x_log_xm = _dot(w, x * (log_m + np.log(x)))
    wx = w * x
    xm = x * m

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        p, q, g = np.exp(theta)
        pxs = p * xs
        log_xm_g = np.log(xm + g)
        sum_log_xm_g = _dot(w, log_xm_g)
        sum_x_log_xm_g = _dot(wx, log_xm_g)
        psi_pxq = special.digamma(pxs + q)
        ll = (
            _dot(xs_weight, special.gammaln(pxs + q) - special.gammaln(pxs))
            + total * (q * math.log(g) - special.gammaln(q))
            + p * sum_x_log_xm
            - sum_log_m
            - p * sum_x_log_xm_g
            - q * sum_log_xm_g
        )
        grad_p = (
            _dot(xs_weight, xs * (psi_pxq - special.digamma(pxs))) + sum_x_log_xm - sum_x_log_xm_g
        )
        grad_q = (
            _dot(xs_weight, psi_pxq) + total * (math.log(g) - special.digamma(q)) - sum_log_xm_g
        )
        grad_g = total * q / g - _dot(p * wx + q * w, 1.0 / (xm + g))
        grad = np.array([grad_p * p, grad_q * q, grad_g * g])
        return float(ll) / total, grad / total

    return objective


def fit_gamma_gamma(
    frequency: npt.ArrayLike,
    monetary_value: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters (p, q, gamma) from repeat buyers' mean spend.

    Only customers with x > 0 and m_x > 0 enter the fit (the model describes positive repeat
    transaction values); the others are ignored. ``weights`` as in :func:`fit_bgnbd`.
    """
    x = _as_float(frequency, "frequency")
    m = _as_float(monetary_value, "monetary_value")
    if len(x) != len(m):
        raise ClvError(_("frequency and monetary_value must have the same length."))
    if np.any(x < 0) or np.any(m < 0):
        raise ClvError(_("frequency and monetary_value must not be negative."))
    w = _weights(weights, len(x))
    use = (x > 0) & (m > 0) & (w > 0)
    if int(use.sum()) < 2:
        raise ClvError(
            _("The spend model needs at least two customers with repeat purchases of value > 0.")
        )
    gx, gm, gw = x[use], m[use], w[use]
    if np.all(gx == gx[0]) and np.all(gm == gm[0]):
        raise ClvError(
            _("Every repeat buyer has the same history: the spend model cannot be fitted.")
        )
    objective = _gamma_gamma_objective(gx, gm, gw)
    # Start near the moments: mean spend ~ p * g / (q - 1) with p = 1, q = 2.
    mean_spend = _dot(gw, gm) / float(gw.sum())
    start = np.log(np.array([1.0, 2.0, max(mean_spend, 1e-6)]))
    theta = _maximise(objective, start, "Gamma-Gamma")
    p, q, g = (float(v) for v in np.exp(theta))
    mean, _grad = objective(theta)
    return GammaGammaParams(
        p=p,
        q=q,
        gamma=g,
        log_likelihood=float(mean * gw.sum()),
        customers=round(float(gw.sum())),
    )


def expected_spend(
    params: GammaGammaParams, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike
) -> FloatArray:
    """E[M | x, m_x] = (gamma + m_x x) p / (p x + q - 1): the expected transaction value.

    A weighted mean of the population mean p gamma / (q - 1) and the customer's own mean m_x;
    for x = 0 it is the population mean. Needs q > 1 (otherwise the mean does not exist).
    """
    if params.q <= 1:
        raise ClvError(
            _("The spend model has q <= 1: its mean spend is infinite, no prediction possible.")
        )
    x = _as_float(frequency, "frequency")
    m = _as_float(monetary_value, "monetary_value")
    if len(x) != len(m):
        raise ClvError(_("frequency and monetary_value must have the same length."))
    if np.any(x < 0) or np.any(m < 0):
        raise ClvError(_("frequency and monetary_value must not be negative."))
    p, q, g = params.p, params.q, params.gamma
    return np.asarray((g + m * x) * p / (p * x + q - 1), dtype=np.float64)


# --- CLV ------------------------------------------------------------------------------------


def clv(
    bgnbd: BgNbdParams,
    gamma_gamma: GammaGammaParams,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    monetary_value: npt.ArrayLike,
    *,
    horizon: float,
    discount_rate: float = 0.0,
    margin: float = 1.0,
    periods: int = 12,
) -> FloatArray:
    """Discounted customer lifetime value over ``horizon`` time units (module docstring).

    The horizon is cut into ``periods`` equal periods; ``discount_rate`` is the rate per
    period (for a year of weeks in 12 periods and an annual rate R: (1 + R) ** (1/12) - 1);
    ``margin`` the share of spend that is profit (1 values revenue).
    """
    return predict(
        bgnbd,
        gamma_gamma,
        frequency,
        recency,
        T,
        monetary_value,
        horizon=horizon,
        discount_rate=discount_rate,
        margin=margin,
        periods=periods,
    ).clv


def _margin(margin: float) -> float:
    share = float(margin)
    if not math.isfinite(share):
        raise ClvError(_("The margin must be a finite number."))
    return share


def discounted_purchases(
    bgnbd: BgNbdParams,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    *,
    horizon: float,
    discount_rate: float = 0.0,
    periods: int = 12,
) -> tuple[FloatArray, FloatArray]:
    """Purchases expected within ``horizon`` and the same discounted period by period.

    The horizon is cut into ``periods`` equal periods; the purchases expected in period k
    are divided by (1 + ``discount_rate``) ** k. Multiplied by an expected spend this is the
    CLV (``predict``); a caller without a spend model can multiply by its own estimate.
    """
    length = _check_time(horizon, "horizon")
    if length <= 0:
        raise ClvError(_("The horizon must be longer than 0."))
    rate = _check_time(discount_rate, "discount_rate")
    if isinstance(periods, bool) or not isinstance(periods, int) or not 1 <= periods <= 10_000:
        raise ClvError(_("periods must be a whole number from 1 to 10000."))
    x, tx, t_obs = _rfm(frequency, recency, T)
    (gx, gtx, gt), index, _counts = _group(x, tx, t_obs)
    discounted = np.zeros(len(gx))
    previous = np.zeros(len(gx))
    with np.errstate(all="ignore"):
        for k in range(1, periods + 1):
            cumulative = _expected_grouped(bgnbd, length * k / periods, gx, gtx, gt)
            discounted += (cumulative - previous) / (1 + rate) ** k
            previous = cumulative
    purchases = previous[index]
    _finite(purchases, "expected purchases")
    return purchases, discounted[index]


def predict(
    bgnbd: BgNbdParams,
    gamma_gamma: GammaGammaParams,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    monetary_value: npt.ArrayLike,
    *,
    horizon: float,
    discount_rate: float = 0.0,
    margin: float = 1.0,
    periods: int = 12,
) -> Predictions:
    """P(alive), purchases expected within ``horizon``, expected spend and CLV, at once.

    The ``periods`` hypergeometric evaluations run once per distinct (x, t_x, T) row
    (``discounted_purchases``).
    """
    spend = expected_spend(gamma_gamma, frequency, monetary_value)
    alive = p_alive(bgnbd, frequency, recency, T)
    purchases, discounted = discounted_purchases(
        bgnbd,
        frequency,
        recency,
        T,
        horizon=horizon,
        discount_rate=discount_rate,
        periods=periods,
    )
    share = _margin(margin)
    value = share * spend * discounted
    _finite(value, "customer lifetime value")
    return Predictions(p_alive=alive, expected_purchases=purchases, expected_spend=spend, clv=value)

"""Customer lifetime value: the published CDNOW figures, hand-checked summaries, the formulas
against numerical integration, and bad input.

The CDNOW sample (``data/CDNOW_sample.txt``, see ``data/README.md``) is the data set of the
papers that define both models; reproducing their parameters to the printed precision checks
the summary's definitions (same-day purchases merged, repeat transactions, weeks) as well as
the likelihoods and the optimiser.
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import integrate

from vefa.analytics import clv
from vefa.analytics.engine import day_number

CDNOW = Path(__file__).parent / "data" / "CDNOW_sample.txt"
CALIBRATION_END = day_number(datetime.date(1997, 9, 30))


def load_cdnow() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample customer id, day number and amount (US dollars) of every line."""
    raw = np.loadtxt(CDNOW, dtype=str)
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in raw[:, 2]], dtype="datetime64[D]")
    return raw[:, 1].astype(np.int64), dates.astype(np.int64), raw[:, 4].astype(np.float64)


@pytest.fixture(scope="module")
def cdnow() -> clv.Summary:
    customer, day, amount = load_cdnow()
    return clv.summary_from_arrays(
        customer, day, amount, calibration_end_day=CALIBRATION_END, time_unit="week"
    )


@pytest.fixture(scope="module")
def cdnow_bgnbd(cdnow: clv.Summary) -> clv.BgNbdParams:
    return clv.fit_bgnbd(cdnow.frequency, cdnow.recency, cdnow.T)


@pytest.fixture(scope="module")
def cdnow_spend(cdnow: clv.Summary) -> clv.GammaGammaParams:
    return clv.fit_gamma_gamma(cdnow.frequency, cdnow.monetary_value)


# --- the published CDNOW figures ------------------------------------------------------------


def test_cdnow_summary(cdnow):
    assert len(cdnow) == 2357
    assert int((cdnow.frequency > 0).sum()) == 946
    # Customer 1: 1997-01-01, 01-18, 08-02 in the calibration period (12-12 is after it):
    # the example customer of the BG/NBD paper.
    first = int(np.flatnonzero(cdnow.customer == 1)[0])
    assert cdnow.frequency[first] == 2
    assert round(float(cdnow.recency[first]), 2) == 30.43
    assert round(float(cdnow.T[first]), 2) == 38.86
    assert cdnow.monetary_value[first] == pytest.approx((29.73 + 14.96) / 2)
    # Every customer's first purchase is in the first quarter of 1997: T from 27 to 39 weeks.
    assert cdnow.T.min() > 26.8
    assert cdnow.T.max() == pytest.approx(272 / 7)


def test_cdnow_bgnbd_parameters(cdnow_bgnbd):
    assert round(cdnow_bgnbd.r, 3) == 0.243
    assert round(cdnow_bgnbd.alpha, 3) == 4.414
    assert round(cdnow_bgnbd.a, 3) == 0.793
    assert round(cdnow_bgnbd.b, 3) == 2.426
    assert round(cdnow_bgnbd.log_likelihood, 1) == -9582.4
    assert cdnow_bgnbd.customers == 2357


def test_cdnow_gamma_gamma_parameters(cdnow_spend):
    assert round(cdnow_spend.p, 2) == 6.25
    assert round(cdnow_spend.q, 2) == 3.74
    assert round(cdnow_spend.gamma, 2) == 15.44
    assert cdnow_spend.customers == 946


def test_cdnow_conditional_expectation(cdnow_bgnbd):
    expected = clv.expected_purchases(cdnow_bgnbd, 39, [2], [30.43], [38.86])
    assert round(float(expected[0]), 3) == 1.226


def test_fit_is_a_maximum(cdnow, cdnow_bgnbd):
    """Any small step away from the fitted parameters lowers the likelihood."""
    best = clv.bgnbd_log_likelihood(cdnow_bgnbd, cdnow.frequency, cdnow.recency, cdnow.T)
    assert best == pytest.approx(cdnow_bgnbd.log_likelihood, abs=1e-6)
    base = np.array([cdnow_bgnbd.r, cdnow_bgnbd.alpha, cdnow_bgnbd.a, cdnow_bgnbd.b])
    for index in range(4):
        for factor in (0.99, 1.01):
            moved = base.copy()
            moved[index] *= factor
            other = clv.bgnbd_log_likelihood(tuple(moved), cdnow.frequency, cdnow.recency, cdnow.T)
            assert other < best


def test_weights_stand_for_repeated_customers(cdnow, cdnow_bgnbd):
    """Half the customers counted twice each = those customers listed twice."""
    half = slice(0, len(cdnow), 2)
    x, tx, t = cdnow.frequency[half], cdnow.recency[half], cdnow.T[half]
    weighted = clv.fit_bgnbd(x, tx, t, weights=np.full(len(x), 2.0))
    listed = clv.fit_bgnbd(np.r_[x, x], np.r_[tx, tx], np.r_[t, t])
    for name in ("r", "alpha", "a", "b", "log_likelihood"):
        assert getattr(weighted, name) == pytest.approx(getattr(listed, name), rel=1e-6)
    assert weighted.customers == listed.customers == 2 * len(x)


# --- the formulas against their definitions ---------------------------------------------


def _gradient_matches(objective, theta):
    _value, gradient = objective(theta)
    step = 1e-5
    for index in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[index] += step
        down[index] -= step
        numeric = (objective(up)[0] - objective(down)[0]) / (2 * step)
        assert gradient[index] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_bgnbd_gradient_is_the_derivative(cdnow):
    """The analytic gradient the optimiser follows agrees with finite differences."""
    weights = np.ones(len(cdnow))
    objective = clv._bgnbd_objective(cdnow.frequency.astype(float), cdnow.recency, cdnow.T, weights)
    for theta in (np.log([0.243, 4.414, 0.793, 2.426]), np.log([1.7, 0.5, 3.0, 0.2])):
        _gradient_matches(objective, theta)


def test_gamma_gamma_gradient_is_the_derivative(cdnow):
    repeat = cdnow.frequency > 0
    objective = clv._gamma_gamma_objective(
        cdnow.frequency[repeat].astype(float),
        cdnow.monetary_value[repeat],
        np.ones(int(repeat.sum())),
    )
    for theta in (np.log([6.25, 3.74, 15.44]), np.log([0.8, 12.0, 300.0])):
        _gradient_matches(objective, theta)


def _by_integration(r, alpha, a, b, x, tx, T, t):
    """E[Y(t)] and P(alive) by integrating over the dropout probability p numerically.

    For a given p the purchase rate integrates in closed form (gamma mixing); what is left
    is one-dimensional: no hypergeometric function, no shared code with the module.
    """
    k = r + x

    def quad(function):
        pieces = [(0, 1e-4), (1e-4, 1e-2), (1e-2, 0.1), (0.1, 1)]
        return sum(
            integrate.quad(function, low, high, epsabs=0, epsrel=1e-10, limit=500)[0]
            for low, high in pieces
        )

    alive = quad(lambda p: p ** (a - 1) * (1 - p) ** (x + b - 1))
    dead = (
        quad(lambda p: p**a * (1 - p) ** (x + b - 2) * ((alpha + T) / (alpha + tx)) ** k)
        if x > 0
        else 0.0
    )
    future = quad(
        lambda p: (
            p ** (a - 2) * (1 - p) ** (x + b - 1) * (1 - ((alpha + T) / (alpha + T + p * t)) ** k)
        )
    )
    return future / (alive + dead), alive / (alive + dead)


@pytest.mark.parametrize(
    ("params", "row"),
    [
        ((0.243, 4.414, 0.793, 2.426), (2, 30.43, 38.86, 39.0)),
        ((0.243, 4.414, 0.793, 2.426), (0, 0.0, 38.86, 39.0)),
        ((0.243, 4.414, 0.793, 2.426), (60, 38.0, 38.86, 100.0)),
        ((1.5, 10.0, 2.0, 3.0), (4, 10.0, 20.0, 15.0)),
        ((0.5, 2.0, 1.0, 1.5), (1, 3.0, 8.0, 10.0)),  # a = 1: the removable singularity
        ((0.5, 200.0, 0.6, 8.0), (7, 300.0, 365.0, 365.0)),  # days
    ],
)
def test_predictions_match_numerical_integration(params, row):
    r, alpha, a, b = params
    x, tx, T, t = row
    expected, alive = _by_integration(r, alpha, a, b, x, tx, T, t)
    model = clv.BgNbdParams(r=r, alpha=alpha, a=a, b=b, log_likelihood=0.0)
    assert clv.expected_purchases(model, t, [x], [tx], [T])[0] == pytest.approx(expected, rel=1e-7)
    assert clv.p_alive(model, [x], [tx], [T])[0] == pytest.approx(alive, rel=1e-9)


def test_p_alive_properties(cdnow_bgnbd):
    # No repeat purchase: the customer cannot have dropped out yet.
    assert clv.p_alive(cdnow_bgnbd, [0, 0], [0.0, 0.0], [1.0, 500.0]).tolist() == [1.0, 1.0]
    # The longer since the last purchase, the less likely the customer is still active.
    alive = clv.p_alive(cdnow_bgnbd, [5, 5, 5], [38.0, 20.0, 2.0], [38.0, 38.0, 38.0])
    assert alive[0] > alive[1] > alive[2] > 0
    # Extreme histories stay probabilities (no overflow in the odds).
    extreme = clv.p_alive(cdnow_bgnbd, [10_000, 10_000], [0.0, 1e6], [1e6, 1e6])
    assert np.all((extreme >= 0) & (extreme <= 1))
    assert extreme[0] == 0.0
    assert extreme[1] == pytest.approx(1 / (1 + cdnow_bgnbd.a / (cdnow_bgnbd.b + 9_999)))


def test_expected_purchases_properties(cdnow_bgnbd):
    x, tx, t = [3, 3, 0], [20.0, 20.0, 0.0], [38.0, 38.0, 38.0]
    assert clv.expected_purchases(cdnow_bgnbd, 0, x, tx, t).tolist() == [0.0, 0.0, 0.0]
    short = clv.expected_purchases(cdnow_bgnbd, 10, x, tx, t)
    long = clv.expected_purchases(cdnow_bgnbd, 100, x, tx, t)
    assert np.all(long > short)
    assert short[0] == short[1]  # identical customers, identical answers
    # Heavy buyers over a long horizon: finite and large.
    heavy = clv.expected_purchases(cdnow_bgnbd, 520, [5_000], [380.0], [380.0])
    assert np.isfinite(heavy[0])
    assert heavy[0] > 1000


def test_expected_spend_formula(cdnow_spend):
    p, q, g = cdnow_spend.p, cdnow_spend.q, cdnow_spend.gamma
    spend = clv.expected_spend(cdnow_spend, [0, 1, 10], [0.0, 40.0, 40.0])
    assert spend[0] == pytest.approx(p * g / (q - 1))  # no history: the population mean
    assert spend[1] == pytest.approx((g + 40.0) * p / (p + q - 1))
    # More transactions pull the estimate towards the customer's own mean.
    assert abs(spend[2] - 40.0) < abs(spend[1] - 40.0)


def test_clv_sums_discounted_periods(cdnow_bgnbd, cdnow_spend):
    x, tx, t, m = [4, 0], [30.0, 0.0], [38.0, 20.0], [25.0, 0.0]
    spend = clv.expected_spend(cdnow_spend, x, m)
    # No discount, one period: expected purchases times expected spend times margin.
    flat = clv.clv(cdnow_bgnbd, cdnow_spend, x, tx, t, m, horizon=52, margin=0.3, periods=1)
    purchases = clv.expected_purchases(cdnow_bgnbd, 52, x, tx, t)
    assert flat == pytest.approx(0.3 * spend * purchases)
    # Two periods at 5 %: each half's purchases discounted to the end of that half.
    half = clv.expected_purchases(cdnow_bgnbd, 26, x, tx, t)
    by_hand = spend * (half / 1.05 + (purchases - half) / 1.05**2)
    two = clv.clv(cdnow_bgnbd, cdnow_spend, x, tx, t, m, horizon=52, discount_rate=0.05, periods=2)
    assert two == pytest.approx(by_hand)
    predictions = clv.predict(
        cdnow_bgnbd, cdnow_spend, x, tx, t, m, horizon=52, discount_rate=0.05, periods=2
    )
    assert predictions.clv == pytest.approx(by_hand)
    assert predictions.expected_purchases == pytest.approx(purchases)
    assert predictions.p_alive == pytest.approx(clv.p_alive(cdnow_bgnbd, x, tx, t))
    assert predictions.expected_spend == pytest.approx(spend)


def test_parameters_of_a_simulated_population_are_recovered():
    """Data drawn from the model with known parameters give those parameters back."""
    rng = np.random.default_rng(7)
    n = 20_000
    T = rng.integers(30 * 7, 52 * 7, n) / 7
    rate = rng.gamma(0.5, 1 / 3.0, n)
    drop = rng.beta(1.2, 3.0, n)
    events = rng.poisson(rate * T)
    x = np.minimum(events, rng.geometric(drop))
    # The last purchase seen is the x-th of the N = events uniform times in (0, T]: the x-th
    # order statistic of N uniforms is Beta(x, N - x + 1).
    tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1), events - x + 1), 0.0)
    fitted = clv.fit_bgnbd(x, tx, T)
    assert fitted.r == pytest.approx(0.5, rel=0.1)
    assert fitted.alpha == pytest.approx(3.0, rel=0.15)
    assert fitted.a == pytest.approx(1.2, rel=0.25)
    assert fitted.b == pytest.approx(3.0, rel=0.25)
    nu = rng.gamma(4.0, 1 / 20.0, n)
    repeat = np.maximum(x, 1)
    mean = rng.gamma(6.0 * repeat, 1 / (nu * repeat))  # mean of x Gamma(p, nu) values
    spend = clv.fit_gamma_gamma(x, np.where(x > 0, mean, 0.0))
    assert spend.p == pytest.approx(6.0, rel=0.1)
    assert spend.q == pytest.approx(4.0, rel=0.15)
    assert spend.gamma == pytest.approx(20.0, rel=0.2)


# --- the summary ----------------------------------------------------------------------------


def _rows(result: clv.Summary) -> list[tuple]:
    return [
        (key, int(f), round(float(r), 9), round(float(t), 9), round(float(m), 9))
        for key, f, r, t, m in zip(
            result.customer.tolist(),
            result.frequency,
            result.recency,
            result.T,
            result.monetary_value,
            strict=True,
        )
    ]


def test_summary_by_hand_in_days():
    # Customer 7: days 10 (twice: one transaction of 5 + 3), 12, 20 (twice: 1 + 1), 40 (after
    # the end). Customer 3: one purchase on day 15. Customer 9: one purchase on the last day.
    customer = [7, 7, 3, 7, 7, 7, 7, 9]
    day = [10, 10, 15, 12, 20, 20, 40, 30]
    amount = [5.0, 3.0, 9.0, 4.0, 1.0, 1.0, 100.0, 2.0]
    result = clv.summary_from_arrays(customer, day, amount, calibration_end_day=30, time_unit="day")
    assert _rows(result) == [
        (3, 0, 0.0, 15.0, 0.0),
        (7, 2, 10.0, 20.0, (4.0 + 2.0) / 2),
        (9, 0, 0.0, 0.0, 0.0),
    ]
    assert result.frequency.dtype == np.int64
    assert result.customer.dtype == np.asarray(customer).dtype


def test_summary_in_weeks_with_text_keys_and_dates():
    customer = np.array(["b", "a", "b", "b"])
    day = np.array(["2024-01-01", "2024-01-03", "2024-01-08", "2024-01-08"], dtype="datetime64[D]")
    amount = [10, 7, 2, 4]
    end = day_number(datetime.date(2024, 1, 15))
    result = clv.summary_from_arrays(customer, day, amount, calibration_end_day=end)
    assert _rows(result) == [
        ("a", 0, 0.0, round(12 / 7, 9), 0.0),
        ("b", 1, 1.0, 2.0, 6.0),
    ]


def test_summary_with_huge_and_negative_integer_keys():
    customer = np.array([2**62, -(2**62), 2**62], dtype=np.int64)
    result = clv.summary_from_arrays(
        customer, [1, 2, 5], [1.0, 1.0, 3.0], calibration_end_day=8, time_unit="day"
    )
    assert _rows(result) == [(-(2**62), 0, 0.0, 6.0, 0.0), (2**62, 1, 4.0, 7.0, 3.0)]
    unsigned = np.array([2**64 - 1, 5, 2**64 - 1], dtype=np.uint64)
    result = clv.summary_from_arrays(
        unsigned, [1, 2, 5], [1.0, 1.0, 3.0], calibration_end_day=8, time_unit="day"
    )
    assert _rows(result) == [(5, 0, 0.0, 6.0, 0.0), (2**64 - 1, 1, 4.0, 7.0, 3.0)]


def test_predictions_for_no_customers_are_empty(cdnow_bgnbd, cdnow_spend):
    assert clv.p_alive(cdnow_bgnbd, [], [], []).tolist() == []
    assert clv.expected_purchases(cdnow_bgnbd, 10, [], [], []).tolist() == []
    empty = clv.predict(cdnow_bgnbd, cdnow_spend, [], [], [], [], horizon=10)
    assert empty.clv.tolist() == empty.p_alive.tolist() == []


def test_summary_of_cdnow_in_days_scales_weeks(cdnow):
    customer, day, amount = load_cdnow()
    days = clv.summary_from_arrays(
        customer, day, amount, calibration_end_day=CALIBRATION_END, time_unit="day"
    )
    assert days.frequency.tolist() == cdnow.frequency.tolist()
    assert days.recency == pytest.approx(cdnow.recency * 7)
    assert days.T.tolist() == pytest.approx((cdnow.T * 7).tolist())


def _transactions_table(customer, day, revenue) -> pa.Table:
    return pa.table(
        {
            "customer_id": pa.array(customer, pa.int64()),
            "order_id": pa.array(range(len(customer)), pa.int64()),
            "day": pa.array(day, pa.int32()),
            "month": pa.array([0] * len(customer), pa.int32()),
            "revenue": pa.array(revenue, pa.int64()),
            "cost": pa.array([0] * len(customer), pa.int64()),
        }
    )


def test_summary_frame_on_both_engines(parity):
    customer = [7, 7, 3, 7, 7, 7, 7, 9, 11, 11]
    day = [10, 10, 15, 12, 20, 20, 40, 30, 1, 29]
    revenue = [500, 300, 900, 400, 100, 101, 10_000, 200, 250, 1_000]
    result = parity(
        clv.summary_frame,
        {"transactions": _transactions_table(customer, day, revenue)},
        sort=["customer_id"],
        calibration_end_day=30,
        time_unit="week",
    )
    assert result.column_names == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert [str(field.type) for field in result.schema] == [
        "int64",
        "int64",
        "double",
        "double",
        "double",
    ]
    rows = [
        tuple(round(v, 9) if isinstance(v, float) else v for v in r.values())
        for r in result.to_pylist()
    ]
    assert rows == [
        (3, 0, 0.0, round(15 / 7, 9), 0.0),
        (7, 2, round(10 / 7, 9), round(20 / 7, 9), (400 + 201) / 2),
        (9, 0, 0.0, 0.0, 0.0),
        (11, 1, 4.0, round(29 / 7, 9), 1000.0),
    ]
    arrays = clv.summary_from_arrays(customer, day, revenue, calibration_end_day=30)
    assert _rows(arrays) == rows


def test_summary_frame_matches_arrays_on_cdnow():
    from vefa.analytics.engine import Engine

    customer, day, amount = load_cdnow()
    cents = np.round(amount * 100).astype(np.int64)
    engine = Engine("duckdb")
    try:
        table = _transactions_table(customer, day, cents)
        result = engine.collect(
            clv.summary_frame(
                engine.frame(table), calibration_end_day=CALIBRATION_END, time_unit="week"
            ),
            sort=["customer_id"],
        )
    finally:
        engine.close()
    arrays = clv.summary_from_arrays(
        customer, day, cents, calibration_end_day=CALIBRATION_END, time_unit="week"
    )
    assert result.column("customer_id").to_pylist() == arrays.customer.tolist()
    assert result.column("frequency").to_pylist() == arrays.frequency.tolist()
    for name in ("recency", "T", "monetary_value"):
        assert result.column(name).to_numpy() == pytest.approx(getattr(arrays, name), abs=1e-9)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (([], [], []), "No transactions"),
        (([1], [50], [1.0]), "No transactions"),  # after the calibration end
        (([1, 2], [1], [1.0]), "same length"),
        (([1], [1.5], [1.0]), "integer day numbers"),
        (([1], [1], [math.nan]), "finite"),
        (([1], [1], [math.inf]), "finite"),
        (([[1]], [[1]], [[1.0]]), "one-dimensional"),
        ((["=cmd|' /C calc'!A0"], [1], ["1; DROP TABLE x"]), "amount must be numbers"),
    ],
)
def test_summary_rejects_bad_input(arguments, message):
    with pytest.raises(clv.ClvError, match=message):
        clv.summary_from_arrays(*arguments, calibration_end_day=10, time_unit="day")


def test_summary_rejects_unknown_time_unit():
    with pytest.raises(clv.ClvError, match="Unknown time unit 'month'"):
        clv.summary_from_arrays([1], [1], [1.0], calibration_end_day=10, time_unit="month")
    with pytest.raises(clv.ClvError, match="Unknown time unit"):
        clv.summary_frame(None, calibration_end_day=10, time_unit="fortnight")


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "message"),
    [
        ([], [], [], "No customers"),
        ([0, 0, 0], [0.0, 0.0, 0.0], [5.0, 6.0, 7.0], "No customer made a repeat purchase"),
        ([1, 2], [1.0], [3.0, 4.0], "same length"),
        ([1.5], [1.0], [3.0], "whole numbers"),
        ([-1], [1.0], [3.0], "whole numbers"),
        ([1], [-1.0], [3.0], "recency must not be negative"),
        ([1], [4.0], [3.0], "recency must not exceed T"),
        ([1], [math.nan], [3.0], "finite"),
        ([1], [1.0], [math.inf], "finite"),
        (["many"], [1.0], [3.0], "must be numbers"),
        ([5] * 50, [20.0] * 50, [20.0] * 50, "did not converge"),
        ([3, 3], [10.0, 10.0], [30.0, 30.0], "did not converge"),
    ],
)
def test_fit_bgnbd_rejects(frequency, recency, T, message):
    with pytest.raises(clv.ClvError, match=message):
        clv.fit_bgnbd(frequency, recency, T)


def test_fit_bgnbd_rejects_bad_weights():
    with pytest.raises(clv.ClvError, match="weights"):
        clv.fit_bgnbd([1, 0], [1.0, 0.0], [3.0, 3.0], weights=[1.0, -1.0])
    with pytest.raises(clv.ClvError, match="weights"):
        clv.fit_bgnbd([1, 0], [1.0, 0.0], [3.0, 3.0], weights=[1.0])
    with pytest.raises(clv.ClvError, match="No customers"):
        clv.fit_bgnbd([1, 0], [1.0, 0.0], [3.0, 3.0], weights=[0.0, 0.0])


@pytest.mark.parametrize(
    ("frequency", "monetary", "message"),
    [
        ([0, 0], [0.0, 0.0], "at least two customers"),
        ([1, 0, 3], [5.0, 0.0, 0.0], "at least two customers"),  # zero spend is left out
        ([1, 1], [5.0, 5.0], "same history"),
        ([1, 2], [5.0, 5.0], "did not converge"),
        ([1, 2], [5.0], "same length"),
        ([1, 2], [-5.0, 5.0], "must not be negative"),
        ([1, 2], [5.0, math.nan], "finite"),
    ],
)
def test_fit_gamma_gamma_rejects(frequency, monetary, message):
    with pytest.raises(clv.ClvError, match=message):
        clv.fit_gamma_gamma(frequency, monetary)


def test_predictions_reject_bad_settings(cdnow_bgnbd, cdnow_spend):
    args = (cdnow_bgnbd, cdnow_spend, [1], [1.0], [2.0], [5.0])
    with pytest.raises(clv.ClvError, match="horizon"):
        clv.clv(*args, horizon=0)
    with pytest.raises(clv.ClvError, match="horizon"):
        clv.clv(*args, horizon=math.inf)
    with pytest.raises(clv.ClvError, match="discount_rate"):
        clv.clv(*args, horizon=10, discount_rate=-0.1)
    with pytest.raises(clv.ClvError, match="periods"):
        clv.clv(*args, horizon=10, periods=0)
    with pytest.raises(clv.ClvError, match="periods"):
        clv.clv(*args, horizon=10, periods=2.5)
    with pytest.raises(clv.ClvError, match="margin"):
        clv.clv(*args, horizon=10, margin=math.nan)
    with pytest.raises(clv.ClvError, match="t must be"):
        clv.expected_purchases(cdnow_bgnbd, -1, [1], [1.0], [2.0])
    infinite_mean = clv.GammaGammaParams(p=2.0, q=0.9, gamma=10.0, log_likelihood=0.0)
    with pytest.raises(clv.ClvError, match="q <= 1"):
        clv.expected_spend(infinite_mean, [1], [5.0])

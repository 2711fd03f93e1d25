"""``vefa analytics clv``: customer lifetime value from a CSV file of transactions.

    vefa analytics clv --transactions FILE.csv --customer-col C --date-col D --amount-col A
        [--date-format %Y-%m-%d] --calibration-end YYYY-MM-DD --time-unit week|day
        [--horizon H] [--periods N] [--discount-rate R] [--margin M]
        [--output PREDICTIONS.csv] [--json]

Reads one row per purchase (other columns are ignored), keeps the purchases up to and
including the calibration end, summarises each customer (same-day purchases are one
transaction), fits the BG/NBD and Gamma-Gamma models (``vefa.analytics.clv``) and prints their
parameters; ``--output`` writes every customer's predictions.

The file is read by Arrow's CSV reader with every needed column as text, so that ten million
rows take seconds and a bad value can still be reported with its line: amounts are converted
by Arrow; dates are parsed once per distinct text (a file has few distinct dates), by Arrow
and, where Arrow's lenient parser does not read the text back exactly (``2024-02-30``,
``2024-1-5``), by Python's strict ``strptime``.
"""

from __future__ import annotations

import csv
import datetime
import json
import math
from argparse import ArgumentParser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from vefa.analytics import clv
from vefa.analytics.engine import EPOCH

DEFAULT_DATE_FORMAT = "%Y-%m-%d"
DEFAULT_HORIZON = {"week": 52.0, "day": 365.0}
DEFAULT_PERIODS = 12
DEFAULT_ANNUAL_DISCOUNT = 0.10
DAYS_PER_YEAR = 365.25
OUTPUT_COLUMNS = (
    "customer",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = r"^[=+\-@\t\r]"
MAX_LISTED_COLUMNS = 30
DECIMALS = 6


@dataclass(frozen=True)
class Transactions:
    """The three columns, one element per purchase, and the distinct customers' texts."""

    customer: npt.NDArray[np.int32]  # index into ``names``
    day: npt.NDArray[np.int64]
    amount: npt.NDArray[np.float64]
    names: pa.Array


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("--transactions", required=True, help="CSV file, one row per purchase")
    parser.add_argument("--customer-col", required=True, help="column of the customer key")
    parser.add_argument("--date-col", required=True, help="column of the purchase date")
    parser.add_argument("--amount-col", required=True, help="column of the purchase amount")
    parser.add_argument(
        "--date-format",
        default=DEFAULT_DATE_FORMAT,
        help="strptime format of the dates (default %%Y-%%m-%%d; e.g. %%Y%%m%%d, %%d.%%m.%%Y)",
    )
    parser.add_argument(
        "--calibration-end",
        required=True,
        help="last day of the calibration period, YYYY-MM-DD (later purchases are ignored)",
    )
    parser.add_argument(
        "--time-unit", required=True, choices=sorted(clv.TIME_UNITS), help="unit of time"
    )
    parser.add_argument(
        "--horizon",
        type=float,
        default=None,
        help="prediction horizon in time units (default 52 weeks or 365 days)",
    )
    parser.add_argument(
        "--periods",
        type=int,
        default=DEFAULT_PERIODS,
        help=f"discounting periods in the horizon (default {DEFAULT_PERIODS})",
    )
    parser.add_argument(
        "--discount-rate",
        type=float,
        default=DEFAULT_ANNUAL_DISCOUNT,
        help=f"annual discount rate (default {DEFAULT_ANNUAL_DISCOUNT})",
    )
    parser.add_argument(
        "--margin", type=float, default=1.0, help="share of spend that is profit (default 1)"
    )
    parser.add_argument("--output", default=None, help="CSV file for per-customer predictions")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def handle(command: BaseCommand, options: dict[str, Any]) -> None:
    """Run ``vefa analytics clv``; every problem becomes a ``CommandError`` (exit status 1)."""
    time_unit = options["time_unit"]
    calibration_end = _calibration_end(options["calibration_end"])
    horizon, periods, rate, margin = _prediction_settings(options, time_unit)
    path = Path(options["transactions"])
    transactions = read_transactions(
        path,
        customer_col=options["customer_col"],
        date_col=options["date_col"],
        amount_col=options["amount_col"],
        date_format=options["date_format"],
    )
    try:
        summary = clv.summary_from_arrays(
            transactions.customer,
            transactions.day,
            transactions.amount,
            calibration_end_day=(calibration_end - EPOCH).days,
            time_unit=time_unit,
        )
        bgnbd = clv.fit_bgnbd(summary.frequency, summary.recency, summary.T)
        spend = clv.fit_gamma_gamma(summary.frequency, summary.monetary_value)
        predictions = None
        if options["output"]:
            predictions = clv.predict(
                bgnbd,
                spend,
                summary.frequency,
                summary.recency,
                summary.T,
                summary.monetary_value,
                horizon=horizon,
                discount_rate=rate,
                margin=margin,
                periods=periods,
            )
    except clv.ClvError as exc:
        raise CommandError(str(exc)) from exc
    if predictions is not None:
        write_predictions(
            Path(options["output"]),
            transactions.names.take(pa.array(summary.customer)),
            summary,
            predictions,
        )
    result = {
        "bgnbd": bgnbd.as_dict(),
        "gamma_gamma": spend.as_dict(),
        "customers": len(summary),
        "repeat_customers": int((summary.frequency > 0).sum()),
    }
    if options["json"]:
        command.stdout.write(json.dumps(result))
        return
    command.stdout.write(
        _("Customers: %(customers)d, of whom %(repeat)d bought again.")
        % {"customers": result["customers"], "repeat": result["repeat_customers"]}
    )
    command.stdout.write(
        _("BG/NBD: r %(r).4f, alpha %(alpha).4f, a %(a).4f, b %(b).4f (log-likelihood %(ll).2f)")
        % {
            "r": bgnbd.r,
            "alpha": bgnbd.alpha,
            "a": bgnbd.a,
            "b": bgnbd.b,
            "ll": bgnbd.log_likelihood,
        }
    )
    command.stdout.write(
        _("Gamma-Gamma: p %(p).4f, q %(q).4f, gamma %(gamma).4f")
        % {"p": spend.p, "q": spend.q, "gamma": spend.gamma}
    )
    if options["output"]:
        written = {
            "week": _("Predictions for the next %(horizon)s weeks written to %(path)s."),
            "day": _("Predictions for the next %(horizon)s days written to %(path)s."),
        }[time_unit]
        command.stdout.write(written % {"horizon": f"{horizon:g}", "path": options["output"]})


def _calibration_end(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise CommandError(
            _("--calibration-end must be a date written YYYY-MM-DD, not %(value)r.")
            % {"value": text}
        ) from exc


def _prediction_settings(
    options: dict[str, Any], time_unit: str
) -> tuple[float, int, float, float]:
    """Horizon, periods, discount rate per period and margin, checked."""
    horizon = options["horizon"]
    if horizon is None:
        horizon = DEFAULT_HORIZON[time_unit]
    if not math.isfinite(horizon) or horizon <= 0:
        raise CommandError(_("--horizon must be a number of time units above 0."))
    periods = options["periods"]
    if not 1 <= periods <= 10_000:
        raise CommandError(_("--periods must be a whole number from 1 to 10000."))
    annual = options["discount_rate"]
    if not math.isfinite(annual) or not 0 <= annual <= 10:
        raise CommandError(_("--discount-rate must be an annual rate from 0 to 10 (0.1 = 10 %)."))
    margin = options["margin"]
    if not math.isfinite(margin) or not 0 <= margin <= 1:
        raise CommandError(_("--margin must be a share from 0 to 1."))
    period_years = horizon * clv.TIME_UNITS[time_unit] / periods / DAYS_PER_YEAR
    return float(horizon), periods, (1 + annual) ** period_years - 1, float(margin)


# --- reading --------------------------------------------------------------------------------


def _header(path: Path) -> list[str]:
    if not path.exists():
        raise CommandError(_("The file %(path)s does not exist.") % {"path": path})
    if not path.is_file():
        raise CommandError(_("%(path)s is not a file.") % {"path": path})
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as exc:
        raise CommandError(_("%(path)s is not a UTF-8 text file.") % {"path": path}) from exc
    except (OSError, csv.Error) as exc:
        raise CommandError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
        ) from exc
    if not header:
        raise CommandError(_("The file %(path)s is empty.") % {"path": path})
    return header


def _find_column(header: list[str], wanted: str, path: Path) -> str:
    """The header's spelling of ``wanted`` (surrounding spaces ignored), or a clear error."""
    for name in header:
        if name.strip() == wanted.strip():
            return name
    listed = ", ".join(repr(name) for name in header[:MAX_LISTED_COLUMNS])
    if len(header) > MAX_LISTED_COLUMNS:
        listed += ", …"
    raise CommandError(
        _("The column %(column)r is not in %(path)s; its columns are: %(columns)s.")
        % {"column": wanted, "path": path, "columns": listed}
    )


def _line_of_row(path: Path, row: int) -> int:
    """The line number of data row ``row`` (0-based; the header is line 1).

    Arrow skips empty lines and does not allow line breaks inside values, so a data row is
    the (row + 1)-th non-empty line after the header.
    """
    seen = -1  # the header is row -1
    line = 0
    with path.open("rb") as handle:
        for line, raw in enumerate(handle, start=1):
            if raw.strip(b"\r\n"):
                if seen == row:
                    return line
                seen += 1
    return line


def _bad_value(path: Path, row: int, column: str, value: str, problem: str) -> CommandError:
    shown = value if len(value) <= 60 else value[:60] + "…"
    return CommandError(
        _("Line %(line)d of %(path)s: %(problem)s in column %(column)r: %(value)r.")
        % {
            "line": _line_of_row(path, row),
            "path": path,
            "problem": problem,
            "column": column,
            "value": shown,
        }
    )


def _first_cast_failure(values: pa.Array, to: pa.DataType) -> int:
    """Index of the first value Arrow cannot cast, found by halving (at most 2n work)."""
    low, high = 0, len(values)
    while high - low > 1:
        middle = (low + high) // 2
        try:
            pc.cast(values.slice(low, middle - low), to)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            high = middle
        else:
            low = middle
    return low


def _amounts(values: pa.Array, path: Path, column: str) -> npt.NDArray[np.float64]:
    try:
        numbers = pc.cast(values, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        row = _first_cast_failure(values, pa.float64())
        raise _bad_value(path, row, column, values[row].as_py(), _("not a number")) from None
    amounts = numbers.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    bad = ~np.isfinite(amounts) | (amounts < 0)
    if bad.any():
        row = int(np.argmax(bad))
        raise _bad_value(
            path, row, column, values[row].as_py(), _("not a finite amount of at least 0")
        )
    return amounts


def _strict_day(text: str, date_format: str) -> int | None:
    try:
        moment = datetime.datetime.strptime(text, date_format)
    except ValueError:
        return None
    return (moment.date() - EPOCH).days


def _days(values: pa.Array, path: Path, column: str, date_format: str) -> npt.NDArray[np.int64]:
    """Day numbers of the date texts: parsed once per distinct text."""
    encoded = pc.dictionary_encode(values)
    texts = encoded.dictionary
    parsed = pc.strptime(texts, format=date_format, unit="s", error_is_null=True)
    seconds = parsed.cast(pa.int64()).to_numpy(zero_copy_only=False)
    valid = pc.is_valid(parsed)
    try:
        # Arrow rolls 2024-02-30 over to March; only an exact round trip proves the date.
        exact = pc.and_(valid, pc.equal(pc.strftime(parsed, format=date_format), texts))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        exact = pa.array([False] * len(texts))
    exact_mask = exact.fill_null(False).to_numpy(zero_copy_only=False)
    day_of_text = np.zeros(len(texts), dtype=np.int64)
    good = np.ones(len(texts), dtype=bool)
    day_of_text[exact_mask] = np.floor_divide(seconds[exact_mask].astype(np.int64), 86_400)
    for index in np.flatnonzero(~exact_mask):
        day = _strict_day(texts[int(index)].as_py(), date_format)
        if day is None:
            good[index] = False
        else:
            day_of_text[index] = day
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    if not good.all():
        row = int(np.argmax(~good[codes]))
        raise _bad_value(
            path,
            row,
            column,
            values[row].as_py(),
            _("not a date in the format %(format)s") % {"format": date_format},
        )
    return day_of_text[codes]


def read_transactions(
    path: Path, *, customer_col: str, date_col: str, amount_col: str, date_format: str
) -> Transactions:
    """Customer, day number and amount of every row of the CSV file ``path``."""
    header = _header(path)
    names = [_find_column(header, wanted, path) for wanted in (customer_col, date_col, amount_col)]
    if len(set(names)) < 3:
        raise CommandError(
            _("The customer, date and amount columns must be three different columns.")
        )
    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=16 << 20),
            convert_options=pa_csv.ConvertOptions(
                include_columns=names,
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise CommandError(
            _("Cannot read %(path)s as CSV: %(error)s") % {"path": path, "error": exc}
        ) from exc
    if table.num_rows == 0:
        raise CommandError(_("%(path)s has a header but no transactions.") % {"path": path})
    customer_text, date_text, amount_text = (
        pc.utf8_trim_whitespace(table.column(name).combine_chunks()) for name in names
    )
    empty = pc.equal(pc.utf8_length(customer_text), 0).to_numpy(zero_copy_only=False)
    if empty.any():
        row = int(np.argmax(empty))
        raise _bad_value(path, row, customer_col, "", _("no customer"))
    amount = _amounts(amount_text, path, amount_col)
    day = _days(date_text, path, date_col, date_format)
    customers = pc.dictionary_encode(customer_text)
    return Transactions(
        customer=customers.indices.to_numpy(zero_copy_only=False),
        day=day,
        amount=amount,
        names=customers.dictionary,
    )


# --- writing --------------------------------------------------------------------------------


def _formula_safe(texts: pa.Array) -> pa.Array:
    """Texts a spreadsheet will not run: a leading = + - @ tab or CR gets a ' in front."""
    risky = pc.match_substring_regex(texts, FORMULA_START)
    return pc.if_else(risky, pc.binary_join_element_wise("'", texts, ""), texts)


def _non_negative(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Rounded, with rounding noise below 0 (and -0.0) made 0, so no number starts with -."""
    return np.asarray(np.maximum(np.round(values, DECIMALS), 0.0) + 0.0, dtype=np.float64)


def write_predictions(
    path: Path, customers: pa.Array, summary: clv.Summary, predictions: clv.Predictions
) -> None:
    columns = [
        _formula_safe(customers),
        pa.array(summary.frequency, pa.int64()),
        _non_negative(summary.recency),
        _non_negative(summary.T),
        _non_negative(summary.monetary_value),
        _non_negative(predictions.p_alive),
        _non_negative(predictions.expected_purchases),
        _non_negative(predictions.expected_spend),
        _non_negative(predictions.clv),
    ]
    table = pa.table(dict(zip(OUTPUT_COLUMNS, columns, strict=True)))
    try:
        pa_csv.write_csv(table, path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise CommandError(
            _("Cannot write %(path)s: %(error)s") % {"path": path, "error": exc}
        ) from exc

"""``vefa analytics clv``: the CDNOW figures from a CSV file, the predictions file, bad files.

Most tests call the management command in-process; one runs ``python -m vefa`` for real to
check the exit status and that errors reach stderr without a traceback.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from vefa.analytics import clv

CDNOW = Path(__file__).parent / "data" / "CDNOW_sample.txt"
COLUMNS = ["--customer-col", "customer", "--date-col", "date", "--amount-col", "amount"]
CDNOW_OPTIONS = [
    *COLUMNS,
    "--date-format",
    "%Y%m%d",
    "--calibration-end",
    "1997-09-30",
    "--time-unit",
    "week",
]
OUTPUT_HEADER = [
    "customer",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("analytics", "clv", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory) -> Path:
    """The CDNOW sample as a CSV file: customer, date (YYYYMMDD), cds, amount."""
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    with CDNOW.open() as source, path.open("w", newline="") as target:
        writer = csv.writer(target)
        writer.writerow(["customer", "date", "cds", "amount"])
        for line in source:
            _full_id, customer, date, cds, amount = line.split()
            writer.writerow([customer, date, cds, amount])
    return path


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def basic_options(path: Path, *extra: str) -> list[str]:
    return [
        "--transactions",
        str(path),
        *COLUMNS,
        "--calibration-end",
        "2024-03-31",
        "--time-unit",
        "day",
        *extra,
    ]


# --- results --------------------------------------------------------------------------------


def test_json_reproduces_the_published_cdnow_figures(cdnow_csv):
    result = json.loads(run("--transactions", str(cdnow_csv), *CDNOW_OPTIONS, "--json"))
    assert set(result) == {"bgnbd", "gamma_gamma", "customers", "repeat_customers"}
    bgnbd, spend = result["bgnbd"], result["gamma_gamma"]
    assert set(bgnbd) == {"r", "alpha", "a", "b", "log_likelihood"}
    assert [round(bgnbd[k], 3) for k in ("r", "alpha", "a", "b")] == [0.243, 4.414, 0.793, 2.426]
    assert round(bgnbd["log_likelihood"], 1) == -9582.4
    assert set(spend) == {"p", "q", "gamma"}
    assert [round(spend[k], 2) for k in ("p", "q", "gamma")] == [6.25, 3.74, 15.44]
    assert result["customers"] == 2357
    assert result["repeat_customers"] == 946


def test_human_readable_summary(cdnow_csv):
    out = run("--transactions", str(cdnow_csv), *CDNOW_OPTIONS)
    assert "2357" in out
    assert "946" in out
    assert "r 0.2426, alpha 4.4136, a 0.7929, b 2.4259" in out
    assert "p 6.2496, q 3.7442, gamma 15.4435" in out
    assert not out.lstrip().startswith("{")


def test_output_file_holds_every_customers_predictions(cdnow_csv, tmp_path):
    output = tmp_path / "predictions.csv"
    out = run(
        "--transactions",
        str(cdnow_csv),
        *CDNOW_OPTIONS,
        "--output",
        str(output),
        "--horizon",
        "39",
        "--periods",
        "3",
        "--discount-rate",
        "0.2",
        "--margin",
        "0.25",
        "--json",
    )
    fitted = json.loads(out)
    with output.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == OUTPUT_HEADER
    body = rows[1:]
    assert len(body) == 2357
    by_customer = {row[0]: row for row in body}
    assert len(by_customer) == 2357
    # Customer 1 of the sample is the paper's example: x = 2, t_x = 30.43, T = 38.86.
    first = by_customer["0001"]
    assert int(first[1]) == 2
    assert float(first[2]) == pytest.approx(213 / 7, abs=1e-6)
    assert float(first[3]) == pytest.approx(272 / 7, abs=1e-6)
    assert float(first[4]) == pytest.approx((29.73 + 14.96) / 2)
    bgnbd = clv.BgNbdParams(**fitted["bgnbd"])
    spend = clv.GammaGammaParams(**fitted["gamma_gamma"], log_likelihood=0.0)
    x, tx, t, m = [2], [213 / 7], [272 / 7], [(29.73 + 14.96) / 2]
    expected = clv.expected_purchases(bgnbd, 39, x, tx, t)[0]
    assert float(first[5]) == pytest.approx(clv.p_alive(bgnbd, x, tx, t)[0], abs=1e-6)
    assert float(first[6]) == pytest.approx(expected, abs=1e-6)
    assert float(first[6]) == pytest.approx(1.226, abs=1e-3)  # the published figure
    assert float(first[7]) == pytest.approx(clv.expected_spend(spend, x, m)[0], abs=1e-6)
    # 13-week periods at 20 % a year: (1.2) ** (13 * 7 / 365.25) - 1 per period.
    rate = 1.2 ** (39 * 7 / 3 / 365.25) - 1
    value = clv.clv(bgnbd, spend, x, tx, t, m, horizon=39, periods=3, discount_rate=rate)
    assert float(first[8]) == pytest.approx(0.25 * value[0], abs=1e-5)
    # A one-time buyer: no repeat, P(alive) 1, the population's mean spend.
    one_time = by_customer["0003"]
    assert one_time[1:3] == ["0", "0"]
    assert float(one_time[5]) == 1.0
    assert float(one_time[7]) == pytest.approx(spend.p * spend.gamma / (spend.q - 1), abs=1e-5)
    values = np.array([[float(cell) for cell in row[1:]] for row in body])
    assert np.all(np.isfinite(values))
    assert np.all(values >= 0)
    assert np.all(values[:, 4] <= 1)


def _population_csv(
    path: Path,
    *,
    keys: tuple[str, ...] = (),
    extra: tuple[tuple[str, str, str], ...] = (),
    date_text=lambda date: date.isoformat(),
) -> Path:
    """A seeded population of 400 customers in 2023-2024, large enough to fit the models.

    ``keys`` name the first customers instead of c0, c1, ...; ``extra`` rows are appended.
    """
    rng = np.random.default_rng(3)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["customer", "date", "amount"])
    start = datetime.date(2023, 1, 1)
    names = [*keys, *(f"c{i}" for i in range(400 - len(keys)))]
    for number, name in enumerate(names):
        first = int(rng.integers(0, 120))
        purchases = 1 + int(rng.poisson(rng.gamma(1.0, 3.0)))
        days = np.sort(first + rng.integers(0, 455 - first, purchases))
        days[0] = first
        for day in days:
            amount = rng.gamma(5.0, 4.0 + number % 7)
            date = start + datetime.timedelta(days=int(day))
            writer.writerow([name, date_text(date), f"{amount:.2f}"])
    for row in extra:
        writer.writerow(row)
    return write(path, out.getvalue())


def test_same_day_purchases_count_once_and_later_ones_not_at_all(tmp_path):
    path = _population_csv(
        tmp_path / "t.csv",
        extra=(
            ("a", "2024-01-01", "10"),
            ("a", "2024-01-01", "5"),  # the same day: one transaction of 15
            ("a", "2024-01-11", "4"),
            ("a", "2024-04-01", "100"),  # after the calibration end
            ("b", "2024-01-05", "20"),
            ("b", "2024-01-20", "6.5"),
            ("b", "2024-03-31", "3.5"),  # on the last day: counts
            ("c", "2024-02-01", "1"),
        ),
    )
    output = tmp_path / "out.csv"
    run(*basic_options(path, "--output", str(output)))
    with output.open(newline="") as handle:
        rows = {row["customer"]: row for row in csv.DictReader(handle)}
    assert len(rows) == 403
    summary = ("frequency", "recency", "T", "monetary_value")
    assert [rows["a"][k] for k in summary] == ["1", "10", "90", "4"]
    assert [rows["b"][k] for k in summary] == ["2", "86", "86", "5"]
    assert [rows["c"][k] for k in summary] == ["0", "0", "59", "0"]
    assert float(rows["c"]["p_alive"]) == 1.0


def test_output_cells_cannot_start_a_formula(tmp_path):
    hostile = ("=SUM(A1:A9)", "+1", "-2", "@cmd", "\tTab", '=HYPERLINK("x","y")', "a,b")
    path = _population_csv(tmp_path / "t.csv", keys=hostile)
    output = tmp_path / "out.csv"
    run(*basic_options(path, "--output", str(output)))
    with output.open(newline="") as handle:
        rows = list(csv.reader(handle))
    customers = {row[0] for row in rows[1:]}
    assert "'=SUM(A1:A9)" in customers
    assert "'+1" in customers
    assert "'-2" in customers
    assert "'@cmd" in customers
    assert "a,b" in customers
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_day_first_dates_without_leading_zeros(tmp_path):
    """``5.1.2024`` with %d.%m.%Y: Arrow cannot read it back, Python's strptime can."""
    iso = _population_csv(tmp_path / "iso.csv")
    dotted = _population_csv(
        tmp_path / "dotted.csv", date_text=lambda d: f"{d.day}.{d.month}.{d.year}"
    )
    assert re.search(r"^c\d+,\d\.\d\.2023,", dotted.read_text(), re.MULTILINE)
    a = json.loads(run(*basic_options(iso, "--json")))
    b = json.loads(run(*basic_options(dotted, "--json", "--date-format", "%d.%m.%Y")))
    assert a == b


# --- bad files and options ------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(CommandError, match=r"does not exist"):
        run(*basic_options(tmp_path / "nothing.csv"))
    with pytest.raises(CommandError, match=r"is not a file"):
        run(*basic_options(tmp_path))


def test_empty_file_and_header_only(tmp_path):
    with pytest.raises(CommandError, match=r"is empty"):
        run(*basic_options(write(tmp_path / "empty.csv", "")))
    with pytest.raises(CommandError, match=r"is empty"):
        run(*basic_options(write(tmp_path / "blank.csv", "\n\n")))
    with pytest.raises(CommandError, match=r"header but no transactions"):
        run(*basic_options(write(tmp_path / "header.csv", "customer,date,amount\n")))


def test_missing_column_is_named_with_the_columns_found(tmp_path):
    path = write(tmp_path / "t.csv", "client,date,amount,=cmd\nx,2024-01-01,1,\n")
    with pytest.raises(CommandError) as caught:
        run(*basic_options(path))
    message = str(caught.value)
    assert "'customer'" in message
    assert "'client', 'date', 'amount', '=cmd'" in message


@pytest.mark.parametrize(
    ("body", "line", "value", "problem"),
    [
        ("a,2024-01-01,10\na,2024-13-01,5\n", 3, "2024-13-01", "not a date in the format %Y-%m-%d"),
        ("a,2024-01-01,10\nb,2024-02-30,5\n", 3, "2024-02-30", "not a date"),
        ("a,2024-01-01,10\nb,,5\n", 3, "", "not a date"),
        ("a,2024-01-01,10\nb,yesterday,5\n", 3, "yesterday", "not a date"),
        ("a,2024-01-01,10\na,2024-01-02,12.5\nb,2024-01-03,1O\n", 4, "1O", "not a number"),
        ('a,2024-01-01,10\nb,2024-01-03,"1,5"\n', 3, "1,5", "not a number"),
        ("a,2024-01-01,10\nb,2024-01-03,\n", 3, "", "not a number"),
        ("a,2024-01-01,-10\n", 2, "-10", "not a finite amount of at least 0"),
        ("a,2024-01-01,10\nb,2024-01-02,nan\n", 3, "nan", "not a finite amount"),
        ("a,2024-01-01,10\nb,2024-01-02,inf\n", 3, "inf", "not a finite amount"),
        ("a,2024-01-01,10\n\n\nb,2024-01-02,x\n", 5, "x", "not a number"),  # blank lines
        ("a,2024-01-01,10\n ,2024-01-02,3\n", 3, "", "no customer"),
    ],
)
def test_bad_values_are_reported_with_their_line(tmp_path, body, line, value, problem):
    path = write(tmp_path / "t.csv", "customer,date,amount\n" + body)
    with pytest.raises(CommandError) as caught:
        run(*basic_options(path))
    message = str(caught.value)
    assert message.startswith(f"Line {line} of {path}: ")
    assert problem in message
    assert repr(value) in message


def test_windows_line_ends_and_a_byte_order_mark(tmp_path):
    path = write(
        tmp_path / "t.csv",
        "\ufeffcustomer,date,amount\r\na,2024-01-01,10\r\na,2024-01-02,x\r\n".encode(),
    )
    with pytest.raises(CommandError, match=r"^Line 3 of .*: not a number in column 'amount'"):
        run(*basic_options(path))


def test_unreadable_files(tmp_path):
    latin = write(
        tmp_path / "latin.csv", "customer,date,amount\nJos\xe9,2024-01-01,1\n".encode("latin-1")
    )
    with pytest.raises(CommandError, match=r"latin.csv is not a UTF-8 text file"):
        run(*basic_options(latin))
    # Far into a file, past what the header check reads: Arrow finds it.
    late = (
        b"customer,date,amount\n"
        + b"a,2024-01-01,1\n" * 50_000
        + "Jos\xe9,2024-01-01,1\n".encode("latin-1")
    )
    with pytest.raises(CommandError, match=r"Cannot read .*late.csv as CSV: .*UTF"):
        run(*basic_options(write(tmp_path / "late.csv", late)))
    ragged = write(tmp_path / "ragged.csv", "customer,date,amount\na,2024-01-01\n")
    with pytest.raises(CommandError, match=r"Cannot read .* as CSV"):
        run(*basic_options(ragged))


def test_too_little_data_is_a_clear_error(tmp_path):
    one_time = write(tmp_path / "t.csv", "customer,date,amount\na,2024-01-01,1\nb,2024-01-05,2\n")
    with pytest.raises(CommandError, match=r"No customer made a repeat purchase"):
        run(*basic_options(one_time))
    future = write(tmp_path / "f.csv", "customer,date,amount\na,2025-01-01,1\n")
    with pytest.raises(CommandError, match=r"No transactions on or before"):
        run(*basic_options(future))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--calibration-end", "31.03.2024"], "--calibration-end must be a date"),
        (["--horizon", "0"], "--horizon"),
        (["--horizon", "nan"], "--horizon"),
        (["--periods", "0"], "--periods"),
        (["--discount-rate", "-0.5"], "--discount-rate"),
        (["--margin", "1.5"], "--margin"),
        (["--amount-col", "customer"], "three different columns"),
    ],
)
def test_bad_options(tmp_path, extra, message):
    path = write(tmp_path / "t.csv", "customer,date,amount\na,2024-01-01,1\n")
    with pytest.raises(CommandError, match=re.escape(message)):
        run(*basic_options(path, *extra))


def test_output_to_a_missing_directory(tmp_path):
    path = _population_csv(tmp_path / "t.csv")
    with pytest.raises(CommandError, match=r"Cannot write"):
        run(*basic_options(path, "--output", str(tmp_path / "no" / "such" / "dir.csv")))


# --- for real -------------------------------------------------------------------------------


def test_command_line(cdnow_csv, tmp_path):
    """``python -m vefa analytics clv``: JSON on stdout; a bad file is exit 1, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VEFA_", "DJANGO_", "PYTEST_"))}
    env["VEFA_DATA_DIR"] = str(tmp_path / "data")
    command = [sys.executable, "-m", "vefa", "analytics", "clv"]
    done = subprocess.run(
        [*command, "--transactions", str(cdnow_csv), *CDNOW_OPTIONS, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["bgnbd"]["r"] == pytest.approx(0.243, abs=5e-4)

    bad = write(tmp_path / "bad.csv", "customer,date,amount\na,2024-01-01,ten\n")
    failed = subprocess.run(
        [*command, *basic_options(bad)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert f"Line 2 of {bad}: not a number in column 'amount': 'ten'." in failed.stderr
    assert "Traceback" not in failed.stderr

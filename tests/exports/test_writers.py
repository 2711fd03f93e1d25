"""Formula safety and hostile strings through the CSV and XLSX writers."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.exports.conftest import HOSTILE
from vefa.exports.writers import (
    BOM,
    DANGEROUS,
    csv_chunks,
    read_csv,
    safe_text,
    write_xlsx,
)


@pytest.mark.parametrize("first", list(DANGEROUS))
def test_every_dangerous_first_character_is_neutralised(first):
    value = first + "cmd|' /C calc'!A0"
    assert safe_text(value) == "'" + value
    data = b"".join(csv_chunks(["h"], [[value]]))
    assert read_csv(data)[1] == ["'" + value]
    out = io.BytesIO()
    write_xlsx(out, ["h"], [[value]], "t")
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    cell = sheet.cell(row=2, column=1)
    assert cell.data_type == "s"
    # XML reads a carriage return back as a line feed; the apostrophe comes first either way.
    assert cell.value == ("'" + value).replace("\r", "\n")


@pytest.mark.parametrize("value", ["", "a=b", "'quoted", " =space first", "1-2"])
def test_harmless_text_is_kept(value):
    assert safe_text(value) == value


def test_a_dangerous_header_is_neutralised():
    data = b"".join(csv_chunks(["=HYPERLINK(1)"], []))
    assert read_csv(data)[0] == ["'=HYPERLINK(1)"]


def test_csv_starts_with_a_bom_and_round_trips_hostile_strings():
    data = b"".join(csv_chunks(["Name", "n"], [[v, i] for i, v in enumerate(HOSTILE)]))
    assert data.startswith(BOM.encode("utf-8"))
    rows = read_csv(data)
    assert rows[0] == ["Name", "n"]
    for i, value in enumerate(HOSTILE):
        expected = "'" + value if value[0] in DANGEROUS else value
        assert rows[i + 1] == [expected, str(i)]


def test_xlsx_round_trips_hostile_strings_and_types():
    out = io.BytesIO()
    when = datetime.datetime(2026, 3, 1, 10, 30)
    rows = [[v, Decimal("-12.50"), when, None] for v in HOSTILE]
    count = write_xlsx(out, ["Name", "Amount", "When", "Empty"], rows, "Cust[o]mers:*?")
    assert count == len(HOSTILE)
    book = load_workbook(io.BytesIO(out.getvalue()))
    sheet = book.active
    got = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    for value, row in zip(HOSTILE, got, strict=True):
        expected = "'" + value if value[0] in DANGEROUS else value
        assert row[0] == expected.replace("\r\n", "\n").replace("\r", "\n")
        # A real number stays a number (no apostrophe), the date a date.
        assert row[1] == -12.5
        assert row[2] == when
        assert row[3] is None


def test_xlsx_drops_characters_xml_cannot_hold_and_caps_long_cells():
    out = io.BytesIO()
    write_xlsx(out, ["h"], [["a\x00b\x07c"], ["x" * 40000]], "t")
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet.cell(row=2, column=1).value == "abc"
    assert len(sheet.cell(row=3, column=1).value) == 32767


def test_csv_of_many_rows_comes_in_chunks():
    chunks = list(csv_chunks(["h"], ([str(i)] for i in range(2500)), batch=1000))
    assert len(chunks) == 4  # header + 3 batches
    assert len(read_csv(b"".join(chunks))) == 2501

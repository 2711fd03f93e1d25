"""Writing rows as CSV (UTF-8 with a byte order mark, so Excel reads it) or XLSX.

Formula safety: a text cell never starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return; such a value is written with a leading apostrophe, which spreadsheet
programs show as text instead of evaluating. Numbers from numeric columns stay numbers.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

from vefa.common.text import FORMULA_START, formula_safe

BOM = "\ufeff"
DANGEROUS = FORMULA_START
# XLSX cells hold at most this many characters.
XLSX_MAX_CELL = 32767
# Characters XML 1.0 cannot hold (XLSX is XML): dropped.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def safe_text(value: str) -> str:
    """``value`` with an apostrophe before a first character that starts a formula."""
    return formula_safe(value)


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value and value[0] in DANGEROUS else value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, Decimal, float)):
        return value
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return safe_text(str(value))


class _Line:
    """A file-like object that hands back what ``csv.writer`` wrote."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def csv_chunks(
    headers: list[str], rows: Iterable[list[Any]], *, batch: int = 1000, ready: bool = False
) -> Iterator[bytes]:
    """The CSV file as UTF-8 byte chunks, about ``batch`` rows each (the first has the BOM).

    ``ready`` rows are already formula-safe cells (``Plan.csv_rows``); others go through
    ``csv_cell``."""
    buffer = _Line()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_text(h) for h in headers])
    yield (BOM + buffer.take()).encode("utf-8")
    pending: list[list[Any]] = []
    cell = csv_cell
    for row in rows:
        pending.append(row if ready else [cell(v) for v in row])
        if len(pending) >= batch:
            writer.writerows(pending)
            pending.clear()
            yield buffer.take().encode("utf-8")
    if pending:
        writer.writerows(pending)
        yield buffer.take().encode("utf-8")


def write_csv(
    out: IO[bytes], headers: list[str], rows: Iterable[list[Any]], *, ready: bool = False
) -> int:
    """Write the CSV to ``out``; the number of rows written."""
    count = 0

    def counted() -> Iterator[list[Any]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    for chunk in csv_chunks(headers, counted(), ready=ready):
        out.write(chunk)
    return count


def xlsx_cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = _ILLEGAL_XML.sub("", value)[:XLSX_MAX_CELL]
        return safe_text(value)
    if isinstance(value, (bool, int, Decimal, float, datetime.datetime, datetime.date)):
        return value
    return safe_text(_ILLEGAL_XML.sub("", str(value))[:XLSX_MAX_CELL])


def write_xlsx(out: IO[bytes], headers: list[str], rows: Iterable[list[Any]], title: str) -> int:
    """Write an XLSX workbook (openpyxl's write-only mode, constant memory) to ``out``."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_sheet_title(title))
    sheet.append([xlsx_cell(h) for h in headers])
    count = 0
    for row in rows:
        sheet.append([xlsx_cell(v) for v in row])
        count += 1
    book.save(out)
    return count


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip() or "Export"
    return cleaned[:31]


def read_csv(data: bytes | str) -> list[list[str]]:
    """The rows of a CSV written by ``csv_chunks`` (for checks and tests)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if text.startswith(BOM):
        text = text[1:]
    return list(csv.reader(io.StringIO(text, newline="")))

"""Reading an uploaded CSV or XLSX file as rows of text, whatever its encoding and layout.

* Encoding: UTF-8 (with or without BOM) is tried strictly first; otherwise each candidate
  code page (Windows-1254 Turkish, -1250 and -1251 Serbian, -1256 Persian) decodes a sample
  and is scored by the share of characters that are letters of its alphabet, digits, spaces
  or common punctuation. The best score wins; a file no code page reads well is refused.
* Delimiter: ``csv.Sniffer`` over the sample limited to ``,`` ``;`` tab ``|``, then checked
  for consistency (the header and most sampled lines split into the same number of fields);
  when the sniffer fails the candidate with the most consistent field count wins.
* XLSX: the zip is inspected before openpyxl opens it (entry count, total uncompressed size,
  compression ratio) so a zip bomb is refused cheaply; the sheet is read in read-only mode
  and formulas come back as their text (never evaluated).

Every value becomes text (``cell_text``); rows are yielded one at a time, so memory stays flat
whatever the file's size.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime
import io
import itertools
import os
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _

from vefa.common.errors import ValidationFailed

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
# A cell longer than this is refused by the row checks; the csv module is allowed a little
# more so such a row is read (and reported) instead of failing the whole file.
MAX_CELL = 10_000
CSV_FIELD_LIMIT = 64 * 1024 * 1024
# XLSX limits, checked on the zip directory before anything is decompressed.
XLSX_MAX_UNCOMPRESSED = 1024 * 1024 * 1024
XLSX_MAX_RATIO = 200
XLSX_MAX_ENTRIES = 10_000

CODE_PAGES = ("cp1254", "cp1250", "cp1251", "cp1256")
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "cp1254": "Windows-1254",
    "cp1250": "Windows-1250",
    "cp1251": "Windows-1251",
    "cp1256": "Windows-1256",
}
# Letters each code page is expected to carry beyond ASCII.
_EXPECTED_SCRIPTS = {
    "cp1254": ("LATIN",),
    "cp1250": ("LATIN",),
    "cp1251": ("CYRILLIC",),
    "cp1256": ("ARABIC",),
}
_PUNCTUATION = set(" \t\r\n.,;:!?'\"()[]{}-_/\\@#%&*+=<>|~$€₺№«»“”„‘’–—…")
_EXTRA_FOLD = {
    # letters of the languages each code page serves; other Latin letters are penalised
    "cp1254": set("çğıöşüÇĞİÖŞÜâîûÂÎÛ"),
    "cp1250": set("čćđšžČĆĐŠŽ"),
}


def file_kind(name: str) -> str:
    """``csv`` or ``xlsx`` from the file name; anything else is refused."""
    ext = os.path.splitext(name or "")[1].lower()
    if ext in (".csv", ".txt", ".tsv"):
        return "csv"
    if ext == ".xlsx":
        return "xlsx"
    raise ValidationFailed(
        _("Upload a .csv or .xlsx file."), fields={"file": [_("Upload a .csv or .xlsx file.")]}
    )


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"file": [message]})


# --- encoding ---------------------------------------------------------------------------------


def _score(text: str, encoding: str) -> float:
    """The share of characters that look like text of the code page's languages."""
    if not text:
        return 0.0
    scripts = _EXPECTED_SCRIPTS.get(encoding, ("LATIN",))
    extra = _EXTRA_FOLD.get(encoding)
    good = 0.0
    previous = ""
    for char in text:
        # Text has capitals only at the start of a word: "aB" inside a word means the bytes
        # are another alphabet's letters seen through the wrong code page.
        if char.isupper() and previous.islower():
            good -= 1
        previous = char
        if char.isascii():
            if char.isalnum() or char in _PUNCTUATION:
                good += 1
            elif char in "\x00":
                good -= 5
            continue
        if char in _PUNCTUATION:
            good += 1
            continue
        if char.isalpha():
            name = unicodedata.name(char, "")
            if not name.startswith(scripts):
                continue
            if extra is not None and char not in extra:
                good += 0.5  # a letter, but rare in these languages
            else:
                good += 1
        elif char.isdigit() or char in "\u200c\u060c\u061b\u061f\u066b\u066c":
            good += 1
    return good / len(text)


def detect_encoding(sample: bytes) -> str:
    """The sample's encoding: ``utf-8-sig``, ``utf-8`` or the best-scoring code page."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _refuse(_("UTF-16 files are not supported; save the file as UTF-8 CSV."))
    if b"\x00" in sample:
        raise _refuse(_("This is not a text file; upload a CSV or XLSX file."))
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    best, best_score = "", 0.0
    for encoding in CODE_PAGES:
        text = sample.decode(encoding, errors="replace")
        score = _score(text, encoding) - text.count("\ufffd") / max(len(text), 1)
        if score > best_score:
            best, best_score = encoding, score
    if best_score < 0.9:
        raise _refuse(
            _("The file's encoding could not be recognised; save it as UTF-8 CSV and try again.")
        )
    return best


# --- delimiter --------------------------------------------------------------------------------


def _field_counts(text: str, delimiter: str) -> list[int]:
    lines = text.splitlines()[:50]
    if len(lines) > 1:
        lines = lines[:-1]  # the last sampled line may be cut short
    try:
        return [len(r) for r in csv.reader(lines, delimiter=delimiter) if r]
    except csv.Error:
        return []


def _consistency(text: str, delimiter: str) -> float:
    counts = _field_counts(text, delimiter)
    if not counts or counts[0] < 2:
        return 0.0
    return sum(1 for c in counts if c == counts[0]) / len(counts)


def detect_delimiter(text: str) -> str:
    """The delimiter of a CSV sample: the sniffer's, if consistent; else the most consistent."""
    try:
        sniffed = csv.Sniffer().sniff(text[: 64 * 1024], delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed in DELIMITERS and _consistency(text, sniffed) >= 0.8:
        return sniffed
    first = text.split("\n", 1)[0]
    scored = sorted(DELIMITERS, key=lambda d: (_consistency(text, d), first.count(d)), reverse=True)
    if _consistency(text, scored[0]) > 0:
        return scored[0]
    return ","  # one column


# --- cells ------------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as text: numbers without float noise, dates in ISO form, formulas as typed."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return str(Decimal(repr(value)))
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


# --- XLSX -------------------------------------------------------------------------------------


def check_xlsx(stream: IO[bytes]) -> None:
    """Refuse a file that is not a workbook, or whose zip would expand out of proportion."""
    stream.seek(0)
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _refuse(_("The file is not a valid XLSX workbook.")) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > XLSX_MAX_ENTRIES:
            raise _refuse(_("The workbook has too many parts."))
        if not any(i.filename.startswith("xl/worksheets/") for i in infos):
            raise _refuse(_("The file is not a valid XLSX workbook."))
        total = 0
        for info in infos:
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 1024 * 1024 and ratio > XLSX_MAX_RATIO:
                raise _refuse(
                    _("The workbook expands out of proportion when unpacked (a zip bomb?).")
                )
        if total > XLSX_MAX_UNCOMPRESSED:
            raise _refuse(_("The workbook is larger than 1 GB when unpacked."))
    stream.seek(0)


def _xlsx_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    check_xlsx(stream)
    try:
        book = load_workbook(stream, read_only=True, data_only=False)
    except Exception:
        raise _refuse(_("The file is not a valid XLSX workbook.")) from None
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [cell_text(c) for c in row]
    finally:
        book.close()


# --- CSV --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How a file is read: kind, encoding and delimiter (empty for XLSX)."""

    kind: str
    encoding: str = ""
    delimiter: str = ""

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)


def detect_layout(stream: IO[bytes], kind: str) -> Layout:
    """Encoding and delimiter of a CSV (from its first 256 KB); an XLSX is checked."""
    stream.seek(0)
    if kind == "xlsx":
        check_xlsx(stream)
        return Layout(kind="xlsx")
    sample = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    if not sample.strip():
        raise _refuse(_("The file is empty."))
    encoding = detect_encoding(sample)
    text = sample.decode(encoding, errors="ignore")
    return Layout(kind="csv", encoding=encoding, delimiter=detect_delimiter(text))


def _csv_rows(stream: IO[bytes], layout: Layout) -> Iterator[list[str]]:
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    text = io.TextIOWrapper(
        stream, encoding=layout.encoding or "utf-8", errors="replace", newline=""
    )
    try:
        reader = csv.reader(text, delimiter=layout.delimiter or ",")
        try:
            yield from reader
        except csv.Error as exc:
            raise _refuse(
                _("Line %(line)d of the file could not be read: %(reason)s")
                % {"line": reader.line_num, "reason": str(exc)}
            ) from None
    finally:
        with contextlib.suppress(ValueError):
            text.detach()


def read_rows(stream: IO[bytes], layout: Layout) -> Iterator[list[str]]:
    """The rows of the file as lists of text, header first, one at a time."""
    stream.seek(0)
    if layout.kind == "xlsx":
        return _xlsx_rows(stream)
    return _csv_rows(stream, layout)


def head(stream: IO[bytes], layout: Layout, rows: int) -> list[list[str]]:
    """The header and the first ``rows`` rows."""
    return list(itertools.islice(read_rows(stream, layout), rows + 1))


def count_data_rows(stream: IO[bytes], layout: Layout) -> int:
    """About the number of data rows (lines of a CSV, rows of the sheet), for progress."""
    stream.seek(0)
    if layout.kind == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(stream, read_only=True)
        try:
            return max(0, int(book.worksheets[0].max_row or 0) - 1)
        finally:
            book.close()
    lines = 0
    last = b""
    while chunk := stream.read(1 << 20):
        lines += chunk.count(b"\n")
        last = chunk
    stream.seek(0)
    if last and not last.endswith(b"\n"):
        lines += 1
    return max(0, lines - 1)

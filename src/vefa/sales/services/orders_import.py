"""Importing order lines from a CSV or Excel (XLSX) file as a background job.

The file has one row per order line; rows of one order follow each other and share its
``external_order_number``. Columns (the header row names them, in any order, any case):

===========================  ==================================================================
external_order_number        required; the order's number in the shop or till
ordered_at                   optional; ISO date or date and time (2026-05-01 or
                             2026-05-01T10:30:00+03:00), default the time of the import
customer_email / customer_id one of them per order (``customer_tax_number`` also works)
currency                     required; ISO 4217 code, e.g. TRY
sku                          the product's SKU (see below)
description                  the line's text; default the product's name
quantity                     required, above zero
unit_price                   default the price list price of the product
discount_percent, tax_rate   optional percentages (tax rate default the product's)
===========================  ==================================================================

Decisions:

* An SKU that is not in the catalogue is kept as a line without product (its SKU text is
  stored) when the row has a description and a unit price; otherwise the row is an error.
* An order is created only when every one of its rows is good: a partial order would have a
  wrong total. Each bad row is reported (row, column, value, reason) and the order's good
  rows are reported as skipped, pointing at the bad row. Good orders are kept.
* Order-level values (date, customer, currency) are read from the order's first row; later
  rows that differ are errors.
* Rows of one order must be together; a row for an order seen earlier in the file (not the
  row right before) is an error.
* Values are text: a formula (``=SUM(…)``) is not evaluated, HTML is stored as typed and
  shown escaped. A cell longer than 10,000 characters is refused without being stored.
* The import is idempotent on the external order number (source ``import``): an order that
  exists already is counted as a duplicate and not created twice, so running the same file
  again, or resuming after the worker was killed, never duplicates anything.

The file is read as a stream (``csv`` reader, ``openpyxl`` read-only), batch by batch; each
batch's orders and the job's checkpoint (row reached, counts, size of the error report) are
committed in one transaction, so a resumed job continues exactly where the last committed
batch ended and finishes with exact counts.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import itertools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.platform.jobs import Progress, job_handler, job_start
from vefa.platform.models import Job
from vefa.sales.choices import OrderSource
from vefa.sales.models import Order
from vefa.sales.services._common import invalid
from vefa.sales.services.orders_bulk import OrderResult, orders_ingest

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from vefa.accounts.models import User

JOB_KIND = "sales.orders_import"
FOLDER = "imports/orders"
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_CELL = 10_000
# Orders per transaction; a batch also closes after this many lines.
BATCH_ORDERS = 1_000
BATCH_LINES = 4_000

COLUMNS = (
    "external_order_number",
    "ordered_at",
    "customer_email",
    "customer_id",
    "customer_tax_number",
    "currency",
    "sku",
    "description",
    "quantity",
    "unit_price",
    "discount_percent",
    "tax_rate",
)
REQUIRED = ("external_order_number", "currency", "quantity")
CUSTOMER_COLUMNS = ("customer_email", "customer_id", "customer_tax_number")
ORDER_COLUMNS = ("ordered_at", "currency", *CUSTOMER_COLUMNS)
LINE_COLUMNS = ("sku", "description", "quantity", "unit_price", "discount_percent", "tax_rate")
# Service field names (``orders_ingest``) back to the file's columns.
FIELD_COLUMN = {
    "external_id": "external_order_number",
    "customer_id": "customer_id",
    "customer_email": "customer_email",
    "customer_tax_number": "customer_tax_number",
    "currency": "currency",
    "ordered_at": "ordered_at",
}
ERROR_HEADER = ("row", "column", "value", "reason")


# --- reading the file -------------------------------------------------------------------------


def _cell(value: Any) -> str:
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
        return str(Decimal(repr(value))) if value == value else "NaN"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _header(cells: list[Any]) -> list[str]:
    return [_cell(c).strip().lower().replace(" ", "_").lstrip("\ufeff") for c in cells]


def check_header(names: list[str]) -> None:
    """Refuse a file without the required columns, naming the missing ones."""
    missing = [c for c in REQUIRED if c not in names]
    if not any(c in names for c in CUSTOMER_COLUMNS):
        missing.append("customer_email / customer_id")
    if "sku" not in names and "description" not in names:
        missing.append("sku / description")
    if missing:
        raise invalid({"file": [_("Columns missing: %(names)s.") % {"names": ", ".join(missing)}]})


def _csv_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    """CSV rows; the delimiter (comma, semicolon or tab) is the one the header uses most."""
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    try:
        first = text.readline()
        delimiter = max((",", ";", "\t"), key=first.count)
        yield from csv.reader(itertools.chain([first], text), delimiter=delimiter)
    finally:
        # Give the byte stream back unclosed (the caller owns it); it may be closed already.
        with contextlib.suppress(ValueError):
            text.detach()


def _xlsx_rows(stream: IO[bytes]) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    book = load_workbook(stream, read_only=True, data_only=False)
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()


def read_rows(stream: IO[bytes], kind: str) -> Iterator[list[Any]]:
    """The rows of a ``csv`` or ``xlsx`` file, header first, one at a time."""
    return _xlsx_rows(stream) if kind == "xlsx" else _csv_rows(stream)


def file_kind(name: str) -> str:
    ext = os.path.splitext(name or "")[1].lower()
    if ext in (".csv", ".txt"):
        return "csv"
    if ext == ".xlsx":
        return "xlsx"
    raise invalid({"file": [_("Upload a .csv or .xlsx file.")]})


# --- starting ------------------------------------------------------------------------------------


def order_import_start(*, actor: User, upload: UploadedFile) -> Job:
    """Store the uploaded file, check its header and start the import job."""
    if not can_create(actor, Order):
        raise PermissionDenied(_("Your role cannot enter orders."))
    if upload is None:
        raise invalid({"file": [_("Choose a file.")]})
    kind = file_kind(upload.name or "")
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise invalid({"file": [_("The file is larger than 200 MB.")]})
    upload.seek(0)
    try:
        header = next(iter(read_rows(upload, kind)), None)
    except Exception:
        raise invalid(
            {"file": [_("The file could not be read as %(kind)s.") % {"kind": kind}]}
        ) from None
    if header is None:
        raise invalid({"file": [_("The file is empty.")]})
    check_header(_header(header))
    upload.seek(0)
    name = default_storage.save(f"{FOLDER}/{uuid.uuid4().hex}.{kind}", upload)
    title = _("Order import: %(name)s") % {"name": (upload.name or "")[:150]}
    return job_start(
        actor=actor,
        kind=JOB_KIND,
        title=title,
        params={"path": name, "kind": kind, "name": (upload.name or "")[:200]},
    )


# --- the job ------------------------------------------------------------------------------------


@dataclass
class _Order:
    external: str
    rows: list[int] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)
    lines: list[dict[str, str]] = field(default_factory=list)
    errors: list[tuple[int, str, str, str]] = field(default_factory=list)


@dataclass
class Counts:
    rows: int = 0
    lines: int = 0
    created: int = 0
    duplicate: int = 0
    error_orders: int = 0
    error_rows: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _safe(value: str) -> str:
    """A value for the error report: short, and never a formula in a spreadsheet."""
    text = value[:200]
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


class _ErrorReport:
    """The CSV of bad rows; truncated to the checkpoint's size when a job resumes."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        path = default_storage.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        exists = os.path.exists(path)
        self.handle = open(path, "r+b" if exists else "w+b")  # noqa: SIM115
        self.handle.truncate(size)
        self.handle.seek(size)
        if size == 0:
            self._write([ERROR_HEADER])

    def _write(self, rows: list[tuple[Any, ...]]) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerows(rows)
        self.handle.write(buffer.getvalue().encode("utf-8"))

    def rewind(self, size: int) -> None:
        self.handle.truncate(size)
        self.handle.seek(size)

    def add(self, rows: list[tuple[int, str, str, str]]) -> int:
        if rows:
            self._write([(r, c, _safe(v), reason) for r, c, v, reason in rows])
        self.handle.flush()
        os.fsync(self.handle.fileno())
        return self.handle.tell()

    def close(self) -> None:
        self.handle.close()


def _check_row(number: int, row: dict[str, str]) -> list[tuple[int, str, str, str]]:
    problems = []
    for column, value in row.items():
        if len(value) > MAX_CELL:
            problems.append(
                (number, column, value[:50], _("At most %(n)d characters.") % {"n": MAX_CELL})
            )
            row[column] = ""
        elif "\x00" in value:
            problems.append((number, column, value, _("Null characters are not allowed.")))
    return problems


def _order_dict(group: _Order) -> dict[str, Any]:
    header = group.header
    data: dict[str, Any] = {
        "external_id": group.external,
        "currency": header.get("currency", ""),
        "lines": [
            {k: v for k, v in line.items() if v != "" or k == "quantity"} for line in group.lines
        ],
    }
    ordered = header.get("ordered_at", "")
    if ordered:
        if len(ordered) == 10:
            ordered = f"{ordered}T00:00:00"
        data["ordered_at"] = ordered
    for column in CUSTOMER_COLUMNS:
        if header.get(column):
            data[column] = header[column]
    return data


def _errors_to_rows(group: _Order, result: OrderResult) -> list[tuple[int, str, str, str]]:
    """The service's field errors as (row, column, value, reason) of the file."""
    rows: list[tuple[int, str, str, str]] = []
    for name, messages in result.errors.items():
        reason = " ".join(messages)
        parts = name.split(".")
        if parts[0] == "lines" and len(parts) >= 2 and parts[1].isdigit():
            index = int(parts[1])
            column = parts[2] if len(parts) > 2 else ""
            number = group.rows[index] if index < len(group.rows) else group.rows[0]
            value = group.lines[index].get(column, "") if index < len(group.lines) else ""
            rows.append((number, column, value, reason))
        else:
            column = FIELD_COLUMN.get(name, name if name in COLUMNS else "")
            rows.append((group.rows[0], column, group.header.get(column, ""), reason))
    return rows


def _skipped(
    group: _Order, bad: list[tuple[int, str, str, str]]
) -> list[tuple[int, str, str, str]]:
    bad_rows = {r[0] for r in bad}
    first = min(bad_rows)
    reason = _("Not imported: row %(row)d of this order has an error.") % {"row": first}
    return [(n, "", "", reason) for n in group.rows if n not in bad_rows]


def run_import(
    job: Job,
    report: Progress,
    *,
    after_batch: Any = None,
) -> dict[str, Any]:
    """Run (or resume) an import job; returns the final counts and the error report's name.

    ``after_batch`` (tests, benchmarks) is called with the batch count after each commit.
    """
    from vefa.accounts.models import User

    params = job.params or {}
    actor = (
        User.objects.filter(pk=job.user_id, is_active=True).first()
        if job.user_id is not None
        else None
    )
    if actor is None:
        raise PermissionDenied(_("The user who started the import is no longer active."))
    path = params.get("path")
    kind = params.get("kind", "csv")
    if not isinstance(path, str) or not default_storage.exists(path):
        raise NotFound(_("The uploaded file is gone."))
    checkpoint = dict(job.checkpoint or {})
    resume_row = int(checkpoint.get("row", 0))
    counts = Counts(**{k: int(checkpoint.get(k, 0)) for k in Counts().as_dict()})
    errors_name = f"{FOLDER}/job-{job.pk}-errors.csv"
    errors = _ErrorReport(errors_name, int(checkpoint.get("errors_bytes", 0)))
    total = int(checkpoint.get("total", 0)) or _count_rows(path, kind)
    seen: set[int] = {hash(x) for x in checkpoint.get("seen_tail", [])}
    batches = 0
    try:
        with default_storage.open(path, "rb") as stream:
            rows = read_rows(stream, kind)
            header_cells = next(rows, None)
            if header_cells is None:
                raise ValidationFailed(_("The file is empty."))
            names = _header(header_cells)
            check_header(names)
            index = {n: i for i, n in enumerate(names) if n in COLUMNS}
            batch: list[_Order] = []
            batch_lines = 0
            current: _Order | None = None
            number = 1  # the header is row 1
            for cells in rows:
                number += 1
                if number <= resume_row:
                    continue
                if not any(c not in (None, "") for c in cells):
                    continue
                row = {
                    c: (_cell(cells[i]).strip() if i < len(cells) else "") for c, i in index.items()
                }
                counts.rows += 1
                external = row.get("external_order_number", "")
                if current is None or external != current.external:
                    if current is not None:
                        batch.append(current)
                        batch_lines += len(current.rows)
                        seen.add(hash(current.external))
                    if len(batch) >= BATCH_ORDERS or batch_lines >= BATCH_LINES:
                        last_row = batch[-1].rows[-1]
                        _flush(actor, batch, counts, errors, job, report, last_row, total, seen)
                        batches += 1
                        if after_batch is not None:
                            after_batch(batches)
                        batch, batch_lines = [], 0
                    current = _Order(external=external)
                _add_row(current, number, row, seen)
            if current is not None:
                batch.append(current)
                seen.add(hash(current.external))
            if batch:
                _flush(actor, batch, counts, errors, job, report, number, total, seen)
                batches += 1
                if after_batch is not None:
                    after_batch(batches)
    finally:
        errors.close()
    result: dict[str, Any] = dict(counts.as_dict())
    result["errors_file"] = errors_name if counts.error_rows else ""
    report(counts.rows, max(total, counts.rows), message=summary(result))
    return result


def _add_row(group: _Order, number: int, row: dict[str, str], seen: set[int]) -> None:
    group.rows.append(number)
    group.errors.extend(_check_row(number, row))
    if not group.external:
        group.errors.append((number, "external_order_number", "", _("This field is required.")))
    elif hash(group.external) in seen:
        group.errors.append(
            (
                number,
                "external_order_number",
                group.external,
                _("The rows of one order must be next to each other."),
            )
        )
    if len(group.external) > 100:
        group.errors.append(
            (number, "external_order_number", group.external, _("At most 100 characters."))
        )
    if not group.header:
        group.header = {c: row.get(c, "") for c in ORDER_COLUMNS}
    else:
        for column in ORDER_COLUMNS:
            if row.get(column, "") and row.get(column, "") != group.header.get(column, ""):
                group.errors.append(
                    (
                        number,
                        column,
                        row[column],
                        _("Differs from the first row of this order."),
                    )
                )
    group.lines.append({c: row.get(c, "") for c in LINE_COLUMNS})


def _flush(
    actor: User,
    batch: list[_Order],
    counts: Counts,
    errors: _ErrorReport,
    job: Job,
    report: Progress,
    last_row: int,
    total: int,
    seen: set[int],
) -> None:
    """Write one batch; its checkpoint commits with its orders."""
    good = [g for g in batch if not g.errors]
    bad_rows: list[tuple[int, str, str, str]] = []
    for group in batch:
        if group.errors:
            counts.error_orders += 1
            bad_rows.extend(group.errors)
            bad_rows.extend(_skipped(group, group.errors))
    state: dict[str, Any] = {}
    start = errors.handle.tell()

    def after_write(results: list[OrderResult]) -> None:
        local = Counts(**counts.as_dict())
        extra: list[tuple[int, str, str, str]] = []
        for group, result in zip(good, results, strict=True):
            if result.status == "created":
                local.created += 1
                local.lines += len(group.lines)
            elif result.status == "duplicate":
                local.duplicate += 1
            else:
                local.error_orders += 1
                found = _errors_to_rows(group, result)
                extra.extend(found)
                extra.extend(_skipped(group, found))
        rows = sorted(bad_rows + extra)
        local.error_rows += len(rows)
        errors.rewind(start)  # a retried transaction writes its rows once
        size = errors.add(rows)
        checkpoint = {
            **local.as_dict(),
            "row": last_row,
            "errors_bytes": size,
            "total": total,
            # Orders of the last batch, to recognise rows split off from them.
            "seen_tail": [g.external for g in batch][-50:],
        }
        Job.objects.filter(pk=job.pk).update(checkpoint=checkpoint, heartbeat_at=timezone.now())
        state["counts"] = local
        state["checkpoint"] = checkpoint

    orders = [_order_dict(g) for g in good]
    orders_ingest(actor=actor, orders=orders, source=OrderSource.IMPORT, after_write=after_write)
    local: Counts = state["counts"]
    for key, value in local.as_dict().items():
        setattr(counts, key, value)
    job.checkpoint = state["checkpoint"]
    report(counts.rows, max(total, counts.rows), checkpoint=state["checkpoint"])


def _count_rows(path: str, kind: str) -> int:
    """The number of data rows, for the progress bar (lines of a CSV, rows of the sheet)."""
    if kind == "xlsx":
        from openpyxl import load_workbook

        with default_storage.open(path, "rb") as stream:
            book = load_workbook(stream, read_only=True)
            try:
                sheet = book.worksheets[0]
                return max(0, int(sheet.max_row or 0) - 1)
            finally:
                book.close()
    lines = 0
    with default_storage.open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            lines += chunk.count(b"\n")
    return max(0, lines - 1)


def summary(result: dict[str, Any]) -> str:
    return _(
        "%(created)d orders created with %(lines)d lines, %(duplicate)d already there, "
        "%(error_orders)d not imported (%(error_rows)d rows reported)."
    ) % {
        "created": result.get("created", 0),
        "lines": result.get("lines", 0),
        "duplicate": result.get("duplicate", 0),
        "error_orders": result.get("error_orders", 0),
        "error_rows": result.get("error_rows", 0),
    }


@job_handler(JOB_KIND)
def orders_import_job(job: Job, report: Progress) -> dict[str, Any]:
    return run_import(job, report)

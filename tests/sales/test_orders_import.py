"""Importing order lines from CSV and XLSX files: hostile values, errors, kill and re-run."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.sales.conftest import HOSTILE
from vefa.common.errors import PermissionDenied, ValidationFailed
from vefa.interactions.models import Interaction
from vefa.platform.jobs import job_run
from vefa.platform.models import ChangeLogEntry, Job
from vefa.sales.models import Order, OrderLine
from vefa.sales.services import orders_import
from vefa.sales.services.orders_import import order_import_start

pytestmark = pytest.mark.django_db

HEADER = [
    "external_order_number",
    "ordered_at",
    "customer_email",
    "customer_id",
    "currency",
    "sku",
    "description",
    "quantity",
    "unit_price",
    "discount_percent",
    "tax_rate",
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def csv_bytes(rows: list[list[object]], header: list[str] = HEADER, delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def start(actor, content: bytes, name: str = "orders.csv", capture=None) -> Job:
    upload = SimpleUploadedFile(name, content)
    if capture is None:
        return order_import_start(actor=actor, upload=upload)
    with capture(execute=True):
        job = order_import_start(actor=actor, upload=upload)
    job.refresh_from_db()
    return job


def error_report(job: Job) -> list[list[str]]:
    name = job.result["errors_file"]
    with default_storage.open(name, "rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode("utf-8"))))


def good_rows(customer, count: int, prefix: str = "IMP") -> list[list[object]]:
    rows = []
    for i in range(count):
        for sku in ("KHV-001", "KHV-001"):
            rows.append(
                [
                    f"{prefix}-{i}",
                    "2026-05-01",
                    "",
                    customer.pk,
                    "TRY",
                    sku,
                    "",
                    "2",
                    "10.50",
                    "",
                    "20",
                ]
            )
    return rows


def test_csv_import_creates_orders_and_reports_bad_rows(
    admin_user, own_customer, product, django_capture_on_commit_callbacks
):
    rows = good_rows(own_customer, 2)
    rows += [
        # An order with one bad line: the whole order is skipped, both rows reported.
        ["BAD-1", "2026-05-01", "", own_customer.pk, "TRY", "KHV-001", "", "0", "1", "", ""],
        ["BAD-1", "2026-05-01", "", own_customer.pk, "TRY", "KHV-001", "", "1", "1", "", ""],
        ["BAD-2", "2026-05-01", "", own_customer.pk, "TRY", "KHV-001", "", "-3", "1", "", ""],
        ["BAD-3", "2026-05-01", "", own_customer.pk, "TRY", "KHV-001", "", "=1+1", "1", "", ""],
        ["BAD-4", "yesterday", "", own_customer.pk, "TRY", "KHV-001", "", "1", "1", "", ""],
        ["BAD-5", "2026-05-01", "", "abc", "TRY", "KHV-001", "", "1", "1", "", ""],
        ["BAD-6", "2026-05-01", "", own_customer.pk, "EURO", "KHV-001", "", "1", "1", "", ""],
        ["BAD-7", "2026-05-01", "", own_customer.pk, "TRY", "UNKNOWN", "", "1", "", "", ""],
        ["BAD-8", "2026-05-01", "", own_customer.pk, "TRY", "", "x" * 20_000, "1", "1", "", ""],
        ["BAD-9", "2026-05-01", "", own_customer.pk, "TRY", "KHV-001", "", "1", "1", "150", ""],
        # Hostile text is stored as typed; an unknown SKU with text and price is kept.
        *[
            [f"H-{i}", "2026-05-01", "", own_customer.pk, "TRY", "GIFT", text, "1", "5", "", ""]
            for i, text in enumerate(HOSTILE)
        ],
    ]
    job = start(admin_user, csv_bytes(rows), capture=django_capture_on_commit_callbacks)
    assert job.status == Job.Status.SUCCEEDED, job.message
    result = job.result
    assert result["created"] == 2 + len(HOSTILE)
    assert result["lines"] == 4 + len(HOSTILE)
    assert result["error_orders"] == 9
    assert result["error_rows"] == 10
    assert Order.objects.filter(source="import").count() == 2 + len(HOSTILE)
    order = Order.objects.get(external_id="IMP-0")
    assert order.total == Decimal("50.40")  # 2 lines of 2 × 10.50 + 20 % tax
    assert order.lines.count() == 2
    gift = Order.objects.get(external_id="H-1")
    line = gift.lines.get()
    assert line.product is None and line.sku == "GIFT" and line.description == HOSTILE[1]
    report = error_report(job)
    assert report[0] == ["row", "column", "value", "reason"]
    by_row = {int(r[0]): r for r in report[1:]}
    assert by_row[6][1] == "quantity"  # BAD-1 first row
    assert "row 6" in by_row[7][3]  # BAD-1's good row is reported as skipped
    assert by_row[9][2] == "'=1+1"  # formulas are defused in the report
    assert by_row[10][1] == "ordered_at"
    assert by_row[11][1] == "customer_id"
    assert by_row[12][1] == "currency"
    assert by_row[13][1] == "sku"
    assert by_row[14][1] == "description"
    assert by_row[15][1] == "discount_percent"
    assert Interaction.objects.filter(kind="purchase").count() == 2 + len(HOSTILE)
    assert ChangeLogEntry.objects.filter(model="sales.order").count() == 2 + len(HOSTILE)


def test_xlsx_import_with_numbers_dates_and_formulas(
    admin_user, own_customer, product, django_capture_on_commit_callbacks
):
    import datetime

    rows = [
        [
            "X-1",
            datetime.datetime(2026, 5, 1, 9, 30),
            "",
            own_customer.pk,
            "TRY",
            "KHV-001",
            "",
            3,
            19.99,
            10,
            20,
        ],
        ["X-2", "2026-05-02", "", own_customer.pk, "TRY", "KHV-001", "", "=2*3", 1, None, None],
        ["X-3", "2026-05-02", "", own_customer.pk, "TRY", "KHV-001", "", True, 1, None, None],
        ["X-4", "2026-05-02", "", own_customer.pk, "IRR", "", "خدمات", 1, "1000.6", None, "9"],
    ]
    job = start(
        admin_user, xlsx_bytes(rows), name="orders.xlsx", capture=django_capture_on_commit_callbacks
    )
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.result["created"] == 2
    first = Order.objects.get(external_id="X-1").lines.get()
    assert first.unit_price == Decimal("19.99")
    assert first.discount_percent == Decimal("10")
    assert first.net == Decimal("53.97")  # 3 × 19.99 − 10 %
    irr = Order.objects.get(external_id="X-4")
    assert irr.total == Decimal("1091")  # IRR has no decimals: 1001 + 9 % tax, rounded
    report = error_report(job)
    columns = {int(r[0]): r[1] for r in report[1:]}
    assert columns == {3: "quantity", 4: "quantity"}


def test_missing_columns_and_wrong_files_are_refused_before_the_job(admin_user):
    with pytest.raises(ValidationFailed) as info:
        start(admin_user, csv_bytes([], header=["sku", "quantity"]))
    assert "external_order_number" in str(info.value.fields["file"])
    with pytest.raises(ValidationFailed):
        start(admin_user, b"", name="orders.csv")
    with pytest.raises(ValidationFailed):
        start(admin_user, b"MZ\x90\x00", name="orders.exe")
    with pytest.raises(ValidationFailed):
        start(admin_user, b"not a zip", name="orders.xlsx")
    assert Job.objects.count() == 0


def test_semicolon_csv_and_customer_email(
    admin_user, own_customer, product, django_capture_on_commit_callbacks
):
    from vefa.customers.models import ContactPoint

    ContactPoint.objects.create(
        customer=own_customer, kind="email", value="a@b.tr", normalized="a@b.tr"
    )
    rows = [["S-1", "", "A@B.TR", "", "TRY", "KHV-001", "", "1", "", "", ""]]
    job = start(
        admin_user, csv_bytes(rows, delimiter=";"), capture=django_capture_on_commit_callbacks
    )
    assert job.result["created"] == 1
    line = Order.objects.get().lines.get()
    assert line.unit_price == Decimal("120.00")  # from the product's list price


def test_service_agent_cannot_import(own_customer):
    from tests.factories import UserFactory

    agent = UserFactory(role="service_agent")
    with pytest.raises(PermissionDenied):
        start(agent, csv_bytes(good_rows(own_customer, 1)))


class Killed(BaseException):
    """Stands for the worker being killed: not an Exception, so nothing catches it."""


def test_kill_half_way_then_rerun_creates_no_duplicates(
    admin_user, own_customer, product, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(orders_import, "BATCH_ORDERS", 10)
    rows = good_rows(own_customer, 95)
    rows.insert(
        50, ["ERR-1", "2026-05-01", "", own_customer.pk, "TRY", "KHV-001", "", "0", "1", "", ""]
    )
    content = csv_bytes(rows)
    with django_capture_on_commit_callbacks(execute=False):
        job = order_import_start(actor=admin_user, upload=SimpleUploadedFile("o.csv", content))

    real = orders_import.run_import

    def killed_after_four(job, report, **kwargs):
        def after_batch(count):
            if count == 4:
                raise Killed

        return real(job, report, after_batch=after_batch)

    monkeypatch.setattr(orders_import, "run_import", killed_after_four)
    from vefa.platform import jobs

    monkeypatch.setitem(
        jobs._handlers, orders_import.JOB_KIND, lambda j, r: orders_import.run_import(j, r)
    )
    with pytest.raises(Killed):
        job_run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING  # the worker died mid-run
    # Four committed batches of ten orders, one of which (ERR-1) was refused.
    assert Order.objects.count() == 39
    assert job.checkpoint["created"] == 39
    assert job.checkpoint["error_orders"] == 1

    # The worker is gone; the job is picked up again and resumes after the last batch.
    monkeypatch.setattr(orders_import, "run_import", real)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=None)
    finished = job_run(job.pk)
    assert finished is not None and finished.status == Job.Status.SUCCEEDED, finished.message
    assert finished.result["created"] == 95
    assert finished.result["duplicate"] == 0
    assert finished.result["lines"] == 190
    assert finished.result["error_orders"] == 1
    assert finished.result["error_rows"] == 1
    assert Order.objects.count() == 95
    assert OrderLine.objects.count() == 190
    assert len(set(Order.objects.values_list("external_id", flat=True))) == 95
    assert Interaction.objects.filter(kind="purchase").count() == 95
    report = error_report(finished)
    assert len(report) == 2  # header and the one bad row, written once

    # The whole file again (a user re-runs it): only duplicates.
    again = start(admin_user, content, capture=django_capture_on_commit_callbacks)
    assert again.result["created"] == 0
    assert again.result["duplicate"] == 95
    assert Order.objects.count() == 95

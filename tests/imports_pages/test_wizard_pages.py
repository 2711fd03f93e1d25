"""The wizard's pages through the test client: upload → mapping → preview → run → undo,
permissions (404 for roles without imports), invalid uploads, hostile cells shown as text."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.imports_pages.conftest import HOSTILE, csv_bytes, upload
from vefa.customers.models import Customer
from vefa.imports.models import ImportRun, RunStatus

pytestmark = pytest.mark.django_db

HEADER = ["Ad Soyad", "E-posta", "Telefon"]
ROWS = [
    ["Ayşe Yılmaz", "ayse@example.com", "+90 532 111 22 33"],
    ["Çağrı Öztürk", "cagri@example.com", ""],
    ["Bad Mail", "not-an-email", ""],
]


def _file(data: bytes, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def _upload(client, data: bytes, *, entity="customers", name="people.csv"):
    return client.post(
        reverse("imports:upload"), {"entity": entity, "file": _file(data, name), "source": ""}
    )


def _mapping_post(run: ImportRun, **extra) -> dict[str, str]:
    data = {f"col-{i}": run.columns.get(h, "") for i, h in enumerate(run.headers)}
    data.update({"match_key": run.match_key, "on_match": run.on_match, "source": ""})
    data.update(extra)
    return data


def test_whole_wizard(client, manager, django_capture_on_commit_callbacks):
    client.force_login(manager)
    assert client.get(reverse("imports:run_list")).status_code == 200
    page = client.get(reverse("imports:upload"))
    assert page.status_code == 200 and b'name="entity"' in page.content
    response = _upload(client, csv_bytes(ROWS, HEADER))
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert response["Location"] == reverse("imports:mapping", args=[run.pk])

    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "UTF-8" in body and "Ad Soyad" in body and "data-field-filter" in body
    assert "ayse@example.com" in body  # the examples column

    response = client.post(
        reverse("imports:mapping", args=[run.pk]), _mapping_post(run, source="CRM export")
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:preview", args=[run.pk])
    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-count="create"' in body
    assert "table-danger" in body  # the bad e-mail's cell

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:start", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert (run.created, run.error_rows) == (2, 1)
    assert Customer.objects.filter(display_name="Çağrı Öztürk").exists()

    page = client.get(reverse("imports:run_detail", args=[run.pk]))
    body = page.content.decode()
    assert 'data-count="created">2<' in body
    assert reverse("imports:errors", args=[run.pk]) in body
    assert reverse("imports:undo", args=[run.pk]) in body
    assert "every 1s" not in body  # finished: no more polling

    download = client.get(reverse("imports:errors", args=[run.pk]))
    assert download.status_code == 200
    assert b"not-an-email" in b"".join(download.streaming_content)

    listing = client.get(reverse("imports:run_list")).content.decode()
    assert "people.csv" in listing and "Done" in listing

    response = client.post(reverse("imports:undo", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.UNDONE
    assert not Customer.objects.filter(display_name="Çağrı Öztürk").exists()
    # A second run of the same mapping remembers it for the source.
    from vefa.imports.models import ImportMapping

    assert ImportMapping.objects.filter(source="CRM export").exists()


def test_progress_partial_polls_while_running(client, manager):
    client.force_login(manager)
    run = upload(manager, csv_bytes(ROWS, HEADER), entity="customers")
    ImportRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    body = client.get(reverse("imports:run_progress", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in body
    assert reverse("imports:run_progress", args=[run.pk]) in body


@pytest.mark.parametrize("url", ["imports:run_list", "imports:upload"])
def test_sales_rep_gets_404(client, rep, url):
    client.force_login(rep)
    assert client.get(reverse(url)).status_code == 404


def test_others_run_is_404_on_every_page(client, manager, rep, marketer):
    run = upload(manager, csv_bytes(ROWS, HEADER), entity="customers")
    for user in (rep, marketer):
        client.force_login(user)
        for name in ("run_detail", "mapping", "preview", "run_progress", "errors"):
            assert client.get(reverse(f"imports:{name}", args=[run.pk])).status_code == 404, name
        for name in ("start", "undo", "layout"):
            assert client.post(reverse(f"imports:{name}", args=[run.pk])).status_code == 404, name
    assert ImportRun.objects.get(pk=run.pk).status == RunStatus.UPLOADED


def test_a_run_not_started_opens_on_its_mapping(client, manager):
    run = upload(manager, csv_bytes(ROWS, HEADER), entity="customers")
    client.force_login(manager)
    response = client.get(reverse("imports:run_detail", args=[run.pk]))
    assert response["Location"] == reverse("imports:mapping", args=[run.pk])
    body = client.get(reverse("imports:run_progress", args=[run.pk])).content.decode()
    assert "every 1s" not in body


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(reverse("imports:run_list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_upload_offers_only_what_the_role_may_import(client, marketer):
    client.force_login(marketer)
    body = client.get(reverse("imports:upload")).content.decode()
    assert 'value="interactions"' in body
    assert 'value="products"' not in body  # marketers do not keep the catalogue
    response = _upload(
        client, csv_bytes([["A", "1", "TRY"]], ["sku", "name", "currency"]), entity="products"
    )
    assert response.status_code == 422
    assert not ImportRun.objects.exists()


def test_empty_file(client, manager):
    client.force_login(manager)
    response = _upload(client, b"")
    assert response.status_code == 422
    assert "empty" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_header_only_blank_file(client, manager):
    client.force_login(manager)
    response = _upload(client, b"\n\n\n")
    assert response.status_code == 422
    assert not ImportRun.objects.exists()


def test_wrong_type(client, manager):
    client.force_login(manager)
    response = _upload(client, b"%PDF-1.4 not a table", name="people.pdf")
    assert response.status_code == 422
    assert ".csv" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_xlsx_that_is_no_zip(client, manager):
    client.force_login(manager)
    response = _upload(client, b"this is not a workbook", name="people.xlsx")
    assert response.status_code == 422
    assert not ImportRun.objects.exists()


def test_too_big(client, manager, monkeypatch):
    from vefa.imports import services

    monkeypatch.setattr(services, "MAX_FILE_BYTES", 1024)
    client.force_login(manager)
    response = _upload(client, csv_bytes([["x" * 50, "a@example.com", ""]] * 40, HEADER))
    assert response.status_code == 422
    assert "larger than" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_zip_bomb_xlsx(client, manager):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (50 * 1024 * 1024))
    client.force_login(manager)
    response = _upload(client, buffer.getvalue(), name="bomb.xlsx")
    assert response.status_code == 422
    assert not ImportRun.objects.exists()


def test_unknown_entity(client, manager):
    client.force_login(manager)
    response = _upload(client, csv_bytes(ROWS, HEADER), entity="<script>")
    assert response.status_code == 422
    assert b"<script>" not in response.content.split(b"<main")[-1].replace(b"<script src", b"")


def test_hostile_cells_are_shown_as_text(client, manager):
    rows = [[text, f"h{i}@example.com", ""] for i, text in enumerate(HOSTILE)]
    rows.append(["<img src=x onerror=alert(1)>", "<b>bad</b>", ""])
    run = upload(
        manager, csv_bytes(rows, [*HEADER, "<script>alert('h')</script>"]), entity="customers"
    )
    client.force_login(manager)
    for name in ("mapping", "preview"):
        body = client.get(reverse(f"imports:{name}", args=[run.pk])).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "<script>alert('h')</script>" not in body
        assert "<img src=x" not in body
        assert "<b>bad</b>" not in body
    body = client.get(reverse("imports:preview", args=[run.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;b&gt;bad&lt;/b&gt;" in body
    assert "=cmd|" in body  # a formula is shown as typed, never evaluated
    assert "مریم رضایی" in body


def test_mapping_errors_are_shown(client, manager):
    run = upload(manager, csv_bytes(ROWS, HEADER), entity="customers")
    client.force_login(manager)
    post = _mapping_post(run)
    post["col-1"] = post["col-0"] = "email"
    response = client.post(reverse("imports:mapping", args=[run.pk]), post)
    assert response.status_code == 422
    post = {f"col-{i}": "" for i in range(len(run.headers))}
    post.update({"match_key": "", "on_match": "update"})
    response = client.post(reverse("imports:mapping", args=[run.pk]), post)
    assert response.status_code == 422
    post = _mapping_post(run, col_0="x")
    post["col-0"] = "no_such_field"
    response = client.post(reverse("imports:mapping", args=[run.pk]), post)
    assert response.status_code == 422
    post = _mapping_post(run, match_key="'; DROP TABLE x; --", on_match="delete")
    response = client.post(reverse("imports:mapping", args=[run.pk]), post)
    assert response.status_code == 422
    run.refresh_from_db()
    assert run.status == RunStatus.UPLOADED


def test_layout_can_be_corrected(client, manager):
    data = csv_bytes(ROWS, HEADER, delimiter=";")
    run = upload(manager, data, entity="customers")
    assert run.delimiter == ";"
    client.force_login(manager)
    response = client.post(
        reverse("imports:layout", args=[run.pk]), {"encoding": "cp1254", "delimiter": ","}
    )
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.encoding, run.delimiter) == ("cp1254", ",")
    assert len(run.headers) == 1  # read with the wrong delimiter: one column
    response = client.post(
        reverse("imports:layout", args=[run.pk]), {"encoding": "utf-8", "delimiter": ";"}
    )
    run.refresh_from_db()
    assert run.headers == HEADER
    bad = client.post(
        reverse("imports:layout", args=[run.pk]), {"encoding": "ebcdic", "delimiter": "x"}
    )
    assert bad.status_code == 422


def test_started_run_cannot_be_mapped_again(client, manager, django_capture_on_commit_callbacks):
    run = upload(manager, csv_bytes(ROWS, HEADER), entity="customers")
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:start", args=[run.pk]))
    response = client.get(reverse("imports:mapping", args=[run.pk]))
    assert response.status_code == 302
    again = client.post(reverse("imports:start", args=[run.pk]))
    assert again.status_code == 302
    assert ImportRun.objects.get(pk=run.pk).created == 2


def test_list_pages_and_shows_each_status(client, manager):
    for i in range(3):
        upload(manager, csv_bytes(ROWS, HEADER), entity="customers", name=f"f{i}.csv")
    client.force_login(manager)
    from vefa.imports.views import wizard

    wizard.PAGE_SIZE = 2
    try:
        body = client.get(reverse("imports:run_list")).content.decode()
        assert body.count("Uploaded") >= 2 and "before=" in body
        last = ImportRun.objects.order_by("pk").first()
        more = client.get(
            reverse("imports:run_list"),
            {"before": ImportRun.objects.order_by("-pk")[1].pk},
            HTTP_HX_REQUEST="true",
        )
        assert "f0.csv" in more.content.decode() and last is not None
    finally:
        wizard.PAGE_SIZE = 50
    assert client.get(reverse("imports:run_list"), {"before": "x'"}).status_code == 200


def test_xlsx_through_the_pages(client, manager, product, django_capture_on_commit_callbacks):
    from openpyxl import Workbook

    from vefa.sales.models import Product

    book = Workbook()
    sheet = book.active
    sheet.append(["SKU", "Name", "List price", "Currency"])
    sheet.append(["TEA-1", "Çay (yeni)", 55.5, "TRY"])
    sheet.append(["MUG-1", '=HYPERLINK("http://x")', 12, "TRY"])
    buffer = io.BytesIO()
    book.save(buffer)
    client.force_login(manager)
    response = client.post(
        reverse("imports:upload"),
        {
            "entity": "products",
            "file": SimpleUploadedFile("products.xlsx", buffer.getvalue()),
        },
    )
    assert response.status_code == 302
    run = ImportRun.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert 'name="encoding"' not in page  # a workbook has no encoding to correct
    assert run.columns == {
        "SKU": "sku",
        "Name": "name",
        "List price": "list_price",
        "Currency": "currency",
    }
    client.post(reverse("imports:mapping", args=[run.pk]), _mapping_post(run))
    body = client.get(reverse("imports:preview", args=[run.pk])).content.decode()
    assert "Update: 1" in body and "Create: 1" in body
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:start", args=[run.pk]))
    run.refresh_from_db()
    assert (run.created, run.updated) == (1, 1)
    assert Product.objects.get(sku="MUG-1").name == '=HYPERLINK("http://x")'
    assert Product.objects.get(sku="TEA-1").name == "Çay (yeni)"

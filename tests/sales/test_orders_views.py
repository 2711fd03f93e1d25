"""The order pages: list with filters, detail, the form with line rows, status buttons,
shipments, payments, the import page, and who may see or do what."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import UserFactory
from tests.sales.conftest import HOSTILE
from vefa.interactions.models import Interaction
from vefa.platform.models import ChangeLogEntry
from vefa.sales.models import Order
from vefa.sales.services.orders import order_create

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_order(actor, customer, **extra) -> Order:
    return order_create(
        actor=actor,
        customer=customer,
        lines=[
            {"description": "Danışmanlık", "quantity": "2", "unit_price": "100", "tax_rate": "20"}
        ],
        currency="TRY",
        **extra,
    )


def test_list_shows_own_orders_and_filters(rep, own_customer, other_customer, rep_other_team):
    mine = make_order(rep, own_customer, notes=HOSTILE[0])
    theirs = make_order(rep_other_team, other_customer)
    client = login(rep)
    page = client.get("/sales/orders/")
    assert page.status_code == 200
    assert mine.number in page.content.decode()
    assert theirs.number not in page.content.decode()
    draft = client.get("/sales/orders/?status=draft&source=manual&date_from=2000-01-01")
    assert mine.number in draft.content.decode()
    none = client.get("/sales/orders/?status=paid")
    assert mine.number not in none.content.decode()
    bad = client.get("/sales/orders/?status=nonsense&owner=abc&date_from=yesterday")
    assert bad.status_code == 200
    assert "ignored" in bad.content.decode()
    partial = client.get("/sales/orders/?status=draft", headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode()


def test_detail_shows_lines_purchase_and_escapes(rep, own_customer):
    order = make_order(rep, own_customer, notes=HOSTILE[0])
    page = login(rep).get(f"/sales/orders/{order.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Danışmanlık" in body
    assert "<script>alert(1)</script>" not in body
    purchase = Interaction.objects.get(related_model="sales.order", related_id=order.pk)
    assert f"/interactions/{purchase.pk}/" in body


def test_create_order_from_the_form(rep, own_customer, product):
    client = login(rep)
    assert client.get(f"/sales/orders/new/?customer={own_customer.pk}").status_code == 200
    response = client.post(
        "/sales/orders/new/",
        {
            "customer_id": own_customer.pk,
            "currency": "TRY",
            "ordered_at": "2026-05-01T10:00",
            "owner": rep.pk,
            "lines-0-sku": "KHV-001",
            "lines-0-quantity": "2",
            "lines-3-description": "Kurulum",
            "lines-3-quantity": "1",
            "lines-3-unit_price": "50",
            "lines-7-description": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get()
    assert order.lines.count() == 2
    assert order.total == Decimal("338.00")  # 2 × 120 + 20 % and 50 without tax
    assert order.owner == rep


def test_create_form_errors_keep_the_rows(rep, own_customer):
    client = login(rep)
    response = client.post(
        "/sales/orders/new/",
        {
            "customer_id": own_customer.pk,
            "currency": "TRY",
            "owner": rep.pk,
            "lines-0-description": "<b>x</b>",
            "lines-0-quantity": "-1",
            "lines-0-unit_price": "abc",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in body
    assert Order.objects.count() == 0
    no_lines = client.post(
        "/sales/orders/new/", {"customer_id": own_customer.pk, "currency": "TRY", "owner": rep.pk}
    )
    assert no_lines.status_code == 422
    no_customer = client.post(
        "/sales/orders/new/",
        {"currency": "TRY", "owner": rep.pk, "lines-0-description": "x", "lines-0-unit_price": "1"},
    )
    assert no_customer.status_code == 422


def test_line_row_fills_price_from_price_for(rep, own_customer, product):
    client = login(rep)
    row = client.get(
        "/sales/orders/line-row/",
        {
            "index": "2",
            "lines-2-sku": "KHV-001",
            "lines-2-quantity": "1",
            "currency": "TRY",
            "customer_id": own_customer.pk,
        },
    )
    body = row.content.decode()
    assert row.status_code == 200
    assert 'value="120"' in body
    assert "Türk kahvesi" in body
    added = client.get("/sales/orders/line-row/", {"index": "5", "add": "1"})
    assert 'name="lines-5-sku"' in added.content.decode()
    assert "index=6" in added.content.decode()


def test_status_buttons_shipments_and_payments(rep, own_customer):
    order = make_order(rep, own_customer)
    client = login(rep)
    url = f"/sales/orders/{order.pk}/"
    skip = client.post(f"{url}status/", {"status": "delivered"})
    assert skip.status_code == 302
    order.refresh_from_db()
    assert order.status == "draft"
    client.post(f"{url}status/", {"status": "confirmed", "version": order.version})
    order.refresh_from_db()
    assert order.status == "confirmed" and order.confirmed_at is not None
    client.post(
        f"{url}shipments/", {"carrier": "Yurtiçi", "tracking_number": "YK1", "status": "in_transit"}
    )
    order.refresh_from_db()
    assert order.status == "shipped"
    shipment = order.shipments.get()
    client.post(f"/sales/shipments/{shipment.pk}/status/", {"status": "delivered"})
    order.refresh_from_db()
    assert order.status == "delivered"
    bad = client.post(f"{url}payments/", {"amount": "1000000", "method": "cash"})
    assert bad.status_code == 422
    client.post(f"{url}payments/", {"amount": "240", "method": "cash"})
    order.refresh_from_db()
    assert order.paid_total == Decimal("240.00")
    page = client.get(url).content.decode()
    assert "Yurtiçi" in page


def test_stale_version_is_refused_on_the_status_button(rep, own_customer):
    order = make_order(rep, own_customer)
    client = login(rep)
    client.post(f"/sales/orders/{order.pk}/status/", {"status": "cancelled", "version": "99"})
    order.refresh_from_db()
    assert order.status == "draft"


@pytest.mark.parametrize("role", ["service_agent", "marketer", "read_only"])
def test_view_only_roles_see_but_cannot_change(role, rep, own_customer):
    order = make_order(rep, own_customer)
    viewer = UserFactory(role=role)
    client = login(viewer)
    assert client.get(f"/sales/orders/{order.pk}/").status_code == 200
    assert order.number in client.get("/sales/orders/").content.decode()
    before = ChangeLogEntry.objects.count()
    assert client.get("/sales/orders/new/").status_code == 404
    assert client.get("/sales/orders/import/").status_code == 404
    assert client.get(f"/sales/orders/{order.pk}/edit/").status_code == 404
    assert (
        client.post(f"/sales/orders/{order.pk}/status/", {"status": "confirmed"}).status_code == 404
    )
    assert client.post(f"/sales/orders/{order.pk}/payments/", {"amount": "1"}).status_code == 404
    order.refresh_from_db()
    assert order.status == "draft"
    assert ChangeLogEntry.objects.count() == before


def test_rep_cannot_reach_another_reps_order(rep, rep_same_team, team_customer):
    order = make_order(rep_same_team, team_customer)
    client = login(rep)
    assert client.get(f"/sales/orders/{order.pk}/").status_code == 404
    assert (
        client.post(f"/sales/orders/{order.pk}/status/", {"status": "confirmed"}).status_code == 404
    )
    order.refresh_from_db()
    assert order.status == "draft"


def test_manager_changes_team_orders_only(
    manager, rep, own_customer, rep_other_team, other_customer
):
    mine = make_order(rep, own_customer)
    other = make_order(rep_other_team, other_customer)
    client = login(manager)
    before = ChangeLogEntry.objects.filter(model="sales.order").count()
    assert (
        client.post(f"/sales/orders/{mine.pk}/status/", {"status": "confirmed"}).status_code == 302
    )
    assert ChangeLogEntry.objects.filter(model="sales.order").count() == before + 1
    assert (
        client.post(f"/sales/orders/{other.pk}/status/", {"status": "confirmed"}).status_code == 404
    )
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.status, other.status) == ("confirmed", "draft")


def test_edit_draft_lines(rep, own_customer):
    order = make_order(rep, own_customer)
    client = login(rep)
    assert client.get(f"/sales/orders/{order.pk}/edit/").status_code == 200
    response = client.post(
        f"/sales/orders/{order.pk}/edit/",
        {
            "version": order.version,
            "owner": rep.pk,
            "notes": "n",
            "lines-0-description": "Yeni",
            "lines-0-quantity": "3",
            "lines-0-unit_price": "10",
        },
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.total == Decimal("30.00")
    assert Interaction.objects.get(related_id=order.pk).amount == Decimal("30.00")


def test_import_page_upload_and_error_download(
    admin_user, own_customer, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client = login(admin_user)
    assert client.get("/sales/orders/import/").status_code == 200
    content = (
        "external_order_number,customer_id,currency,description,quantity,unit_price\n"
        f"A-1,{own_customer.pk},TRY,Çay,1,10\n"
        f'A-2,{own_customer.pk},TRY,=HYPERLINK("x"),0,10\n'
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/sales/orders/import/", {"file": SimpleUploadedFile("o.csv", content)}
        )
    assert response.status_code == 302
    job_url = response["Location"]
    status = client.get(job_url, headers={"HX-Request": "true"})
    assert "errors.csv" in status.content.decode()
    from vefa.platform.models import Job

    job = Job.objects.get()
    download = client.get(f"/sales/orders/import/{job.pk}/errors.csv")
    assert download.status_code == 200
    text = b"".join(download.streaming_content).decode()
    assert "'=HYPERLINK" not in text  # the value reported is the quantity
    assert "quantity" in text
    other = login(UserFactory(role="sales_manager"))
    assert other.get(f"/sales/orders/import/{job.pk}/errors.csv").status_code == 404
    bad = client.post("/sales/orders/import/", {"file": SimpleUploadedFile("o.csv", b"a,b\n1,2\n")})
    assert bad.status_code == 422

"""Quote pages: list with filters and pages, detail, the form with htmx line rows, actions,
hostile text escaped, Persian right to left, and who may reach what (rep own, manager team,
others nothing, read-only view)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.customers.factories import make_customer
from tests.sales.conftest import HOSTILE
from tests.sales.test_quotes_fixtures import line, make_quote
from vefa.platform.models import ChangeLogEntry
from vefa.sales.choices import QuoteStatus
from vefa.sales.models import Order, PriceList, PriceListItem, Quote

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_list_shows_own_quotes_filters_and_pages(rep, rep_other_team, own_customer, other_customer):
    mine = [make_quote(rep, own_customer) for _ in range(3)]
    sent = make_quote(rep, own_customer, sent=True)
    theirs = make_quote(rep_other_team, other_customer)
    client = client_for(rep)
    page = client.get(reverse("sales:quote_list"))
    assert page.status_code == 200
    body = page.content.decode()
    for quote in [*mine, sent]:
        assert reverse("sales:quote_detail", args=[quote.pk]) in body
    assert reverse("sales:quote_detail", args=[theirs.pk]) not in body
    drafts = client.get(reverse("sales:quote_list"), {"status": "sent"}).content.decode()
    assert reverse("sales:quote_detail", args=[sent.pk]) in drafts
    assert reverse("sales:quote_detail", args=[mine[0].pk]) not in drafts
    by_customer = client.get(reverse("sales:quote_list"), {"customer": own_customer.pk})
    assert own_customer.display_name in by_customer.content.decode()
    bad = client.get(reverse("sales:quote_list"), {"status": "nope", "owner": "x"})
    assert bad.status_code == 200 and "status" in bad.content.decode()


def test_list_pages_with_a_cursor_and_htmx(rep, own_customer, settings):
    from vefa.sales.views import quotes as views

    quotes = [make_quote(rep, own_customer) for _ in range(4)]
    views_page = views.PAGE_SIZE
    views.PAGE_SIZE = 3
    try:
        client = client_for(rep)
        first = client.get(reverse("sales:quote_list"))
        assert "cursor=" in first.content.decode()
        cursor = first.context["page"].next_cursor
        more = client.get(reverse("sales:quote_list"), {"cursor": cursor}, HTTP_HX_REQUEST="true")
        assert more.status_code == 200
        assert "<html" not in more.content.decode()
        assert reverse("sales:quote_detail", args=[quotes[0].pk]) in more.content.decode()
    finally:
        views.PAGE_SIZE = views_page


def test_create_page_preselects_the_customer_and_saves_lines(rep, own_customer, product):
    client = client_for(rep)
    chooser = client.get(reverse("sales:quote_create"))
    assert chooser.status_code == 200
    form = client.get(reverse("sales:quote_create"), {"customer": own_customer.pk})
    assert form.status_code == 200
    assert own_customer.display_name in form.content.decode()
    response = client.post(
        reverse("sales:quote_create"),
        {
            "customer": own_customer.pk,
            "currency": "TRY",
            "language": "tr",
            "issued_on": "2026-03-01",
            "valid_until": "2026-03-31",
            "owner": rep.pk,
            "line_product": [str(product.pk), "", ""],
            "line_description": ["", "Kurulum", ""],
            "line_quantity": ["2", "1", "1"],
            "line_unit": ["piece", "hour", "piece"],
            "line_unit_price": ["", "500", ""],
            "line_discount_percent": ["", "10", ""],
            "line_tax_rate": ["", "20", ""],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    quote = Quote.objects.get()
    lines = list(quote.lines.all())
    assert [x.description for x in lines] == [product.name, "Kurulum"]
    assert str(quote.total) == "828.0000"  # 2 × 120 × 1.2 + 450 × 1.2


def test_line_errors_are_shown_on_their_row_and_nothing_is_saved(rep, own_customer):
    client = client_for(rep)
    response = client.post(
        reverse("sales:quote_create"),
        {
            "customer": own_customer.pk,
            "currency": "TRY",
            "language": "en",
            "issued_on": "2026-03-01",
            "owner": rep.pk,
            "line_product": ["", ""],
            "line_description": ["Good", "Bad <script>"],
            "line_quantity": ["1", "1"],
            "line_unit": ["piece", "piece"],
            "line_unit_price": ["10", "abc"],
            "line_discount_percent": ["", ""],
            "line_tax_rate": ["", ""],
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "is-invalid" in body and "Bad &lt;script&gt;" in body
    assert not Quote.objects.exists()


def test_the_line_row_fills_in_the_product_price_for_the_customer(rep, team, product):
    vip_list = PriceList.objects.create(name="Özel", currency="TRY")
    PriceListItem.objects.create(price_list=vip_list, product=product, unit_price="99.5")
    customer = make_customer(owner=rep, team=team)
    client = client_for(rep)
    row = client.get(
        reverse("sales:quote_line_row"),
        {
            "line_product": product.pk,
            "currency": "TRY",
            "customer": customer.pk,
            "line_quantity": "1",
        },
        HTTP_HX_REQUEST="true",
    )
    assert row.status_code == 200
    assert 'value="99.5' in row.content.decode()
    blank = client.get(reverse("sales:quote_line_row"), HTTP_HX_REQUEST="true")
    assert 'name="line_description"' in blank.content.decode()


def test_edit_saves_and_a_stale_form_is_refused(rep, own_customer):
    quote = make_quote(rep, own_customer)
    client = client_for(rep)
    form = client.get(reverse("sales:quote_edit", args=[quote.pk]))
    assert form.status_code == 200
    data = {
        "version": quote.version,
        "currency": "TRY",
        "language": "fa",
        "issued_on": "2026-03-01",
        "valid_until": "2026-04-01",
        "owner": rep.pk,
        "notes": "یادداشت",
        "line_description": ["Yeni"],
        "line_unit_price": ["42"],
        "line_quantity": ["1"],
        "line_unit": ["piece"],
    }
    assert client.post(reverse("sales:quote_edit", args=[quote.pk]), data).status_code == 302
    stale = client.post(reverse("sales:quote_edit", args=[quote.pk]), {**data, "notes": "x"})
    assert stale.status_code == 422
    saved = Quote.objects.get(pk=quote.pk)
    assert saved.notes == "یادداشت" and saved.total == 42


def test_a_sent_quote_is_not_edited_but_versioned(rep, own_customer):
    quote = make_quote(rep, own_customer, sent=True)
    client = client_for(rep)
    edit = client.get(reverse("sales:quote_edit", args=[quote.pk]))
    assert edit.status_code == 302
    detail = client.get(reverse("sales:quote_detail", args=[quote.pk])).content.decode()
    assert reverse("sales:quote_new_version", args=[quote.pk]) in detail
    assert reverse("sales:quote_edit", args=[quote.pk]) not in detail
    made = client.post(
        reverse("sales:quote_new_version", args=[quote.pk]), {"version": quote.version}
    )
    new = Quote.objects.get(previous=quote)
    assert made["Location"] == reverse("sales:quote_edit", args=[new.pk])


def test_accept_and_reject_from_the_page(rep, own_customer):
    client = client_for(rep)
    accepted = make_quote(rep, own_customer, sent=True)
    response = client.post(reverse("sales:quote_accept", args=[accepted.pk]), {})
    assert response.status_code == 302
    assert Order.objects.filter(quote=accepted).count() == 1
    assert Quote.objects.get(pk=accepted.pk).status == QuoteStatus.ACCEPTED
    rejected = make_quote(rep, own_customer, sent=True)
    client.post(reverse("sales:quote_reject", args=[rejected.pk]), {"reason": "<b>Pahalı</b>"})
    assert Quote.objects.get(pk=rejected.pk).status == QuoteStatus.REJECTED
    detail = client.get(reverse("sales:quote_detail", args=[rejected.pk])).content.decode()
    assert "&lt;b&gt;Pahalı&lt;/b&gt;" in detail


def test_the_pdf_page_answers_a_pdf(rep, own_customer):
    quote = make_quote(rep, own_customer)
    response = client_for(rep).get(reverse("sales:quote_pdf", args=[quote.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{quote.number}-1.pdf"' in response["Content-Disposition"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_escaped_on_the_pages(rep, team, text):
    customer = make_customer(owner=rep, team=team, first_name=text[:100], last_name="Z")
    quote = make_quote(rep, customer, lines=[line(text[:300], "1")], notes=text, terms=text)
    client = client_for(rep)
    for url in (
        reverse("sales:quote_list"),
        reverse("sales:quote_detail", args=[quote.pk]),
        reverse("sales:quote_edit", args=[quote.pk]),
        reverse("sales:quote_send", args=[quote.pk]),
    ):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body


def test_persian_pages_are_right_to_left(rep, own_customer):
    quote = make_quote(rep, own_customer, language="fa")
    client = client_for(rep)
    client.cookies["vefa_language"] = "fa"
    body = client.get(reverse("sales:quote_detail", args=[quote.pk])).content.decode()
    assert 'dir="rtl"' in body
    assert f'<span dir="ltr">{quote.number}/1</span>' in body


# --- who may reach what ---------------------------------------------------------------------------

VIEW_PAGES = ["sales:quote_detail", "sales:quote_pdf"]
CHANGE_PAGES = ["sales:quote_edit", "sales:quote_send"]
# (url name, the quote's state before, the status after when allowed)
WRITES = [
    ("sales:quote_mark_sent", "draft", QuoteStatus.SENT),
    ("sales:quote_accept", "sent", QuoteStatus.ACCEPTED),
    ("sales:quote_reject", "sent", QuoteStatus.REJECTED),
    ("sales:quote_new_version", "sent", QuoteStatus.SUPERSEDED),
]
ALLOWED_VIEW = {"rep": True, "manager": True, "read_only": True, "admin_user": True,
                "rep_same_team": False, "rep_other_team": False}  # fmt: skip
ALLOWED_CHANGE = {**ALLOWED_VIEW, "read_only": False}


@pytest.mark.parametrize("who", sorted(ALLOWED_VIEW))
def test_pages_follow_the_access_policy(request, who, rep, own_customer):
    actor = request.getfixturevalue(who)
    quote = make_quote(rep, own_customer)
    client = client_for(actor)
    for name in VIEW_PAGES:
        status = client.get(reverse(name, args=[quote.pk])).status_code
        assert status == (200 if ALLOWED_VIEW[who] else 404), (name, status)
    for name in CHANGE_PAGES:
        status = client.get(reverse(name, args=[quote.pk])).status_code
        assert status == (200 if ALLOWED_CHANGE[who] else 404), (name, status)
    listed = client.get(reverse("sales:quote_list")).content.decode()
    assert (reverse("sales:quote_detail", args=[quote.pk]) in listed) == ALLOWED_VIEW[who]


@pytest.mark.parametrize("who", sorted(ALLOWED_CHANGE))
@pytest.mark.parametrize(("name", "state", "after"), WRITES)
def test_writes_follow_the_access_policy(request, who, name, state, after, rep, own_customer):
    actor = request.getfixturevalue(who)
    quote = make_quote(rep, own_customer, sent=state == "sent")
    logs = ChangeLogEntry.objects.filter(model="sales.quote", object_id=quote.pk).count()
    response = client_for(actor).post(
        reverse(name, args=[quote.pk]), {"version": quote.version, "reason": "Pahalı"}
    )
    stored = Quote.objects.get(pk=quote.pk)
    new_logs = ChangeLogEntry.objects.filter(model="sales.quote", object_id=quote.pk).count()
    if ALLOWED_CHANGE[who]:
        assert response.status_code == 302
        assert stored.status == after
        assert new_logs == logs + 1
    else:
        assert response.status_code == 404
        assert (stored.status, stored.version) == (quote.status, quote.version)
        assert new_logs == logs
        assert not Order.objects.exists()
        assert Quote.objects.count() == 1


@pytest.mark.parametrize("who", ["rep", "manager", "rep_same_team", "read_only"])
def test_deleting_a_draft_follows_the_access_policy(request, who, rep, own_customer):
    actor = request.getfixturevalue(who)
    quote = make_quote(rep, own_customer)
    response = client_for(actor).post(reverse("sales:quote_delete", args=[quote.pk]))
    if who in ("rep", "manager"):
        assert response.status_code == 302
        assert not Quote.objects.filter(pk=quote.pk).exists()
    else:
        assert response.status_code == 404
        assert Quote.objects.filter(pk=quote.pk).exists()


def test_read_only_users_cannot_start_a_quote(read_only, own_customer):
    client = client_for(read_only)
    assert client.get(reverse("sales:quote_create")).status_code == 404
    response = client.post(reverse("sales:quote_create"), {"customer": own_customer.pk})
    assert response.status_code == 404
    assert not Quote.objects.exists()

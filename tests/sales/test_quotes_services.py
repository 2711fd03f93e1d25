"""Quote services: numbers and defaults, prices, totals per currency, drafts only, versions,
expiry, accept → order with every line and total kept, reject, bad input, races."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.sales.conftest import HOSTILE
from tests.sales.test_quotes_fixtures import line, make_quote
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.interactions.models import Interaction
from vefa.platform.models import ChangeLogEntry, Tag
from vefa.sales.choices import OrderSource, QuoteStatus
from vefa.sales.models import Order, PriceList, PriceListItem, Quote, QuoteLine
from vefa.sales.selectors.quotes import QuoteFilters, quote_list
from vefa.sales.services import quotes as services

pytestmark = pytest.mark.django_db

LINE_FIELDS = (
    "product_id",
    "sku",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "tax_rate",
    "gross",
    "discount",
    "net",
    "tax",
    "total",
)


# --- create and defaults --------------------------------------------------------------------------


def test_a_new_quote_is_a_numbered_draft_with_defaults(rep, own_customer):
    own_customer.language = "tr"
    own_customer.currency = "EUR"
    own_customer.save()
    quote = services.quote_create(
        actor=rep, customer=own_customer.pk, lines=[line("Kurulum", "10")]
    )
    year = timezone.localdate().year
    assert quote.number == f"Q-{year}-000001"
    assert quote.revision == 1
    assert quote.status == QuoteStatus.DRAFT
    assert quote.currency == "EUR"
    assert quote.language == "tr"
    assert quote.owner == rep and quote.team == rep.team
    assert quote.valid_until == quote.issued_on + datetime.timedelta(days=30)
    assert ChangeLogEntry.objects.filter(model="sales.quote", object_id=quote.pk).count() == 1
    second = make_quote(rep, own_customer)
    assert second.number == f"Q-{year}-000002"


def test_prices_come_from_the_product_and_the_customers_price_list(rep, team, product):
    vip = Tag.objects.create(name="VIP")
    customer = make_customer(owner=rep, team=team, tags=[vip])
    plain = make_customer(owner=rep, team=team)
    general = PriceList.objects.create(name="Genel", currency="TRY")
    PriceListItem.objects.create(price_list=general, product=product, unit_price=Decimal("110"))
    PriceListItem.objects.create(
        price_list=general, product=product, unit_price=Decimal("100"), min_quantity=10
    )
    group = PriceList.objects.create(name="VIP", currency="TRY", customer_group=vip)
    PriceListItem.objects.create(price_list=group, product=product, unit_price=Decimal("90"))

    q1 = services.quote_create(actor=rep, customer=plain, lines=[{"product": product.pk}])
    q2 = services.quote_create(
        actor=rep, customer=plain, lines=[{"product": product.pk, "quantity": "12"}]
    )
    q3 = services.quote_create(actor=rep, customer=customer, lines=[{"product": product.pk}])
    q4 = services.quote_create(
        actor=rep, customer=customer, lines=[{"product": product.pk}], price_list=general.pk
    )
    q5 = services.quote_create(
        actor=rep, customer=plain, lines=[{"product": product.pk, "unit_price": "77.7"}]
    )
    prices = [q.lines.get().unit_price for q in (q1, q2, q3, q4, q5)]
    assert prices == [
        Decimal("110"),
        Decimal("100"),
        Decimal("90"),
        Decimal("110"),
        Decimal("77.7"),
    ]
    first = q1.lines.get()
    assert (first.sku, first.description, first.tax_rate) == (
        product.sku,
        product.name,
        Decimal("20"),
    )


def test_a_product_without_a_price_in_the_currency_asks_for_one(rep, own_customer, product):
    with pytest.raises(ValidationFailed) as error:
        services.quote_create(
            actor=rep, customer=own_customer, currency="EUR", lines=[{"product": product.pk}]
        )
    assert "lines.0.unit_price" in error.value.fields
    assert not Quote.objects.exists()


# --- totals and rounding --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "expected"),
    [
        # 3.333 × 19.995 = 66.643335 → 66.64; −12.5 % = 8.33 → 58.31; 18 % tax 10.50 → 68.81
        # 1 × 0.005 = 0.005 → 0.01 (half away from zero); no tax → 0.01
        ("TRY", {"subtotal": "66.65", "discount": "8.33", "tax": "10.50", "total": "68.82"}),
        # IRR has no decimals: 66.643335 → 67; 12.5 % = 8.375 → 8; 59 × 18 % = 10.62 → 11 → 70
        # 0.005 → 0
        ("IRR", {"subtotal": "67", "discount": "8", "tax": "11", "total": "70"}),
        # KWD has three: 66.643; 8.330 (8.330375); 58.313 × 18 % = 10.49634 → 10.496; 0.005
        ("KWD", {"subtotal": "66.648", "discount": "8.330", "tax": "10.496", "total": "68.814"}),
    ],
)
def test_totals_are_sums_of_lines_rounded_per_currency(rep, own_customer, currency, expected):
    quote = make_quote(
        rep,
        own_customer,
        currency=currency,
        lines=[
            line("A", "19.995", "3.333", discount_percent="12.5", tax_rate="18"),
            line("B", "0.005", "1"),
        ],
    )
    assert quote.subtotal == Decimal(expected["subtotal"])
    assert quote.discount_total == Decimal(expected["discount"])
    assert quote.tax_total == Decimal(expected["tax"])
    assert quote.total == Decimal(expected["total"])
    lines = list(quote.lines.all())
    assert sum(x.total for x in lines) == quote.total
    stored = Quote.objects.get(pk=quote.pk)
    assert stored.total == quote.total


def test_line_changes_keep_the_totals_right(rep, own_customer):
    quote = make_quote(rep, own_customer, lines=[line("A", "100", tax_rate="20")])
    added = services.quote_line_add(actor=rep, quote_id=quote.pk, line=line("B", "50.5", "2"))
    quote.refresh_from_db()
    assert quote.total == Decimal("221.00")
    services.quote_line_update(
        actor=rep, quote_id=quote.pk, line_id=added.pk, data={"discount_percent": "50"}
    )
    quote.refresh_from_db()
    assert quote.total == Decimal("170.50")
    services.quote_line_delete(actor=rep, quote_id=quote.pk, line_id=added.pk)
    quote.refresh_from_db()
    assert quote.total == Decimal("120.00")
    assert quote.version == 4


# --- drafts only ----------------------------------------------------------------------------------


def test_only_drafts_can_be_changed(rep, own_customer):
    quote = make_quote(rep, own_customer, sent=True)
    before = Quote.objects.get(pk=quote.pk)
    logs = ChangeLogEntry.objects.count()
    attempts = [
        lambda: services.quote_update(actor=rep, quote_id=quote.pk, data={"notes": "x"}),
        lambda: services.quote_update(
            actor=rep, quote_id=quote.pk, data={}, lines=[line("X", "1")]
        ),
        lambda: services.quote_line_add(actor=rep, quote_id=quote.pk, line=line("X", "1")),
        lambda: services.quote_line_delete(
            actor=rep, quote_id=quote.pk, line_id=quote.lines.get().pk
        ),
        lambda: services.quote_delete(actor=rep, quote_id=quote.pk),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationFailed) as error:
            attempt()
        assert "status" in error.value.fields
    after = Quote.objects.get(pk=quote.pk)
    assert (after.version, after.notes, after.total) == (before.version, before.notes, before.total)
    assert ChangeLogEntry.objects.count() == logs
    assert quote.lines.count() == 1


def test_a_draft_is_updated_with_its_lines_replaced(rep, own_customer):
    quote = make_quote(rep, own_customer)
    updated = services.quote_update(
        actor=rep,
        quote_id=quote.pk,
        data={"notes": "Yeni not", "language": "fa", "valid_until": "2027-06-30"},
        lines=[line("Yeni", "10", "3")],
        expected_version=quote.version,
    )
    assert updated.notes == "Yeni not" and updated.language == "fa"
    assert [x.description for x in updated.lines.all()] == ["Yeni"]
    assert updated.total == Decimal("30.00")
    assert updated.version == quote.version + 1


def test_a_stale_edit_is_a_conflict_and_changes_nothing(rep, own_customer):
    quote = make_quote(rep, own_customer)
    services.quote_update(actor=rep, quote_id=quote.pk, data={"notes": "first"})
    with pytest.raises(Conflict):
        services.quote_update(
            actor=rep, quote_id=quote.pk, data={"notes": "second"}, expected_version=quote.version
        )
    with pytest.raises(Conflict):
        services.quote_line_add(
            actor=rep, quote_id=quote.pk, line=line("x", "1"), expected_version=quote.version
        )
    assert Quote.objects.get(pk=quote.pk).notes == "first"
    assert quote.lines.count() == 1


def test_the_currency_changes_only_with_new_prices(rep, own_customer):
    quote = make_quote(rep, own_customer)
    with pytest.raises(ValidationFailed) as error:
        services.quote_update(actor=rep, quote_id=quote.pk, data={"currency": "EUR"})
    assert "currency" in error.value.fields
    updated = services.quote_update(
        actor=rep, quote_id=quote.pk, data={"currency": "EUR"}, lines=[line("x", "5")]
    )
    assert updated.currency == "EUR" and updated.total == Decimal("5.00")


# --- versions -------------------------------------------------------------------------------------


def test_a_new_version_copies_the_quote_and_supersedes_the_old(rep, own_customer):
    old = make_quote(
        rep,
        own_customer,
        lines=[line("A", "19.995", "3.333", discount_percent="12.5", tax_rate="18")],
        sent=True,
        notes="Not",
    )
    new = services.quote_new_version(actor=rep, quote_id=old.pk)
    old.refresh_from_db()
    assert old.status == QuoteStatus.SUPERSEDED
    assert (new.number, new.revision, new.previous_id) == (old.number, 2, old.pk)
    assert new.status == QuoteStatus.DRAFT and new.notes == "Not"
    assert new.issued_on == timezone.localdate()
    assert (new.subtotal, new.tax_total, new.total) == (old.subtotal, old.tax_total, old.total)
    for a, b in zip(old.lines.all(), new.lines.all(), strict=True):
        assert [getattr(a, f) for f in LINE_FIELDS] == [getattr(b, f) for f in LINE_FIELDS]
    # The old one cannot get a second new version; the new draft cannot be versioned.
    with pytest.raises(ValidationFailed):
        services.quote_new_version(actor=rep, quote_id=old.pk)
    with pytest.raises(ValidationFailed):
        services.quote_new_version(actor=rep, quote_id=new.pk)
    # Deleting the new draft gives the old one its status back.
    services.quote_delete(actor=rep, quote_id=new.pk)
    old.refresh_from_db()
    assert old.status == QuoteStatus.SENT


def test_rejected_and_expired_quotes_get_new_versions_accepted_do_not(rep, own_customer):
    rejected = make_quote(rep, own_customer, sent=True)
    services.quote_reject(actor=rep, quote_id=rejected.pk, reason="Too expensive")
    assert services.quote_new_version(actor=rep, quote_id=rejected.pk).revision == 2
    expired = make_quote(rep, own_customer, sent=True)
    Quote.objects.filter(pk=expired.pk).update(
        issued_on=datetime.date(2020, 1, 1), valid_until=datetime.date(2020, 1, 31)
    )
    again = services.quote_new_version(actor=rep, quote_id=expired.pk)
    assert again.valid_until == again.issued_on + datetime.timedelta(days=30)
    accepted = make_quote(rep, own_customer, sent=True)
    services.quote_accept(actor=rep, quote_id=accepted.pk)
    with pytest.raises(ValidationFailed):
        services.quote_new_version(actor=rep, quote_id=accepted.pk)


# --- expiry ---------------------------------------------------------------------------------------


def test_a_sent_quote_past_its_date_is_expired_when_read(rep, own_customer):
    fresh = make_quote(rep, own_customer, sent=True)
    stale = make_quote(rep, own_customer, sent=True)
    Quote.objects.filter(pk=stale.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(1)
    )
    stale.refresh_from_db()
    assert services.effective_status(stale) == QuoteStatus.EXPIRED
    assert services.effective_status(fresh) == QuoteStatus.SENT
    expired = quote_list(actor=rep, filters=QuoteFilters(status=QuoteStatus.EXPIRED))
    sent = quote_list(actor=rep, filters=QuoteFilters(status=QuoteStatus.SENT))
    assert [q.pk for q in expired] == [stale.pk]
    assert [q.pk for q in sent] == [fresh.pk]
    for action in (services.quote_accept, services.quote_mark_sent):
        with pytest.raises(ValidationFailed):
            action(actor=rep, quote_id=stale.pk)
    with pytest.raises(ValidationFailed):
        services.quote_reject(actor=rep, quote_id=stale.pk, reason="late")


# --- accept and reject ----------------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["TRY", "IRR", "KWD", "RSD"])
def test_quote_to_order_keeps_every_line_and_total(rep, own_customer, product, currency):
    lines = [
        line("Danışmanlık saati", "1234.5675", "3.333", discount_percent="12.5", tax_rate="18"),
        line("Ödeme ışığı — čćđšž", "0.005", "7", tax_rate="1"),
        line("خدمات ویژه", "99999.9999", "0.001", discount_percent="33.333", tax_rate="9"),
        {"product": product.pk, "quantity": "2", "unit_price": "120.125", "unit": "box"},
    ]
    quote = make_quote(rep, own_customer, currency=currency, lines=lines, sent=True, notes="N")
    order = services.quote_accept(actor=rep, quote_id=quote.pk, expected_version=quote.version)
    quote.refresh_from_db()
    order = Order.objects.get(pk=order.pk)
    assert quote.status == QuoteStatus.ACCEPTED and quote.decided_at is not None
    assert (order.quote_id, order.source, order.customer_id) == (
        quote.pk,
        OrderSource.QUOTE,
        quote.customer_id,
    )
    assert (order.owner_id, order.team_id, order.currency) == (
        quote.owner_id,
        quote.team_id,
        quote.currency,
    )
    for field in ("subtotal", "discount_total", "tax_total", "total"):
        assert getattr(order, field) == getattr(quote, field), field
    quote_lines = list(QuoteLine.objects.filter(quote=quote).order_by("position", "id"))
    order_lines = list(order.lines.order_by("position", "id"))
    assert len(order_lines) == len(quote_lines) == 4
    for q, o in zip(quote_lines, order_lines, strict=True):
        for field in LINE_FIELDS:
            assert getattr(o, field) == getattr(q, field), field
            assert isinstance(getattr(o, field), type(getattr(q, field)))


def test_accepting_twice_or_a_draft_is_refused(rep, own_customer):
    draft = make_quote(rep, own_customer)
    with pytest.raises(ValidationFailed):
        services.quote_accept(actor=rep, quote_id=draft.pk)
    sent = make_quote(rep, own_customer, sent=True)
    services.quote_accept(actor=rep, quote_id=sent.pk)
    with pytest.raises(ValidationFailed):
        services.quote_accept(actor=rep, quote_id=sent.pk)
    assert Order.objects.filter(quote=sent).count() == 1
    assert not Order.objects.filter(quote=draft).exists()


def test_rejecting_needs_a_reason_and_logs_it(rep, own_customer):
    quote = make_quote(rep, own_customer, sent=True)
    with pytest.raises(ValidationFailed) as error:
        services.quote_reject(actor=rep, quote_id=quote.pk, reason="   ")
    assert "reason" in error.value.fields
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
    services.quote_reject(actor=rep, quote_id=quote.pk, reason="Rakip daha ucuz")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.REJECTED
    logged = Interaction.objects.get(related_model="sales.quote", related_id=quote.pk)
    assert logged.customer_id == own_customer.pk and logged.body == "Rakip daha ucuz"
    assert services.rejection_reason(quote) == "Rakip daha ucuz"


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"customer": "abc"}, "customer"),
        ({"customer": 10**20}, "customer"),
        ({"lines": "x"}, "lines"),
        ({"lines": ["x"]}, "lines.0"),
        ({"lines": [{"description": "a", "unit_price": "abc"}]}, "lines.0.unit_price"),
        ({"lines": [{"description": "a", "unit_price": 1.5}]}, "lines.0.unit_price"),
        ({"lines": [{"description": "a", "unit_price": "-1"}]}, "lines.0.unit_price"),
        ({"lines": [{"description": "a", "unit_price": "1e30"}]}, "lines.0.unit_price"),
        ({"lines": [{"description": "a", "unit_price": "1", "quantity": "0"}]}, "lines.0.quantity"),
        (
            {"lines": [{"description": "a", "unit_price": "1", "tax_rate": "101"}]},
            "lines.0.tax_rate",
        ),
        ({"lines": [{"unit_price": "1"}]}, "lines.0.description"),
        ({"lines": [{"description": "a"}]}, "lines.0.unit_price"),
        ({"lines": [{"description": "a" * 301, "unit_price": "1"}]}, "lines.0.description"),
        ({"lines": [{"description": "a", "unit_price": "1", "colour": "red"}]}, "lines.0.colour"),
        ({"lines": [{"product": 999999}]}, "lines.0.product"),
        ({"lines": [line("a", "1")] * 501}, "lines"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": 5}, "currency"),
        ({"language": "de"}, "language"),
        ({"issued_on": "2026-02-30"}, "issued_on"),
        ({"issued_on": "2026-03-10", "valid_until": "2026-03-01"}, "valid_until"),
        ({"issued_on": "2026-03-10", "valid_until": "2036-03-01"}, "valid_until"),
        ({"notes": "x" * 20_001}, "notes"),
        ({"notes": "a\x00b"}, "notes"),
        ({"owner": 999999}, "owner"),
        ({"opportunity": "x"}, "opportunity"),
        ({"price_list": 999999}, "price_list"),
    ],
)
def test_bad_input_is_refused_naming_the_field(rep, own_customer, kwargs, field):
    data = {"customer": own_customer.pk, "lines": [line("a", "1")], **kwargs}
    with pytest.raises(ValidationFailed) as error:
        services.quote_create(actor=rep, **data)
    assert field in error.value.fields, error.value.fields
    assert not Quote.objects.exists()
    assert not QuoteLine.objects.exists()


def test_a_price_list_in_another_currency_is_refused(rep, own_customer):
    euros = PriceList.objects.create(name="EUR", currency="EUR")
    with pytest.raises(ValidationFailed) as error:
        make_quote(rep, own_customer, price_list=euros.pk)
    assert "price_list" in error.value.fields


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_stored_as_given(rep, own_customer, text):
    quote = make_quote(rep, own_customer, lines=[line(text, "1")], notes=text, terms=text)
    stored = Quote.objects.get(pk=quote.pk)
    assert stored.notes == text.strip()
    assert stored.lines.get().description == text.strip()


# --- who may do what ------------------------------------------------------------------------------


def test_reps_change_their_own_managers_their_teams(
    rep, rep_same_team, rep_other_team, manager, read_only, own_customer
):
    quote = make_quote(rep, own_customer)
    for outsider in (rep_same_team, rep_other_team):
        with pytest.raises(NotFound):
            services.quote_update(actor=outsider, quote_id=quote.pk, data={"notes": "x"})
    with pytest.raises(PermissionDenied):
        services.quote_update(actor=read_only, quote_id=quote.pk, data={"notes": "x"})
    with pytest.raises(PermissionDenied):
        make_quote(read_only, own_customer)
    assert services.quote_update(actor=manager, quote_id=quote.pk, data={"notes": "m"}).notes == "m"


def test_a_rep_cannot_give_a_quote_away(rep, rep_other_team, own_customer):
    with pytest.raises(ValidationFailed) as error:
        make_quote(rep, own_customer, owner=rep_other_team.pk)
    assert "owner" in error.value.fields


def test_a_rep_cannot_quote_a_customer_they_cannot_see(rep, other_customer):
    with pytest.raises(ValidationFailed) as error:
        make_quote(rep, other_customer)
    assert "customer" in error.value.fields


def test_the_number_filter_finds_prefixes_bare_numbers_and_parts(rep, own_customer):
    first, second = make_quote(rep, own_customer), make_quote(rep, own_customer)
    year = timezone.localdate().year

    def found(text: str) -> list[int]:
        return sorted(q.pk for q in quote_list(actor=rep, filters=QuoteFilters(q=text)))

    assert found(f"q-{year}-00000") == sorted([first.pk, second.pk])
    assert found("2") == [second.pk]
    assert found("000001") == [first.pk]
    assert found(f"{year}-000002") == [second.pk]
    assert found("1234567") == []
    assert found("%") == []

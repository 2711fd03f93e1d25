"""``vefa demo``'s sales: catalogue, rates, pipeline, quotes, orders and their purchases.

The demo company is loaded once for the module inside a transaction that is rolled back
afterwards (as in ``test_demo_data``); each test reads it.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone

from tests.demo_loaded import demo_loaded
from vefa.accounts.choices import Role
from vefa.accounts.models import Team, User
from vefa.demo.build import TAGS
from vefa.interactions.models import Interaction
from vefa.platform.models import Tag
from vefa.sales.models import (
    Competitor,
    Contract,
    ExchangeRate,
    NumberSequence,
    Opportunity,
    OpportunityCompetitor,
    Order,
    OrderLine,
    Payment,
    PriceList,
    Product,
    ProductCategory,
    Quote,
    QuoteLine,
    SalesTarget,
    Shipment,
)
from vefa.sales.money import RateTable, line_amounts, minor_digits, totals

LOAD_SLACK = datetime.timedelta(minutes=10)
FLOW = ("confirmed_at", "shipped_at", "delivered_at", "invoiced_at", "paid_at")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo company, loaded once; everything is rolled back after the module."""
    with demo_loaded(django_db_blocker) as loaded:
        yield loaded


pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def reads(demo, db):
    """Each test reads the module's demo (its own writes are rolled back after it)."""


def test_catalogue_price_lists_and_competitors(reads):
    assert 9 <= ProductCategory.objects.count() <= 12
    assert 110 <= Product.objects.count() <= 130
    assert Product.objects.filter(is_active=False).exists()
    assert not Product.objects.filter(Q(sku="") | Q(list_price__lte=0) | Q(unit_cost=None)).exists()
    assert not Product.objects.filter(unit_cost__gte=F("list_price")).exists()
    assert set(Product.objects.values_list("tax_rate", flat=True)) == {Decimal(20)}
    general = PriceList.objects.get(customer_group=None)
    wholesale = PriceList.objects.get(customer_group__name="Wholesale")
    assert general.currency == "EUR" and wholesale.currency == "TRY"
    active = Product.objects.filter(is_active=True).count()
    assert general.items.count() == active
    # the wholesale list is cheaper than the list price, more so from ten pieces
    for item in wholesale.items.select_related("product"):
        assert item.unit_price < item.product.list_price
    assert wholesale.items.filter(min_quantity=10).exists()
    assert Competitor.objects.count() >= 6


def test_exchange_rates_for_three_years_into_and_out_of_euro(reads):
    today = timezone.now().date()
    for currency in ("TRY", "RSD", "IRR", "GBP", "USD"):
        for base, quote in ((currency, "EUR"), ("EUR", currency), (currency, "TRY")):
            if base == quote:
                continue
            span = ExchangeRate.objects.filter(currency=base, quote_currency=quote).aggregate(
                first=Min("day"), last=Max("day"), n=Count("id")
            )
            assert span["first"] <= today - datetime.timedelta(days=3 * 365), (base, quote)
            assert span["last"] >= today - datetime.timedelta(days=4)
            assert span["n"] >= 3 * 250
    # plausible levels, and a report in euros converts every order currency
    table = RateTable.load("EUR")
    assert Decimal("0.015") < table.rate("TRY", today) < Decimal("0.05")
    assert Decimal("1.05") < table.rate("GBP", today) < Decimal("1.3")
    assert table.rate("IRR", today) < Decimal("0.0001")
    for order in Order.objects.all()[::97]:
        assert table.convert(order.total, order.currency, order.ordered_at.date()) is not None
    assert not table.missing


def test_order_counts_statuses_shipments_and_payments(reads):
    statuses = Counter(Order.objects.values_list("status", flat=True))
    # Drafts exist only when an order falls within hours of the load, so they may be absent.
    assert (
        {"confirmed", "shipped", "delivered", "invoiced", "paid", "cancelled"}
        <= set(statuses)
        <= {"draft", "confirmed", "shipped", "delivered", "invoiced", "paid", "cancelled"}
    )
    assert 2_500 <= sum(statuses.values()) <= 8_000
    assert statuses["paid"] > sum(statuses.values()) / 2
    lines = Order.objects.annotate(n=Count("lines")).aggregate(low=Min("n"), high=Max("n"))
    assert lines["low"] >= 1 and lines["high"] <= 7
    oldest = Order.objects.aggregate(first=Min("ordered_at"))["first"]
    assert timezone.now() - oldest > datetime.timedelta(days=3 * 365 - 30)
    assert set(Order.objects.values_list("currency", flat=True)) == {
        "TRY", "GBP", "USD", "RSD", "IRR",
    }  # fmt: skip
    shipped = Order.objects.filter(status__in=("shipped", "delivered", "invoiced", "paid"))
    assert not shipped.filter(shipments=None).exists()
    assert not Shipment.objects.filter(carrier="").exists()
    assert Shipment.objects.exclude(tracking_number="").count() > Shipment.objects.count() * 0.7
    assert set(Shipment.objects.values_list("status", flat=True)) >= {"in_transit", "delivered"}
    assert Order.objects.filter(source="ecommerce").exclude(external_id="").exists()
    assert Payment.objects.count() >= statuses["paid"]


def test_every_order_total_is_the_sum_of_its_lines_rounded_for_its_currency(reads):
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.all():
        lines[line.order_id].append(line)
    for order in Order.objects.all():
        places = Decimal(1).scaleb(-minor_digits(order.currency))
        figures = []
        for line in lines[order.pk]:
            expected = line_amounts(
                quantity=line.quantity,
                unit_price=line.unit_price,
                currency=order.currency,
                discount_percent=line.discount_percent,
                tax_rate=line.tax_rate,
            )
            assert (line.gross, line.discount, line.net, line.tax, line.total) == (
                expected.gross, expected.discount, expected.net, expected.tax, expected.total,
            ), order.number  # fmt: skip
            for amount in (line.gross, line.discount, line.net, line.tax, line.total):
                assert amount == amount.quantize(places), (order.currency, amount)
            figures.append(expected)
        sums = totals(figures, order.currency)
        assert order.total == sums.total == sum(x.total for x in lines[order.pk])
        assert (order.subtotal, order.discount_total, order.tax_total) == (
            sums.subtotal, sums.discount, sums.tax,
        )  # fmt: skip
        assert order.cost_total is not None and order.cost_total < order.total
    irr = OrderLine.objects.filter(order__currency="IRR")
    assert irr.exists()
    assert all(x.total == x.total.to_integral_value() for x in irr)


def test_this_months_lines_are_priced_as_the_price_lists_price_them(reads):
    # given the Turkish-lira orders of this month (the lira list prices are this month's)
    from vefa.sales.pricing import customer_tag_ids, price_for

    today = timezone.now().astimezone(datetime.UTC).date()
    start = datetime.datetime(today.year, today.month, 1, tzinfo=datetime.UTC)
    lines = OrderLine.objects.filter(
        order__currency="TRY", order__ordered_at__gte=start
    ).select_related("order", "product")
    assert lines.exists()
    for line in lines:
        tags = customer_tag_ids(line.order.customer_id)
        price = price_for(
            line.product, currency="TRY", quantity=line.quantity, customer_tag_ids=tags, on=today
        )
        # then each price is the one the order form would have proposed
        assert price is not None and price.unit_price == line.unit_price, line.order.number


def test_every_order_has_exactly_one_purchase_with_the_same_amount(reads):
    purchases = Interaction.objects.filter(kind="purchase")
    by_order = Counter(purchases.values_list("related_id", flat=True))
    # every purchase in the history is an order's …
    assert not purchases.filter(Q(related_id=None) | ~Q(related_model="sales.order")).exists()
    assert max(by_order.values()) == 1
    linked = {i.related_id: i for i in purchases}
    for order in Order.objects.all():
        purchase = linked.get(order.pk)
        if order.status == "cancelled":
            # … and a cancelled order has none (the order service removes it)
            assert purchase is None
            continue
        assert purchase is not None, order.number
        assert purchase.external_id == f"sales.order:{order.pk}"
        assert purchase.customer_id == order.customer_id
        assert purchase.amount == order.total.quantize(Decimal("0.01"))
        assert purchase.currency == order.currency
        assert purchase.occurred_at == order.ordered_at
        expected = {"draft": "open", "paid": "done"}.get(order.status, "in_progress")
        assert purchase.status == expected
    # order numbers cited in the history are real ones
    numbers = set(Order.objects.values_list("number", flat=True))
    cited = Interaction.objects.filter(subject__contains="O-20").values_list("subject", flat=True)
    assert cited
    for subject in cited:
        assert set(re.findall(r"O-\d{4}-\d{6}", subject)) <= numbers, subject
    buyers = Order.objects.values("customer_id")
    assert not Interaction.objects.filter(customer__in=buyers, subject__contains="SO-1").exists()


def test_statuses_and_timestamps_are_consistent(reads, demo):
    limit = demo["started"] + LOAD_SLACK
    for order in Order.objects.all():
        stamps = [order.ordered_at] + [getattr(order, f) for f in FLOW if getattr(order, f)]
        assert stamps == sorted(stamps), order.number
        assert stamps[-1] <= limit
        reached = [f for f in FLOW if getattr(order, f)]
        if order.status == "cancelled":
            assert order.cancelled_at is not None and order.paid_at is None
            continue
        assert order.cancelled_at is None
        assert reached == list(FLOW[: len(reached)])
        assert order.status == (reached[-1][:-3] if reached else "draft")
    paid = Order.objects.filter(status="paid").annotate(p=Sum("payments__amount"))
    assert all(o.p == o.total == o.paid_total for o in paid)
    for shipment in Shipment.objects.select_related("order"):
        if shipment.shipped_at:
            assert shipment.shipped_at >= shipment.order.confirmed_at
        if shipment.delivered_at:
            assert shipment.delivered_at >= shipment.shipped_at
    for payment in Payment.objects.select_related("order"):
        assert payment.currency == payment.order.currency
        assert payment.order.ordered_at <= payment.paid_at <= limit


def test_pipeline_has_open_stale_won_and_lost_opportunities(reads):
    now = timezone.now()
    new = Opportunity.objects.filter(pipeline__kind="new_business")
    renewals = Opportunity.objects.filter(pipeline__kind="renewal")
    assert 500 <= new.count() <= 700
    assert 40 <= renewals.count() <= 90
    assert set(new.values_list("status", flat=True)) == {"open", "won", "lost"}
    open_stages = set(new.filter(status="open").values_list("stage__name", flat=True))
    assert len(open_stages) == 4
    for opportunity in Opportunity.objects.select_related("stage"):
        assert opportunity.stage.kind == opportunity.status
        assert opportunity.stage.pipeline_id == opportunity.pipeline_id
        assert opportunity.stage_changed_at >= opportunity.created_at
        if opportunity.status == "open":
            assert opportunity.closed_at is None and not opportunity.lost_reason
        else:
            assert opportunity.closed_at is not None
            assert opportunity.stage_changed_at == opportunity.closed_at <= now
        if opportunity.status == "lost":
            assert opportunity.lost_reason
    stale = [
        o for o in new.filter(status="open").select_related("stage")
        if now - o.stage_changed_at > datetime.timedelta(days=o.stage.stale_after_days)
    ]  # fmt: skip
    assert len(stale) >= 10
    lost = new.filter(status="lost")
    assert lost.exclude(lost_to=None).count() >= 20
    assert not lost.filter(lost_reason="competitor", lost_to=None).exists()
    assert OpportunityCompetitor.objects.count() >= 50
    # won deals end in their order with the same lines
    won = new.filter(status="won").prefetch_related("lines", "orders__lines")
    for opportunity in won:
        (order,) = opportunity.orders.all()
        assert order.customer_id == opportunity.customer_id
        assert opportunity.closed_at <= order.ordered_at
        assert [x.product_id for x in opportunity.lines.all()] == [
            x.product_id for x in order.lines.all()
        ]
        assert opportunity.amount == sum(x.net for x in order.lines.all())
    assert new.filter(status="open").exclude(next_step="").count() > 100


def test_quotes_versions_and_accepted_quotes_have_an_order(reads):
    quotes = Quote.objects.all()
    assert 250 <= quotes.count() <= 450
    assert {"sent", "accepted", "rejected", "superseded"} <= set(
        quotes.values_list("status", flat=True)
    )
    for quote in quotes.filter(status="accepted").prefetch_related("orders"):
        (order,) = quote.orders.all()
        assert order.source == "quote" and order.total == quote.total
        assert quote.decided_at is not None
    for quote in quotes.filter(revision=2).select_related("previous"):
        assert quote.previous is not None
        assert quote.previous.number == quote.number and quote.previous.revision == 1
        assert quote.previous.status == "superseded"
    assert quotes.filter(revision=2).count() >= 20
    lines: dict[int, list[QuoteLine]] = defaultdict(list)
    for line in QuoteLine.objects.all():
        lines[line.quote_id].append(line)
    for quote in quotes:
        assert quote.total == sum(x.total for x in lines[quote.pk])
        assert quote.sent_at is not None or quote.status == "draft"
    assert not quotes.filter(status__in=("sent",), valid_until__lt=timezone.now().date()).exists()


def test_contracts_renew_through_the_renewals_pipeline(reads):
    today = timezone.now().date()
    contracts = Contract.objects.all()
    assert 60 <= contracts.count() <= 110
    assert {"active", "renewed", "expired", "draft"} <= set(
        contracts.values_list("status", flat=True)
    )
    # Reminded 30 days (or more) before the renewal date, at 08:00: every contract renewing
    # within 29 days has had its reminder, whatever the time of day.
    soon = contracts.filter(
        status="active", renewal_date__range=(today, today + datetime.timedelta(29))
    )
    assert soon.count() >= 8
    for contract in soon:
        assert contract.renewal_opportunities.filter(status="open").exists()
    for contract in contracts.filter(status="renewed").select_related("renewed_by"):
        assert contract.renewed_by is not None
        assert contract.renewed_by.start_date > contract.end_date
        assert contract.renewal_opportunities.filter(status="won").exists()
    numbers = list(contracts.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers) and all(n.startswith("C-") for n in numbers)


def test_targets_every_month_for_every_seller_and_sales_team(reads):
    year = timezone.now().date().year
    sellers = User.objects.filter(role__in=(Role.SALES_REP, Role.SALES_MANAGER))
    teams = Team.objects.filter(members__in=sellers).distinct()
    targets = SalesTarget.objects.filter(period_start__year=year, metric="revenue")
    for user in sellers:
        assert targets.filter(user=user).count() == 12
    for team in teams:
        assert targets.filter(team=team).count() == 12
    assert not targets.filter(amount__lte=0).exists()


def test_numbers_are_reserved_per_kind_and_year(reads):
    for kind, model in (("order", Order), ("quote", Quote), ("contract", Contract)):
        for sequence in NumberSequence.objects.filter(kind=kind):
            prefix = f"{kind[0].upper()}-{sequence.year}-"
            numbers = set(
                model.objects.filter(number__startswith=prefix).values_list("number", flat=True)
            )
            assert numbers == {f"{prefix}{n:06d}" for n in range(1, sequence.last + 1)}
    order_years = {o.number[2:6] for o in Order.objects.all()[::50]}
    assert len(order_years) >= 3


def test_the_same_seed_makes_the_same_sales(reads):
    # given the staff, tags and pipelines of the loaded demo and a fixed moment
    from vefa.demo import relations
    from vefa.demo.build import DemoBuilder, Ids
    from vefa.demo.company import ensure_staff
    from vefa.demo.sales import MODELS, SalesBuilder, pipelines

    staff = ensure_staff()
    tag_ids = {t.name: t.pk for t in Tag.objects.filter(name__in=TAGS)}
    now = 1_800_000_000
    made = []
    for _ in range(2):
        # when the company and its sales are made twice
        builder = DemoBuilder(staff=staff, now=now, ids=Ids(_zero()), tag_ids=tag_ids)
        builder.customers_all()
        relations.relationships(builder)
        builder.histories()
        sales = SalesBuilder(
            builder,
            ids=Ids({m._meta.db_table: 0 for m in MODELS}),
            reserve=_numbers(),
            pipelines=pipelines(),
        ).build()
        rows = {
            m._meta.db_table: [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
            for m, rows in sales.rows.items()
        }
        made.append((rows, builder.data.rows["interactions_interaction"]))
    # then it is the same, row for row, and so are the linked purchases
    assert made[0] == made[1]
    assert len(made[0][0]["sales_order"]) > 2_500


def _zero() -> dict[str, int]:
    from vefa.demo.load import MODELS

    return {m._meta.db_table: 0 for m in MODELS}


def _numbers():
    """Document numbers from a counter of its own (``reserve_numbers`` writes to the database)."""
    counter: Counter[tuple[str, int]] = Counter()

    def reserve(kind: str, count: int, year: int) -> list[str]:
        first = counter[(kind, year)]
        counter[(kind, year)] += count
        return [f"{kind}-{year}-{n}" for n in range(first + 1, first + count + 1)]

    return reserve

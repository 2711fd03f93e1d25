"""The catalogue services: valid writes, refused input (named fields, nothing written),
concurrency, and the rules of pipelines and stages."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from tests.sales.conftest import HOSTILE
from vefa.common.errors import Conflict, PermissionDenied, ValidationFailed
from vefa.platform.models import ChangeLogEntry, Tag
from vefa.sales.models import (
    Competitor,
    ExchangeRate,
    Opportunity,
    OpportunityLine,
    Pipeline,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
    Stage,
)
from vefa.sales.services import catalogue as products
from vefa.sales.services import catalogue_pipelines as pipelines
from vefa.sales.services import catalogue_prices as prices

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 24)


def fields_of(exc_info) -> set[str]:
    return set(exc_info.value.fields)


# --- products ------------------------------------------------------------------------------


def test_manager_creates_a_product_with_decimal_prices_and_one_log_row(manager, category):
    product = products.product_create(
        actor=manager,
        sku="ÇAY-1",
        name="Rize çayı",
        category_id=category.pk,
        list_price="89.90",
        unit_cost=Decimal("50"),
        currency="try",
        tax_rate="1",
        tags=["İçecek"],
    )
    product.refresh_from_db()
    assert (product.list_price, product.unit_cost) == (Decimal("89.9000"), Decimal("50.0000"))
    assert product.currency == "TRY"
    assert product.tax_rate == Decimal("1.000")
    assert [t.name for t in product.tags.all()] == ["İçecek"]
    assert product.created_by == manager
    rows = ChangeLogEntry.objects.filter(model="sales.product", object_id=product.pk)
    assert [r.action for r in rows] == ["create"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sku", ""),
        ("sku", "A B"),
        ("sku", "x" * 65),
        ("sku", 123),
        ("name", ""),
        ("name", "x" * 201),
        ("name", "a\x00b"),
        ("list_price", 12.5),
        ("list_price", "twelve"),
        ("list_price", "-1"),
        ("list_price", "1e30"),
        ("unit_cost", "NaN"),
        ("currency", "XXXX"),
        ("currency", "ZZZ"),
        ("tax_rate", "101"),
        ("tax_rate", "-5"),
        ("unit", "bucket"),
        ("is_active", "yes"),
        ("category_id", 999_999),
        ("category_id", "abc"),
        ("custom_fields", ["not", "an", "object"]),
    ],
)
def test_bad_product_input_names_the_field_and_writes_nothing(manager, field, value):
    data = {"sku": "OK-1", "name": "Fine", "list_price": "10", field: value}
    with pytest.raises(ValidationFailed) as exc_info:
        products.product_create(actor=manager, **data)
    assert field in fields_of(exc_info)
    assert Product.objects.count() == 0
    assert ChangeLogEntry.objects.count() == 0


def test_several_bad_fields_are_reported_together(manager):
    with pytest.raises(ValidationFailed) as exc_info:
        products.product_create(actor=manager, sku="", name="", list_price="x", currency="??")
    assert fields_of(exc_info) >= {"sku", "name", "list_price", "currency"}


def test_a_duplicate_sku_is_refused(manager, product):
    with pytest.raises(ValidationFailed) as exc_info:
        products.product_create(actor=manager, sku=product.sku, name="Copy")
    assert "sku" in fields_of(exc_info)
    other = products.product_create(actor=manager, sku="OTHER", name="Other")
    with pytest.raises(ValidationFailed):
        products.product_update(actor=manager, product_id=other.pk, data={"sku": product.sku})


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_stored_as_typed(manager, text):
    product = products.product_create(
        actor=manager, sku="H-1", name=text, description=text, tags=[text[:50]]
    )
    product.refresh_from_db()
    assert product.name == text.strip()
    assert product.description == text.strip()


@pytest.mark.parametrize("role", ["rep", "read_only"])
def test_people_who_do_not_keep_the_catalogue_cannot_write_it(request, role, product, category):
    actor = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        products.product_create(actor=actor, sku="R-1", name="Nope")
    with pytest.raises(PermissionDenied):
        products.product_update(actor=actor, product_id=product.pk, data={"name": "Hacked"})
    with pytest.raises(PermissionDenied):
        products.product_delete(actor=actor, product_id=product.pk)
    with pytest.raises(PermissionDenied):
        products.category_create(actor=actor, name="X")
    with pytest.raises(PermissionDenied):
        pipelines.pipeline_create(actor=actor, name="X")
    with pytest.raises(PermissionDenied):
        prices.exchange_rates_upsert(
            actor=actor, day=DAY, rates=[{"currency": "EUR", "quote_currency": "TRY", "rate": "1"}]
        )
    product.refresh_from_db()
    assert product.name == "Türk kahvesi 250 g"
    assert ChangeLogEntry.objects.count() == 0


def test_update_with_a_stale_version_is_a_conflict(manager, product):
    products.product_update(actor=manager, product_id=product.pk, data={"name": "New"})
    with pytest.raises(Conflict):
        products.product_update(
            actor=manager, product_id=product.pk, data={"name": "Lost"}, expected_version=1
        )
    product.refresh_from_db()
    assert (product.name, product.version) == ("New", 2)


def test_update_refuses_fields_that_cannot_change(manager, product):
    with pytest.raises(ValidationFailed) as exc_info:
        products.product_update(
            actor=manager, product_id=product.pk, data={"version": 9, "created_by": None}
        )
    assert fields_of(exc_info) == {"version", "created_by"}


def test_missing_product_is_not_found(manager):
    from vefa.common.errors import NotFound

    with pytest.raises(NotFound):
        products.product_update(actor=manager, product_id=424242, data={"name": "x"})
    with pytest.raises(NotFound):
        products.product_update(actor=manager, product_id="abc", data={"name": "x"})


def test_a_product_on_an_opportunity_cannot_be_deleted(manager, product, own_customer, rep):
    _opportunity_with(own_customer, rep, product=product)
    with pytest.raises(ValidationFailed) as exc_info:
        products.product_delete(actor=manager, product_id=product.pk)
    assert "inactive" in str(exc_info.value.fields["__all__"][0])
    assert Product.objects.filter(pk=product.pk).exists()
    assert not ChangeLogEntry.objects.filter(action="delete").exists()


def test_deleting_a_product_removes_its_prices_and_logs_it(manager, product):
    price_list = PriceList.objects.create(name="Genel", currency="TRY")
    PriceListItem.objects.create(price_list=price_list, product=product, unit_price=1)
    products.product_delete(actor=manager, product_id=product.pk)
    assert not Product.objects.exists()
    assert not PriceListItem.objects.exists()
    assert ChangeLogEntry.objects.get(action="delete").object_id == product.pk


# --- categories ----------------------------------------------------------------------------


def test_categories_nest_and_cannot_loop(manager):
    drinks = products.category_create(actor=manager, name="İçecek")
    tea = products.category_create(actor=manager, name="Çay", parent_id=drinks.pk)
    green = products.category_create(actor=manager, name="Yeşil", parent_id=str(tea.pk))
    with pytest.raises(ValidationFailed) as exc_info:
        products.category_update(actor=manager, category_id=drinks.pk, data={"parent_id": green.pk})
    assert "parent_id" in fields_of(exc_info)
    with pytest.raises(ValidationFailed):
        products.category_update(actor=manager, category_id=tea.pk, data={"parent_id": tea.pk})
    products.category_update(actor=manager, category_id=green.pk, data={"parent_id": None})
    green.refresh_from_db()
    assert green.parent is None


def test_sibling_categories_have_distinct_names(manager, category):
    with pytest.raises(ValidationFailed) as exc_info:
        products.category_create(actor=manager, name="KAHVE")
    assert "name" in fields_of(exc_info)
    products.category_create(actor=manager, name="Kahve", parent_id=category.pk)


def test_a_category_in_use_cannot_be_deleted(manager, category, product):
    with pytest.raises(ValidationFailed):
        products.category_delete(actor=manager, category_id=category.pk)
    assert ProductCategory.objects.filter(pk=category.pk).exists()
    empty = products.category_create(actor=manager, name="Boş")
    products.category_delete(actor=manager, category_id=empty.pk)
    assert not ProductCategory.objects.filter(pk=empty.pk).exists()


# --- price lists ---------------------------------------------------------------------------


def test_price_list_with_a_group_and_validity(manager):
    group = Tag.objects.create(name="VIP", slug="vip")
    price_list = prices.price_list_create(
        actor=manager,
        name="VIP 2026",
        currency="EUR",
        customer_group_id=group.pk,
        valid_from="2026-01-01",
        valid_until=datetime.date(2026, 12, 31),
    )
    assert (price_list.customer_group, price_list.valid_until) == (
        group,
        datetime.date(2026, 12, 31),
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"valid_from": "2026-02-01", "valid_until": "2026-01-01"}, "valid_until"),
        ({"valid_from": "01/02/2026"}, "valid_from"),
        ({"valid_from": datetime.datetime(2026, 1, 1)}, "valid_from"),
        ({"customer_group_id": 99999}, "customer_group_id"),
        ({"currency": "EURO"}, "currency"),
        ({"name": ""}, "name"),
        ({"is_active": 1}, "is_active"),
    ],
)
def test_bad_price_list_input_is_refused(manager, data, field):
    values = {"name": "List", "currency": "TRY", **data}
    with pytest.raises(ValidationFailed) as exc_info:
        prices.price_list_create(actor=manager, **values)
    assert field in fields_of(exc_info)
    assert not PriceList.objects.exists()


def test_prices_are_one_per_tier_and_the_currency_is_then_fixed(manager, product):
    price_list = prices.price_list_create(actor=manager, name="Genel", currency="TRY")
    item = prices.price_list_item_add(
        actor=manager, price_list_id=price_list.pk, product_id=product.pk, unit_price="99.5"
    )
    assert (item.min_quantity, item.unit_price) == (Decimal("1.000"), Decimal("99.5"))
    with pytest.raises(ValidationFailed) as exc_info:
        prices.price_list_item_add(
            actor=manager,
            price_list_id=price_list.pk,
            product_id=product.pk,
            unit_price="80",
            min_quantity="1.000",
        )
    assert "min_quantity" in fields_of(exc_info)
    tier = prices.price_list_item_add(
        actor=manager,
        price_list_id=price_list.pk,
        product_id=product.pk,
        unit_price="80",
        min_quantity="10",
    )
    with pytest.raises(ValidationFailed):
        prices.price_list_item_update(actor=manager, item_id=tier.pk, data={"min_quantity": "1"})
    prices.price_list_item_update(actor=manager, item_id=tier.pk, data={"unit_price": "79"})
    with pytest.raises(ValidationFailed) as exc_info:
        prices.price_list_update(
            actor=manager, price_list_id=price_list.pk, data={"currency": "EUR"}
        )
    assert "currency" in fields_of(exc_info)
    prices.price_list_item_remove(actor=manager, item_id=tier.pk)
    assert list(price_list.items.values_list("unit_price", flat=True)) == [Decimal("99.5")]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"unit_price": 9.99}, "unit_price"),
        ({"unit_price": ""}, "unit_price"),
        ({"unit_price": "-1"}, "unit_price"),
        ({"min_quantity": "0"}, "min_quantity"),
        ({"min_quantity": "abc"}, "min_quantity"),
        ({"product_id": 0}, "product_id"),
        ({"product_id": None}, "product_id"),
    ],
)
def test_bad_prices_are_refused(manager, product, data, field):
    price_list = prices.price_list_create(actor=manager, name="Genel", currency="TRY")
    values = {"product_id": product.pk, "unit_price": "10", **data}
    with pytest.raises(ValidationFailed) as exc_info:
        prices.price_list_item_add(actor=manager, price_list_id=price_list.pk, **values)
    assert field in fields_of(exc_info)
    assert not PriceListItem.objects.exists()


# --- exchange rates ------------------------------------------------------------------------


def test_exchange_rates_one_per_pair_and_day(manager):
    rate = prices.exchange_rate_create(
        actor=manager, day=DAY, currency="EUR", quote_currency="TRY", rate="36.4251234567"
    )
    assert rate.rate == Decimal("36.4251234567")
    with pytest.raises(ValidationFailed) as exc_info:
        prices.exchange_rate_create(
            actor=manager, day=DAY, currency="EUR", quote_currency="TRY", rate="37"
        )
    assert "day" in fields_of(exc_info)
    prices.exchange_rate_delete(actor=manager, rate_id=rate.pk)
    assert not ExchangeRate.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"rate": "0"}, "rate"),
        ({"rate": "-2"}, "rate"),
        ({"rate": 1.5}, "rate"),
        ({"rate": "1e20"}, "rate"),
        ({"rate": "0.00000000001"}, "rate"),
        ({"quote_currency": "EUR"}, "quote_currency"),
        ({"currency": "E"}, "currency"),
        ({"day": "yesterday"}, "day"),
        ({"day": None}, "day"),
    ],
)
def test_bad_exchange_rates_are_refused(manager, data, field):
    values = {"day": DAY, "currency": "EUR", "quote_currency": "TRY", "rate": "36", **data}
    with pytest.raises(ValidationFailed) as exc_info:
        prices.exchange_rate_create(actor=manager, **values)
    assert field in fields_of(exc_info)
    assert not ExchangeRate.objects.exists()


def test_upserting_a_day_adds_updates_and_leaves_unchanged_rates_alone(manager):
    prices.exchange_rate_create(
        actor=manager, day=DAY, currency="EUR", quote_currency="TRY", rate="36"
    )
    prices.exchange_rate_create(
        actor=manager, day=DAY, currency="USD", quote_currency="TRY", rate="34"
    )
    before = ChangeLogEntry.objects.count()
    result = prices.exchange_rates_upsert(
        actor=manager,
        day=DAY.isoformat(),
        rates=[
            {"currency": "EUR", "quote_currency": "TRY", "rate": "36.5"},
            {"currency": "USD", "quote_currency": "TRY", "rate": "34"},
            {"currency": "RSD", "quote_currency": "TRY", "rate": "0.31"},
        ],
    )
    assert [r.currency for r in result] == ["EUR", "USD", "RSD"]
    table = dict(ExchangeRate.objects.values_list("currency", "rate"))
    assert table == {"EUR": Decimal("36.5"), "USD": Decimal("34"), "RSD": Decimal("0.31")}
    # One update and one create; the unchanged USD rate wrote nothing.
    assert ChangeLogEntry.objects.count() - before == 2


def test_one_bad_row_refuses_the_whole_day_and_names_the_row(manager):
    with pytest.raises(ValidationFailed) as exc_info:
        prices.exchange_rates_upsert(
            actor=manager,
            day=DAY,
            rates=[
                {"currency": "EUR", "quote_currency": "TRY", "rate": "36"},
                {"currency": "USD", "quote_currency": "TRY", "rate": "abc"},
                {"currency": "EUR", "quote_currency": "TRY", "rate": "37"},
                {"currency": "GBP", "quote_currency": "TRY", "rate": "40", "note": "x"},
                "not an object",
            ],
        )
    assert fields_of(exc_info) == {
        "rates.1.rate",
        "rates.2.currency",
        "rates.3.note",
        "rates.4",
    }
    assert not ExchangeRate.objects.exists()


@pytest.mark.parametrize("rates", [[], "EUR", None, [{}] * 501])
def test_upsert_needs_a_list_of_at_most_500_rates(manager, rates):
    with pytest.raises(ValidationFailed) as exc_info:
        prices.exchange_rates_upsert(actor=manager, day=DAY, rates=rates)
    assert "rates" in fields_of(exc_info)


# --- competitors ---------------------------------------------------------------------------


def test_competitors_have_unique_names_and_in_use_ones_stay(manager, own_customer, rep):
    rival = products.competitor_create(actor=manager, name="Rakip Ltd", website="rakip.example")
    with pytest.raises(ValidationFailed):
        products.competitor_create(actor=manager, name="RAKIP LTD")
    products.competitor_update(actor=manager, competitor_id=rival.pk, data={"notes": "Ucuz"})
    opportunity = _opportunity_with(own_customer, rep)
    from vefa.sales.models import OpportunityCompetitor

    OpportunityCompetitor.objects.create(opportunity=opportunity, competitor=rival)
    with pytest.raises(ValidationFailed):
        products.competitor_delete(actor=manager, competitor_id=rival.pk)
    assert Competitor.objects.filter(pk=rival.pk).exists()


# --- pipelines and stages ------------------------------------------------------------------


def _opportunity_with(customer, owner, *, product=None, stage=None) -> Opportunity:
    stage = stage or Stage.objects.filter(pipeline__is_default=True, kind="open").first()
    opportunity = Opportunity.objects.create(
        name="Deal", customer=customer, pipeline=stage.pipeline, stage=stage, owner=owner
    )
    if product is not None:
        OpportunityLine.objects.create(opportunity=opportunity, product=product)
    return opportunity


def defaults() -> dict[str, str]:
    return dict(Pipeline.objects.filter(is_default=True).values_list("kind", "name"))


def test_a_new_pipeline_starts_with_open_won_and_lost_stages(manager, pipeline):
    made = pipelines.pipeline_create(actor=manager, name="Kurumsal")
    assert list(made.stages.order_by("order").values_list("kind", "probability")) == [
        ("open", 10),
        ("won", 100),
        ("lost", 0),
    ]
    assert not made.is_default  # the kind has its default already
    assert defaults()["new_business"] == pipeline.name


def test_exactly_one_default_per_kind(manager, pipeline):
    first_upsell = pipelines.pipeline_create(actor=manager, name="Ek satış", kind="upsell")
    assert first_upsell.is_default
    second = pipelines.pipeline_create(
        actor=manager, name="Kurumsal", kind="new_business", is_default=True
    )
    pipeline.refresh_from_db()
    assert second.is_default and not pipeline.is_default
    assert Pipeline.objects.filter(kind="new_business", is_default=True).count() == 1
    with pytest.raises(ValidationFailed) as exc_info:
        pipelines.pipeline_update(actor=manager, pipeline_id=second.pk, data={"is_default": False})
    assert "is_default" in fields_of(exc_info)
    with pytest.raises(ValidationFailed):
        pipelines.pipeline_update(actor=manager, pipeline_id=second.pk, data={"is_active": False})
    pipelines.pipeline_update(actor=manager, pipeline_id=pipeline.pk, data={"is_default": True})
    assert defaults()["new_business"] == pipeline.name


def test_moving_the_default_to_another_kind_hands_the_default_on(manager, pipeline):
    other = pipelines.pipeline_create(actor=manager, name="Kurumsal")
    pipelines.pipeline_update(actor=manager, pipeline_id=pipeline.pk, data={"kind": "other"})
    pipeline.refresh_from_db()
    other.refresh_from_db()
    assert pipeline.is_default and pipeline.kind == "other"
    assert other.is_default
    for kind in ("new_business", "renewal", "other"):
        assert Pipeline.objects.filter(kind=kind, is_default=True).count() == 1


def test_deleting_the_default_promotes_the_next_one(manager, pipeline):
    other = pipelines.pipeline_create(actor=manager, name="Kurumsal")
    pipelines.pipeline_delete(actor=manager, pipeline_id=pipeline.pk)
    other.refresh_from_db()
    assert other.is_default
    assert not Stage.objects.filter(pipeline_id=pipeline.pk).exists()
    assert (
        ChangeLogEntry.objects.filter(
            model="sales.pipeline", object_id=pipeline.pk, action="delete"
        ).count()
        == 1
    )


def test_a_pipeline_with_opportunities_cannot_be_deleted(manager, pipeline, own_customer, rep):
    _opportunity_with(own_customer, rep)
    with pytest.raises(ValidationFailed) as exc_info:
        pipelines.pipeline_delete(actor=manager, pipeline_id=pipeline.pk)
    assert "Opportunities" in exc_info.value.fields["__all__"][0]
    assert Pipeline.objects.filter(pk=pipeline.pk).exists()
    assert pipeline.stages.count() == 6


def test_pipeline_names_are_unique_and_checked(manager, pipeline):
    with pytest.raises(ValidationFailed) as exc_info:
        pipelines.pipeline_create(actor=manager, name=pipeline.name.upper())
    assert "name" in fields_of(exc_info)
    with pytest.raises(ValidationFailed) as exc_info:
        pipelines.pipeline_create(actor=manager, name="X", kind="sideways")
    assert "kind" in fields_of(exc_info)


def test_open_stages_are_added_before_the_closing_ones(manager, pipeline, stages):
    added = pipelines.stage_create(actor=manager, pipeline_id=pipeline.pk, name="Demo")
    order = list(pipeline.stages.order_by("order").values_list("name", "kind"))
    assert order[4] == ("Demo", "open")
    assert [kind for _, kind in order[5:]] == ["won", "lost"]
    assert added.probability == 10
    lost_too = pipelines.stage_create(
        actor=manager, pipeline_id=pipeline.pk, name="İptal", kind="lost"
    )
    assert lost_too.probability == 0
    assert pipeline.stages.order_by("order").last() == lost_too


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"kind": "maybe"}, "kind"),
        ({"probability": 101}, "probability"),
        ({"probability": "fifty"}, "probability"),
        ({"probability": 50.5}, "probability"),
        ({"stale_after_days": 0}, "stale_after_days"),
        ({"stale_after_days": True}, "stale_after_days"),
    ],
)
def test_bad_stage_input_is_refused(manager, pipeline, data, field):
    values = {"name": "Demo", **data}
    with pytest.raises(ValidationFailed) as exc_info:
        pipelines.stage_create(actor=manager, pipeline_id=pipeline.pk, **values)
    assert field in fields_of(exc_info)
    assert pipeline.stages.count() == 6


def test_stage_names_are_unique_within_a_pipeline(manager, pipeline, stages):
    with pytest.raises(ValidationFailed):
        pipelines.stage_create(actor=manager, pipeline_id=pipeline.pk, name=stages[0].name)
    with pytest.raises(ValidationFailed):
        pipelines.stage_update(actor=manager, stage_id=stages[1].pk, data={"name": stages[0].name})


def test_stage_edit_and_reorder(manager, pipeline, stages):
    pipelines.stage_update(
        actor=manager,
        stage_id=stages[0].pk,
        data={"name": "Nitelik", "probability": 15, "stale_after_days": 7},
    )
    stages[0].refresh_from_db()
    assert (stages[0].name, stages[0].probability, stages[0].stale_after_days) == ("Nitelik", 15, 7)
    wanted = [stages[1].pk, stages[0].pk, *[s.pk for s in stages[2:]]]
    pipelines.stages_reorder(actor=manager, pipeline_id=pipeline.pk, stage_ids=wanted)
    assert list(pipeline.stages.order_by("order").values_list("pk", flat=True)) == wanted
    pipelines.stage_move(actor=manager, stage_id=stages[0].pk, offset=-1)
    assert pipeline.stages.order_by("order").first() == stages[0]


@pytest.mark.parametrize("ids", [[], "1,2", None, ["a"]])
def test_reorder_needs_every_stage_exactly_once(manager, pipeline, stages, ids):
    with pytest.raises(ValidationFailed):
        pipelines.stages_reorder(actor=manager, pipeline_id=pipeline.pk, stage_ids=ids)
    with pytest.raises(ValidationFailed):
        pipelines.stages_reorder(
            actor=manager, pipeline_id=pipeline.pk, stage_ids=[s.pk for s in stages[:-1]]
        )


def test_a_stage_with_opportunities_cannot_be_deleted_or_change_kind(
    manager, stages, own_customer, rep
):
    _opportunity_with(own_customer, rep, stage=stages[1])
    with pytest.raises(ValidationFailed) as exc_info:
        pipelines.stage_delete(actor=manager, stage_id=stages[1].pk)
    assert "Opportunities" in exc_info.value.fields["__all__"][0]
    with pytest.raises(ValidationFailed):
        pipelines.stage_update(actor=manager, stage_id=stages[1].pk, data={"kind": "won"})
    assert Stage.objects.filter(pk=stages[1].pk, kind="open").exists()
    pipelines.stage_delete(actor=manager, stage_id=stages[2].pk)
    assert not Stage.objects.filter(pk=stages[2].pk).exists()


def test_the_last_stage_of_a_kind_stays(manager, stages):
    won = next(s for s in stages if s.kind == "won")
    with pytest.raises(ValidationFailed) as exc_info:
        pipelines.stage_delete(actor=manager, stage_id=won.pk)
    assert "kind" in fields_of(exc_info)
    with pytest.raises(ValidationFailed):
        pipelines.stage_update(actor=manager, stage_id=won.pk, data={"kind": "open"})
    assert Stage.objects.filter(pk=won.pk, kind="won").exists()

"""The catalogue pages: lists, filters, forms, htmx partials, buttons by role, escaping."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tests.sales.conftest import HOSTILE
from vefa.platform.models import ChangeLogEntry, Tag
from vefa.sales.models import (
    Competitor,
    ExchangeRate,
    Opportunity,
    Pipeline,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
    Stage,
)

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def htmx(client: Client, method: str, url: str, data=None):
    return getattr(client, method)(url, data or {}, headers={"HX-Request": "true"})


PAGES = [
    "sales:product_list",
    "sales:product_create",
    "sales:category_list",
    "sales:pricelist_list",
    "sales:pricelist_create",
    "sales:exchange_rate_list",
    "sales:competitor_list",
    "sales:pipeline_list",
]


@pytest.mark.parametrize("name", PAGES)
def test_manager_sees_every_catalogue_page(manager, name, product):
    response = logged_in(manager).get(reverse(name))
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["sales:product_create", "sales:pricelist_create"])
@pytest.mark.parametrize("role", ["rep", "read_only"])
def test_create_pages_are_hidden_from_people_who_cannot_create(request, role, name):
    response = logged_in(request.getfixturevalue(role)).get(reverse(name))
    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(db):
    response = Client().get(reverse("sales:product_list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.parametrize(
    ("role", "sees"), [("manager", True), ("rep", False), ("read_only", False)]
)
def test_only_catalogue_managers_see_add_and_edit_buttons(request, role, sees, product):
    client = logged_in(request.getfixturevalue(role))
    listing = client.get(reverse("sales:product_list")).content.decode()
    detail = client.get(reverse("sales:product_detail", args=[product.pk])).content.decode()
    pipelines = client.get(reverse("sales:pipeline_list")).content.decode()
    assert (reverse("sales:product_create") in listing) is sees
    assert (reverse("sales:product_edit", args=[product.pk]) in detail) is sees
    assert (reverse("sales:product_delete", args=[product.pk]) in detail) is sees
    assert ("Add stage" in pipelines) is sees
    assert product.name in detail


def index_products() -> None:
    """Put the products made directly in the search index (services do it after commit)."""
    from vefa.platform.search.indexer import index_records

    index_records("sales.product", Product.objects.values_list("pk", flat=True))


def test_product_list_searches_by_sku_and_name_and_filters(manager, category):
    sub = ProductCategory.objects.create(name="Filtre", parent=category)
    Product.objects.create(sku="KHV-002", name="Filtre kahve", category=sub)
    Product.objects.create(sku="CAY-001", name="Siyah çay")
    Product.objects.create(sku="KHV-OLD", name="Eski kahve", category=category, is_active=False)
    index_products()
    client = logged_in(manager)
    url = reverse("sales:product_list")

    def skus(**params) -> list[str]:
        body = client.get(url, params).content.decode()
        return [s for s in ("KHV-002", "CAY-001", "KHV-OLD") if s in body]

    assert skus(q="khv") == ["KHV-002", "KHV-OLD"]
    assert skus(q="çay") == ["CAY-001"]
    assert skus(q="ÇAY") == ["CAY-001"]
    assert skus(q="kah") == ["KHV-002", "KHV-OLD"]
    assert skus(q="eski kah") == ["KHV-OLD"]
    assert skus(q="ahve") == []
    assert skus(q="kahve", category=sub.pk) == ["KHV-002"]
    assert skus(category=category.pk) == ["KHV-002", "KHV-OLD"]
    assert skus(category=sub.pk) == ["KHV-002"]
    assert skus(active="no") == ["KHV-OLD"]
    assert skus(active="yes", q="KHV") == ["KHV-002"]
    assert skus(category="abc", active="maybe") == ["KHV-002", "CAY-001", "KHV-OLD"]


def test_products_saved_through_the_service_are_found_by_word(
    manager, django_capture_on_commit_callbacks
):
    from vefa.sales.services.catalogue import product_create, product_update

    with django_capture_on_commit_callbacks(execute=True):
        made = product_create(actor=manager, sku="ESP-1", name="Espresso çekirdek")
    client = logged_in(manager)
    url = reverse("sales:product_list")
    assert "ESP-1" in client.get(url, {"q": "cekir"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        product_update(actor=manager, product_id=made.pk, data={"name": "Filtre öğütülmüş"})
    assert "ESP-1" not in client.get(url, {"q": "cekir"}).content.decode()
    assert "ESP-1" in client.get(url, {"q": "ogut"}).content.decode()


def test_a_very_common_word_lists_the_newest_matches_and_says_so(manager, monkeypatch):
    from vefa.sales.selectors import catalogue as selectors

    monkeypatch.setattr(selectors, "MAX_WORD_MATCHES", 2)
    Product.objects.bulk_create([Product(sku=f"T-{i}", name=f"Çay {i}") for i in range(4)])
    index_products()
    response = logged_in(manager).get(reverse("sales:product_list"), {"q": "çay"})
    body = response.content.decode()
    assert "only the newest matches are listed" in body
    assert len([s for s in ("T-0", "T-1", "T-2", "T-3") if s in body]) == 2


def test_product_list_pages_with_a_cursor_and_htmx_rows(manager):
    Product.objects.bulk_create([Product(sku=f"P-{i:03}", name=f"Ürün {i:03}") for i in range(60)])
    client = logged_in(manager)
    first = client.get(reverse("sales:product_list")).context
    assert len(first["page"].items) == 50
    cursor = first["page"].next_cursor
    more = htmx(client, "get", reverse("sales:product_list"), {"cursor": cursor})
    assert more.status_code == 200
    body = more.content.decode()
    assert "P-050" in body and "P-059" in body and "P-000" not in body
    assert "<html" not in body


def test_product_list_query_count_does_not_grow_with_the_page(
    manager, category, django_assert_max_num_queries
):
    Product.objects.bulk_create(
        [Product(sku=f"Q-{i}", name=f"N {i}", category=category) for i in range(50)]
    )
    client = logged_in(manager)
    client.get(reverse("sales:product_list"))
    with django_assert_max_num_queries(8):
        client.get(reverse("sales:product_list"))


def test_product_form_creates_and_shows_margin(manager, category):
    client = logged_in(manager)
    response = client.post(
        reverse("sales:product_create"),
        {
            "sku": "KHV-9",
            "name": "Espresso",
            "category": category.pk,
            "unit": "kg",
            "list_price": "250,50",
            "unit_cost": "100",
            "currency": "try",
            "tax_rate": "10",
            "is_active": "on",
            "tags": "Kahve, Premium",
        },
    )
    product = Product.objects.get(sku="KHV-9")
    assert response.status_code == 302
    assert response["Location"] == product.get_absolute_url()
    assert product.list_price == Decimal("250.5")
    assert sorted(t.name for t in product.tags.all()) == ["Kahve", "Premium"]
    detail = client.get(product.get_absolute_url()).content.decode()
    assert "150.50" in detail and "60.1" in detail  # margin 150.50 TRY, 60.1 %


def test_product_form_shows_service_errors_and_keeps_input(manager, product):
    response = logged_in(manager).post(
        reverse("sales:product_create"),
        {
            "sku": product.sku,
            "name": "Yeni",
            "list_price": "abc",
            "currency": "TRY",
            "unit": "piece",
            "tax_rate": "0",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Another product already has this SKU." in body or "Enter an amount" in body
    assert Product.objects.count() == 1


def test_product_edit_with_a_stale_version_shows_a_conflict(manager, product):
    client = logged_in(manager)
    data = {
        "sku": product.sku,
        "name": "Yeni ad",
        "unit": "piece",
        "list_price": "120",
        "currency": "TRY",
        "tax_rate": "20",
        "is_active": "on",
        "version": "1",
    }
    assert client.post(reverse("sales:product_edit", args=[product.pk]), data).status_code == 302
    stale = client.post(reverse("sales:product_edit", args=[product.pk]), data | {"name": "Eski"})
    assert stale.status_code == 422
    assert "Someone else changed this product" in stale.content.decode()
    product.refresh_from_db()
    assert product.name == "Yeni ad"


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_names_are_escaped_everywhere(manager, text):
    product = Product.objects.create(sku="H-1", name=text, description=text)
    PriceList.objects.create(name=text, currency="TRY")
    Competitor.objects.create(name=text)
    client = logged_in(manager)
    for url in (
        reverse("sales:product_list"),
        product.get_absolute_url(),
        reverse("sales:pricelist_list"),
        reverse("sales:competitor_list"),
    ):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body


def test_price_list_detail_adds_and_removes_prices_with_htmx(manager, product):
    price_list = PriceList.objects.create(name="Bayi", currency="TRY")
    client = logged_in(manager)
    detail_url = reverse("sales:pricelist_detail", args=[price_list.pk])
    assert "No prices yet." in client.get(detail_url).content.decode()
    add_url = reverse("sales:pricelist_item_add", args=[price_list.pk])
    added = htmx(
        client,
        "post",
        add_url,
        {"product": product.sku, "min_quantity": "10", "unit_price": "99,90"},
    )
    assert added.status_code == 200
    item = PriceListItem.objects.get()
    assert (item.min_quantity, item.unit_price) == (Decimal("10"), Decimal("99.9"))
    body = added.content.decode()
    assert f'id="price-{item.pk}"' in body and 'hx-swap-oob="afterbegin:#price-rows"' in body
    assert 'id="price-form"' in body
    duplicate = htmx(
        client, "post", add_url, {"product": product.sku, "min_quantity": "10", "unit_price": "1"}
    )
    assert duplicate.status_code == 422
    assert "already has a price from this quantity" in duplicate.content.decode()
    unknown = htmx(client, "post", add_url, {"product": "NOPE", "unit_price": "1"})
    assert "No product has this SKU." in unknown.content.decode()
    assert PriceListItem.objects.count() == 1
    removed = htmx(client, "post", reverse("sales:pricelist_item_remove", args=[item.pk]))
    assert (removed.status_code, removed.content) == (200, b"")
    assert not PriceListItem.objects.exists()
    assert ChangeLogEntry.objects.filter(model="sales.pricelistitem").count() == 2


def test_price_list_item_add_without_htmx_redirects_with_a_message(manager, product):
    price_list = PriceList.objects.create(name="Bayi", currency="TRY")
    response = logged_in(manager).post(
        reverse("sales:pricelist_item_add", args=[price_list.pk]),
        {"product": product.sku, "unit_price": "x"},
        follow=True,
    )
    assert "Enter an amount" in response.content.decode()
    assert not PriceListItem.objects.exists()


def test_price_list_create_and_edit(manager):
    group = Tag.objects.create(name="Toptan", slug="toptan")
    client = logged_in(manager)
    response = client.post(
        reverse("sales:pricelist_create"),
        {
            "name": "Toptan 2026",
            "currency": "eur",
            "customer_group": group.pk,
            "valid_from": "2026-01-01",
            "valid_until": "2025-01-01",
            "is_active": "on",
        },
    )
    assert response.status_code == 422
    assert not PriceList.objects.exists()
    response = client.post(
        reverse("sales:pricelist_create"),
        {"name": "Toptan 2026", "currency": "eur", "customer_group": group.pk, "is_active": "on"},
    )
    price_list = PriceList.objects.get()
    assert response["Location"] == reverse("sales:pricelist_detail", args=[price_list.pk])
    assert (price_list.currency, price_list.customer_group) == ("EUR", group)


def test_product_price_partial_fills_the_input(manager, product, own_customer):
    group = Tag.objects.create(name="Toptan", slug="toptan")
    own_customer.tags.add(group)
    special = PriceList.objects.create(name="Toptan", currency="TRY", customer_group=group)
    PriceListItem.objects.create(price_list=special, product=product, unit_price=Decimal("99.5"))
    client = logged_in(manager)
    url = reverse("sales:product_price", args=[product.pk])
    body = client.get(
        url,
        {
            "currency": "TRY",
            "quantity": "2",
            "name": "lines-0-unit_price",
            "id": "id_lines-0-unit_price",
        },
    ).content.decode()
    assert 'name="lines-0-unit_price"' in body and 'id="id_lines-0-unit_price"' in body
    assert 'value="120"' in body and 'data-price-source="list_price"' in body
    body = client.get(url, {"currency": "TRY", "customer": own_customer.pk}).content.decode()
    assert 'value="99.5"' in body and 'data-price-source="price_list"' in body
    body = client.get(url, {"currency": "EUR"}).content.decode()
    assert 'value=""' in body and 'data-price-source="none"' in body
    body = client.get(
        url, {"currency": "TRY", "quantity": "-1", "name": '"><script>'}
    ).content.decode()
    assert 'name="unit_price"' in body and "<script>" not in body and 'value=""' in body


def test_exchange_rate_page_adds_filters_and_deletes(manager):
    client = logged_in(manager)
    url = reverse("sales:exchange_rate_list")
    response = client.post(
        url, {"day": "2026-11-24", "currency": "eur", "quote_currency": "TRY", "rate": "36,42"}
    )
    assert response.status_code == 302
    rate = ExchangeRate.objects.get()
    assert rate.rate == Decimal("36.42")
    again = client.post(
        url, {"day": "2026-11-24", "currency": "EUR", "quote_currency": "TRY", "rate": "37"}
    )
    assert again.status_code == 422
    ExchangeRate.objects.create(
        day=datetime.date(2026, 11, 1), currency="USD", quote_currency="TRY", rate=Decimal("34")
    )
    rows = htmx(client, "get", url, {"currency": "usd"}).content.decode()
    assert "USD" in rows and "EUR" not in rows
    deleted = htmx(client, "post", reverse("sales:exchange_rate_delete", args=[rate.pk]))
    assert deleted.status_code == 200
    assert list(ExchangeRate.objects.values_list("currency", flat=True)) == ["USD"]


def test_competitor_page_adds_edits_and_refuses_duplicates(manager):
    client = logged_in(manager)
    url = reverse("sales:competitor_list")
    assert client.post(url, {"name": "Rakip", "website": "rakip.example"}).status_code == 302
    assert client.post(url, {"name": "Rakip"}).status_code == 422
    competitor = Competitor.objects.get()
    edit = reverse("sales:competitor_edit", args=[competitor.pk])
    assert client.post(edit, {"name": "Rakip 2", "version": "1"}).status_code == 302
    competitor.refresh_from_db()
    assert competitor.name == "Rakip 2"


def test_category_page_adds_and_refuses_deleting_a_used_category(manager, product, category):
    client = logged_in(manager)
    client.post(reverse("sales:category_list"), {"name": "Filtre", "parent": category.pk})
    assert ProductCategory.objects.filter(name="Filtre", parent=category).exists()
    response = client.post(reverse("sales:category_delete", args=[category.pk]), follow=True)
    assert "still has products" in response.content.decode()
    assert ProductCategory.objects.filter(pk=category.pk).exists()


def test_pipeline_page_manages_stages(manager, pipeline, stages, own_customer, rep):
    client = logged_in(manager)
    page = reverse("sales:pipeline_list")
    response = client.post(
        reverse("sales:stage_add", args=[pipeline.pk]),
        {"name": "Demo", "kind": "open", "probability": "", "stale_after_days": "10"},
    )
    assert response.status_code == 302 and response["Location"].startswith(page)
    demo = Stage.objects.get(pipeline=pipeline, name="Demo")
    client.post(
        reverse("sales:stage_edit", args=[demo.pk]),
        {
            "name": "Demo toplantısı",
            "kind": "open",
            "probability": "40",
            "stale_after_days": "5",
            "version": demo.version,
        },
    )
    demo.refresh_from_db()
    assert (demo.name, demo.probability, demo.stale_after_days) == ("Demo toplantısı", 40, 5)
    client.post(reverse("sales:stage_move", args=[demo.pk]), {"direction": "up"})
    order = list(pipeline.stages.order_by("order").values_list("name", flat=True))
    assert order.index("Demo toplantısı") == 3
    Opportunity.objects.create(
        name="Deal", customer=own_customer, pipeline=pipeline, stage=demo, owner=rep
    )
    refused = client.post(reverse("sales:stage_delete", args=[demo.pk]), follow=True)
    assert "Opportunities are in this stage" in refused.content.decode()
    refused = client.post(reverse("sales:pipeline_delete", args=[pipeline.pk]), follow=True)
    assert "Opportunities are in this pipeline" in refused.content.decode()
    assert Pipeline.objects.filter(pk=pipeline.pk).exists()


def test_pipeline_page_adds_and_renames_pipelines(manager, pipeline):
    client = logged_in(manager)
    client.post(
        reverse("sales:pipeline_list"), {"name": "Kurumsal", "kind": "upsell", "is_active": "on"}
    )
    made = Pipeline.objects.get(name="Kurumsal")
    assert made.is_default and made.stages.count() == 3
    client.post(
        reverse("sales:pipeline_edit", args=[made.pk]),
        {"name": "Kurumsal satış", "kind": "upsell", "is_active": "on", "version": made.version},
    )
    made.refresh_from_db()
    assert (made.name, made.is_default, made.is_active) == ("Kurumsal satış", True, True)
    response = client.post(
        reverse("sales:pipeline_edit", args=[made.pk]),
        {"name": "Kurumsal satış", "kind": "upsell", "version": made.version},
        follow=True,
    )
    assert "must be active" in response.content.decode()
    made.refresh_from_db()
    assert made.is_active


def test_a_category_with_sub_categories_pages_in_name_order(manager, category):
    subs = [ProductCategory.objects.create(name=f"Alt {i}", parent=category) for i in range(3)]
    Product.objects.bulk_create(
        [Product(sku=f"S-{i:03}", name=f"Ürün {i:03}", category=subs[i % 3]) for i in range(70)]
        + [Product(sku="ELSE", name="Başka")]
    )
    from vefa.sales.selectors.catalogue import ProductFilters, product_page

    filters = ProductFilters(category=category.pk)
    first = product_page(actor=manager, filters=filters, size=50)
    second = product_page(actor=manager, filters=filters, cursor=first.next_cursor, size=50)
    names = [p.name for p in first.items + second.items]
    assert names == [f"Ürün {i:03}" for i in range(70)]
    assert second.next_cursor is None
    back = product_page(actor=manager, filters=filters, cursor=second.previous_cursor, size=50)
    assert [p.pk for p in back.items] == [p.pk for p in first.items]


def test_product_options_for_the_sku_pickers(rep, product):
    """The datalist of the SKU pickers: active products by SKU prefix or name, escaped."""
    Product.objects.create(sku="ESK-9", name="<i>eski</i>", is_active=False)
    Product.objects.create(sku="ÇAY-1", name="Çay <b>demlik</b>")
    client = logged_in(rep)
    every = client.get(reverse("sales:product_choices")).content.decode()
    assert "KHV-001" in every and "ÇAY-1" in every and "ESK-9" not in every
    assert "<b>demlik" not in every and "&lt;b&gt;demlik" in every
    found = client.get(reverse("sales:product_choices"), {"q": "khv"}).content.decode()
    assert "KHV-001" in found and "ÇAY-1" not in found

"""Who may change the catalogue: every role reads it; sales managers and administrators
change it. Allowed writes answer 2xx/3xx and write exactly one change-log row for the record;
refused writes answer 404 ("not allowed" looks like "not found") and change nothing."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.accounts.services import api_token_create
from vefa.platform.models import ChangeLogEntry
from vefa.sales.models import (
    Competitor,
    ExchangeRate,
    Pipeline,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
    Stage,
)

pytestmark = pytest.mark.django_db

ROLES = ["admin_user", "manager", "rep", "service_agent", "marketer", "read_only"]
CHANGERS = {"admin_user", "manager"}
API = "/api/v1/sales"


@pytest.fixture
def service_agent(team):
    return UserFactory(role=Role.SERVICE_AGENT, team=team)


@pytest.fixture
def marketer(team):
    return UserFactory(role=Role.MARKETER, team=team)


@dataclass
class Catalogue:
    product: Product
    category: ProductCategory
    empty_category: ProductCategory
    price_list: PriceList
    item: PriceListItem
    rate: ExchangeRate
    competitor: Competitor
    pipeline: Pipeline
    stage: Stage


@pytest.fixture
def records(product, category) -> Catalogue:
    price_list = PriceList.objects.create(name="Genel", currency="TRY")
    pipeline = Pipeline.objects.create(name="Kurumsal", kind="other", is_default=True, order=5)
    stage = None
    for order, (name, kind) in enumerate(
        [("Yeni", "open"), ("Ara", "open"), ("Kazanıldı", "won"), ("Kaybedildi", "lost")]
    ):
        made = Stage.objects.create(pipeline=pipeline, name=name, kind=kind, order=order)
        stage = stage or made
    assert stage is not None
    return Catalogue(
        product=product,
        category=category,
        empty_category=ProductCategory.objects.create(name="Boş"),
        price_list=price_list,
        item=PriceListItem.objects.create(
            price_list=price_list, product=product, unit_price=Decimal("100")
        ),
        rate=ExchangeRate.objects.create(
            day=datetime.date(2026, 11, 1), currency="EUR", quote_currency="TRY", rate=36
        ),
        competitor=Competitor.objects.create(name="Rakip"),
        pipeline=pipeline,
        stage=stage,
    )


@dataclass(frozen=True)
class Write:
    """One way to change the catalogue; ``record`` is the record whose log row is counted
    (``None`` for creates: one new ``create`` row of ``model``)."""

    name: str
    kind: str  # api or page
    method: str
    url: Callable[[Catalogue], str]
    model: str
    record: Callable[[Catalogue], Any] | None = None
    data: Callable[[Catalogue], dict[str, Any]] = lambda c: {}


def _page(name: str, attr: str | None = None) -> Callable[[Catalogue], str]:
    return lambda c: reverse(name, args=[getattr(c, attr).pk]) if attr else reverse(name)


WRITES = [
    # --- API
    Write("api product create", "api", "post", lambda c: f"{API}/products", "sales.product",
          data=lambda c: {"sku": "NEW-1", "name": "Yeni"}),
    Write("api product update", "api", "patch", lambda c: f"{API}/products/{c.product.pk}",
          "sales.product", lambda c: c.product, lambda c: {"name": "Değişti"}),
    Write("api product delete", "api", "delete", lambda c: f"{API}/products/{c.product.pk}",
          "sales.product", lambda c: c.product),
    Write("api category create", "api", "post", lambda c: f"{API}/categories",
          "sales.productcategory", data=lambda c: {"name": "Yeni"}),
    Write("api category update", "api", "patch", lambda c: f"{API}/categories/{c.category.pk}",
          "sales.productcategory", lambda c: c.category, lambda c: {"name": "Yeni ad"}),
    Write("api category delete", "api", "delete",
          lambda c: f"{API}/categories/{c.empty_category.pk}", "sales.productcategory",
          lambda c: c.empty_category),
    Write("api price list create", "api", "post", lambda c: f"{API}/price-lists",
          "sales.pricelist", data=lambda c: {"name": "Yeni", "currency": "EUR"}),
    Write("api price list update", "api", "patch",
          lambda c: f"{API}/price-lists/{c.price_list.pk}", "sales.pricelist",
          lambda c: c.price_list, lambda c: {"is_active": False}),
    Write("api price list delete", "api", "delete",
          lambda c: f"{API}/price-lists/{c.price_list.pk}", "sales.pricelist",
          lambda c: c.price_list),
    Write("api price add", "api", "post", lambda c: f"{API}/price-lists/{c.price_list.pk}/items",
          "sales.pricelistitem",
          data=lambda c: {"product_id": c.product.pk, "unit_price": "90", "min_quantity": "10"}),
    Write("api price update", "api", "patch", lambda c: f"{API}/price-list-items/{c.item.pk}",
          "sales.pricelistitem", lambda c: c.item, lambda c: {"unit_price": "95"}),
    Write("api price remove", "api", "delete", lambda c: f"{API}/price-list-items/{c.item.pk}",
          "sales.pricelistitem", lambda c: c.item),
    Write("api rate create", "api", "post", lambda c: f"{API}/exchange-rates",
          "sales.exchangerate",
          data=lambda c: {"day": "2026-11-24", "currency": "USD", "quote_currency": "TRY",
                          "rate": "34"}),
    Write("api rates of a day", "api", "put", lambda c: f"{API}/exchange-rates/days/2026-11-01",
          "sales.exchangerate", lambda c: c.rate,
          lambda c: {"rates": [{"currency": "EUR", "quote_currency": "TRY", "rate": "37"}]}),
    Write("api rate delete", "api", "delete", lambda c: f"{API}/exchange-rates/{c.rate.pk}",
          "sales.exchangerate", lambda c: c.rate),
    Write("api competitor create", "api", "post", lambda c: f"{API}/competitors",
          "sales.competitor", data=lambda c: {"name": "Yeni rakip"}),
    Write("api competitor update", "api", "patch",
          lambda c: f"{API}/competitors/{c.competitor.pk}", "sales.competitor",
          lambda c: c.competitor, lambda c: {"notes": "Ucuz"}),
    Write("api competitor delete", "api", "delete",
          lambda c: f"{API}/competitors/{c.competitor.pk}", "sales.competitor",
          lambda c: c.competitor),
    Write("api pipeline create", "api", "post", lambda c: f"{API}/pipelines", "sales.pipeline",
          data=lambda c: {"name": "Yeni hat", "kind": "upsell"}),
    Write("api pipeline update", "api", "patch", lambda c: f"{API}/pipelines/{c.pipeline.pk}",
          "sales.pipeline", lambda c: c.pipeline, lambda c: {"name": "Yeni ad"}),
    Write("api pipeline delete", "api", "delete", lambda c: f"{API}/pipelines/{c.pipeline.pk}",
          "sales.pipeline", lambda c: c.pipeline),
    Write("api stage create", "api", "post", lambda c: f"{API}/pipelines/{c.pipeline.pk}/stages",
          "sales.stage", data=lambda c: {"name": "Son", "kind": "lost"}),
    Write("api stage update", "api", "patch", lambda c: f"{API}/stages/{c.stage.pk}",
          "sales.stage", lambda c: c.stage, lambda c: {"probability": 33}),
    Write("api stage delete", "api", "delete", lambda c: f"{API}/stages/{c.stage.pk}",
          "sales.stage", lambda c: c.stage),
    # --- pages
    Write("page product create", "page", "post", _page("sales:product_create"), "sales.product",
          data=lambda c: {"sku": "NEW-1", "name": "Yeni", "unit": "piece", "list_price": "1",
                          "currency": "TRY", "tax_rate": "0", "is_active": "on"}),
    Write("page product edit", "page", "post", _page("sales:product_edit", "product"),
          "sales.product", lambda c: c.product,
          lambda c: {"sku": c.product.sku, "name": "Değişti", "unit": "piece",
                     "list_price": "120", "currency": "TRY", "tax_rate": "20",
                     "is_active": "on", "version": "1"}),
    Write("page product delete", "page", "post", _page("sales:product_delete", "product"),
          "sales.product", lambda c: c.product),
    Write("page category add", "page", "post", _page("sales:category_list"),
          "sales.productcategory", data=lambda c: {"name": "Yeni"}),
    Write("page category edit", "page", "post", _page("sales:category_edit", "category"),
          "sales.productcategory", lambda c: c.category, lambda c: {"name": "Yeni ad"}),
    Write("page category delete", "page", "post",
          _page("sales:category_delete", "empty_category"), "sales.productcategory",
          lambda c: c.empty_category),
    Write("page price list create", "page", "post", _page("sales:pricelist_create"),
          "sales.pricelist", data=lambda c: {"name": "Yeni", "currency": "EUR", "is_active": "on"}),
    Write("page price list edit", "page", "post", _page("sales:pricelist_edit", "price_list"),
          "sales.pricelist", lambda c: c.price_list,
          lambda c: {"name": "Genel 2", "currency": "TRY", "is_active": "on"}),
    Write("page price list delete", "page", "post",
          _page("sales:pricelist_delete", "price_list"), "sales.pricelist",
          lambda c: c.price_list),
    Write("page price add", "page", "post", _page("sales:pricelist_item_add", "price_list"),
          "sales.pricelistitem",
          data=lambda c: {"product": c.product.sku, "min_quantity": "10", "unit_price": "90"}),
    Write("page price remove", "page", "post", _page("sales:pricelist_item_remove", "item"),
          "sales.pricelistitem", lambda c: c.item),
    Write("page rate add", "page", "post", _page("sales:exchange_rate_list"),
          "sales.exchangerate",
          data=lambda c: {"day": "2026-11-24", "currency": "USD", "quote_currency": "TRY",
                          "rate": "34"}),
    Write("page rate delete", "page", "post", _page("sales:exchange_rate_delete", "rate"),
          "sales.exchangerate", lambda c: c.rate),
    Write("page competitor add", "page", "post", _page("sales:competitor_list"),
          "sales.competitor", data=lambda c: {"name": "Yeni rakip"}),
    Write("page competitor edit", "page", "post", _page("sales:competitor_edit", "competitor"),
          "sales.competitor", lambda c: c.competitor, lambda c: {"name": "Rakip 2"}),
    Write("page competitor delete", "page", "post",
          _page("sales:competitor_delete", "competitor"), "sales.competitor",
          lambda c: c.competitor),
    Write("page pipeline add", "page", "post", _page("sales:pipeline_list"), "sales.pipeline",
          data=lambda c: {"name": "Yeni hat", "kind": "upsell", "is_active": "on"}),
    Write("page pipeline edit", "page", "post", _page("sales:pipeline_edit", "pipeline"),
          "sales.pipeline", lambda c: c.pipeline,
          lambda c: {"name": "Yeni ad", "kind": "other", "is_active": "on"}),
    Write("page pipeline delete", "page", "post", _page("sales:pipeline_delete", "pipeline"),
          "sales.pipeline", lambda c: c.pipeline),
    Write("page stage add", "page", "post", _page("sales:stage_add", "pipeline"), "sales.stage",
          data=lambda c: {"name": "Son", "kind": "lost", "stale_after_days": "30"}),
    Write("page stage edit", "page", "post", _page("sales:stage_edit", "stage"), "sales.stage",
          lambda c: c.stage,
          lambda c: {"name": "Yeni", "kind": "open", "probability": "33",
                     "stale_after_days": "30"}),
    Write("page stage move", "page", "post", _page("sales:stage_move", "stage"), "sales.stage",
          lambda c: c.stage, lambda c: {"direction": "down"}),
    Write("page stage delete", "page", "post", _page("sales:stage_delete", "stage"),
          "sales.stage", lambda c: c.stage),
]  # fmt: skip


def _client(user, kind: str) -> Client:
    if kind == "api":
        _, key = api_token_create(actor=user, user=user, name="tests")
        return Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    client = Client()
    client.force_login(user)
    return client


def _snapshot(c: Catalogue) -> dict[str, Any]:
    """Every catalogue row with its version, to prove a refused write changed nothing."""
    models = [Product, ProductCategory, PriceList, PriceListItem, ExchangeRate, Competitor,
              Pipeline, Stage]  # fmt: skip
    return {m.__name__: sorted(m.objects.values_list("pk", "version")) for m in models}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.name)
def test_catalogue_writes_by_role(request, role, write, records):
    actor = request.getfixturevalue(role)
    client = _client(actor, write.kind)
    url = write.url(records)
    data = write.data(records)
    before = _snapshot(records)
    log_before = ChangeLogEntry.objects.count()
    target = write.record(records) if write.record else None
    if write.kind == "api":
        response = getattr(client, write.method)(
            url, data=json.dumps(data), content_type="application/json"
        )
    else:
        response = client.post(url, data)
    if role in CHANGERS:
        assert 200 <= response.status_code < 400, (response.status_code, response.content[:300])
        if target is not None:
            rows = ChangeLogEntry.objects.filter(model=write.model, object_id=target.pk)
        else:
            rows = ChangeLogEntry.objects.filter(model=write.model, action="create")
        assert rows.count() == 1, list(rows.values_list("action", "object_id"))
        assert rows.get().actor_id == actor.pk
    else:
        assert response.status_code == 404, (response.status_code, response.content[:300])
        assert _snapshot(records) == before
        assert ChangeLogEntry.objects.count() == log_before


READS_API = [
    "/products",
    "/products/{product}",
    "/products/{product}/price?currency=TRY",
    "/categories",
    "/price-lists",
    "/price-lists/{price_list}",
    "/price-lists/{price_list}/items",
    "/price-list-items/{item}",
    "/exchange-rates",
    "/exchange-rates/{rate}",
    "/competitors",
    "/competitors/{competitor}",
    "/pipelines",
    "/pipelines/{pipeline}",
    "/stages/{stage}",
]
READS_PAGES = [
    ("sales:product_list", None),
    ("sales:product_detail", "product"),
    ("sales:category_list", None),
    ("sales:pricelist_list", None),
    ("sales:pricelist_detail", "price_list"),
    ("sales:exchange_rate_list", None),
    ("sales:competitor_list", None),
    ("sales:pipeline_list", None),
]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_catalogue(request, role, records):
    actor = request.getfixturevalue(role)
    api = _client(actor, "api")
    ids = {name: getattr(records, name).pk for name in Catalogue.__dataclass_fields__}
    for path in READS_API:
        response = api.get(API + path.format(**ids))
        assert response.status_code == 200, path
    pages = _client(actor, "page")
    for name, attr in READS_PAGES:
        url = reverse(name, args=[getattr(records, attr).pk]) if attr else reverse(name)
        assert pages.get(url).status_code == 200, name


def test_inactive_users_read_nothing(records, rep):
    api = _client(rep, "api")
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    assert api.get(f"{API}/products/{records.product.pk}").status_code == 401

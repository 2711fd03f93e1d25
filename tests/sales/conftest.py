"""Fixtures of the sales tests: the default pipelines, products and customers by owner."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.customers.factories import make_customer
from vefa.sales.models import Pipeline, Product, ProductCategory, Stage

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "علی رضایی‎ — «ویژه»",
    "\u202egnp.exe",
    "'; DROP TABLE sales_order; --",
]


@pytest.fixture
def pipeline(db) -> Pipeline:
    """The new-business pipeline the data migration creates."""
    return Pipeline.objects.get(kind="new_business", is_default=True)


@pytest.fixture
def renewal_pipeline(db) -> Pipeline:
    return Pipeline.objects.get(kind="renewal", is_default=True)


@pytest.fixture
def stages(pipeline) -> list[Stage]:
    """The pipeline's stages in order: four open, then won, then lost."""
    return list(pipeline.stages.order_by("order"))


@pytest.fixture
def category(db) -> ProductCategory:
    return ProductCategory.objects.create(name="Kahve")


@pytest.fixture
def product(category) -> Product:
    return Product.objects.create(
        sku="KHV-001",
        name="Türk kahvesi 250 g",
        category=category,
        list_price=Decimal("120.00"),
        unit_cost=Decimal("70.00"),
        currency="TRY",
        tax_rate=Decimal("20"),
    )


@pytest.fixture
def own_customer(rep, team):
    return make_customer(owner=rep, team=team, first_name="Ayşe", last_name="Yılmaz")


@pytest.fixture
def team_customer(rep_same_team, team):
    return make_customer(owner=rep_same_team, team=team, first_name="Mehmet", last_name="Kaya")


@pytest.fixture
def other_customer(rep_other_team, other_team):
    return make_customer(
        owner=rep_other_team, team=other_team, first_name="Jovana", last_name="Petrović"
    )

"""The catalogue pages under /sales/: products, categories, price lists, exchange rates,
competitors and pipelines (views in ``catalogue_products``, ``catalogue_prices`` and
``catalogue_pipelines``)."""

from __future__ import annotations

from django.urls import path

from vefa.sales.views import catalogue_pipelines as pipelines
from vefa.sales.views import catalogue_prices as prices
from vefa.sales.views import catalogue_products as products

urlpatterns = [
    path("products/", products.product_list, name="product_list"),
    path("products/new/", products.product_create, name="product_create"),
    path("products/options/", products.product_choices, name="product_choices"),
    path("products/<int:pk>/", products.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", products.product_edit, name="product_edit"),
    path("products/<int:pk>/delete/", products.product_delete, name="product_delete"),
    path("products/<int:pk>/price/", products.product_price, name="product_price"),
    path("categories/", products.category_list, name="category_list"),
    path("categories/<int:pk>/edit/", products.category_edit, name="category_edit"),
    path("categories/<int:pk>/delete/", products.category_delete, name="category_delete"),
    path("price-lists/", prices.pricelist_list, name="pricelist_list"),
    path("price-lists/new/", prices.pricelist_create, name="pricelist_create"),
    path("price-lists/<int:pk>/", prices.pricelist_detail, name="pricelist_detail"),
    path("price-lists/<int:pk>/edit/", prices.pricelist_edit, name="pricelist_edit"),
    path("price-lists/<int:pk>/delete/", prices.pricelist_delete, name="pricelist_delete"),
    path("price-lists/<int:pk>/prices/", prices.pricelist_item_add, name="pricelist_item_add"),
    path(
        "price-lists/prices/<int:pk>/remove/",
        prices.pricelist_item_remove,
        name="pricelist_item_remove",
    ),
    path("exchange-rates/", prices.exchange_rate_list, name="exchange_rate_list"),
    path(
        "exchange-rates/<int:pk>/delete/",
        prices.exchange_rate_delete,
        name="exchange_rate_delete",
    ),
    path("competitors/", prices.competitor_list, name="competitor_list"),
    path("competitors/<int:pk>/edit/", prices.competitor_edit, name="competitor_edit"),
    path("competitors/<int:pk>/delete/", prices.competitor_delete, name="competitor_delete"),
    path("pipelines/", pipelines.pipeline_list, name="pipeline_list"),
    path("pipelines/<int:pk>/edit/", pipelines.pipeline_edit, name="pipeline_edit"),
    path("pipelines/<int:pk>/delete/", pipelines.pipeline_delete, name="pipeline_delete"),
    path("pipelines/<int:pk>/stages/", pipelines.stage_add, name="stage_add"),
    path("stages/<int:pk>/edit/", pipelines.stage_edit, name="stage_edit"),
    path("stages/<int:pk>/move/", pipelines.stage_move, name="stage_move"),
    path("stages/<int:pk>/delete/", pipelines.stage_delete, name="stage_delete"),
]

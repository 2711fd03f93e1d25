"""API of the sales catalogue under /api/v1/sales: categories, products and their price,
price lists and prices, exchange rates, competitors, pipelines and stages.

Conventions (see ``vefa.common.api``): one error shape; ``ETag`` on reads and updates and
412 on a stale ``If-Match``; ``Idempotency-Key`` and ``Location`` on creates; keyset pages
with ``limit`` ≤ 100. Everyone may read the catalogue; a caller who may not change it gets
404 on writes, exactly as for a missing record.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import (
    actor_of,
    clamp_limit,
    create_response,
    dump,
    hidden_if_denied,
    if_match_version,
    json_response,
    page_json,
    page_out,
)
from vefa.sales.api.catalogue_schemas import (
    CategoryIn,
    CategoryListOut,
    CategoryOut,
    CategoryPatch,
    CompetitorIn,
    CompetitorOut,
    CompetitorPageOut,
    CompetitorPatch,
    DayRatesIn,
    DayRatesOut,
    ExchangeRateIn,
    ExchangeRateOut,
    ExchangeRatePageOut,
    PipelineIn,
    PipelineListOut,
    PipelineOut,
    PipelinePatch,
    PriceListIn,
    PriceListItemIn,
    PriceListItemOut,
    PriceListItemPageOut,
    PriceListItemPatch,
    PriceListOut,
    PriceListPageOut,
    PriceListPatch,
    PriceOut,
    ProductIn,
    ProductOut,
    ProductPageOut,
    ProductPatch,
    StageIn,
    StageOrderIn,
    StageOut,
    StagePatch,
)
from vefa.sales.selectors import catalogue as selectors
from vefa.sales.services import catalogue as services
from vefa.sales.services import catalogue_pipelines as pipelines
from vefa.sales.services import catalogue_prices as prices

router = Router(tags=["sales"])


def _created(
    request: HttpRequest, create: Callable[[], Model], schema: Any, url_name: str
) -> HttpResponse:
    def guarded() -> Model:
        with hidden_if_denied():
            return create()

    return create_response(
        request,
        create=guarded,
        schema=schema,
        location=lambda obj: reverse(f"api:{url_name}", args=[obj.pk]),
    )


# --- categories --------------------------------------------------------------------------


@router.get("/categories", response={200: CategoryListOut, **ERRORS}, url_name="sales_categories")
def category_list(request: HttpRequest) -> HttpResponse:
    """Every product category, parents before children."""
    tree = selectors.category_tree(actor=actor_of(request))
    return json_response({"items": [dump(CategoryOut, c) for c, _depth in tree]})


@router.post("/categories", response={201: CategoryOut, **ERRORS}, url_name="sales_category_create")
def category_create(request: HttpRequest, payload: CategoryIn) -> HttpResponse:
    actor = actor_of(request)
    return _created(
        request,
        lambda: services.category_create(actor=actor, **payload.model_dump()),
        CategoryOut,
        "sales_category_detail",
    )


@router.get(
    "/categories/{category_id}",
    response={200: CategoryOut, **ERRORS},
    url_name="sales_category_detail",
)
def category_detail(request: HttpRequest, category_id: int) -> HttpResponse:
    category = selectors.category_get(actor=actor_of(request), pk=category_id)
    return json_response(dump(CategoryOut, category), instance=category)


@router.patch(
    "/categories/{category_id}",
    response={200: CategoryOut, **ERRORS},
    url_name="sales_category_update",
)
def category_update(request: HttpRequest, category_id: int, payload: CategoryPatch) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.category_get(actor=actor, pk=category_id)
    with hidden_if_denied():
        updated = services.category_update(
            actor=actor,
            category_id=current.pk,
            data=payload.model_dump(exclude_unset=True),
            expected_version=if_match_version(request, current),
        )
    return json_response(dump(CategoryOut, updated), instance=updated)


@router.delete(
    "/categories/{category_id}", response={204: None, **ERRORS}, url_name="sales_category_delete"
)
def category_delete(request: HttpRequest, category_id: int) -> HttpResponse:
    with hidden_if_denied():
        services.category_delete(actor=actor_of(request), category_id=category_id)
    return HttpResponse(status=204)


# --- products ----------------------------------------------------------------------------


@router.get("/products", response={200: ProductPageOut, **ERRORS}, url_name="sales_products")
def product_list(
    request: HttpRequest,
    q: str = "",
    category: int | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Products by name; ``q`` matches the start of the SKU or any part of the name;
    ``category`` includes its sub-categories."""
    filters = selectors.ProductFilters(q=q.strip()[:200], category=category, active=active)
    page = selectors.product_page(
        actor=actor_of(request),
        filters=filters,
        cursor=cursor,
        size=clamp_limit(limit),
        detailed=True,
    )
    return json_response(page_json(page_out(page, ProductOut)))


@router.post("/products", response={201: ProductOut, **ERRORS}, url_name="sales_product_create")
def product_create(request: HttpRequest, payload: ProductIn) -> HttpResponse:
    actor = actor_of(request)

    def create() -> Model:
        made = services.product_create(actor=actor, **payload.model_dump())
        return selectors.product_get(actor=actor, pk=made.pk)

    return _created(request, create, ProductOut, "sales_product_detail")


@router.get(
    "/products/{product_id}", response={200: ProductOut, **ERRORS}, url_name="sales_product_detail"
)
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    product = selectors.product_get(actor=actor_of(request), pk=product_id)
    return json_response(dump(ProductOut, product), instance=product)


@router.patch(
    "/products/{product_id}", response={200: ProductOut, **ERRORS}, url_name="sales_product_update"
)
def product_update(request: HttpRequest, product_id: int, payload: ProductPatch) -> HttpResponse:
    """Change a product; send ``If-Match`` with the ETag you read to avoid lost updates."""
    actor = actor_of(request)
    current = selectors.product_get(actor=actor, pk=product_id)
    data = payload.model_dump(exclude_unset=True)
    tags = data.pop("tags", None)
    with hidden_if_denied():
        services.product_update(
            actor=actor,
            product_id=current.pk,
            data=data,
            expected_version=if_match_version(request, current),
            tags=tags,
        )
    fresh = selectors.product_get(actor=actor, pk=current.pk)
    return json_response(dump(ProductOut, fresh), instance=fresh)


@router.delete(
    "/products/{product_id}", response={204: None, **ERRORS}, url_name="sales_product_delete"
)
def product_delete(request: HttpRequest, product_id: int) -> HttpResponse:
    with hidden_if_denied():
        services.product_delete(actor=actor_of(request), product_id=product_id)
    return HttpResponse(status=204)


@router.get(
    "/products/{product_id}/price",
    response={200: PriceOut, **ERRORS},
    url_name="sales_product_price",
)
def product_price_for(
    request: HttpRequest,
    product_id: int,
    currency: str,
    quantity: str = "1",
    customer: int | None = None,
    on: datetime.date | None = None,
) -> HttpResponse:
    """The unit price for a line: the customer's group price list beats the general one,
    the highest quantity tier reached wins, then the product's list price in the same
    currency; ``unit_price`` is null when nothing applies (nothing is converted)."""
    result = selectors.product_price(
        actor=actor_of(request),
        product_id=product_id,
        currency=currency,
        quantity=quantity,
        customer_id=customer,
        on=on,
    )
    return json_response(result.as_dict())


# --- price lists -------------------------------------------------------------------------


@router.get(
    "/price-lists", response={200: PriceListPageOut, **ERRORS}, url_name="sales_price_lists"
)
def price_list_list(
    request: HttpRequest, cursor: str | None = None, limit: int | None = Query(None, ge=1)
) -> HttpResponse:
    page = selectors.price_list_page(
        actor=actor_of(request), cursor=cursor, size=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, PriceListOut)))


@router.post(
    "/price-lists", response={201: PriceListOut, **ERRORS}, url_name="sales_price_list_create"
)
def price_list_create(request: HttpRequest, payload: PriceListIn) -> HttpResponse:
    actor = actor_of(request)

    def create() -> Model:
        made = prices.price_list_create(actor=actor, **payload.model_dump())
        return selectors.price_list_get(actor=actor, pk=made.pk)

    return _created(request, create, PriceListOut, "sales_price_list_detail")


@router.get(
    "/price-lists/{price_list_id}",
    response={200: PriceListOut, **ERRORS},
    url_name="sales_price_list_detail",
)
def price_list_detail(request: HttpRequest, price_list_id: int) -> HttpResponse:
    price_list = selectors.price_list_get(actor=actor_of(request), pk=price_list_id)
    return json_response(dump(PriceListOut, price_list), instance=price_list)


@router.patch(
    "/price-lists/{price_list_id}",
    response={200: PriceListOut, **ERRORS},
    url_name="sales_price_list_update",
)
def price_list_update(
    request: HttpRequest, price_list_id: int, payload: PriceListPatch
) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.price_list_get(actor=actor, pk=price_list_id)
    with hidden_if_denied():
        prices.price_list_update(
            actor=actor,
            price_list_id=current.pk,
            data=payload.model_dump(exclude_unset=True),
            expected_version=if_match_version(request, current),
        )
    fresh = selectors.price_list_get(actor=actor, pk=current.pk)
    return json_response(dump(PriceListOut, fresh), instance=fresh)


@router.delete(
    "/price-lists/{price_list_id}",
    response={204: None, **ERRORS},
    url_name="sales_price_list_delete",
)
def price_list_delete(request: HttpRequest, price_list_id: int) -> HttpResponse:
    with hidden_if_denied():
        prices.price_list_delete(actor=actor_of(request), price_list_id=price_list_id)
    return HttpResponse(status=204)


@router.get(
    "/price-lists/{price_list_id}/items",
    response={200: PriceListItemPageOut, **ERRORS},
    url_name="sales_price_list_items",
)
def price_list_items(
    request: HttpRequest,
    price_list_id: int,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    actor = actor_of(request)
    price_list = selectors.price_list_get(actor=actor, pk=price_list_id)
    page = selectors.price_list_item_page(
        actor=actor, price_list=price_list, cursor=cursor, size=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, PriceListItemOut)))


@router.post(
    "/price-lists/{price_list_id}/items",
    response={201: PriceListItemOut, **ERRORS},
    url_name="sales_price_list_item_create",
)
def price_list_item_create(
    request: HttpRequest, price_list_id: int, payload: PriceListItemIn
) -> HttpResponse:
    """Give a product a price in the list from ``min_quantity`` on."""
    actor = actor_of(request)
    selectors.price_list_get(actor=actor, pk=price_list_id)

    def create() -> Model:
        made = prices.price_list_item_add(
            actor=actor, price_list_id=price_list_id, **payload.model_dump()
        )
        return selectors.price_list_item_get(actor=actor, pk=made.pk)

    return _created(request, create, PriceListItemOut, "sales_price_list_item_detail")


@router.get(
    "/price-list-items/{item_id}",
    response={200: PriceListItemOut, **ERRORS},
    url_name="sales_price_list_item_detail",
)
def price_list_item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    item = selectors.price_list_item_get(actor=actor_of(request), pk=item_id)
    return json_response(dump(PriceListItemOut, item), instance=item)


@router.patch(
    "/price-list-items/{item_id}",
    response={200: PriceListItemOut, **ERRORS},
    url_name="sales_price_list_item_update",
)
def price_list_item_update(
    request: HttpRequest, item_id: int, payload: PriceListItemPatch
) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.price_list_item_get(actor=actor, pk=item_id)
    with hidden_if_denied():
        prices.price_list_item_update(
            actor=actor,
            item_id=current.pk,
            data=payload.model_dump(exclude_unset=True),
            expected_version=if_match_version(request, current),
        )
    fresh = selectors.price_list_item_get(actor=actor, pk=current.pk)
    return json_response(dump(PriceListItemOut, fresh), instance=fresh)


@router.delete(
    "/price-list-items/{item_id}",
    response={204: None, **ERRORS},
    url_name="sales_price_list_item_delete",
)
def price_list_item_delete(request: HttpRequest, item_id: int) -> HttpResponse:
    with hidden_if_denied():
        prices.price_list_item_remove(actor=actor_of(request), item_id=item_id)
    return HttpResponse(status=204)


# --- exchange rates ----------------------------------------------------------------------


@router.get(
    "/exchange-rates",
    response={200: ExchangeRatePageOut, **ERRORS},
    url_name="sales_exchange_rates",
)
def exchange_rate_list(
    request: HttpRequest,
    currency: str = "",
    quote_currency: str = "",
    day_from: datetime.date | None = None,
    day_to: datetime.date | None = None,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Exchange rates, newest day first."""
    filters = selectors.RateFilters(
        currency=currency.strip().upper()[:3],
        quote_currency=quote_currency.strip().upper()[:3],
        day_from=day_from,
        day_to=day_to,
    )
    page = selectors.exchange_rate_page(
        actor=actor_of(request), filters=filters, cursor=cursor, size=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, ExchangeRateOut)))


@router.post(
    "/exchange-rates",
    response={201: ExchangeRateOut, **ERRORS},
    url_name="sales_exchange_rate_create",
)
def exchange_rate_create(request: HttpRequest, payload: ExchangeRateIn) -> HttpResponse:
    actor = actor_of(request)
    return _created(
        request,
        lambda: prices.exchange_rate_create(actor=actor, **payload.model_dump()),
        ExchangeRateOut,
        "sales_exchange_rate_detail",
    )


@router.put(
    "/exchange-rates/days/{day}",
    response={200: DayRatesOut, **ERRORS},
    url_name="sales_exchange_rates_day",
)
def exchange_rates_upsert(
    request: HttpRequest, day: datetime.date, payload: DayRatesIn
) -> HttpResponse:
    """Set the rates of one day (a daily feed): new pairs are added, known pairs updated.
    Every row is checked first; one bad row refuses the call and names it (``rates.3.rate``)."""
    with hidden_if_denied():
        rates = prices.exchange_rates_upsert(
            actor=actor_of(request),
            day=day,
            rates=[r.model_dump() for r in payload.rates],
        )
    return json_response(
        {"day": day.isoformat(), "items": [dump(ExchangeRateOut, r) for r in rates]}
    )


@router.get(
    "/exchange-rates/{rate_id}",
    response={200: ExchangeRateOut, **ERRORS},
    url_name="sales_exchange_rate_detail",
)
def exchange_rate_detail(request: HttpRequest, rate_id: int) -> HttpResponse:
    rate = selectors.exchange_rate_get(actor=actor_of(request), pk=rate_id)
    return json_response(dump(ExchangeRateOut, rate), instance=rate)


@router.delete(
    "/exchange-rates/{rate_id}",
    response={204: None, **ERRORS},
    url_name="sales_exchange_rate_delete",
)
def exchange_rate_delete(request: HttpRequest, rate_id: int) -> HttpResponse:
    with hidden_if_denied():
        prices.exchange_rate_delete(actor=actor_of(request), rate_id=rate_id)
    return HttpResponse(status=204)


# --- competitors -------------------------------------------------------------------------


@router.get(
    "/competitors", response={200: CompetitorPageOut, **ERRORS}, url_name="sales_competitors"
)
def competitor_list(
    request: HttpRequest,
    q: str = "",
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    page = selectors.competitor_page(
        actor=actor_of(request), q=q, cursor=cursor, size=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, CompetitorOut)))


@router.post(
    "/competitors", response={201: CompetitorOut, **ERRORS}, url_name="sales_competitor_create"
)
def competitor_create(request: HttpRequest, payload: CompetitorIn) -> HttpResponse:
    actor = actor_of(request)
    return _created(
        request,
        lambda: services.competitor_create(actor=actor, **payload.model_dump()),
        CompetitorOut,
        "sales_competitor_detail",
    )


@router.get(
    "/competitors/{competitor_id}",
    response={200: CompetitorOut, **ERRORS},
    url_name="sales_competitor_detail",
)
def competitor_detail(request: HttpRequest, competitor_id: int) -> HttpResponse:
    competitor = selectors.competitor_get(actor=actor_of(request), pk=competitor_id)
    return json_response(dump(CompetitorOut, competitor), instance=competitor)


@router.patch(
    "/competitors/{competitor_id}",
    response={200: CompetitorOut, **ERRORS},
    url_name="sales_competitor_update",
)
def competitor_update(
    request: HttpRequest, competitor_id: int, payload: CompetitorPatch
) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.competitor_get(actor=actor, pk=competitor_id)
    with hidden_if_denied():
        updated = services.competitor_update(
            actor=actor,
            competitor_id=current.pk,
            data=payload.model_dump(exclude_unset=True),
            expected_version=if_match_version(request, current),
        )
    return json_response(dump(CompetitorOut, updated), instance=updated)


@router.delete(
    "/competitors/{competitor_id}",
    response={204: None, **ERRORS},
    url_name="sales_competitor_delete",
)
def competitor_delete(request: HttpRequest, competitor_id: int) -> HttpResponse:
    with hidden_if_denied():
        services.competitor_delete(actor=actor_of(request), competitor_id=competitor_id)
    return HttpResponse(status=204)


# --- pipelines and stages ----------------------------------------------------------------


@router.get("/pipelines", response={200: PipelineListOut, **ERRORS}, url_name="sales_pipelines")
def pipeline_list(request: HttpRequest) -> HttpResponse:
    """Every pipeline with its stages in order."""
    items = selectors.pipeline_list(actor=actor_of(request))
    return json_response({"items": [dump(PipelineOut, p) for p in items]})


@router.post("/pipelines", response={201: PipelineOut, **ERRORS}, url_name="sales_pipeline_create")
def pipeline_create(request: HttpRequest, payload: PipelineIn) -> HttpResponse:
    """Add a pipeline; it starts with an open, a won and a lost stage."""
    actor = actor_of(request)

    def create() -> Model:
        made = pipelines.pipeline_create(actor=actor, **payload.model_dump())
        return selectors.pipeline_get(actor=actor, pk=made.pk)

    return _created(request, create, PipelineOut, "sales_pipeline_detail")


@router.get(
    "/pipelines/{pipeline_id}",
    response={200: PipelineOut, **ERRORS},
    url_name="sales_pipeline_detail",
)
def pipeline_detail(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    pipeline = selectors.pipeline_get(actor=actor_of(request), pk=pipeline_id)
    return json_response(dump(PipelineOut, pipeline), instance=pipeline)


@router.patch(
    "/pipelines/{pipeline_id}",
    response={200: PipelineOut, **ERRORS},
    url_name="sales_pipeline_update",
)
def pipeline_update(request: HttpRequest, pipeline_id: int, payload: PipelinePatch) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.pipeline_get(actor=actor, pk=pipeline_id)
    with hidden_if_denied():
        pipelines.pipeline_update(
            actor=actor,
            pipeline_id=current.pk,
            data=payload.model_dump(exclude_unset=True),
            expected_version=if_match_version(request, current),
        )
    fresh = selectors.pipeline_get(actor=actor, pk=current.pk)
    return json_response(dump(PipelineOut, fresh), instance=fresh)


@router.delete(
    "/pipelines/{pipeline_id}", response={204: None, **ERRORS}, url_name="sales_pipeline_delete"
)
def pipeline_delete(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    with hidden_if_denied():
        pipelines.pipeline_delete(actor=actor_of(request), pipeline_id=pipeline_id)
    return HttpResponse(status=204)


@router.put(
    "/pipelines/{pipeline_id}/stage-order",
    response={200: PipelineOut, **ERRORS},
    url_name="sales_pipeline_stage_order",
)
def stage_order(request: HttpRequest, pipeline_id: int, payload: StageOrderIn) -> HttpResponse:
    """Put the pipeline's stages in this order (every stage id exactly once)."""
    actor = actor_of(request)
    selectors.pipeline_get(actor=actor, pk=pipeline_id)
    with hidden_if_denied():
        pipelines.stages_reorder(actor=actor, pipeline_id=pipeline_id, stage_ids=payload.stage_ids)
    fresh = selectors.pipeline_get(actor=actor, pk=pipeline_id)
    return json_response(dump(PipelineOut, fresh), instance=fresh)


@router.post(
    "/pipelines/{pipeline_id}/stages",
    response={201: StageOut, **ERRORS},
    url_name="sales_stage_create",
)
def stage_create(request: HttpRequest, pipeline_id: int, payload: StageIn) -> HttpResponse:
    actor = actor_of(request)
    selectors.pipeline_get(actor=actor, pk=pipeline_id)
    return _created(
        request,
        lambda: pipelines.stage_create(
            actor=actor, pipeline_id=pipeline_id, **payload.model_dump()
        ),
        StageOut,
        "sales_stage_detail",
    )


@router.get("/stages/{stage_id}", response={200: StageOut, **ERRORS}, url_name="sales_stage_detail")
def stage_detail(request: HttpRequest, stage_id: int) -> HttpResponse:
    stage = selectors.stage_get(actor=actor_of(request), pk=stage_id)
    return json_response(dump(StageOut, stage), instance=stage)


@router.patch(
    "/stages/{stage_id}", response={200: StageOut, **ERRORS}, url_name="sales_stage_update"
)
def stage_update(request: HttpRequest, stage_id: int, payload: StagePatch) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.stage_get(actor=actor, pk=stage_id)
    with hidden_if_denied():
        updated = pipelines.stage_update(
            actor=actor,
            stage_id=current.pk,
            data=payload.model_dump(exclude_unset=True),
            expected_version=if_match_version(request, current),
        )
    return json_response(dump(StageOut, updated), instance=updated)


@router.delete("/stages/{stage_id}", response={204: None, **ERRORS}, url_name="sales_stage_delete")
def stage_delete(request: HttpRequest, stage_id: int) -> HttpResponse:
    with hidden_if_denied():
        pipelines.stage_delete(actor=actor_of(request), stage_id=stage_id)
    return HttpResponse(status=204)

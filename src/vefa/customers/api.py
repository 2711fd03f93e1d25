"""API of customers, relationships, addresses, contact points, consent and leads (/api/v1).

Conventions (see ``vefa.common.api``): one error shape with field-level messages; ``ETag``
on reads and updates and 412 on a stale ``If-Match``; ``Idempotency-Key`` and ``Location``
on creates; keyset pages with ``limit`` ≤ 100; the list filters are the list pages' filters.
A record the caller may not see — or may see but not change, for a write — is 404, exactly
like a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router

from vefa.common.api import (
    API_ERRORS as ERRORS,
)
from vefa.common.api import (
    actor_of,
    clamp_limit,
    create_response,
    hidden_if_denied,
    if_match_version,
    json_response,
    page_out,
)
from vefa.common.api import (
    dump as _dump,
)
from vefa.common.api import (
    page_json as _page,
)
from vefa.customers import api_merge, selectors, services
from vefa.customers.filters import CustomerFilterForm, LeadFilterForm
from vefa.customers.models import Address, Consent, ContactPoint
from vefa.customers.schemas import (
    AddressIn,
    AddressOut,
    AddressPageOut,
    AddressPatch,
    BulkAssignIn,
    BulkResultOut,
    BulkTagIn,
    ConsentIn,
    ConsentOut,
    ConsentPageOut,
    ContactPointIn,
    ContactPointOut,
    ContactPointPageOut,
    ContactPointPatch,
    CustomerIn,
    CustomerOut,
    CustomerPageOut,
    CustomerPatch,
    LeadConversionOut,
    LeadConvertIn,
    LeadIn,
    LeadOut,
    LeadPageOut,
    LeadPatch,
    RelationshipIn,
    RelationshipOut,
    RelationshipPageOut,
    RelationshipPatch,
    filter_query_schema,
)

router = Router(tags=["customers"])
# Merges first: "/customers/merge" is not a customer id.
api_merge.register(router)

CustomerFilterQuery = filter_query_schema(CustomerFilterForm, "CustomerFilterQuery")
LeadFilterQuery = filter_query_schema(LeadFilterForm, "LeadFilterQuery")


def _filter_data(request: HttpRequest) -> dict[str, str]:
    """The query string minus paging: the filters (incl. ``cf_<key>``) for the filter form."""
    return {k: str(request.GET.get(k, "")) for k in request.GET if k not in ("cursor", "limit")}


def _child_page(
    queryset: QuerySet[Any], schema: Any, cursor: str | None, limit: int | None
) -> HttpResponse:
    page = selectors.page_of(queryset, "id", cursor, clamp_limit(limit))
    return json_response(_page(page_out(page, schema)))


def _created(
    request: HttpRequest, create: Callable[[], Model], schema: Any, url_name: str
) -> HttpResponse:
    return create_response(
        request,
        create=create,
        schema=schema,
        location=lambda obj: reverse(f"api:{url_name}", args=[obj.pk]),
    )


def _fields(payload: Any, *, exclude_unset: bool) -> tuple[dict[str, Any], Any]:
    data = payload.model_dump(exclude_unset=exclude_unset)
    tags = data.pop("tags", None)
    if not exclude_unset:
        data = {k: v for k, v in data.items() if v is not None}
    return data, tags


# --- customers -----------------------------------------------------------------------------


@router.get("/customers", response={200: CustomerPageOut, **ERRORS}, url_name="customer_list")
def customer_list(
    request: HttpRequest,
    filters: Query[CustomerFilterQuery],  # type: ignore[valid-type]
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """The customers the caller may see, with the customer list page's filters.

    Custom fields filter as ``cf_<key>=value``. ``q`` matches the start of the name, the
    e-mail address or the phone number.
    """
    page = selectors.customer_list(
        actor=actor_of(request),
        filters=_filter_data(request),
        cursor=cursor,
        size=clamp_limit(limit),
    )
    return json_response(_page(page_out(page, CustomerOut)))


@router.post("/customers", response={201: CustomerOut, **ERRORS}, url_name="customer_create")
def customer_create(request: HttpRequest, payload: CustomerIn) -> HttpResponse:
    """Create a person or an organisation (with its primary e-mail and phone)."""
    actor = actor_of(request)
    data, tags = _fields(payload, exclude_unset=False)
    email = data.pop("email", "")
    phone = data.pop("phone", "")

    def create() -> Model:
        customer = services.customer_create(
            actor=actor, data=data, tags=tags, email=email, phone=phone
        )
        return selectors.customer_get(actor=actor, pk=customer.pk)

    return _created(request, create, CustomerOut, "customer_detail")


@router.post(
    "/customers/bulk-assign", response={200: BulkResultOut, **ERRORS}, url_name="customer_assign"
)
def customer_bulk_assign(request: HttpRequest, payload: BulkAssignIn) -> HttpResponse:
    """Give many customers an owner and/or a team; reports changed, unchanged and refused."""
    result = services.customer_bulk_assign(actor=actor_of(request), **payload.model_dump())
    return json_response(result.__dict__)


@router.post(
    "/customers/bulk-tag", response={200: BulkResultOut, **ERRORS}, url_name="customer_tag"
)
def customer_bulk_tag(request: HttpRequest, payload: BulkTagIn) -> HttpResponse:
    """Add and remove tags on many customers."""
    result = services.customer_bulk_tag(actor=actor_of(request), **payload.model_dump())
    return json_response(result.__dict__)


@router.get(
    "/customers/{customer_id}", response={200: CustomerOut, **ERRORS}, url_name="customer_detail"
)
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = selectors.customer_get(actor=actor_of(request), pk=customer_id)
    return json_response(_dump(CustomerOut, customer), instance=customer)


@router.patch(
    "/customers/{customer_id}", response={200: CustomerOut, **ERRORS}, url_name="customer_update"
)
def customer_update(request: HttpRequest, customer_id: int, payload: CustomerPatch) -> HttpResponse:
    """Change a customer; send ``If-Match`` with the ETag you read to avoid lost updates."""
    actor = actor_of(request)
    current = selectors.customer_get(actor=actor, pk=customer_id)
    data, tags = _fields(payload, exclude_unset=True)
    with hidden_if_denied():
        services.customer_update(
            actor=actor,
            customer_id=current.pk,
            data=data,
            expected_version=if_match_version(request, current),
            tags=tags,
        )
    fresh = selectors.customer_get(actor=actor, pk=current.pk)
    return json_response(_dump(CustomerOut, fresh), instance=fresh)


@router.delete(
    "/customers/{customer_id}", response={204: None, **ERRORS}, url_name="customer_delete"
)
def customer_delete(request: HttpRequest, customer_id: int) -> HttpResponse:
    with hidden_if_denied():
        services.customer_delete(actor=actor_of(request), customer_id=customer_id)
    return HttpResponse(status=204)


# --- relationships -------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/relationships",
    response={200: RelationshipPageOut, **ERRORS},
    url_name="customer_relationships",
)
def relationship_list(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Both directions of a customer's relationships (whose other end the caller may see)."""
    actor = actor_of(request)
    customer = selectors.customer_get(actor=actor, pk=customer_id)
    items = selectors.relationship_list(actor=actor, customer=customer)
    return json_response(
        {
            "items": [_dump(RelationshipOut, r) for r in items],
            "next_cursor": None,
            "previous_cursor": None,
        }
    )


@router.post(
    "/customers/{customer_id}/relationships",
    response={201: RelationshipOut, **ERRORS},
    url_name="relationship_create",
)
def relationship_create(
    request: HttpRequest, customer_id: int, payload: RelationshipIn
) -> HttpResponse:
    """Record that this customer <kind> ``to_customer`` (e.g. works at, with job title)."""
    actor = actor_of(request)
    data = payload.model_dump()
    to_customer = data.pop("to_customer")

    def create() -> Model:
        with hidden_if_denied():
            made = services.relationship_create(
                actor=actor, from_customer_id=customer_id, to_customer_id=to_customer, data=data
            )
        return selectors.relationship_get(actor=actor, pk=made.pk)

    return _created(request, create, RelationshipOut, "relationship_detail")


@router.get(
    "/relationships/{relationship_id}",
    response={200: RelationshipOut, **ERRORS},
    url_name="relationship_detail",
)
def relationship_detail(request: HttpRequest, relationship_id: int) -> HttpResponse:
    relationship = selectors.relationship_get(actor=actor_of(request), pk=relationship_id)
    return json_response(_dump(RelationshipOut, relationship), instance=relationship)


@router.patch(
    "/relationships/{relationship_id}",
    response={200: RelationshipOut, **ERRORS},
    url_name="relationship_update",
)
def relationship_update(
    request: HttpRequest, relationship_id: int, payload: RelationshipPatch
) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.relationship_get(actor=actor, pk=relationship_id)
    with hidden_if_denied():
        services.relationship_update(
            actor=actor,
            relationship_id=current.pk,
            data=payload.model_dump(exclude_unset=True),
            expected_version=if_match_version(request, current),
        )
    fresh = selectors.relationship_get(actor=actor, pk=current.pk)
    return json_response(_dump(RelationshipOut, fresh), instance=fresh)


@router.delete(
    "/relationships/{relationship_id}",
    response={204: None, **ERRORS},
    url_name="relationship_delete",
)
def relationship_delete(request: HttpRequest, relationship_id: int) -> HttpResponse:
    with hidden_if_denied():
        services.relationship_delete(actor=actor_of(request), relationship_id=relationship_id)
    return HttpResponse(status=204)


# --- addresses -----------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/addresses",
    response={200: AddressPageOut, **ERRORS},
    url_name="customer_addresses",
)
def address_list(
    request: HttpRequest,
    customer_id: int,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    customer = selectors.customer_get(actor=actor_of(request), pk=customer_id)
    return _child_page(Address.objects.filter(customer=customer), AddressOut, cursor, limit)


@router.post(
    "/customers/{customer_id}/addresses",
    response={201: AddressOut, **ERRORS},
    url_name="address_create",
)
def address_create(request: HttpRequest, customer_id: int, payload: AddressIn) -> HttpResponse:
    """Add an address; the first (or one marked primary) becomes the primary address."""
    actor = actor_of(request)

    def create() -> Model:
        with hidden_if_denied():
            return services.address_create(
                actor=actor, customer_id=customer_id, data=payload.model_dump()
            )

    return _created(request, create, AddressOut, "address_detail")


@router.get(
    "/addresses/{address_id}", response={200: AddressOut, **ERRORS}, url_name="address_detail"
)
def address_detail(request: HttpRequest, address_id: int) -> HttpResponse:
    address = selectors.address_get(actor=actor_of(request), pk=address_id)
    return json_response(_dump(AddressOut, address), instance=address)


@router.patch(
    "/addresses/{address_id}", response={200: AddressOut, **ERRORS}, url_name="address_update"
)
def address_update(request: HttpRequest, address_id: int, payload: AddressPatch) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.address_get(actor=actor, pk=address_id)
    with hidden_if_denied():
        updated = services.address_update(
            actor=actor,
            address_id=current.pk,
            data=payload.model_dump(exclude_unset=True),
            expected_version=if_match_version(request, current),
        )
    return json_response(_dump(AddressOut, updated), instance=updated)


@router.delete("/addresses/{address_id}", response={204: None, **ERRORS}, url_name="address_delete")
def address_delete(request: HttpRequest, address_id: int) -> HttpResponse:
    with hidden_if_denied():
        services.address_delete(actor=actor_of(request), address_id=address_id)
    return HttpResponse(status=204)


# --- contact points ------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/contact-points",
    response={200: ContactPointPageOut, **ERRORS},
    url_name="customer_contact_points",
)
def contact_point_list(
    request: HttpRequest,
    customer_id: int,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    customer = selectors.customer_get(actor=actor_of(request), pk=customer_id)
    return _child_page(
        ContactPoint.objects.filter(customer=customer), ContactPointOut, cursor, limit
    )


@router.post(
    "/customers/{customer_id}/contact-points",
    response={201: ContactPointOut, **ERRORS},
    url_name="contact_point_create",
)
def contact_point_create(
    request: HttpRequest, customer_id: int, payload: ContactPointIn
) -> HttpResponse:
    """Add an e-mail, phone (normalised to E.164), social handle or web site."""
    actor = actor_of(request)

    def create() -> Model:
        with hidden_if_denied():
            return services.contact_point_create(
                actor=actor, customer_id=customer_id, data=payload.model_dump()
            )

    return _created(request, create, ContactPointOut, "contact_point_detail")


@router.get(
    "/contact-points/{contact_point_id}",
    response={200: ContactPointOut, **ERRORS},
    url_name="contact_point_detail",
)
def contact_point_detail(request: HttpRequest, contact_point_id: int) -> HttpResponse:
    point = selectors.contact_point_get(actor=actor_of(request), pk=contact_point_id)
    return json_response(_dump(ContactPointOut, point), instance=point)


@router.patch(
    "/contact-points/{contact_point_id}",
    response={200: ContactPointOut, **ERRORS},
    url_name="contact_point_update",
)
def contact_point_update(
    request: HttpRequest, contact_point_id: int, payload: ContactPointPatch
) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.contact_point_get(actor=actor, pk=contact_point_id)
    with hidden_if_denied():
        updated = services.contact_point_update(
            actor=actor,
            contact_point_id=current.pk,
            data=payload.model_dump(exclude_unset=True),
            expected_version=if_match_version(request, current),
        )
    return json_response(_dump(ContactPointOut, updated), instance=updated)


@router.delete(
    "/contact-points/{contact_point_id}",
    response={204: None, **ERRORS},
    url_name="contact_point_delete",
)
def contact_point_delete(request: HttpRequest, contact_point_id: int) -> HttpResponse:
    with hidden_if_denied():
        services.contact_point_delete(actor=actor_of(request), contact_point_id=contact_point_id)
    return HttpResponse(status=204)


# --- consent -------------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/consent",
    response={200: list[ConsentOut], **ERRORS},
    url_name="consent_current",
)
def consent_current(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The current state per channel and purpose (the latest grant or withdrawal of each)."""
    customer = selectors.customer_get(actor=actor_of(request), pk=customer_id)
    current = selectors.consent_current(customer)
    return json_response([_dump(ConsentOut, current[key]) for key in sorted(current)])


@router.get(
    "/customers/{customer_id}/consent/history",
    response={200: ConsentPageOut, **ERRORS},
    url_name="consent_history",
)
def consent_history(
    request: HttpRequest,
    customer_id: int,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Every grant and withdrawal, oldest first."""
    customer = selectors.customer_get(actor=actor_of(request), pk=customer_id)
    rows = Consent.objects.filter(customer=customer).select_related("created_by")
    return _child_page(rows, ConsentOut, cursor, limit)


def _consent(
    request: HttpRequest,
    customer_id: int,
    payload: ConsentIn,
    record: Callable[..., Consent],
) -> HttpResponse:
    actor = actor_of(request)
    with hidden_if_denied():
        consent = record(actor=actor, customer_id=customer_id, **payload.model_dump())
    consent = Consent.objects.select_related("created_by").get(pk=consent.pk)
    return json_response(_dump(ConsentOut, consent))


@router.post(
    "/customers/{customer_id}/consent/grant",
    response={200: ConsentOut, **ERRORS},
    url_name="consent_grant",
)
def consent_grant(request: HttpRequest, customer_id: int, payload: ConsentIn) -> HttpResponse:
    """Record a grant of consent; granting what is already granted changes nothing."""
    return _consent(request, customer_id, payload, services.consent_grant)


@router.post(
    "/customers/{customer_id}/consent/withdraw",
    response={200: ConsentOut, **ERRORS},
    url_name="consent_withdraw",
)
def consent_withdraw(request: HttpRequest, customer_id: int, payload: ConsentIn) -> HttpResponse:
    """Record a withdrawal of consent: exactly as easy as the grant."""
    return _consent(request, customer_id, payload, services.consent_withdraw)


# --- leads ---------------------------------------------------------------------------------


@router.get("/leads", response={200: LeadPageOut, **ERRORS}, url_name="lead_list")
def lead_list(
    request: HttpRequest,
    filters: Query[LeadFilterQuery],  # type: ignore[valid-type]
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """The leads the caller may see, with the lead list page's filters."""
    page = selectors.lead_list(
        actor=actor_of(request),
        filters=_filter_data(request),
        cursor=cursor,
        size=clamp_limit(limit),
    )
    return json_response(_page(page_out(page, LeadOut)))


@router.post("/leads", response={201: LeadOut, **ERRORS}, url_name="lead_create")
def lead_create(request: HttpRequest, payload: LeadIn) -> HttpResponse:
    """Record a lead; without an owner the assignment rules pick one round robin."""
    actor = actor_of(request)
    data, tags = _fields(payload, exclude_unset=False)

    def create() -> Model:
        lead = services.lead_create(actor=actor, data=data, tags=tags)
        return selectors.lead_get(actor=actor, pk=lead.pk) if _sees(actor, lead.pk) else lead

    return _created(request, create, LeadOut, "lead_detail")


def _sees(actor: Any, lead_id: int) -> bool:
    return selectors.visible_leads(actor).filter(pk=lead_id).exists()


@router.get("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, url_name="lead_detail")
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = selectors.lead_get(actor=actor_of(request), pk=lead_id)
    return json_response(_dump(LeadOut, lead), instance=lead)


@router.patch("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, url_name="lead_update")
def lead_update(request: HttpRequest, lead_id: int, payload: LeadPatch) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.lead_get(actor=actor, pk=lead_id)
    data, tags = _fields(payload, exclude_unset=True)
    with hidden_if_denied():
        services.lead_update(
            actor=actor,
            lead_id=current.pk,
            data=data,
            expected_version=if_match_version(request, current),
            tags=tags,
        )
    fresh = selectors.lead_get(actor=actor, pk=current.pk)
    return json_response(_dump(LeadOut, fresh), instance=fresh)


@router.delete("/leads/{lead_id}", response={204: None, **ERRORS}, url_name="lead_delete")
def lead_delete(request: HttpRequest, lead_id: int) -> HttpResponse:
    with hidden_if_denied():
        services.lead_delete(actor=actor_of(request), lead_id=lead_id)
    return HttpResponse(status=204)


@router.post(
    "/leads/{lead_id}/convert",
    response={200: LeadConversionOut, **ERRORS},
    url_name="lead_convert",
)
def lead_convert(request: HttpRequest, lead_id: int, payload: LeadConvertIn) -> HttpResponse:
    """Convert a lead into a customer (a person, plus an organisation when it names a company).

    ``If-Match`` with the lead's ETag refuses the conversion when the lead changed since.
    Converting twice is refused.
    """
    actor = actor_of(request)
    current = selectors.lead_get(actor=actor, pk=lead_id)
    with hidden_if_denied():
        result = services.lead_convert(
            actor=actor,
            lead_id=current.pk,
            expected_version=if_match_version(request, current),
            **payload.model_dump(),
        )
    lead = selectors.lead_get(actor=actor, pk=result.lead.pk)
    customer = selectors.customer_get(actor=actor, pk=result.customer.pk)
    organisation = (
        selectors.customer_get(actor=actor, pk=result.organisation.pk)
        if result.organisation is not None and result.organisation.pk != customer.pk
        else None
    )
    body = {
        "lead": _dump(LeadOut, lead),
        "customer": _dump(CustomerOut, customer),
        "organisation": _dump(CustomerOut, organisation) if organisation else None,
        "relationship_id": result.relationship.pk if result.relationship else None,
    }
    return json_response(body, instance=lead)

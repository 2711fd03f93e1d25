"""API of tags and custom-field definitions (/api/v1/tags, /api/v1/custom-fields).

Every signed-in user may read both (forms and filters need them). Tags may be created by
anyone with some write access and deleted by administrators only; custom-field definitions
are written by administrators only. A write the caller may not make on a record is 404, like
a missing record.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router

from vefa.common.api import (
    ErrorOut,
    actor_of,
    clamp_limit,
    create_response,
    if_match_version,
    json_response,
    page_out,
)
from vefa.common.errors import NotFound, PermissionDenied
from vefa.platform import selectors, services
from vefa.platform.models import Tag
from vefa.platform.schemas import (
    CustomFieldIn,
    CustomFieldOut,
    CustomFieldPatch,
    TagIn,
    TagOut,
    TagPageOut,
)

router = Router(tags=["platform"])

ERRORS: dict[int, type[ErrorOut]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    412: ErrorOut,
    422: ErrorOut,
}


def _dump(schema: Any, obj: Any) -> dict[str, Any]:
    return dict(schema.from_orm(obj).model_dump(mode="json"))


def _hidden(exc: PermissionDenied) -> NotFound:
    return NotFound(str(exc.message))


# --- tags -------------------------------------------------------------------------------------


@router.get("/tags", response={200: TagPageOut, **ERRORS}, url_name="tag_list")
def tag_list(
    request: HttpRequest, q: str = "", cursor: str | None = None, limit: int | None = None
) -> HttpResponse:
    """Tags by name; ``q`` finds tags whose name contains it."""
    page = selectors.tag_list(actor=actor_of(request), q=q, cursor=cursor, size=clamp_limit(limit))
    data = page_out(page, TagOut)
    return json_response({**data, "items": [t.model_dump(mode="json") for t in data["items"]]})


@router.post("/tags", response={200: TagOut, 201: TagOut, **ERRORS}, url_name="tag_create")
def tag_create(request: HttpRequest, payload: TagIn) -> HttpResponse:
    """Create a tag; an existing tag of the same name is returned (200) instead."""
    actor = actor_of(request)
    existing = Tag.objects.filter(name=" ".join(payload.name.split())).first()
    if existing is not None:
        return json_response(_dump(TagOut, existing), instance=existing)
    return create_response(
        request,
        create=lambda: services.tag_create(actor=actor, name=payload.name, color=payload.color),
        schema=TagOut,
        location=lambda obj: reverse("api:tag_detail", args=[obj.pk]),
    )


@router.get("/tags/{tag_id}", response={200: TagOut, **ERRORS}, url_name="tag_detail")
def tag_detail(request: HttpRequest, tag_id: int) -> HttpResponse:
    tag = selectors.tag_get(actor=actor_of(request), pk=tag_id)
    return json_response(_dump(TagOut, tag), instance=tag)


@router.delete("/tags/{tag_id}", response={204: None, **ERRORS}, url_name="tag_delete")
def tag_delete(request: HttpRequest, tag_id: int) -> HttpResponse:
    """Delete a tag from every record (administrators only)."""
    try:
        services.tag_delete(actor=actor_of(request), tag_id=tag_id)
    except PermissionDenied as exc:
        raise _hidden(exc) from None
    return HttpResponse(status=204)


# --- custom fields ----------------------------------------------------------------------------


@router.get(
    "/custom-fields", response={200: list[CustomFieldOut], **ERRORS}, url_name="custom_field_list"
)
def custom_field_list(request: HttpRequest, model: str = "") -> HttpResponse:
    """Custom-field definitions, optionally of one record type (e.g. ``customers.customer``)."""
    definitions = selectors.custom_field_list(actor=actor_of(request), model=model[:100])
    return json_response([_dump(CustomFieldOut, d) for d in definitions])


@router.post(
    "/custom-fields", response={201: CustomFieldOut, **ERRORS}, url_name="custom_field_create"
)
def custom_field_create(request: HttpRequest, payload: CustomFieldIn) -> HttpResponse:
    """Define a custom field (administrators only)."""
    actor = actor_of(request)
    data = payload.model_dump()
    return create_response(
        request,
        create=lambda: services.custom_field_create(actor=actor, data=data),
        schema=CustomFieldOut,
        location=lambda obj: reverse("api:custom_field_detail", args=[obj.pk]),
    )


@router.get(
    "/custom-fields/{definition_id}",
    response={200: CustomFieldOut, **ERRORS},
    url_name="custom_field_detail",
)
def custom_field_detail(request: HttpRequest, definition_id: int) -> HttpResponse:
    definition = selectors.custom_field_get(actor=actor_of(request), pk=definition_id)
    return json_response(_dump(CustomFieldOut, definition), instance=definition)


@router.patch(
    "/custom-fields/{definition_id}",
    response={200: CustomFieldOut, **ERRORS},
    url_name="custom_field_update",
)
def custom_field_update(
    request: HttpRequest, definition_id: int, payload: CustomFieldPatch
) -> HttpResponse:
    """Change a definition (administrators only); ``If-Match`` guards against lost updates."""
    actor = actor_of(request)
    definition = selectors.custom_field_get(actor=actor, pk=definition_id)
    try:
        updated = services.custom_field_update(
            actor=actor,
            definition_id=definition.pk,
            data=payload.model_dump(exclude_unset=True),
            expected_version=if_match_version(request, definition),
        )
    except PermissionDenied as exc:
        raise _hidden(exc) from None
    return json_response(_dump(CustomFieldOut, updated), instance=updated)


@router.delete(
    "/custom-fields/{definition_id}",
    response={204: None, **ERRORS},
    url_name="custom_field_delete",
)
def custom_field_delete(request: HttpRequest, definition_id: int) -> HttpResponse:
    """Remove a definition (administrators only); stored values stay in the records."""
    try:
        services.custom_field_delete(actor=actor_of(request), definition_id=definition_id)
    except PermissionDenied as exc:
        raise _hidden(exc) from None
    return HttpResponse(status=204)

"""API of message templates under /api/v1/marketing/templates (conventions in
``vefa.common.api``): a template with one version per language; preview as a customer."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Schema
from pydantic import Field

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
from vefa.customers import selectors as customer_selectors
from vefa.marketing.choices import CampaignChannel
from vefa.marketing.selectors import templates as selectors
from vefa.marketing.services import templates as services

router = Router(tags=["marketing"])


class VersionIn(Schema):
    subject: str = Field(default="", max_length=services.MAX_SUBJECT)
    preheader: str = Field(default="", max_length=services.MAX_PREHEADER)
    body_html: str = Field(default="", max_length=services.MAX_BODY)
    body_text: str = Field(default="", max_length=services.MAX_BODY)


class TemplateIn(Schema):
    name: str = Field(max_length=200)
    channel: CampaignChannel = CampaignChannel.EMAIL
    default_language: str = Field(default="", max_length=10)
    description: str = Field(default="", max_length=5000)
    tags: list[str] | None = None
    versions: dict[str, VersionIn]


class TemplatePatch(Schema):
    name: str | None = Field(default=None, max_length=200)
    channel: CampaignChannel | None = None
    default_language: str | None = Field(default=None, max_length=10)
    description: str | None = Field(default=None, max_length=5000)
    is_archived: bool | None = None
    tags: list[str] | None = None
    versions: dict[str, VersionIn] | None = None


class VersionOut(Schema):
    language: str
    subject: str
    preheader: str
    body_html: str
    body_text: str


class TemplateOut(Schema):
    id: int
    name: str
    channel: str
    default_language: str
    description: str
    is_archived: bool
    owner_id: int | None
    versions: list[VersionOut]
    version: int
    updated_at: datetime.datetime

    @staticmethod
    def resolve_versions(obj: Any) -> list[dict[str, str]]:
        return [
            {
                "language": v.language,
                "subject": v.subject,
                "preheader": v.preheader,
                "body_html": v.body_html,
                "body_text": v.body_text,
            }
            for v in sorted(obj.versions.all(), key=lambda v: v.language)
        ]


class TemplatePageOut(Schema):
    items: list[TemplateOut]
    next_cursor: str | None
    previous_cursor: str | None


class PreviewOut(Schema):
    language: str
    subject: str
    html: str
    text: str


def _data(payload: Schema, *, partial: bool) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=partial)
    if data.get("channel") is not None:
        data["channel"] = str(data["channel"])
    if partial:
        data = {k: v for k, v in data.items() if v is not None}
    if data.get("tags") is None:
        data.pop("tags", None)
    return data


@router.get("/templates", response={200: TemplatePageOut, **ERRORS}, url_name="marketing_templates")
def template_list(
    request: HttpRequest,
    q: str = Query("", max_length=200),
    channel: CampaignChannel | None = None,
    archived: bool = False,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Message templates by name."""
    page = selectors.template_list(
        actor=actor_of(request),
        q=q,
        channel=str(channel or ""),
        archived=archived,
        cursor=cursor,
        size=clamp_limit(limit),
    )
    return json_response(page_json(page_out(page, TemplateOut)))


@router.post(
    "/templates", response={201: TemplateOut, **ERRORS}, url_name="marketing_template_create"
)
def template_create(request: HttpRequest, payload: TemplateIn) -> HttpResponse:
    """A new template with one version per language (en, tr, sr-latn, fa)."""
    actor = actor_of(request)
    data = _data(payload, partial=False)
    if not data.get("default_language"):
        data.pop("default_language", None)

    def create() -> Any:
        with hidden_if_denied():
            created = services.template_create(actor=actor, data=data)
        return selectors.template_get(actor=actor, pk=created.pk)

    return create_response(
        request,
        create=create,
        schema=TemplateOut,
        location=lambda obj: reverse("api:marketing_template_detail", args=[obj.pk]),
    )


@router.get(
    "/templates/{template_id}",
    response={200: TemplateOut, **ERRORS},
    url_name="marketing_template_detail",
)
def template_detail(request: HttpRequest, template_id: int) -> HttpResponse:
    template = selectors.template_get(actor=actor_of(request), pk=template_id)
    return json_response(dump(TemplateOut, template), instance=template)


@router.patch(
    "/templates/{template_id}",
    response={200: TemplateOut, **ERRORS},
    url_name="marketing_template_update",
)
def template_update(request: HttpRequest, template_id: int, payload: TemplatePatch) -> HttpResponse:
    """Change a template; ``versions`` changes the languages it names (all fields of a
    language empty: that version is removed). Send ``If-Match`` (412 when stale)."""
    actor = actor_of(request)
    current = selectors.template_get(actor=actor, pk=template_id)
    with hidden_if_denied():
        services.template_update(
            actor=actor,
            template_id=current.pk,
            data=_data(payload, partial=True),
            expected_version=if_match_version(request, current),
        )
    fresh = selectors.template_get(actor=actor, pk=current.pk)
    return json_response(dump(TemplateOut, fresh), instance=fresh)


@router.get(
    "/templates/{template_id}/preview",
    response={200: PreviewOut, **ERRORS},
    url_name="marketing_template_preview",
)
def template_preview(
    request: HttpRequest,
    template_id: int,
    customer: int,
    language: str = Query("", max_length=10),
) -> HttpResponse:
    """The message as ``customer`` would get it (sanitised HTML and the plain-text part)."""
    from vefa.marketing.rendering import choose_version, render_message

    actor = actor_of(request)
    template = selectors.template_get(actor=actor, pk=template_id)
    person = customer_selectors.customer_get(actor=actor, pk=customer)
    version = choose_version(template, language or person.language or "")
    message = render_message(version=version, customer=person)
    return json_response(
        {
            "language": version.language,
            "subject": message.subject,
            "html": message.html,
            "text": message.text,
        }
    )

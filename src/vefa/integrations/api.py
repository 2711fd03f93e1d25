"""The integrations API under /api/v1/integrations (conventions in ``vefa.common.api``).

- Webhooks and their delivery log, order sources: administrators only (others get 404 on
  reads, 403 on creates). A signing secret is in the answer of the create and of
  ``…/secret`` only; it is never stored with an ``Idempotency-Key`` replay.
- ``POST /integrations/orders/{source}``: no token; the body is signed with the source's
  secret (``vefa.integrations.services.inbound``).
- vCard: ``GET /integrations/vcard/customers/{id}``, ``GET /integrations/vcard/customers``
  (the customer list's filters as query parameters) and ``POST /integrations/vcard/import``
  (the raw .vcf as the body; answers 202 with the job).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import (
    ErrorOut,
    actor_of,
    clamp_limit,
    dump,
    error_response,
    if_match_version,
    json_response,
    page_json,
    page_out,
)
from vefa.common.errors import NotFound, PermissionDenied
from vefa.integrations import selectors
from vefa.integrations.choices import DeliveryStatus, SourceKind
from vefa.integrations.services import delivery as delivery_services
from vefa.integrations.services import inbound
from vefa.integrations.services import sources as source_services
from vefa.integrations.services import vcards as vcard_services
from vefa.integrations.services import webhooks as webhook_services

router = Router(tags=["integrations"])


# --- schemas ------------------------------------------------------------------------------


class RuleIn(Schema):
    entity: str = Field(max_length=20)
    event: str = Field(max_length=20)
    condition_field: str = Field(default="", max_length=60)
    condition_operator: str = Field(default="", max_length=10)
    condition_value: str = Field(default="", max_length=200)


class WebhookIn(Schema):
    name: str = Field(max_length=100)
    url: str = Field(max_length=500)
    description: str = Field(default="", max_length=300)
    is_active: bool = True
    rules: list[RuleIn] = Field(max_length=50)


class WebhookPatch(Schema):
    name: str | None = Field(default=None, max_length=100)
    url: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=300)
    is_active: bool | None = None
    rules: list[RuleIn] | None = Field(default=None, max_length=50)


class RuleOut(Schema):
    id: int
    entity: str
    event: str
    condition_field: str
    condition_operator: str
    condition_value: str


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    description: str
    is_active: bool
    circuit_state: str
    consecutive_failures: int
    circuit_retry_at: datetime.datetime | None
    last_success_at: datetime.datetime | None
    rules: list[RuleOut]
    version: int

    @staticmethod
    def resolve_rules(obj: Any) -> list[Any]:
        return list(obj.rules.all())


class WebhookSecretOut(WebhookOut):
    secret: str


class AttemptOut(Schema):
    number: int
    started_at: datetime.datetime
    duration_ms: int
    status_code: int | None
    response_snippet: str
    error: str
    succeeded: bool
    next_attempt_at: datetime.datetime | None


class DeliveryOut(Schema):
    id: int
    uuid: str
    event: str
    object_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime.datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime.datetime
    delivered_at: datetime.datetime | None
    redelivery_of_id: int | None
    attempt_log: list[AttemptOut]

    @staticmethod
    def resolve_uuid(obj: Any) -> str:
        return str(obj.uuid)

    @staticmethod
    def resolve_attempt_log(obj: Any) -> list[Any]:
        return list(obj.attempt_log.all())


class DeliveryPageOut(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None
    previous_cursor: str | None


class SourceIn(Schema):
    name: str = Field(max_length=100)
    key: str = Field(max_length=40)
    kind: SourceKind = SourceKind.ECOMMERCE
    default_currency: str = Field(default="TRY", max_length=3)
    price_list: int | None = None
    owner: int
    is_active: bool = True


class SourcePatch(Schema):
    name: str | None = Field(default=None, max_length=100)
    key: str | None = Field(default=None, max_length=40)
    kind: SourceKind | None = None
    default_currency: str | None = Field(default=None, max_length=3)
    price_list: int | None = None
    owner: int | None = None
    is_active: bool | None = None


class SourceOut(Schema):
    id: int
    name: str
    key: str
    kind: str
    default_currency: str
    price_list_id: int | None
    owner_id: int
    is_active: bool
    last_order_at: datetime.datetime | None
    version: int


class SourceSecretOut(SourceOut):
    secret: str


class InboundOut(Schema):
    status: str
    order_id: int
    number: str
    customer_id: int
    customer_created: bool
    total: str
    currency: str


class JobOut(Schema):
    job_id: int
    status_url: str


# --- webhooks -----------------------------------------------------------------------------


def _webhook_json(webhook: Any, secret: str | None = None) -> dict[str, Any]:
    data = dump(WebhookOut, webhook)
    if secret is not None:
        data["secret"] = secret
    return data


@router.get(
    "/integrations/webhooks",
    response={200: list[WebhookOut], **ERRORS},
    url_name="integrations_webhooks",
)
def webhook_list(request: HttpRequest) -> HttpResponse:
    """Every webhook with its rules and circuit state (administrators)."""
    hooks = selectors.webhook_list(actor=actor_of(request))
    return json_response([dump(WebhookOut, h) for h in hooks])


@router.post(
    "/integrations/webhooks",
    response={201: WebhookSecretOut, **ERRORS},
    url_name="integrations_webhook_create",
)
def webhook_create(request: HttpRequest, payload: WebhookIn) -> HttpResponse:
    """A new webhook; the answer holds its signing secret, shown this once."""
    made = webhook_services.webhook_create(actor=actor_of(request), data=payload.model_dump())
    webhook = selectors.webhook_get(actor=actor_of(request), pk=made.webhook.pk)
    response = json_response(_webhook_json(webhook, made.secret), status=201, instance=webhook)
    response["Location"] = reverse("api:integrations_webhook_detail", args=[webhook.pk])
    response["Cache-Control"] = "no-store"
    return response


@router.get(
    "/integrations/webhooks/{webhook_id}",
    response={200: WebhookOut, **ERRORS},
    url_name="integrations_webhook_detail",
)
def webhook_detail(request: HttpRequest, webhook_id: int) -> HttpResponse:
    webhook = selectors.webhook_get(actor=actor_of(request), pk=webhook_id)
    return json_response(_webhook_json(webhook), instance=webhook)


@router.patch(
    "/integrations/webhooks/{webhook_id}",
    response={200: WebhookOut, **ERRORS},
    url_name="integrations_webhook_update",
)
def webhook_update(request: HttpRequest, webhook_id: int, payload: WebhookPatch) -> HttpResponse:
    """Change a webhook; ``rules`` replaces the whole set. ``If-Match`` guards the version."""
    actor = actor_of(request)
    current = selectors.webhook_get(actor=actor, pk=webhook_id)
    data = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    webhook_services.webhook_update(
        actor=actor,
        webhook_id=current.pk,
        data=data,
        expected_version=if_match_version(request, current),
    )
    fresh = selectors.webhook_get(actor=actor, pk=current.pk)
    return json_response(_webhook_json(fresh), instance=fresh)


@router.delete(
    "/integrations/webhooks/{webhook_id}",
    response={204: None, **ERRORS},
    url_name="integrations_webhook_delete",
)
def webhook_delete(request: HttpRequest, webhook_id: int) -> HttpResponse:
    actor = actor_of(request)
    selectors.webhook_get(actor=actor, pk=webhook_id)
    webhook_services.webhook_delete(actor=actor, webhook_id=webhook_id)
    return HttpResponse(status=204)


@router.post(
    "/integrations/webhooks/{webhook_id}/secret",
    response={200: WebhookSecretOut, **ERRORS},
    url_name="integrations_webhook_secret",
)
def webhook_secret(request: HttpRequest, webhook_id: int) -> HttpResponse:
    """Replace the signing secret; the answer holds the new one, shown this once."""
    actor = actor_of(request)
    selectors.webhook_get(actor=actor, pk=webhook_id)
    made = webhook_services.webhook_rotate_secret(actor=actor, webhook_id=webhook_id)
    webhook = selectors.webhook_get(actor=actor, pk=made.webhook.pk)
    response = json_response(_webhook_json(webhook, made.secret), instance=webhook)
    response["Cache-Control"] = "no-store"
    return response


@router.post(
    "/integrations/webhooks/{webhook_id}/resume",
    response={200: WebhookOut, **ERRORS},
    url_name="integrations_webhook_resume",
)
def webhook_resume(request: HttpRequest, webhook_id: int) -> HttpResponse:
    """Close an open circuit by hand; waiting deliveries are tried at once."""
    actor = actor_of(request)
    selectors.webhook_get(actor=actor, pk=webhook_id)
    webhook_services.webhook_reset_circuit(actor=actor, webhook_id=webhook_id)
    fresh = selectors.webhook_get(actor=actor, pk=webhook_id)
    return json_response(_webhook_json(fresh), instance=fresh)


@router.get(
    "/integrations/webhooks/{webhook_id}/deliveries",
    response={200: DeliveryPageOut, **ERRORS},
    url_name="integrations_webhook_deliveries",
)
def delivery_list(
    request: HttpRequest,
    webhook_id: int,
    status: DeliveryStatus | None = None,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """The webhook's delivery log, newest first, each with its attempts."""
    actor = actor_of(request)
    webhook = selectors.webhook_get(actor=actor, pk=webhook_id)
    page = selectors.delivery_list(
        actor=actor,
        webhook=webhook,
        cursor=cursor,
        limit=clamp_limit(limit),
        status=str(status or ""),
    )
    return json_response(page_json(page_out(page, DeliveryOut)))


@router.post(
    "/integrations/deliveries/{delivery_id}/redeliver",
    response={202: DeliveryOut, **ERRORS},
    url_name="integrations_delivery_redeliver",
)
def delivery_redeliver(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """Send a delivery's body again as a new delivery (with its own id)."""
    actor = actor_of(request)
    try:
        copy = delivery_services.delivery_redeliver(actor=actor, delivery_id=delivery_id)
    except PermissionDenied:
        raise NotFound(_("Not found.")) from None
    return json_response(
        dump(DeliveryOut, selectors.delivery_get(actor=actor, pk=copy.pk)), status=202
    )


# --- order sources ------------------------------------------------------------------------


def _source_json(source: Any, secret: str | None = None) -> dict[str, Any]:
    data = dump(SourceOut, source)
    if secret is not None:
        data["secret"] = secret
    return data


@router.get(
    "/integrations/sources",
    response={200: list[SourceOut], **ERRORS},
    url_name="integrations_sources",
)
def source_list(request: HttpRequest) -> HttpResponse:
    return json_response(
        [dump(SourceOut, s) for s in selectors.source_list(actor=actor_of(request))]
    )


@router.post(
    "/integrations/sources",
    response={201: SourceSecretOut, **ERRORS},
    url_name="integrations_source_create",
)
def source_create(request: HttpRequest, payload: SourceIn) -> HttpResponse:
    """A new order source; the answer holds its signing secret, shown this once."""
    data = payload.model_dump()
    data["kind"] = str(data["kind"])
    made = source_services.source_create(actor=actor_of(request), data=data)
    response = json_response(
        _source_json(made.source, made.secret), status=201, instance=made.source
    )
    response["Location"] = reverse("api:integrations_source_detail", args=[made.source.pk])
    response["Cache-Control"] = "no-store"
    return response


@router.get(
    "/integrations/sources/{source_id}",
    response={200: SourceOut, **ERRORS},
    url_name="integrations_source_detail",
)
def source_detail(request: HttpRequest, source_id: int) -> HttpResponse:
    source = selectors.source_get(actor=actor_of(request), pk=source_id)
    return json_response(_source_json(source), instance=source)


@router.patch(
    "/integrations/sources/{source_id}",
    response={200: SourceOut, **ERRORS},
    url_name="integrations_source_update",
)
def source_update(request: HttpRequest, source_id: int, payload: SourcePatch) -> HttpResponse:
    actor = actor_of(request)
    current = selectors.source_get(actor=actor, pk=source_id)
    data = payload.model_dump(exclude_unset=True)
    if data.get("kind") is not None:
        data["kind"] = str(data["kind"])
    data = {k: v for k, v in data.items() if v is not None or k == "price_list"}
    source_services.source_update(
        actor=actor,
        source_id=current.pk,
        data=data,
        expected_version=if_match_version(request, current),
    )
    fresh = selectors.source_get(actor=actor, pk=current.pk)
    return json_response(_source_json(fresh), instance=fresh)


@router.delete(
    "/integrations/sources/{source_id}",
    response={204: None, **ERRORS},
    url_name="integrations_source_delete",
)
def source_delete(request: HttpRequest, source_id: int) -> HttpResponse:
    actor = actor_of(request)
    selectors.source_get(actor=actor, pk=source_id)
    source_services.source_delete(actor=actor, source_id=source_id)
    return HttpResponse(status=204)


@router.post(
    "/integrations/sources/{source_id}/secret",
    response={200: SourceSecretOut, **ERRORS},
    url_name="integrations_source_secret",
)
def source_secret(request: HttpRequest, source_id: int) -> HttpResponse:
    actor = actor_of(request)
    selectors.source_get(actor=actor, pk=source_id)
    made = source_services.source_rotate_secret(actor=actor, source_id=source_id)
    response = json_response(_source_json(made.source, made.secret), instance=made.source)
    response["Cache-Control"] = "no-store"
    return response


# --- inbound orders -----------------------------------------------------------------------


@router.post(
    "/integrations/orders/{source}",
    auth=None,
    response={200: InboundOut, 201: InboundOut, 413: ErrorOut, **ERRORS},
    url_name="integrations_inbound_order",
    openapi_extra={
        "parameters": [
            {
                "in": "header",
                "name": "X-Vefa-Timestamp",
                "required": True,
                "schema": {"type": "string"},
            },
            {
                "in": "header",
                "name": "X-Vefa-Signature",
                "required": True,
                "schema": {"type": "string"},
            },
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
    },
)
def inbound_order(request: HttpRequest, source: str) -> HttpResponse:
    """Take one order from a web shop or till, signed with the source's secret.

    201 when the order was created, 200 with the same order when it was sent before,
    401 for an unknown source or a wrong signature (nothing is written), 422 naming the
    field for bad data (an unknown SKU names the line)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > inbound.MAX_BODY_BYTES:
        return error_response(
            inbound.PayloadTooLarge(
                _("The order is larger than %(n)d bytes.") % {"n": inbound.MAX_BODY_BYTES}
            )
        )
    body = request.read(inbound.MAX_BODY_BYTES + 1)
    found = inbound.authenticate(
        source,
        body,
        request.headers.get("X-Vefa-Timestamp"),
        request.headers.get("X-Vefa-Signature"),
    )
    data = inbound.parse_body(body)
    result = inbound.inbound_order_receive(source=found, data=data)
    return json_response(result.as_dict(), status=201 if result.status == "created" else 200)


# --- vCard --------------------------------------------------------------------------------

VCARD_TYPE = "text/vcard; charset=utf-8"


@router.get(
    "/integrations/vcard/customers/{customer_id}",
    response={200: str, **ERRORS},
    url_name="integrations_vcard_customer",
    openapi_extra={"responses": {200: {"content": {"text/vcard": {"schema": {"type": "string"}}}}}},
)
def vcard_customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    """One customer as a vCard 4.0."""
    name, text = vcard_services.vcard_export_one(actor=actor_of(request), customer_id=customer_id)
    response = HttpResponse(text.encode("utf-8"), content_type=VCARD_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get(
    "/integrations/vcard/customers",
    response={200: str, **ERRORS},
    url_name="integrations_vcard_customers",
    openapi_extra={"responses": {200: {"content": {"text/vcard": {"schema": {"type": "string"}}}}}},
)
def vcard_customers(request: HttpRequest) -> StreamingHttpResponse:
    """The customers matching the customer list's filters (query parameters), as one .vcf
    of at most 10 000 cards in name order."""
    filters = {k: v for k, v in request.GET.items() if k not in ("cursor", "limit")}
    cards = vcard_services.vcard_export_many(actor=actor_of(request), filters=filters)
    first = next(cards, "")

    def stream() -> Any:
        if first:
            yield first.encode("utf-8")
        for item in cards:
            yield item.encode("utf-8")

    response = StreamingHttpResponse(stream(), content_type=VCARD_TYPE)
    response["Content-Disposition"] = 'attachment; filename="customers.vcf"'
    return response


@router.post(
    "/integrations/vcard/import",
    response={202: JobOut, 413: ErrorOut, **ERRORS},
    url_name="integrations_vcard_import",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/vcard": {"schema": {"type": "string"}}},
        }
    },
)
def vcard_import(request: HttpRequest) -> HttpResponse:
    """Import the cards of the .vcf in the body as a background job (202 with the job)."""
    limit = vcard_services.MAX_FILE_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    raw = request.read(limit + 1) if declared <= limit else b"x" * (limit + 1)
    if len(raw) > limit:
        return error_response(
            inbound.PayloadTooLarge(
                _("The file is larger than 20 MB."), fields={"file": [_("Too large.")]}
            )
        )
    job = vcard_services.vcard_import_start(actor=actor_of(request), name="api.vcf", raw=raw)
    response = json_response(
        {"job_id": job.pk, "status_url": reverse("platform:job_detail", args=[job.pk])},
        status=202,
    )
    return response

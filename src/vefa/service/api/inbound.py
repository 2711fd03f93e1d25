"""Inbound e-mail over HTTP (mounted under /api/v1/service): a mail server or relay posts the
raw RFC 5322 message as the request body.

Only an administrator's API token is accepted (no browser session): the endpoint acts for the
system, not for a person. Answers: 201 when a ticket was opened or the message threaded into
one, 200 for a duplicate or an ignored (automatic) message, 413 above the size limit, 415 for
another content type.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema

from vefa.common.api import (
    API_ERRORS,
    ErrorOut,
    TokenAuth,
    TokenHeaderAuth,
    actor_of,
    error_response,
    json_response,
)
from vefa.common.errors import ApplicationError, PermissionDenied
from vefa.service.inbound import MessageTooLarge, max_message_bytes
from vefa.service.services.email import inbound_process

router = Router(tags=["service"])

CONTENT_TYPES = ("message/rfc822", "application/octet-stream")


class InboundOut(Schema):
    status: str
    threaded: bool
    ticket: str | None = None
    ticket_id: int | None = None
    message_id: int | None = None
    reason: str = ""


class UnsupportedMediaType(ApplicationError):
    status_code = 415
    code = "unsupported_media_type"


def _too_large() -> HttpResponse:
    from django.template.defaultfilters import filesizeformat

    limit = max_message_bytes()
    return error_response(
        MessageTooLarge(
            _("The message is larger than %(limit)s.") % {"limit": filesizeformat(limit)},
            fields={"message": [_("Too large.")]},
        )
    )


@router.post(
    "/inbound/email",
    auth=[TokenAuth(), TokenHeaderAuth()],
    response={200: InboundOut, 201: InboundOut, 413: ErrorOut, 415: ErrorOut, **API_ERRORS},
    summary="Take in a raw e-mail",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}} for kind in CONTENT_TYPES
            },
        }
    },
)
def inbound_email(request: HttpRequest) -> HttpResponse:
    """Open a ticket from the message, or add it to the ticket it answers."""
    actor = actor_of(request)
    if not actor.is_admin:
        raise PermissionDenied(_("Only an administrator's token may deliver e-mail."))
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type not in CONTENT_TYPES:
        raise UnsupportedMediaType(
            _("Send the raw message as message/rfc822 or application/octet-stream."),
            fields={"Content-Type": [_("Unsupported content type.")]},
        )
    limit = max_message_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _too_large()
    # Read the stream ourselves: the limit here is the mail limit, not the form-data one.
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return _too_large()
    if not raw.strip():
        from vefa.common.errors import ValidationFailed

        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={"message": [_("The message is empty.")]},
        )
    result = inbound_process(raw=raw)
    ticket = result.ticket
    body = {
        "status": result.status,
        "threaded": result.threaded,
        "ticket": ticket.number if ticket is not None else None,
        "ticket_id": ticket.pk if ticket is not None else None,
        "message_id": result.message.pk if result.message is not None else None,
        "reason": result.reason,
    }
    status = 201 if result.status in ("created", "threaded") else 200
    return json_response(body, status=status)

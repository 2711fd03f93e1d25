"""Input and output shapes of the ticket API.

Text sizes are checked by the services (one clear message per field, e.g. a body above
100 kB); the schemas check types and the fixed vocabularies.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.urls import reverse
from ninja import Schema
from pydantic import Field

from vefa.service.choices import (
    MessageKind,
    TicketChannel,
    TicketPriority,
    TicketStatus,
    TicketType,
)


class TicketIn(Schema):
    subject: str
    description: str = ""
    customer_id: int | None = Field(default=None, ge=1)
    contact_id: int | None = Field(default=None, ge=1)
    requester_email: str = ""
    requester_name: str = ""
    type: TicketType = TicketType.REQUEST
    channel: TicketChannel = TicketChannel.PHONE
    category_id: int | None = Field(default=None, ge=1)
    priority: TicketPriority = TicketPriority.NORMAL
    queue_id: int | None = Field(default=None, ge=1)
    owner_id: int | None = Field(default=None, ge=1)
    order_id: int | None = Field(default=None, ge=1)
    product_id: int | None = Field(default=None, ge=1)
    custom_fields: dict[str, Any] = {}
    tags: list[str] | None = None


class TicketPatch(Schema):
    subject: str | None = None
    customer_id: int | None = Field(default=None, ge=1)
    contact_id: int | None = Field(default=None, ge=1)
    requester_email: str | None = None
    requester_name: str | None = None
    type: TicketType | None = None
    channel: TicketChannel | None = None
    category_id: int | None = Field(default=None, ge=1)
    priority: TicketPriority | None = None
    order_id: int | None = Field(default=None, ge=1)
    product_id: int | None = Field(default=None, ge=1)
    custom_fields: dict[str, Any] | None = None
    tags: list[str] | None = None


# API name → the services' data key.
FIELD_KEYS = {
    "customer_id": "customer",
    "contact_id": "contact",
    "category_id": "category",
    "queue_id": "queue",
    "owner_id": "owner",
    "order_id": "order",
    "product_id": "product",
}


def service_data(values: dict[str, Any]) -> dict[str, Any]:
    """The API's field names as the services' data keys."""
    return {FIELD_KEYS.get(key, key): value for key, value in values.items()}


class MessageIn(Schema):
    kind: MessageKind = Field(description="customer, reply or note")
    # Checked by the service (required, at most 100 kB), which names the field "body".
    body: str = ""
    send_email: bool = True


class StatusIn(Schema):
    status: TicketStatus


class AssignIn(Schema):
    owner_id: int | None = Field(default=None, ge=1)
    queue_id: int | None = Field(default=None, ge=1)


class MergeIn(Schema):
    target_id: int = Field(ge=1)


class TicketOut(Schema):
    id: int
    number: str
    subject: str
    description: str
    status: str
    type: str
    channel: str
    priority: str
    customer_id: int | None
    contact_id: int | None
    requester_email: str
    requester_name: str
    category_id: int | None
    queue_id: int | None
    owner_id: int | None
    team_id: int | None
    order_id: int | None
    product_id: int | None
    value_class: str
    merged_into_id: int | None
    first_responded_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    reopen_count: int
    reply_count: int
    sla_state: str
    first_response_due_at: datetime.datetime | None
    resolution_due_at: datetime.datetime | None
    custom_fields: dict[str, Any]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TicketPageOut(Schema):
    items: list[TicketOut]
    next_cursor: str | None
    previous_cursor: str | None


class MessageUploadIn(Schema):
    """The form fields of a message sent as ``multipart/form-data`` with its files."""

    kind: MessageKind = Field(description="customer or reply (internal notes carry no files)")
    # Checked by the service (at most 100 kB; may be empty when files are attached).
    body: str = ""
    send_email: bool = True


class AttachmentOut(Schema):
    """A file of a ticket message: its cleaned name, the type it is served as, its size and
    SHA-256, and where to download it (only for callers who may see the ticket)."""

    id: int
    message_id: int | None = None
    original_name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime.datetime
    download_url: str

    @staticmethod
    def resolve_message_id(obj: Any) -> int | None:
        return getattr(obj, "message_id", None)

    @staticmethod
    def resolve_download_url(obj: Any) -> str:
        return reverse("api:service_ticket_attachment_download", args=[obj.ticket_id, obj.pk])


class AttachmentListOut(Schema):
    items: list[AttachmentOut]


class MessageOut(Schema):
    id: int
    ticket_id: int
    kind: str
    body: str
    author_id: int | None
    author_contact_id: int | None
    author_email: str
    author_name: str
    interaction_id: int | None
    message_id: str
    delivery: str
    created_at: datetime.datetime
    attachments: list[AttachmentOut] = []

    @staticmethod
    def resolve_attachments(obj: Any) -> list[Any]:
        interaction = getattr(obj, "interaction", None)
        if interaction is None:
            return []
        files = list(interaction.attachments.all())
        for attachment in files:
            attachment.message_id, attachment.ticket_id = obj.pk, obj.ticket_id
        return files


class MessageListOut(Schema):
    items: list[MessageOut]


class CsatOut(Schema):
    """A CSAT invitation of the ticket or of a ticket merged into it (``ticket_id``)."""

    id: int
    ticket_id: int
    ticket_number: str
    score: int | None
    comment: str
    sent_at: datetime.datetime | None
    responded_at: datetime.datetime | None

    @staticmethod
    def resolve_ticket_number(obj: Any) -> str:
        return str(obj.ticket.number)


class CsatListOut(Schema):
    items: list[CsatOut]

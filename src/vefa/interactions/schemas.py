"""API input and output schemas of the contact history, activities and time entries."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from ninja import Schema
from pydantic import Field

from vefa.interactions.choices import (
    ActivityKind,
    ActivityStatus,
    Direction,
    InitiatedBy,
    InteractionChannel,
    InteractionKind,
    InteractionStatus,
    Priority,
)
from vefa.interactions.models import Activity, Attachment, Interaction, TimeEntry


class AttachmentOut(Schema):
    id: int
    interaction_id: int
    original_name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime.datetime
    download_url: str

    @staticmethod
    def resolve_download_url(obj: Attachment) -> str:
        return reverse("api:attachment_download", args=[obj.pk])


class InteractionIn(Schema):
    customer_id: int
    kind: InteractionKind
    subject: str
    occurred_at: datetime.datetime | None = None
    direction: Direction = Direction.OUTBOUND
    initiated_by: InitiatedBy = InitiatedBy.COMPANY
    channel: InteractionChannel | None = None
    body: str = ""
    outcome: str = ""
    status: InteractionStatus = InteractionStatus.DONE
    duration_minutes: int | None = Field(default=None, ge=0)
    amount: Decimal | None = None
    currency: str = ""
    related_model: str = ""
    related_id: int | None = None
    external_id: str = ""
    custom_fields: dict[str, Any] = {}
    tags: list[str] | None = None


class InteractionPatch(Schema):
    kind: InteractionKind | None = None
    direction: Direction | None = None
    initiated_by: InitiatedBy | None = None
    channel: InteractionChannel | None = None
    occurred_at: datetime.datetime | None = None
    subject: str | None = None
    body: str | None = None
    outcome: str | None = None
    status: InteractionStatus | None = None
    duration_minutes: int | None = Field(default=None, ge=0)
    amount: Decimal | None = None
    currency: str | None = None
    related_model: str | None = None
    related_id: int | None = None
    custom_fields: dict[str, Any] | None = None
    tags: list[str] | None = None


class InteractionOut(Schema):
    id: int
    customer_id: int
    kind: str
    direction: str
    initiated_by: str
    channel: str
    occurred_at: datetime.datetime
    subject: str
    body: str
    outcome: str
    status: str
    duration_minutes: int | None
    amount: Decimal | None
    currency: str
    user_id: int | None
    related_model: str
    related_id: int | None
    external_id: str
    custom_fields: dict[str, Any]
    tags: list[str]
    attachments: list[AttachmentOut]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_tags(obj: Interaction) -> list[str]:
        return [tag.name for tag in obj.tags.all()]

    @staticmethod
    def resolve_attachments(obj: Interaction) -> list[Attachment]:
        return list(obj.attachments.all())


class InteractionPageOut(Schema):
    items: list[InteractionOut]
    next_cursor: str | None
    previous_cursor: str | None


class ActivityIn(Schema):
    kind: ActivityKind
    subject: str
    description: str = ""
    customer_id: int | None = None
    lead_id: int | None = None
    owner_id: int | None = None
    due_at: datetime.datetime | None = None
    start_at: datetime.datetime | None = None
    end_at: datetime.datetime | None = None
    all_day: bool = False
    location: str = ""
    priority: Priority = Priority.NORMAL
    reminder_minutes: list[int] | None = None
    attendee_user_ids: list[int] | None = None
    attendee_emails: list[str] | None = None
    custom_fields: dict[str, Any] = {}
    tags: list[str] | None = None


class ActivityPatch(Schema):
    kind: ActivityKind | None = None
    subject: str | None = None
    description: str | None = None
    customer_id: int | None = None
    lead_id: int | None = None
    owner_id: int | None = None
    due_at: datetime.datetime | None = None
    start_at: datetime.datetime | None = None
    end_at: datetime.datetime | None = None
    all_day: bool | None = None
    location: str | None = None
    priority: Priority | None = None
    reminder_minutes: list[int] | None = None
    attendee_user_ids: list[int] | None = None
    attendee_emails: list[str] | None = None
    custom_fields: dict[str, Any] | None = None
    tags: list[str] | None = None


class ActivityCompleteIn(Schema):
    outcome: str = ""
    notes: str = ""
    duration_minutes: int | None = None


class AttendeeOut(Schema):
    user_id: int | None
    customer_id: int | None
    email: str
    response: str


class ActivityOut(Schema):
    id: int
    kind: str
    subject: str
    description: str
    customer_id: int | None
    lead_id: int | None
    owner_id: int
    team_id: int | None
    due_at: datetime.datetime | None
    start_at: datetime.datetime | None
    end_at: datetime.datetime | None
    scheduled_at: datetime.datetime | None
    all_day: bool
    location: str
    status: ActivityStatus
    priority: str
    completed_at: datetime.datetime | None
    outcome: str
    interaction_id: int | None
    reminder_minutes: list[int]
    attendees: list[AttendeeOut]
    custom_fields: dict[str, Any]
    tags: list[str]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_reminder_minutes(obj: Activity) -> list[int]:
        return sorted((r.minutes_before for r in obj.reminders.all()), reverse=True)

    @staticmethod
    def resolve_attendees(obj: Activity) -> list[Any]:
        return list(obj.attendees.all())

    @staticmethod
    def resolve_tags(obj: Activity) -> list[str]:
        return [tag.name for tag in obj.tags.all()]


class ActivityPageOut(Schema):
    items: list[ActivityOut]
    next_cursor: str | None
    previous_cursor: str | None


class TimeEntryIn(Schema):
    minutes: int
    started_at: datetime.datetime | None = None
    customer_id: int | None = None
    activity_id: int | None = None
    note: str = ""
    billable: bool = False


class TimeEntryOut(Schema):
    id: int
    user_id: int
    customer_id: int | None
    activity_id: int | None
    started_at: datetime.datetime
    minutes: int
    note: str
    billable: bool
    version: int
    created_at: datetime.datetime

    @staticmethod
    def resolve_user_id(obj: TimeEntry) -> int:
        return int(obj.user_id)


class TimeEntryPageOut(Schema):
    items: list[TimeEntryOut]
    next_cursor: str | None
    previous_cursor: str | None

"""The contact history and activities (MISSION §2 and "time management")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vefa.common.models import CustomFieldsMixin, TaggableMixin, VefaModel
from vefa.interactions.choices import (
    ActivityKind,
    ActivityStatus,
    AttendeeResponse,
    Direction,
    InitiatedBy,
    InteractionChannel,
    InteractionKind,
    InteractionStatus,
    Priority,
)


class Interaction(VefaModel, CustomFieldsMixin, TaggableMixin):
    """One touch point with a customer: a purchase, call, e-mail, complaint, visit …"""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="interactions"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=InteractionKind.choices)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    initiated_by = models.CharField(
        _("initiated by"), max_length=10, choices=InitiatedBy.choices, default=InitiatedBy.COMPANY
    )
    channel = models.CharField(
        _("channel"), max_length=15, choices=InteractionChannel.choices, blank=True
    )
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("details"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=InteractionStatus.choices,
        default=InteractionStatus.DONE,
    )
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    amount = models.DecimalField(
        _("amount"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
    )
    # A link to the record this touch point concerns (an order, ticket, campaign …).
    related_model = models.CharField(max_length=100, blank=True)
    related_id = models.BigIntegerField(null=True, blank=True)
    # An outside system's id, so the same purchase or message is never recorded twice.
    external_id = models.CharField(max_length=100, blank=True)

    access_owner_paths = ("user", "customer__owner")
    access_team_paths = ("customer__team",)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["customer", "-occurred_at", "-id"], name="interaction_timeline"),
            models.Index(fields=["kind", "-occurred_at"], name="interaction_kind"),
            models.Index(fields=["user", "-occurred_at"], name="interaction_user"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="interaction_external_id",
            )
        ]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("interactions:detail", args=[self.pk])


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never contains the user's file name: no path tricks, no collisions.
    return f"attachments/{timezone.now():%Y/%m}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(VefaModel):
    """A file attached to an interaction, stored outside the web root."""

    interaction = models.ForeignKey(
        Interaction, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)

    access_owner_paths = ("interaction__user", "interaction__customer__owner")
    access_team_paths = ("interaction__customer__team",)
    access_policy = "interactions.interaction"

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class Activity(VefaModel, CustomFieldsMixin, TaggableMixin):
    """Work planned for a person: a task, a call to make, a meeting or an appointment."""

    kind = models.CharField(_("kind"), max_length=12, choices=ActivityKind.choices)
    subject = models.CharField(_("subject"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activities",
    )
    lead = models.ForeignKey(
        "customers.Lead",
        verbose_name=_("lead"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activities",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
    )
    # Tasks and calls have a due time; meetings and appointments a start and an end.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    start_at = models.DateTimeField(_("starts"), null=True, blank=True)
    end_at = models.DateTimeField(_("ends"), null=True, blank=True)
    all_day = models.BooleanField(_("all day"), default=False)
    location = models.CharField(_("location"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.PLANNED
    )
    priority = models.CharField(
        _("priority"), max_length=6, choices=Priority.choices, default=Priority.NORMAL
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    # The interaction recorded when a call or meeting was completed.
    interaction = models.OneToOneField(
        Interaction,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activity",
    )
    # Sort key for lists and the calendar: start time for meetings, due time for tasks.
    scheduled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["owner", "status", "scheduled_at"], name="activity_owner_sched"),
            models.Index(fields=["customer", "scheduled_at"], name="activity_customer"),
            models.Index(fields=["scheduled_at"], name="activity_scheduled"),
        ]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("interactions:activity_detail", args=[self.pk])


class ActivityAttendee(models.Model):
    """Someone taking part in a meeting: a colleague, a customer or an outside e-mail."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, null=True, blank=True
    )
    email = models.EmailField(_("e-mail"), blank=True)
    response = models.CharField(
        _("response"),
        max_length=10,
        choices=AttendeeResponse.choices,
        default=AttendeeResponse.PENDING,
    )

    class Meta:
        verbose_name = _("attendee")
        verbose_name_plural = _("attendees")

    def __str__(self) -> str:
        return self.email or str(self.user or self.customer or "")


class Reminder(models.Model):
    """A reminder of an activity, ``minutes_before`` its start or due time."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="reminders")
    minutes_before = models.PositiveIntegerField(_("minutes before"))
    remind_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["activity", "minutes_before"], name="reminder_unique")
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} -{self.minutes_before}m"


class TimeEntry(VefaModel):
    """Time a user spent, per customer and activity (time tracking)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="time_entries",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="time_entries",
    )
    activity = models.ForeignKey(
        Activity,
        verbose_name=_("activity"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="time_entries",
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    minutes = models.PositiveIntegerField(_("minutes"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    billable = models.BooleanField(_("billable"), default=False)

    access_owner_paths = ("user",)
    access_team_paths = ("customer__team",)
    access_policy = "interactions.activity"

    class Meta:
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        indexes = [
            models.Index(fields=["user", "started_at"], name="timeentry_user"),
            models.Index(fields=["customer", "started_at"], name="timeentry_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.minutes}m"

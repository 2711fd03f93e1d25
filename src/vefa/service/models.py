"""Service: tickets and complaints, queues and SLAs, returns, satisfaction, knowledge base.

Access: a ticket, a return and a survey invitation are reached through their owner and team
(``POLICIES["service.ticket"]`` …). Messages, return lines and visits are children and share
their parent's policy. The configuration tables (queues, categories, calendars, SLA policies,
assignment rules) are read by every service user and kept by administrators.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from functools import reduce

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from vefa.common.models import CustomFieldsMixin, TaggableMixin, VefaModel
from vefa.sales.models import currency_field, money_field
from vefa.service.choices import (
    OPEN_STATUSES,
    ArticleStatus,
    ArticleVisibility,
    AssignmentMethod,
    DeliveryStatus,
    Disposition,
    EscalationAction,
    MessageKind,
    ReturnReason,
    ReturnStatus,
    SlaState,
    SurveyKind,
    SurveyStatus,
    TicketChannel,
    TicketPriority,
    TicketStatus,
    TicketType,
)

SERVICE_SETUP_POLICY = "service.queue"

# SLA states in which at least one clock of a ticket may still be running.
SLA_ACTIVE_STATES = (SlaState.RUNNING, SlaState.WARNING, SlaState.BREACHED)


def _none_of(field: str, values: Iterable[str]) -> models.Q:
    """``field`` is none of ``values``, as one ``NOT (field = value)`` term per value.

    Partial-index conditions are written this way rather than as ``IN`` lists: SQLite uses
    a partial index only for a query that repeats each term of its condition, and it does
    not compare the bound parameters inside a query's ``IN`` list with the constants of the
    index's condition (a single ``field = ?`` it does).
    """
    return reduce(operator.and_, (~models.Q(**{field: value}) for value in values))


_SLA_ACTIVE = _none_of("sla_state", [s for s in SlaState if s not in SLA_ACTIVE_STATES])
# The clocks the SLA evaluation still watches (conditions of the ticket's partial indexes,
# repeated by the evaluation's queries): a running first-response clock not yet breached …
WATCHED_FIRST_RESPONSE = _SLA_ACTIVE & models.Q(
    first_responded_at__isnull=True, first_response_breached=False
)
# … a running resolution clock not yet breached …
WATCHED_RESOLUTION = _SLA_ACTIVE & models.Q(resolution_breached=False)
# … and an open breached ticket whose escalation (a reassignment) is still to be done.
AWAITING_ESCALATION = _none_of(
    "status", [s for s in TicketStatus if s not in OPEN_STATUSES]
) & models.Q(sla_state=SlaState.BREACHED, escalated_at__isnull=True)


class SetupModel(VefaModel):
    """Configuration every service user reads and administrators keep."""

    access_owner_paths = ()
    access_team_paths = ()
    access_policy = SERVICE_SETUP_POLICY

    class Meta:
        abstract = True


class BusinessCalendar(SetupModel):
    """Working hours of a team in its time zone, with holidays.

    ``hours`` maps an ISO weekday ("1" = Monday … "7" = Sunday) to a list of
    ``["HH:MM", "HH:MM"]`` intervals, e.g. ``{"1": [["09:00", "12:30"], ["13:30", "18:00"]]}``.
    An empty mapping means around the clock.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Istanbul")
    hours = models.JSONField(_("working hours"), default=dict, blank=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Holiday(SetupModel):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Queue(SetupModel):
    """Where tickets wait for a team; owns the assignment method and the business calendar."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_queues",
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("business calendar"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="queues",
    )
    assignment = models.CharField(
        _("assignment"),
        max_length=12,
        choices=AssignmentMethod.choices,
        default=AssignmentMethod.ROUND_ROBIN,
    )
    # The mailbox address whose inbound mail lands in this queue (blank: none).
    email_address = models.EmailField(_("e-mail address"), blank=True, db_index=True)
    is_default = models.BooleanField(_("default queue"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # Round robin: the last user given a ticket.
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(SetupModel):
    """A node of the editable root-cause tree (e.g. Delivery › Late › Carrier)."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    # The full path, kept by the service ("Delivery › Late › Carrier"), for lists and search.
    path = models.CharField(_("path"), max_length=500, editable=False, default="")
    queue = models.ForeignKey(
        Queue,
        verbose_name=_("queue"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="categories",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="service_category_unique_name")
        ]

    def __str__(self) -> str:
        return self.path or self.name


class AssignmentRule(SetupModel):
    """Sends matching tickets to a queue and, optionally, to one agent. First match wins."""

    position = models.PositiveIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    ticket_type = models.CharField(_("type"), max_length=16, choices=TicketType.choices, blank=True)
    # The customer's value class (A, B, C) from the analytical CRM; blank: any.
    value_class = models.CharField(_("value class"), max_length=1, blank=True)
    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.CASCADE, related_name="rules"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assign to"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(SetupModel):
    """First-response and resolution targets, in business minutes, for a priority and class.

    The most specific active policy applies: a match on both priority and value class beats a
    match on one, which beats the catch-all (both blank).
    """

    name = models.CharField(_("name"), max_length=100)
    priority = models.CharField(
        _("priority"), max_length=8, choices=TicketPriority.choices, blank=True
    )
    value_class = models.CharField(_("value class"), max_length=1, blank=True)
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (business minutes)"), validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (business minutes)"), validators=[MinValueValidator(1)]
    )
    # Warn when this share of the target has elapsed.
    warn_at_percent = models.PositiveSmallIntegerField(
        _("warn at (% of the target)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    escalation = models.CharField(
        _("on breach"),
        max_length=8,
        choices=EscalationAction.choices,
        default=EscalationAction.NOTIFY,
    )
    escalate_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalate to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(VefaModel, CustomFieldsMixin, TaggableMixin):
    """A ticket; its SLA clocks are described in ``vefa.service.services.sla`` (ADR 0010).

    Indexes: every row version of a ticket gets an entry in each index whose condition it
    meets, and the SLA evaluation rewrites tens of thousands of rows after downtime. So
    foreign keys that lead a composite or partial index have no index of their own, the
    number, Message-ID and requester e-mail have plain indexes (no ``LIKE`` pattern copies on
    PostgreSQL: nothing searches them by prefix), and the evaluation's indexes hold only the
    clocks it still watches, so a ticket it marks breached drops out of them.
    """

    number = models.CharField(_("number"), max_length=20, editable=False)
    subject = models.CharField(_("subject"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # ticket_customer leads with it
    )
    contact = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("contact person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact_for_tickets",
        db_index=False,  # ticket_contact (the rows that have one)
    )
    # Who wrote in when they are not (yet) a known customer: e-mail and name as given.
    requester_email = models.EmailField(_("requester e-mail"), blank=True)
    requester_name = models.CharField(_("requester name"), max_length=200, blank=True)
    type = models.CharField(
        _("type"), max_length=16, choices=TicketType.choices, default=TicketType.REQUEST
    )
    channel = models.CharField(
        _("channel"), max_length=12, choices=TicketChannel.choices, default=TicketChannel.PHONE
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    priority = models.CharField(
        _("priority"),
        max_length=8,
        choices=TicketPriority.choices,
        default=TicketPriority.NORMAL,
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=TicketStatus.choices,
        default=TicketStatus.NEW,
        editable=False,
    )
    queue = models.ForeignKey(
        Queue,
        verbose_name=_("queue"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # ticket_queue_status leads with it
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_tickets",
        db_index=False,  # ticket_owner_status leads with it
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_tickets",
    )
    order = models.ForeignKey(
        "sales.Order",
        verbose_name=_("order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    product = models.ForeignKey(
        "sales.Product",
        verbose_name=_("product"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    # The customer's value class when the ticket was opened (routing and SLA use it).
    value_class = models.CharField(_("value class"), max_length=1, blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged_tickets",
        editable=False,
        db_index=False,  # ticket_merged_into (the rows that have one)
    )

    # Life cycle.
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0, editable=False)
    # Public replies sent before the first resolution (1 = resolved at first contact).
    reply_count = models.PositiveIntegerField(_("replies"), default=0, editable=False)
    last_customer_message_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_reply_at = models.DateTimeField(null=True, blank=True, editable=False)

    # SLA clocks (business minutes, see vefa.service.sla).
    sla_policy = models.ForeignKey(
        SlaPolicy,
        verbose_name=_("SLA policy"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    sla_state = models.CharField(
        _("SLA"), max_length=10, choices=SlaState.choices, blank=True, editable=False
    )
    first_response_due_at = models.DateTimeField(
        _("first response due"), null=True, blank=True, editable=False
    )
    resolution_due_at = models.DateTimeField(
        _("resolution due"), null=True, blank=True, editable=False
    )
    # While waiting on the customer the clocks stop: when it started, and the business
    # minutes each clock had left at that moment.
    sla_paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_response_left = models.IntegerField(null=True, blank=True, editable=False)
    resolution_left = models.IntegerField(null=True, blank=True, editable=False)
    first_response_breached = models.BooleanField(default=False, editable=False)
    resolution_breached = models.BooleanField(default=False, editable=False)
    sla_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When each running clock reaches its policy's warning share (cleared once warned, paused
    # or stopped), so the periodic evaluation finds due warnings with one indexed range scan.
    first_response_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)

    # E-mail threading: the Message-ID of the message that opened the ticket.
    message_id = models.CharField(max_length=300, blank=True, editable=False)
    search_text = models.TextField(blank=True, editable=False, default="")

    audit_exclude = ("updated_at", "search_text", "last_customer_message_at", "last_reply_at")

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["status", "-id"], name="ticket_status_id"),
            models.Index(fields=["queue", "status", "-id"], name="ticket_queue_status"),
            models.Index(fields=["owner", "status", "-id"], name="ticket_owner_status"),
            models.Index(fields=["customer", "-id"], name="ticket_customer"),
            # The SLA evaluation's scans: only the clocks it still watches are indexed, so a
            # ticket it marks (breach flag set, warning instant cleared, escalated) leaves
            # these indexes instead of adding an entry to each. Its queries repeat the
            # conditions (SQLite uses a partial index only for a query naming its terms).
            models.Index(
                fields=["first_response_due_at"],
                condition=WATCHED_FIRST_RESPONSE,
                name="ticket_sla_first_due",
            ),
            models.Index(
                fields=["resolution_due_at"],
                condition=WATCHED_RESOLUTION,
                name="ticket_sla_resolution_due",
            ),
            models.Index(
                fields=["first_response_warn_at"],
                condition=models.Q(first_response_warn_at__isnull=False),
                name="ticket_sla_first_warn",
            ),
            models.Index(
                fields=["resolution_warn_at"],
                condition=models.Q(resolution_warn_at__isnull=False),
                name="ticket_sla_warn",
            ),
            models.Index(fields=["id"], condition=AWAITING_ESCALATION, name="ticket_sla_escalate"),
            # The list's rare SLA filter "breach soon" (the other states are common enough
            # for its scan by number to fill a page soon).
            models.Index(
                fields=["-id"],
                condition=models.Q(sla_state=SlaState.WARNING),
                name="ticket_sla_warning",
            ),
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated"),
            # Almost every ticket has no contact person, is merged into nothing and, once
            # closed, has an owner; indexing only the rows that have the value keeps these
            # lookups index searches (SQLite's statistics would otherwise count the NULLs
            # and judge a full indexes useless).
            models.Index(
                fields=["contact", "-id"],
                condition=models.Q(contact__isnull=False),
                name="ticket_contact",
            ),
            models.Index(
                fields=["merged_into"],
                condition=models.Q(merged_into__isnull=False),
                name="ticket_merged_into",
            ),
            models.Index(
                fields=["queue", "status", "id"],
                condition=models.Q(owner__isnull=True),
                name="ticket_unassigned",
            ),
            models.Index(fields=["message_id"], name="ticket_message_id"),
            models.Index(fields=["requester_email"], name="ticket_requester_email"),
        ]
        constraints = [models.UniqueConstraint(fields=["number"], name="ticket_number_unique")]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("service:ticket_detail", args=[self.pk])


class TicketMessage(VefaModel):
    """One message on a ticket: from the customer, a public reply, an internal note.

    Customer messages and public replies are also interactions in the contact history
    (``interaction``), which carries the attachments under the upload rules.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    body = models.TextField(_("message"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    author_contact = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    author_email = models.EmailField(_("from"), blank=True)
    author_name = models.CharField(_("name"), max_length=200, blank=True)
    interaction = models.OneToOneField(
        "interactions.Interaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ticket_message",
    )
    # RFC 5322 threading.
    message_id = models.CharField(max_length=300, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=300, blank=True)
    references = models.TextField(blank=True)
    delivery = models.CharField(
        _("delivery"), max_length=8, choices=DeliveryStatus.choices, blank=True
    )
    delivery_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    access_owner_paths = ("ticket__owner",)
    access_team_paths = ("ticket__team",)
    access_policy = "service.ticket"

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "id"], name="ticketmessage_ticket")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.get_kind_display()}"


class ServiceVisit(VefaModel):
    """A visit or appointment for a ticket; its time and place live on the calendar activity."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="visits")
    activity = models.OneToOneField(
        "interactions.Activity", on_delete=models.CASCADE, related_name="service_visit"
    )

    access_owner_paths = ("ticket__owner",)
    access_team_paths = ("ticket__team",)
    access_policy = "service.ticket"

    class Meta:
        verbose_name = _("service visit")
        verbose_name_plural = _("service visits")


class ReturnRequest(VefaModel, CustomFieldsMixin, TaggableMixin):
    """A return (RMA) of order lines: its logistics steps, inspection and disposition."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="returns",
    )
    contact = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("contact person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact_for_returns",
    )
    order = models.ForeignKey(
        "sales.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="returns"
    )
    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="returns",
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ReturnStatus.choices,
        default=ReturnStatus.REQUESTED,
        editable=False,
    )
    reason = models.CharField(_("reason"), max_length=20, choices=ReturnReason.choices)
    reason_detail = models.TextField(_("details"), blank=True)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    pickup_at = models.DateTimeField(_("pickup"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    inspected_at = models.DateTimeField(_("inspected"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    storage_location = models.CharField(_("storage location"), max_length=100, blank=True)
    inspection_notes = models.TextField(_("inspection notes"), blank=True)
    disposition = models.CharField(
        _("disposition"), max_length=10, choices=Disposition.choices, blank=True
    )
    refund_amount = money_field(_("refund amount"), default=0)
    currency = currency_field(default="TRY")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_returns",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_returns",
    )
    search_text = models.TextField(blank=True, editable=False, default="")

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        indexes = [
            models.Index(fields=["status", "-id"], name="return_status_id"),
            models.Index(fields=["customer", "-id"], name="return_customer"),
            models.Index(fields=["-created_at"], name="return_created"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("service:return_detail", args=[self.pk])


class ReturnLine(VefaModel):
    """One returned order line (or part of its quantity)."""

    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        "sales.OrderLine",
        verbose_name=_("order line"),
        on_delete=models.PROTECT,
        related_name="return_lines",
    )
    product = models.ForeignKey(
        "sales.Product",
        verbose_name=_("product"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="return_lines",
    )
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=3, validators=[MinValueValidator(0)]
    )
    reason = models.CharField(_("reason"), max_length=20, choices=ReturnReason.choices, blank=True)
    condition = models.CharField(_("condition"), max_length=200, blank=True)
    disposition = models.CharField(
        _("disposition"), max_length=10, choices=Disposition.choices, blank=True
    )

    access_owner_paths = ("return_request__owner",)
    access_team_paths = ("return_request__team",)
    access_policy = "service.returnrequest"

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")

    def __str__(self) -> str:
        return f"{self.return_request_id} {self.order_line_id} × {self.quantity}"


class Survey(VefaModel):
    """An NPS (or CSAT) survey sent to a chosen audience; CSAT after tickets needs none."""

    kind = models.CharField(_("kind"), max_length=4, choices=SurveyKind.choices)
    name = models.CharField(_("name"), max_length=200)
    question = models.CharField(_("question"), max_length=500, blank=True)
    # The audience as a customer-list query string (the customer list's filters).
    audience = models.TextField(_("audience"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=SurveyStatus.choices,
        default=SurveyStatus.DRAFT,
        editable=False,
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_surveys",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_surveys",
    )

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")

    def __str__(self) -> str:
        return self.name


class SurveyInvitation(VefaModel):
    """One person asked once; answered at most once through a signed, single-use link.

    Only a hash of the link's token is stored, so a database reader cannot answer for anyone.
    """

    kind = models.CharField(_("kind"), max_length=4, choices=SurveyKind.choices)
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="surveys"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="survey_invitations",
    )
    contact = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("contact person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True, db_index=True)
    score = models.PositiveSmallIntegerField(
        _("score"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    comment = models.TextField(_("comment"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    access_policy = "service.survey"

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        indexes = [
            models.Index(fields=["customer", "kind", "-responded_at"], name="survey_customer"),
            models.Index(fields=["kind", "responded_at"], name="survey_kind_answered"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=models.Q(ticket__isnull=False),
                name="survey_one_csat_per_ticket",
            ),
            models.UniqueConstraint(
                fields=["survey", "customer"],
                condition=models.Q(survey__isnull=False),
                name="survey_once_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.customer_id}"


class Article(VefaModel, TaggableMixin):
    """A knowledge-base article: internal (agents) or public (portal), in several languages."""

    slug = models.SlugField(_("address"), max_length=120, unique=True)
    visibility = models.CharField(
        _("visibility"),
        max_length=8,
        choices=ArticleVisibility.choices,
        default=ArticleVisibility.INTERNAL,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("views"), default=0, editable=False)
    helpful_count = models.PositiveIntegerField(_("helpful"), default=0, editable=False)

    access_owner_paths = ()
    access_team_paths = ()
    access_policy = "service.article"

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class ArticleTranslation(VefaModel):
    """The article's text in one language; the search text is folded for every script."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=10)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text"))
    search_text = models.TextField(blank=True, editable=False, default="")

    access_owner_paths = ()
    access_team_paths = ()
    access_policy = "service.article"

    class Meta:
        verbose_name = _("article translation")
        verbose_name_plural = _("article translations")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "language"], name="article_one_text_per_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.article_id} {self.language}"


class MailboxState(models.Model):
    """Where the IMAP poll of one mailbox stopped: the last UID taken in (per UIDVALIDITY)."""

    # "user@host:port/MAILBOX", one row per polled mailbox.
    name = models.CharField(max_length=300, unique=True)
    uid_validity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)
    polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.name

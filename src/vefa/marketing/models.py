"""Marketing: segments, message templates, campaigns and their recipients, responses,
suppressions, journeys, loyalty points and referrals.

Access: segments, templates, campaigns and journeys are reached through their owner and team
(``POLICIES["marketing.segment"]`` …); a campaign's variants, costs, links and recipients are
its children. The loyalty programme and the marketing settings are read by every user and kept
by administrators and marketers. Analytic attributes (RFM segment, ladder step, CLV …) are
never imported from the analytics app: segment rules reach them through the customer list's
filter extensions, and a message's product block through the registered recommendation source.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from vefa.common.models import TaggableMixin, VefaModel
from vefa.customers.choices import ConsentPurpose
from vefa.marketing.choices import (
    CampaignChannel,
    CampaignObjective,
    CampaignStatus,
    EarningRuleKind,
    EnrollmentStatus,
    JourneyAction,
    JourneyTrigger,
    MessageEventKind,
    PointsKind,
    RecipientStatus,
    RuleMatch,
    SegmentKind,
    SuppressionReason,
)
from vefa.sales.models import currency_field, money_field

MARKETING_SETUP_POLICY = "marketing.settings"


def _owner() -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )


def _team() -> models.ForeignKey:
    return models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )


class MarketingSettings(VefaModel):
    """The installation's sending rules (one row, ``pk=1``).

    The global cap: at most ``cap_messages`` marketing messages per customer in any
    ``cap_days`` days, over every channel; a customer's own ``contact_frequency_days`` is
    stricter when set. Quiet hours are in ``time_zone`` unless the customer has their own.
    """

    cap_messages = models.PositiveSmallIntegerField(
        _("messages per customer"), default=4, validators=[MinValueValidator(1)]
    )
    cap_days = models.PositiveSmallIntegerField(
        _("in days"), default=7, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    quiet_hours_start = models.TimeField(_("quiet hours from"), default=datetime.time(21, 0))
    quiet_hours_end = models.TimeField(_("quiet hours until"), default=datetime.time(9, 0))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Istanbul")
    from_name = models.CharField(_("sender name"), max_length=100, blank=True)
    from_email = models.EmailField(_("sender address"), blank=True)
    reply_to = models.EmailField(_("reply-to address"), blank=True)
    postal_address = models.CharField(
        _("postal address in every message"), max_length=300, blank=True
    )
    send_rate = models.PositiveIntegerField(
        _("messages per second at most"), default=200, validators=[MinValueValidator(1)]
    )
    attribution_days = models.PositiveSmallIntegerField(
        _("conversion window (days)"), default=30, validators=[MinValueValidator(1)]
    )
    soft_bounce_limit = models.PositiveSmallIntegerField(
        _("soft bounces before suppression"), default=3, validators=[MinValueValidator(1)]
    )
    track_opens = models.BooleanField(_("track opens where allowed"), default=False)

    access_owner_paths = ()
    access_team_paths = ()
    access_policy = MARKETING_SETUP_POLICY

    class Meta:
        verbose_name = _("marketing settings")
        verbose_name_plural = _("marketing settings")


class Segment(VefaModel, TaggableMixin):
    """A group of customers: dynamic (rules over the customer list's filters) or a static list.

    ``rules`` is a list of ``{"param": <customer filter parameter>, "value": <text>}`` (the
    parameters of ``vefa.customers.filters.CustomerFilter`` and its extensions: fields,
    custom fields, tags, analytic attributes, behaviour), combined by ``match``.
    """

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=8, choices=SegmentKind.choices, default=SegmentKind.DYNAMIC
    )
    match = models.CharField(
        _("customers matching"), max_length=3, choices=RuleMatch.choices, default=RuleMatch.ALL
    )
    rules = models.JSONField(_("rules"), default=list, blank=True)
    owner = _owner()
    team = _team()
    is_archived = models.BooleanField(_("archived"), default=False)
    last_count = models.PositiveIntegerField(_("customers"), null=True, blank=True)
    last_counted_at = models.DateTimeField(_("counted"), null=True, blank=True)

    audit_exclude = ("updated_at", "last_count", "last_counted_at")

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A customer on a static list."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="segment_memberships"
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("segment member")
        verbose_name_plural = _("segment members")
        constraints = [
            models.UniqueConstraint(fields=["segment", "customer"], name="segment_member_once")
        ]
        indexes = [models.Index(fields=["customer"], name="segment_member_customer")]

    def __str__(self) -> str:
        return f"{self.segment_id}: {self.customer_id}"


class SegmentSize(models.Model):
    """How many customers a segment held on a day (its size over time)."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="sizes")
    day = models.DateField(_("day"))
    count = models.PositiveIntegerField(_("customers"))

    class Meta:
        verbose_name = _("segment size")
        verbose_name_plural = _("segment sizes")
        ordering = ["segment", "day"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "day"], name="segment_size_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.count}"


class MessageTemplate(VefaModel, TaggableMixin):
    """A message with a version per language, chosen by the recipient's language.

    Texts use merge fields and conditions in a sandboxed template language that escapes
    customer data (see ``vefa.marketing.rendering``).
    """

    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(
        _("channel"), max_length=8, choices=CampaignChannel.choices, default=CampaignChannel.EMAIL
    )
    default_language = models.CharField(_("default language"), max_length=10, default="tr")
    description = models.TextField(_("description"), blank=True)
    owner = _owner()
    team = _team()
    is_archived = models.BooleanField(_("archived"), default=False)

    access_policy = "marketing.campaign"

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class TemplateVersion(VefaModel):
    """One language of a template: subject, HTML and plain-text bodies (SMS: ``body_text``)."""

    template = models.ForeignKey(MessageTemplate, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(_("language"), max_length=10)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    preheader = models.CharField(_("preview text"), max_length=200, blank=True)
    body_html = models.TextField(_("HTML body"), blank=True)
    body_text = models.TextField(_("plain-text body"), blank=True)

    access_owner_paths = ("template__owner",)
    access_team_paths = ("template__team",)
    access_policy = "marketing.campaign"

    class Meta:
        verbose_name = _("template version")
        verbose_name_plural = _("template versions")
        ordering = ["template", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "language"], name="template_version_per_language"
            )
        ]


class Journey(VefaModel, TaggableMixin):
    """Trigger → wait → action, run daily by the scheduler and idempotent per occasion.

    ``trigger_params`` holds what the trigger needs: ``{"segment": id}`` for a customer who
    enters a segment (win-back on declining or P(alive) below a threshold), ``{"category":
    id}`` for a purchase in a category, ``{"days_before": n}`` for a birthday.
    """

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    trigger = models.CharField(_("trigger"), max_length=20, choices=JourneyTrigger.choices)
    trigger_params = models.JSONField(_("trigger settings"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    purpose = models.CharField(
        _("consent purpose"),
        max_length=15,
        choices=ConsentPurpose.choices,
        default=ConsentPurpose.MARKETING,
    )
    owner = _owner()
    team = _team()
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)

    audit_exclude = ("updated_at", "last_run_at")

    class Meta:
        verbose_name = _("journey")
        verbose_name_plural = _("journeys")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Campaign(VefaModel, TaggableMixin):
    """A marketing action to an audience: segments minus exclusions, less a random hold-out.

    A journey's sending steps are campaigns too (``journey`` set), so sending, tracking and
    reports work the same; their recipients carry the occasion (e.g. the birthday's year).
    """

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    objective = models.CharField(_("objective"), max_length=12, choices=CampaignObjective.choices)
    channel = models.CharField(
        _("channel"), max_length=8, choices=CampaignChannel.choices, default=CampaignChannel.EMAIL
    )
    purpose = models.CharField(
        _("consent purpose"),
        max_length=15,
        choices=ConsentPurpose.choices,
        default=ConsentPurpose.MARKETING,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    segments = models.ManyToManyField(
        Segment, verbose_name=_("audience"), blank=True, related_name="campaigns"
    )
    exclusions = models.ManyToManyField(
        Segment, verbose_name=_("excluded"), blank=True, related_name="excluded_from"
    )
    control_percent = models.PositiveSmallIntegerField(
        _("control group (%)"), default=10, validators=[MaxValueValidator(50)]
    )
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("sending finished"), null=True, blank=True)
    # The audience was drawn (recipients and control group written) at this time.
    audience_drawn_at = models.DateTimeField(_("audience drawn"), null=True, blank=True)
    budget = money_field(_("budget"), null=True, blank=True)
    currency = currency_field(default="TRY")
    attribution_days = models.PositiveSmallIntegerField(
        _("conversion window (days)"), null=True, blank=True
    )
    from_name = models.CharField(_("sender name"), max_length=100, blank=True)
    from_email = models.EmailField(_("sender address"), blank=True)
    reply_to = models.EmailField(_("reply-to address"), blank=True)
    journey = models.ForeignKey(
        Journey,
        verbose_name=_("journey"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="campaigns",
    )
    owner = _owner()
    team = _team()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "starts_at"], name="campaign_status_start"),
            models.Index(fields=["starts_at", "id"], name="campaign_calendar"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignVariant(VefaModel):
    """An A/B variant: its own template (subject and content) and its share of the audience."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    code = models.CharField(_("variant"), max_length=8, default="A")
    template = models.ForeignKey(
        MessageTemplate,
        verbose_name=_("template"),
        on_delete=models.PROTECT,
        related_name="variants",
    )
    subject = models.CharField(_("subject (instead of the template's)"), max_length=300, blank=True)
    weight = models.PositiveSmallIntegerField(
        _("share"), default=50, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    access_owner_paths = ("campaign__owner",)
    access_team_paths = ("campaign__team",)
    access_policy = "marketing.campaign"

    class Meta:
        verbose_name = _("campaign variant")
        verbose_name_plural = _("campaign variants")
        ordering = ["campaign", "code"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="campaign_variant_code")
        ]


class CampaignCost(VefaModel):
    """An actual cost of a campaign (printing, postage, SMS provider, agency …)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="costs")
    incurred_on = models.DateField(_("date"))
    description = models.CharField(_("description"), max_length=200)
    amount = money_field(_("amount"), validators=[MinValueValidator(0)])
    currency = currency_field(default="TRY")

    access_owner_paths = ("campaign__owner",)
    access_team_paths = ("campaign__team",)
    access_policy = "marketing.campaign"

    class Meta:
        verbose_name = _("campaign cost")
        verbose_name_plural = _("campaign costs")
        ordering = ["campaign", "incurred_on", "id"]


class CampaignLink(models.Model):
    """A link in a campaign's messages; clicks go through a signed redirect to ``url``."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="links")
    url = models.URLField(_("address"), max_length=2000)
    url_hash = models.CharField(max_length=64, editable=False)
    clicks = models.PositiveIntegerField(_("clicks"), default=0)

    class Meta:
        verbose_name = _("campaign link")
        verbose_name_plural = _("campaign links")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "url_hash"], name="campaign_link_once")
        ]

    def __str__(self) -> str:
        return self.url


class CampaignRecipient(models.Model):
    """One customer of a campaign (and occasion): the exactly-once sending ledger.

    A row is written for every customer of the drawn audience, the control group included.
    Sending claims a row (``claimed_at``) just before the message is handed over for good;
    a claimed row is never sent again, so a process killed and restarted sends every
    recipient at most once, and every unclaimed one exactly once.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="campaign_receipts"
    )
    # A journey sends the same campaign again on another occasion (a birthday's year).
    occasion = models.CharField(max_length=64, blank=True, default="")
    variant = models.ForeignKey(
        CampaignVariant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RecipientStatus.choices,
        default=RecipientStatus.PENDING,
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # The address and language the message went to, kept as sent.
    address = models.CharField(_("address"), max_length=254, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    # Random, unguessable: the key of the recipient's links and unsubscribe page.
    token = models.CharField(max_length=32, unique=True, editable=False)
    message_id = models.CharField(max_length=255, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    conversion_order = models.ForeignKey(
        "sales.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revenue = money_field(_("revenue"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer", "occasion"], name="campaign_recipient_once"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "id"], name="campaign_recipient_queue"),
            models.Index(fields=["customer", "sent_at"], name="campaign_recipient_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.customer_id} ({self.status})"


class MessageEvent(models.Model):
    """A response to a message: delivered, opened, clicked, replied, converted, bounced …"""

    recipient = models.ForeignKey(
        CampaignRecipient, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("event"), max_length=12, choices=MessageEventKind.choices)
    occurred_at = models.DateTimeField(_("time"))
    link = models.ForeignKey(
        CampaignLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("message event")
        verbose_name_plural = _("message events")
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["recipient", "kind"], name="message_event_recipient")]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"


class Suppression(models.Model):
    """An address nothing is sent to on a channel (unsubscribed, bounced, complained)."""

    channel = models.CharField(_("channel"), max_length=8, choices=CampaignChannel.choices)
    # Normalised: e-mail lower-cased, phone E.164.
    address = models.CharField(_("address"), max_length=254)
    reason = models.CharField(_("reason"), max_length=14, choices=SuppressionReason.choices)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    soft_bounces = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="suppression_once")
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.address}"


class JourneyStep(VefaModel):
    """One step: wait ``wait_days`` after the previous step (or the trigger), then act."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("order"))
    wait_days = models.PositiveSmallIntegerField(
        _("wait (days)"), default=0, validators=[MaxValueValidator(3650)]
    )
    action = models.CharField(_("action"), max_length=14, choices=JourneyAction.choices)
    # Sending steps send through their own campaign (variants, tracking, report).
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    points = models.IntegerField(_("points"), null=True, blank=True)
    task_subject = models.CharField(_("task"), max_length=300, blank=True)

    access_owner_paths = ("journey__owner",)
    access_team_paths = ("journey__team",)
    access_policy = "marketing.journey"

    class Meta:
        verbose_name = _("journey step")
        verbose_name_plural = _("journey steps")
        ordering = ["journey", "position"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "position"], name="journey_step_position")
        ]


class JourneyEnrollment(models.Model):
    """A customer on a journey for one occasion; each step runs once (``next_position``)."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="enrollments")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="journey_enrollments"
    )
    occasion = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=EnrollmentStatus.choices,
        default=EnrollmentStatus.ACTIVE,
    )
    next_position = models.PositiveSmallIntegerField(default=0)
    next_run_at = models.DateTimeField(null=True, blank=True)
    enrolled_at = models.DateTimeField(_("enrolled"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    log = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("journey enrolment")
        verbose_name_plural = _("journey enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["journey", "customer", "occasion"], name="journey_enrollment_once"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_run_at"], name="journey_enrollment_due"),
            models.Index(fields=["customer"], name="journey_enrollment_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.journey_id}: {self.customer_id} {self.occasion}".strip()


class LoyaltyProgram(VefaModel):
    """A points programme: earning rules, redemption value, expiry and tiers."""

    name = models.CharField(_("name"), max_length=200)
    currency = currency_field(default="TRY")
    point_value = models.DecimalField(
        _("value of a point"),
        max_digits=12,
        decimal_places=4,
        default=0,
        validators=[MinValueValidator(0)],
    )
    min_redeem = models.PositiveIntegerField(_("fewest points to redeem"), default=0)
    expiry_months = models.PositiveSmallIntegerField(
        _("points expire after (months)"), null=True, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    access_owner_paths = ()
    access_team_paths = ()
    access_policy = MARKETING_SETUP_POLICY

    class Meta:
        verbose_name = _("loyalty programme")
        verbose_name_plural = _("loyalty programmes")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class EarningRule(VefaModel):
    """How points are earned: ``points`` per ``per_amount`` spent, or ``points`` an action."""

    program = models.ForeignKey(LoyaltyProgram, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(_("earned for"), max_length=10, choices=EarningRuleKind.choices)
    points = models.PositiveIntegerField(_("points"))
    per_amount = money_field(_("per amount spent"), null=True, blank=True)
    category = models.ForeignKey(
        "sales.ProductCategory",
        verbose_name=_("only for the category"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)

    access_owner_paths = ()
    access_team_paths = ()
    access_policy = MARKETING_SETUP_POLICY

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        ordering = ["program", "kind", "id"]


class LoyaltyTier(VefaModel):
    """A tier mapped to a step of the customer ladder; earns ``multiplier`` × the points."""

    program = models.ForeignKey(LoyaltyProgram, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(_("name"), max_length=100)
    # A ladder step key (one_time, occasional, regular, loyal) from the customer's analytics.
    ladder_step = models.CharField(_("ladder step"), max_length=12)
    multiplier = models.DecimalField(
        _("points multiplier"),
        max_digits=5,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0)],
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    access_owner_paths = ()
    access_team_paths = ()
    access_policy = MARKETING_SETUP_POLICY

    class Meta:
        verbose_name = _("loyalty tier")
        verbose_name_plural = _("loyalty tiers")
        ordering = ["program", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "ladder_step"], name="loyalty_tier_step")
        ]


class PointsEntry(models.Model):
    """One line of a customer's points history; the balance is their sum.

    ``key`` makes every award idempotent (``order:<id>``, ``birthday:<year>`` …).
    """

    program = models.ForeignKey(LoyaltyProgram, on_delete=models.PROTECT, related_name="entries")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="points_entries"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=PointsKind.choices)
    points = models.IntegerField(_("points"))
    key = models.CharField(max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    order = models.ForeignKey(
        "sales.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "customer", "key"], name="points_entry_once")
        ]
        indexes = [
            models.Index(fields=["customer", "program", "occurred_at"], name="points_history"),
            models.Index(fields=["expires_at"], name="points_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} ({self.kind})"


class Referral(VefaModel):
    """Who brought whom; the referrer is rewarded once the referred customer buys."""

    referrer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("referred by"),
        on_delete=models.CASCADE,
        related_name="referrals_made",
    )
    referred = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("new customer"),
        on_delete=models.CASCADE,
        related_name="referral",
    )
    code = models.CharField(_("referral code"), max_length=32, blank=True)
    rewarded_at = models.DateTimeField(_("rewarded"), null=True, blank=True)
    reward_order = models.ForeignKey(
        "sales.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    access_owner_paths = ("referrer__owner",)
    access_team_paths = ("referrer__team",)
    access_policy = "customers.customer"

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["referrer"], name="referral_referrer")]

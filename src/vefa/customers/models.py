"""The customer database (MISSION §1): one record per customer, person or organisation."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vefa.common.models import CustomFieldsMixin, TaggableMixin, VefaModel
from vefa.customers.choices import (
    AddressKind,
    Channel,
    ConsentPurpose,
    ConsentStatus,
    ContactPointKind,
    CustomerKind,
    Gender,
    HomeOwnership,
    IncomeBand,
    LeadStatus,
    LifecycleStage,
    MaritalStatus,
    RelationshipKind,
    Source,
)
from vefa.customers.expressions import last_contact_key

CUSTOMER_POLICY = "customers.customer"


class Customer(VefaModel, CustomFieldsMixin, TaggableMixin):
    """A person or an organisation the business sells to, or hopes to."""

    kind = models.CharField(_("kind"), max_length=12, choices=CustomerKind.choices)
    # The name shown everywhere; derived from the person's or organisation's names.
    display_name = models.CharField(_("name"), max_length=300)
    # Folded name (see vefa.common.text.fold) for case- and script-insensitive sorting and lookup.
    name_key = models.CharField(max_length=300, editable=False, default="")

    # person
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=12, choices=Gender.choices, blank=True)
    income_band = models.CharField(
        _("income band"), max_length=15, choices=IncomeBand.choices, blank=True
    )
    marital_status = models.CharField(
        _("marital status"), max_length=12, choices=MaritalStatus.choices, blank=True
    )
    children_count = models.PositiveSmallIntegerField(_("children"), null=True, blank=True)
    home_ownership = models.CharField(
        _("home ownership"), max_length=12, choices=HomeOwnership.choices, blank=True
    )
    pets = models.CharField(_("pets"), max_length=200, blank=True)
    hobbies = models.CharField(_("hobbies"), max_length=300, blank=True)
    sports_interests = models.CharField(_("sports interests"), max_length=300, blank=True)

    # organisation
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    trade_name = models.CharField(_("trade name"), max_length=200, blank=True)
    employee_count = models.PositiveIntegerField(_("number of employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    nace_code = models.CharField(_("NACE code"), max_length=10, blank=True)
    sic_code = models.CharField(_("US SIC code"), max_length=4, blank=True)
    tax_number = models.CharField(_("tax number"), max_length=40, blank=True, db_index=True)

    # both
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=10,
        choices=LifecycleStage.choices,
        default=LifecycleStage.PROSPECT,
    )
    stage_changed_at = models.DateTimeField(_("stage since"), default=timezone.now)
    became_customer_at = models.DateTimeField(_("customer since"), null=True, blank=True)
    lost_at = models.DateTimeField(_("lost on"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_customers",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="TRY")
    notes = models.TextField(_("notes"), blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, blank=True
    )
    contact_frequency_days = models.PositiveSmallIntegerField(
        _("preferred contact every (days)"), null=True, blank=True
    )
    quiet_hours_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_hours_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    # Denormalised for fast list sorting and "not contacted for N days" filters.
    last_interaction_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    # Primary contact points, denormalised for lists and search.
    primary_email = models.CharField(_("e-mail"), max_length=254, blank=True)
    primary_phone = models.CharField(_("phone"), max_length=32, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    # Set when merged into another customer; merged records are hidden from lists.
    # Only the few merged rows are indexed: an index over "merged_into IS NULL" matches nearly
    # every customer, yet SQLite would pick it over the sort index of every list.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["name_key", "id"], name="customer_name"),
            models.Index(
                fields=["merged_into"],
                name="customer_merged",
                condition=models.Q(merged_into__isnull=False),
            ),
            models.Index(fields=["owner", "name_key", "id"], name="customer_owner_name"),
            models.Index(fields=["team", "name_key", "id"], name="customer_team_name"),
            models.Index(fields=["lifecycle_stage", "name_key", "id"], name="customer_stage_name"),
            models.Index(fields=["created_at", "id"], name="customer_created"),
            models.Index(fields=["last_interaction_at", "id"], name="customer_lastcontact"),
            # The "last contact" sort key (never contacted = the epoch), see last_contact_key().
            models.Index(last_contact_key(), "id", name="customer_lastcontact_key"),
            # A rep's list is read as "own" and "team" ranges (access_branches), each in the
            # order of the chosen sort.
            models.Index(F("owner"), last_contact_key(), "id", name="customer_owner_lastcontact"),
            models.Index(F("team"), last_contact_key(), "id", name="customer_team_lastcontact"),
            models.Index(fields=["country", "name_key", "id"], name="customer_country_name"),
            # The city filter (compared upper-cased by the database) with the name sort;
            # it also gives PostgreSQL statistics on the upper-cased city.
            models.Index(Upper("city"), "name_key", "id", name="customer_city_name"),
            models.Index(fields=["primary_email"], name="customer_email"),
            models.Index(fields=["primary_phone"], name="customer_phone"),
            # Prefix search (``LIKE 'x%'``) needs pattern operator classes on PostgreSQL;
            # other databases ignore ``opclasses`` and use the plain indexes above.
            models.Index(
                fields=["name_key"], name="customer_name_prefix", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["primary_email"],
                name="customer_email_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(
                fields=["primary_phone"],
                name="customer_phone_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.pk])

    @property
    def is_person(self) -> bool:
        return self.kind == CustomerKind.PERSON

    @property
    def age(self) -> int | None:
        if not self.birth_date:
            return None
        today = timezone.localdate()
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    @property
    def next_birthday(self) -> datetime.date | None:
        if not self.birth_date:
            return None
        today = timezone.localdate()
        born = self.birth_date
        for year in (today.year, today.year + 1):
            try:
                candidate = born.replace(year=year)
            except ValueError:  # 29 February in a common year
                candidate = datetime.date(year, 3, 1)
            if candidate >= today:
                return candidate
        return None


class CustomerChildMixin(VefaModel):
    """A record that belongs to a customer and shares the customer's access rules."""

    access_owner_paths = ("customer__owner",)
    access_team_paths = ("customer__team",)
    access_policy = CUSTOMER_POLICY

    class Meta:
        abstract = True


class CustomerRelationship(CustomerChildMixin):
    """``from_customer`` <kind> ``to_customer``, e.g. Ayşe works at Acme (job title, role)."""

    from_customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="relationships_from"
    )
    to_customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="relationships_to"
    )
    kind = models.CharField(_("relationship"), max_length=20, choices=RelationshipKind.choices)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=100, blank=True)
    start_date = models.DateField(_("since"), null=True, blank=True)
    end_date = models.DateField(_("until"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    access_owner_paths = ("from_customer__owner",)
    access_team_paths = ("from_customer__team",)

    class Meta:
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        constraints = [
            models.UniqueConstraint(
                fields=["from_customer", "to_customer", "kind"], name="relationship_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(from_customer=models.F("to_customer")),
                name="relationship_not_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_customer} · {self.get_kind_display()} · {self.to_customer}"


class Address(CustomerChildMixin):
    """A postal address of a customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(_("type"), max_length=10, choices=AddressKind.choices)
    line1 = models.CharField(_("address"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    district = models.CharField(_("district"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_primary", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_primary=True),
                name="address_one_primary",
            )
        ]

    def __str__(self) -> str:
        return ", ".join(p for p in [self.line1, self.city, self.country] if p)


class ContactPoint(CustomerChildMixin):
    """An e-mail address, phone number, social handle or web site of a customer.

    ``normalized`` holds the comparable form: lower-cased e-mail, E.164 phone number.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(_("type"), max_length=10, choices=ContactPointKind.choices)
    value = models.CharField(_("value"), max_length=254)
    normalized = models.CharField(max_length=254, editable=False, db_index=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    label = models.CharField(_("label"), max_length=50, blank=True)
    network = models.CharField(_("network"), max_length=30, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        ordering = ["kind", "-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind"],
                condition=models.Q(is_primary=True),
                name="contactpoint_one_primary",
            )
        ]

    def __str__(self) -> str:
        return self.value


class Consent(CustomerChildMixin):
    """One grant or withdrawal of consent for a channel and purpose (append-only history).

    The customer's current consent for (channel, purpose) is the latest row.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=15, choices=ConsentPurpose.choices)
    status = models.CharField(_("status"), max_length=10, choices=ConsentStatus.choices)
    source = models.CharField(_("source"), max_length=100)
    text_version = models.CharField(_("consent text version"), max_length=50)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(
                fields=["customer", "channel", "purpose", "-recorded_at"], name="consent_current"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_channel_display()} / {self.get_purpose_display()}: "
            f"{self.get_status_display()}"
        )


class Lead(VefaModel, CustomFieldsMixin, TaggableMixin):
    """A potential customer not yet qualified; converted into a customer when qualified."""

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    # Folded name (person, else company, else e-mail) for sorting and prefix search.
    name_key = models.CharField(max_length=300, editable=False, default="")
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    score = models.SmallIntegerField(_("score"), default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_leads",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
    )
    notes = models.TextField(_("notes"), blank=True)
    converted_customer = models.ForeignKey(
        Customer,
        verbose_name=_("converted to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="source_leads",
    )
    converted_at = models.DateTimeField(_("converted on"), null=True, blank=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["status", "created_at"], name="lead_status"),
            models.Index(fields=["owner", "created_at"], name="lead_owner"),
            models.Index(fields=["name_key", "id"], name="lead_name"),
            models.Index(fields=["created_at", "id"], name="lead_created"),
            models.Index(fields=["score", "id"], name="lead_score"),
            models.Index(fields=["email"], name="lead_email"),
            models.Index(fields=["phone"], name="lead_phone"),
            models.Index(
                fields=["name_key"], name="lead_name_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        if name and self.company_name:
            return f"{name} ({self.company_name})"
        return name or self.company_name or self.email or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("customers:lead_detail", args=[self.pk])


class LeadAssignmentRule(models.Model):
    """Assign new leads (optionally of one source) round robin among a team's active users."""

    name = models.CharField(_("name"), max_length=100)
    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), on_delete=models.CASCADE)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("lead assignment rule")
        verbose_name_plural = _("lead assignment rules")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class CustomerMerge(models.Model):
    """One merge of customers into a survivor, recorded exactly enough to be undone.

    ``moves`` lists each group of related rows given to the survivor as
    ``{"model", "field", "from", "pks"}`` and each flag cleared on the way as
    ``{"model", "field", "pk", "old"}``; ``collapsed`` holds the full rows removed as
    duplicates (``{"model", "pk", "reason", "row"}``) and ``kept`` the rows left on an archived
    record because the survivor already had their like and other rows depend on them.
    """

    survivor = models.ForeignKey(
        Customer, verbose_name=_("survivor"), on_delete=models.CASCADE, related_name="+"
    )
    merged_ids = models.JSONField(_("merged records"), default=list)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(_("merged by"), max_length=200, blank=True)
    merged_at = models.DateTimeField(_("merged on"), default=timezone.now)
    field_choices = models.JSONField(_("field choices"), default=dict)
    previous_values = models.JSONField(default=dict)
    merged_values = models.JSONField(default=dict)
    archived = models.JSONField(default=dict)
    moves = models.JSONField(default=list)
    collapsed = models.JSONField(default=list)
    kept = models.JSONField(default=list)
    tags_added = models.JSONField(default=list)
    undone_at = models.DateTimeField(_("undone on"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    undo_report = models.JSONField(default=list)

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        ordering = ["-merged_at", "-id"]
        indexes = [models.Index(fields=["survivor", "-merged_at"], name="customer_merge_survivor")]

    def __str__(self) -> str:
        return f"#{self.pk}: {self.merged_ids} → {self.survivor_id}"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None

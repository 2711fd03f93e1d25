"""The customer portal (ADR 0009): portal accounts, their sign-in links, public web forms.

A portal account is a contact person (a person ``Customer``) with access to exactly one
customer's records: the organisation they work at, or themselves. It is not an
``accounts.User``; it has its own session key and never reaches staff pages or the API.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from vefa.common.models import VefaModel
from vefa.customers.choices import Source
from vefa.portal.choices import TokenPurpose, WebFormTarget
from vefa.service.choices import TicketType


class PortalAccount(VefaModel):
    """A contact person's sign-in to the portal, for one customer's data."""

    contact = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("contact person"),
        on_delete=models.CASCADE,
        related_name="portal_accounts",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="portal_members",
    )
    email = models.EmailField(_("e-mail"))
    # Django's hashers (argon2 in production); blank: the account signs in by e-mailed link.
    password = models.CharField(max_length=128, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    invited_at = models.DateTimeField(_("invited"), null=True, blank=True, editable=False)
    last_login_at = models.DateTimeField(_("last sign-in"), null=True, blank=True, editable=False)

    # Staff reach an account through its customer: who may change the customer manages it.
    access_owner_paths = ("customer__owner",)
    access_team_paths = ("customer__team",)
    access_policy = "customers.customer"
    audit_exclude = ("updated_at", "password", "last_login_at")

    class Meta:
        verbose_name = _("portal account")
        verbose_name_plural = _("portal accounts")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="portal_account_email_unique"),
        ]
        indexes = [models.Index(fields=["customer", "email"], name="portal_account_customer")]

    def __str__(self) -> str:
        return self.email


class PortalToken(models.Model):
    """A single-use sign-in or invitation link; only the SHA-256 of its token is stored."""

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="tokens")
    purpose = models.CharField(max_length=8, choices=TokenPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("portal sign-in link")
        verbose_name_plural = _("portal sign-in links")
        indexes = [models.Index(fields=["expires_at"], name="portal_token_expires")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.purpose}"


class WebForm(VefaModel):
    """A public contact or complaint form that a web site embeds; creates tickets or leads."""

    key = models.CharField(_("key"), max_length=40, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    target = models.CharField(
        _("creates"), max_length=8, choices=WebFormTarget.choices, default=WebFormTarget.TICKET
    )
    ticket_type = models.CharField(
        _("ticket type"), max_length=16, choices=TicketType.choices, default=TicketType.REQUEST
    )
    queue = models.ForeignKey(
        "service.Queue",
        verbose_name=_("queue"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Leads are recorded in this person's name (lead creation needs someone allowed to).
    lead_owner = models.ForeignKey(
        "accounts.User",
        verbose_name=_("leads recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # One origin per line (https://www.example.com) that may frame the form.
    allowed_origins = models.TextField(_("sites that may embed it"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Web-to-lead: the consent wording shown next to the box (and its version, recorded with
    # the consent), where the leads come from and the campaign they are credited to.
    consent_text = models.TextField(_("consent text"), blank=True)
    consent_version = models.CharField(_("consent text version"), max_length=50, blank=True)
    lead_source = models.CharField(
        _("lead source"), max_length=20, choices=Source.choices, default=Source.WEB
    )
    campaign = models.ForeignKey(
        "marketing.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    access_owner_paths = ()
    access_team_paths = ()
    access_policy = "service.queue"

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def origins(self) -> list[str]:
        return [line.strip() for line in self.allowed_origins.splitlines() if line.strip()]


class WebFormLead(models.Model):
    """How a lead came in through a web form: the attribution and the consent evidence.

    A lead has no consent records of its own (consent belongs to customers), so the box the
    visitor ticked is kept here as given: the wording and its version, the time and address.
    When the lead is converted, the consent is recorded for the new customer from this row
    (``consent_recorded_at``).
    """

    form = models.ForeignKey(
        WebForm,
        verbose_name=_("web form"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="leads",
    )
    lead = models.OneToOneField(
        "customers.Lead",
        verbose_name=_("lead"),
        on_delete=models.CASCADE,
        related_name="web_form_entry",
    )
    campaign = models.ForeignKey(
        "marketing.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    utm_source = models.CharField(_("UTM source"), max_length=200, blank=True)
    utm_medium = models.CharField(_("UTM medium"), max_length=200, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=200, blank=True)
    utm_term = models.CharField(_("UTM term"), max_length=200, blank=True)
    utm_content = models.CharField(_("UTM content"), max_length=200, blank=True)
    page_url = models.CharField(_("page"), max_length=2000, blank=True)
    consent_given = models.BooleanField(_("consent given"), default=False)
    consent_text = models.TextField(_("consent text"), blank=True)
    consent_version = models.CharField(_("consent text version"), max_length=50, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted"))
    consent_recorded_at = models.DateTimeField(_("consent recorded"), null=True, blank=True)

    class Meta:
        verbose_name = _("web form lead")
        verbose_name_plural = _("web form leads")
        ordering = ["-submitted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.lead_id} ({self.utm_source or self.form_id})"

"""Models of integrations: outbound webhooks with their rules and delivery log, inbound order
sources with the orders and customers they brought in.

Webhooks and order sources are kept by administrators only (their policy key is not in
``POLICIES``). Their secrets sign requests, so they are stored as they are (an HMAC needs the
key itself) and left out of the change log (``audit_exclude``).
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vefa.common.models import VefaModel
from vefa.integrations.choices import (
    CircuitState,
    DeliveryStatus,
    Entity,
    EventKind,
    Operator,
    SourceKind,
)

POLICY = "integrations.webhook"


class Webhook(VefaModel):
    """An outside URL that receives signed JSON POSTs when its rules match a domain event."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # The circuit breaker: after ``failure_threshold`` failed attempts in a row the webhook is
    # paused (open) until ``circuit_retry_at``; then one delivery probes (half-open) and a
    # success closes it again.
    circuit_state = models.CharField(
        _("circuit"), max_length=10, choices=CircuitState.choices, default=CircuitState.CLOSED
    )
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    circuit_opened_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    circuit_retry_at = models.DateTimeField(_("probe at"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last delivered"), null=True, blank=True)

    access_owner_paths: ClassVar[tuple[str, ...]] = ()
    access_team_paths: ClassVar[tuple[str, ...]] = ()
    access_policy: ClassVar[str | None] = POLICY
    audit_exclude: ClassVar[tuple[str, ...]] = (
        "updated_at",
        "secret",
        "circuit_state",
        "consecutive_failures",
        "circuit_opened_at",
        "circuit_retry_at",
        "last_success_at",
    )

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class EventRule(VefaModel):
    """One event a webhook listens to, with an optional condition on the record's fields."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="rules")
    entity = models.CharField(_("record type"), max_length=20, choices=Entity.choices)
    event = models.CharField(_("event"), max_length=20, choices=EventKind.choices)
    # The domain event name this rule answers (``customers.customer.updated``), derived.
    event_name = models.CharField(max_length=100, editable=False, db_index=True)
    condition_field = models.CharField(_("field"), max_length=60, blank=True)
    condition_operator = models.CharField(
        _("operator"), max_length=10, choices=Operator.choices, blank=True
    )
    condition_value = models.CharField(_("value"), max_length=200, blank=True)

    access_owner_paths: ClassVar[tuple[str, ...]] = ()
    access_team_paths: ClassVar[tuple[str, ...]] = ()
    access_policy: ClassVar[str | None] = POLICY

    class Meta:
        verbose_name = _("event rule")
        verbose_name_plural = _("event rules")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.entity}.{self.event}"

    @property
    def label(self) -> str:
        return f"{self.entity}.{self.event}"


class WebhookDelivery(models.Model):
    """One event to deliver to one webhook, with its retry state.

    ``body`` is fixed when the delivery is queued, so every attempt (and a manual redelivery)
    sends the same bytes; only the timestamp header and signature change.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    rule = models.ForeignKey(
        EventRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    event = models.CharField(_("event"), max_length=60)
    object_id = models.BigIntegerField(_("record id"), null=True, blank=True)
    body = models.TextField()
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next try"), null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("queued"), default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    redelivery_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    access_owner_paths: ClassVar[tuple[str, ...]] = ()
    access_team_paths: ClassVar[tuple[str, ...]] = ()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="integ_delivery_due"),
            models.Index(fields=["webhook", "-id"], name="integ_delivery_hook"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id} ({self.status})"

    @classmethod
    def policy_key(cls) -> str:
        return POLICY


class DeliveryAttempt(models.Model):
    """One POST of a delivery: what came back and how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True)
    response_snippet = models.CharField(_("response"), max_length=500, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)
    next_attempt_at = models.DateTimeField(_("next try"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"


class OrderSource(VefaModel):
    """A web shop or till that posts its orders to ``/api/v1/integrations/orders/<key>``."""

    name = models.CharField(_("name"), max_length=100)
    key = models.SlugField(_("key"), max_length=40, unique=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=SourceKind.choices, default=SourceKind.ECOMMERCE
    )
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    default_currency = models.CharField(_("default currency"), max_length=3, default="TRY")
    price_list = models.ForeignKey(
        "sales.PriceList",
        verbose_name=_("price list"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The user the orders and new customers are entered as, and their owner.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_order_at = models.DateTimeField(_("last order"), null=True, blank=True)

    access_owner_paths: ClassVar[tuple[str, ...]] = ()
    access_team_paths: ClassVar[tuple[str, ...]] = ()
    access_policy: ClassVar[str | None] = POLICY
    audit_exclude: ClassVar[tuple[str, ...]] = ("updated_at", "secret", "last_order_at")

    class Meta:
        verbose_name = _("order source")
        verbose_name_plural = _("order sources")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class InboundOrder(models.Model):
    """An order a source sent, by its own number: a re-sent order finds this row."""

    source = models.ForeignKey(OrderSource, on_delete=models.CASCADE, related_name="orders")
    external_number = models.CharField(_("external order number"), max_length=80)
    order = models.ForeignKey("sales.Order", on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_number"], name="integ_inbound_order_unique"
            )
        ]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_number}"


class SourceCustomer(models.Model):
    """A source's own customer number for a Vefa customer."""

    source = models.ForeignKey(OrderSource, on_delete=models.CASCADE, related_name="customers")
    external_id = models.CharField(_("external customer id"), max_length=80)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="integ_source_customer_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_id}"

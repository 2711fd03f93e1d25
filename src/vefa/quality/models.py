"""Tables of data quality: the blocking keys of the instant duplicate check, the per-customer
findings of the nightly check, and the daily snapshot of the figures for the trend."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RecordKind(models.TextChoices):
    CUSTOMER = "c", _("customer")
    LEAD = "l", _("lead")


class MatchKey(models.Model):
    """One blocking key of a customer or lead (see ``vefa.quality.matching``).

    Kept up to date by the event subscribers (``vefa.quality.subscribers``) and rebuilt in
    bulk by ``vefa quality_keys``. A key that is out of date only adds a candidate that then
    scores low: scores are always computed from the records themselves.
    """

    kind = models.CharField(max_length=1, choices=RecordKind.choices)
    record_id = models.BigIntegerField()
    key = models.CharField(max_length=120)

    class Meta:
        verbose_name = _("blocking key")
        verbose_name_plural = _("blocking keys")
        indexes = [
            # The lookup reads (kind, record_id) from the index alone.
            models.Index(fields=["key", "kind", "record_id"], name="quality_key_lookup"),
            models.Index(fields=["kind", "record_id"], name="quality_key_record"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}{self.record_id} {self.key}"


class CustomerFinding(models.Model):
    """What the nightly check found wrong with one customer; a clean customer has no row."""

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    invalid_email = models.BooleanField(_("invalid e-mail"), default=False)
    invalid_phone = models.BooleanField(_("invalid phone"), default=False)
    # The best instant-check score against another customer or lead (0–100).
    duplicate_score = models.PositiveSmallIntegerField(_("duplicate score"), default=0)
    duplicate_kind = models.CharField(max_length=1, choices=RecordKind.choices, blank=True)
    duplicate_id = models.BigIntegerField(null=True, blank=True)
    checked_at = models.DateTimeField(_("checked at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer finding")
        verbose_name_plural = _("customer findings")
        indexes = [
            models.Index(fields=["duplicate_score"], name="quality_finding_duplicate"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}"


class QualitySnapshot(models.Model):
    """The data-quality figures over all customers on one day (written by the nightly run)."""

    day = models.DateField(_("day"), unique=True)
    total = models.PositiveIntegerField(_("customers"), default=0)
    no_contact = models.PositiveIntegerField(_("no e-mail and no phone"), default=0)
    no_owner = models.PositiveIntegerField(_("no owner"), default=0)
    no_address = models.PositiveIntegerField(_("no address"), default=0)
    no_tax_number = models.PositiveIntegerField(_("organisation without tax number"), default=0)
    invalid_email = models.PositiveIntegerField(_("invalid e-mail"), default=0)
    invalid_phone = models.PositiveIntegerField(_("invalid phone"), default=0)
    stale = models.PositiveIntegerField(_("stale"), default=0)
    duplicate = models.PositiveIntegerField(_("likely duplicates"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("quality snapshot")
        verbose_name_plural = _("quality snapshots")
        ordering = ["day"]

    def __str__(self) -> str:
        return str(self.day)

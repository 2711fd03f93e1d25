"""Models of exports: one row per export of a list (who, what, which filters, the file, how
many rows, its status) and the scheduled exports that make one regularly.

Access: ``POLICIES["exports.export"]`` — everyone reaches their own exports and schedules,
administrators all. What an export holds is limited separately, by the list's own selector
for the person who made it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vefa.common.models import VefaModel


class ExportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel (XLSX)")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Frequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class Export(VefaModel):
    """One export of a list to a file (or streamed straight to the browser)."""

    access_team_paths = ()
    access_policy = "exports.export"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    entity = models.CharField(_("list"), max_length=40)
    format = models.CharField(
        _("format"), max_length=8, choices=ExportFormat.choices, default=ExportFormat.CSV
    )
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows = models.PositiveBigIntegerField(_("rows"), default=0)
    # The file's name in the private file storage; empty when the rows were streamed.
    file = models.CharField(_("file"), max_length=300, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    streamed = models.BooleanField(_("streamed"), default=False)
    message = models.TextField(_("message"), blank=True)
    job = models.ForeignKey(
        "platform.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    schedule = models.ForeignKey(
        "exports.ScheduledExport",
        verbose_name=_("scheduled export"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="exports",
    )
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-id"], name="export_owner")]

    def __str__(self) -> str:
        return f"{self.entity} ({self.format}) #{self.pk}"


class ScheduledExport(VefaModel):
    """A list exported regularly: sent to recipients by e-mail or kept for download."""

    access_team_paths = ()
    access_policy = "exports.export"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=120)
    entity = models.CharField(_("list"), max_length=40)
    format = models.CharField(
        _("format"), max_length=8, choices=ExportFormat.choices, default=ExportFormat.CSV
    )
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    frequency = models.CharField(
        _("frequency"), max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    # E-mail addresses, one per line; none keeps the file for download only.
    recipients = models.TextField(_("recipients"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    next_run_at = models.DateTimeField(_("next run"), db_index=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)

    class Meta:
        verbose_name = _("scheduled export")
        verbose_name_plural = _("scheduled exports")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def recipient_list(self) -> list[str]:
        return [line.strip() for line in self.recipients.splitlines() if line.strip()]

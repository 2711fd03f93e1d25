"""Models of imports: a run of one file, what each row did, and saved column mappings.

``ImportRun`` is one import of one uploaded file into one entity (customers, leads …). Its
rows' effects are kept in ``ImportRowRecord`` (created objects, and the previous values of
the fields an update changed) so a run can be undone; the row hash makes importing the same
rows again a no-op. ``ImportMapping`` remembers which column went to which field, per source
name and header signature, so the next file from the same source maps itself.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vefa.common.models import VefaModel


class OnMatch(models.TextChoices):
    UPDATE = "update", _("Update the existing record")
    SKIP = "skip", _("Skip the row")


class RunStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    UNDONE = "undone", _("Undone")
    PARTLY_UNDONE = "partly_undone", _("Partly undone")


class RowAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")


class ImportMapping(VefaModel):
    """Columns → fields of one entity, remembered for files from one source."""

    entity = models.CharField(_("entity"), max_length=30)
    source = models.CharField(_("source"), max_length=100)
    # sha256 of the folded header cells in order: the same layout maps the same way.
    signature = models.CharField(max_length=64)
    headers = models.JSONField(_("columns"), default=list, blank=True)
    # {column header: field name}; a column mapped to "" is ignored.
    columns = models.JSONField(_("mapping"), default=dict, blank=True)
    match_key = models.CharField(_("match on"), max_length=30, blank=True)
    on_match = models.CharField(
        _("when a record matches"), max_length=10, choices=OnMatch.choices, default=OnMatch.UPDATE
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    access_policy = "imports.importrun"

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "source", "signature"], name="importmapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity}: {self.source}"


class ImportRun(VefaModel):
    """One file imported (or being imported) into one entity."""

    entity = models.CharField(_("entity"), max_length=30)
    status = models.CharField(
        _("status"), max_length=15, choices=RunStatus.choices, default=RunStatus.UPLOADED
    )
    file_name = models.CharField(_("file"), max_length=200)
    # Where the upload is stored (default storage), its kind and its sha256.
    file_path = models.CharField(max_length=300)
    file_kind = models.CharField(max_length=5)
    file_size = models.PositiveBigIntegerField(default=0)
    file_hash = models.CharField(max_length=64, db_index=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=2, blank=True)
    headers = models.JSONField(_("columns"), default=list, blank=True)
    columns = models.JSONField(_("mapping"), default=dict, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    match_key = models.CharField(_("match on"), max_length=30, blank=True)
    on_match = models.CharField(
        _("when a record matches"), max_length=10, choices=OnMatch.choices, default=OnMatch.UPDATE
    )
    job = models.ForeignKey(
        "platform.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("rows read"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    error_rows = models.PositiveIntegerField(_("rows with errors"), default=0)
    errors_file = models.CharField(max_length=300, blank=True)
    # The checkpoint: the file row (header = 1) of the last committed batch and the size of the
    # error report at that moment; a resumed run starts after it and truncates the report.
    last_row = models.PositiveIntegerField(default=0)
    errors_bytes = models.PositiveBigIntegerField(default=0)
    message = models.TextField(_("message"), blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    # What undo could not restore: [{"object": "customers.customer", "id": 1, "reason": "…"}].
    undo_problems = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        related_name="import_runs",
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="importrun_owner"),
            models.Index(fields=["-created_at", "-id"], name="importrun_created"),
        ]

    def __str__(self) -> str:
        return f"{self.entity}: {self.file_name}"


class ImportRowRecord(models.Model):
    """What one row of a run did to one record: created it, or updated these fields."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="row_records")
    row = models.PositiveIntegerField(_("row"))
    entity = models.CharField(max_length=30)
    # sha256 (first 32 hex digits) of the row's mapped values: the same row twice is a no-op.
    row_hash = models.CharField(max_length=32)
    action = models.CharField(max_length=10, choices=RowAction.choices)
    # The record written ("customers.customer") and its id.
    object_type = models.CharField(max_length=60)
    object_id = models.BigIntegerField()
    # For an update: {field: value before the import}, as JSON.
    previous = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("imported row")
        verbose_name_plural = _("imported rows")
        indexes = [
            models.Index(fields=["entity", "row_hash"], name="importrow_hash"),
            models.Index(fields=["run", "row"], name="importrow_run"),
            models.Index(fields=["object_type", "object_id"], name="importrow_object"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.row} {self.action} {self.object_type}#{self.object_id}"

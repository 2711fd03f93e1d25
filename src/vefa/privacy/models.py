"""Models of privacy: data-subject requests, the deletion log and legal holds."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from vefa.privacy.choices import RequestKind, RequestStatus, SubjectKind

# The deadline of Art. 12(3) GDPR and Art. 13 KVKK: one month (30 days) from receipt.
DUE_DAYS = 30


class PrivacyRequest(models.Model):
    """A person's request to receive (export) or erase what Vefa holds about them.

    The subject is named by kind and id, not by a foreign key: an erased lead or portal
    account is deleted while the request stays as the record of what was done.
    """

    kind = models.CharField(_("kind"), max_length=10, choices=RequestKind.choices)
    subject_kind = models.CharField(_("subject type"), max_length=20, choices=SubjectKind.choices)
    subject_id = models.BigIntegerField(_("subject id"))
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received"))
    due_at = models.DateTimeField(_("due"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    export_job = models.ForeignKey(
        "platform.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The prepared ZIP in the file storage (``privacy/exports/…``), empty until ready.
    export_file = models.CharField(max_length=300, blank=True)
    export_size = models.PositiveBigIntegerField(default=0)
    erase_job = models.ForeignKey(
        "platform.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deletion_log = models.ForeignKey(
        "privacy.DeletionLog", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    access_owner_paths: tuple[str, ...] = ()
    access_team_paths: tuple[str, ...] = ()

    class Meta:
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="privacyrequest_due"),
            models.Index(fields=["subject_kind", "subject_id"], name="privacyrequest_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @classmethod
    def policy_key(cls) -> str:
        return "privacy.request"


class DeletionLog(models.Model):
    """The proof that an erasure happened: when, by whom, which record, how much.

    Never holds the erased values: ``identifiers_hash`` is a keyed hash of all erased
    identifiers together, ``identifier_hashes`` one keyed hash per e-mail address or phone
    number (so an address seen again can be recognised without being stored), ``counts`` the
    rows changed or removed per table.
    """

    erased_at = models.DateTimeField(_("erased"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("erased by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(_("erased by"), max_length=200, blank=True)
    subject_kind = models.CharField(_("subject type"), max_length=20, choices=SubjectKind.choices)
    subject_id = models.BigIntegerField(_("subject id"))
    identifiers_hash = models.CharField(max_length=64)
    identifier_hashes = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    files_removed = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("deletion log entry")
        verbose_name_plural = _("deletion log")
        ordering = ["-erased_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_kind", "subject_id"], name="deletionlog_subject_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind}#{self.subject_id}"

    @classmethod
    def policy_key(cls) -> str:
        return "privacy.request"

    @property
    def total(self) -> int:
        counts: dict[str, Any] = self.counts or {}
        return sum(int(v) for v in counts.values())


class LegalHold(models.Model):
    """A record that must not be erased (litigation, an authority's order, tax audit)."""

    subject_kind = models.CharField(_("subject type"), max_length=20, choices=SubjectKind.choices)
    subject_id = models.BigIntegerField(_("subject id"))
    reason = models.CharField(_("reason"), max_length=300)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    placed_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        indexes = [models.Index(fields=["subject_kind", "subject_id"], name="legalhold_subject")]

    def __str__(self) -> str:
        return f"{self.subject_kind}#{self.subject_id}"

    @classmethod
    def policy_key(cls) -> str:
        return "privacy.request"


class ErasedAddress(models.Model):
    """The keyed hash of an erased e-mail address or phone number, to recognise it again
    (an import or a sender asks ``address_was_erased``) without storing it."""

    digest = models.CharField(max_length=64, unique=True)
    deletion_log = models.ForeignKey(DeletionLog, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("erased address")
        verbose_name_plural = _("erased addresses")

    def __str__(self) -> str:
        return self.digest[:12]

    @classmethod
    def policy_key(cls) -> str:
        return "privacy.request"

"""Administration of privacy records: read-only (requests are handled on their own pages)."""

from __future__ import annotations

from django.contrib import admin

from vefa.platform.admin import ReadOnlyAdmin
from vefa.privacy.models import DeletionLog, LegalHold, PrivacyRequest


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "subject_kind", "subject_id", "status", "received_at", "due_at")
    list_filter = ("kind", "status", "subject_kind")


@admin.register(DeletionLog)
class DeletionLogAdmin(ReadOnlyAdmin):
    list_display = ("id", "erased_at", "actor_name", "subject_kind", "subject_id", "files_removed")
    list_filter = ("subject_kind",)


@admin.register(LegalHold)
class LegalHoldAdmin(ReadOnlyAdmin):
    list_display = ("id", "subject_kind", "subject_id", "reason", "placed_at", "released_at")

"""Admin of the contact history: for inspection and support.

Everyday writes go through the pages and services; the admin shows records read-mostly so
an administrator can look into a customer's history, reminders and time without bypassing
the change log (edits of interactions and activities are disabled here).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from vefa.interactions.models import (
    Activity,
    ActivityAttendee,
    Attachment,
    Interaction,
    Reminder,
    TimeEntry,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists, search and detail views without add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ("original_name", "content_type", "size", "sha256", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = ("subject", "kind", "direction", "customer", "user", "occurred_at", "status")
    list_filter = ("kind", "direction", "channel", "status")
    search_fields = ("subject", "external_id")
    raw_id_fields = ("customer", "user")
    list_select_related = ("customer", "user")
    date_hierarchy = "occurred_at"
    inlines = [AttachmentInline]
    show_full_result_count = False


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "content_type", "size", "interaction", "created_at")
    search_fields = ("original_name", "sha256")
    list_select_related = ("interaction",)
    exclude = ("file",)
    show_full_result_count = False


class AttendeeInline(admin.TabularInline):
    model = ActivityAttendee
    extra = 0
    raw_id_fields = ("user", "customer")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReminderInline(admin.TabularInline):
    model = Reminder
    extra = 0
    readonly_fields = ("minutes_before", "remind_at", "sent_at")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("subject", "kind", "status", "owner", "customer", "scheduled_at")
    list_filter = ("kind", "status", "priority")
    search_fields = ("subject",)
    raw_id_fields = ("customer", "lead", "owner", "interaction")
    list_select_related = ("owner", "customer")
    date_hierarchy = "scheduled_at"
    inlines = [AttendeeInline, ReminderInline]
    show_full_result_count = False


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("activity", "minutes_before", "remind_at", "sent_at")
    list_filter = ("sent_at",)
    list_select_related = ("activity",)
    show_full_result_count = False


@admin.register(TimeEntry)
class TimeEntryAdmin(ReadOnlyAdmin):
    list_display = ("user", "customer", "activity", "started_at", "minutes", "billable")
    list_filter = ("billable",)
    raw_id_fields = ("user", "customer", "activity")
    list_select_related = ("user", "customer", "activity")
    show_full_result_count = False

"""Admin of the service app: read-only, for inspection and support.

Tickets and their messages are worked on the pages, where every write goes through the
services (workflow, SLA clocks, change log, events); the service settings (queues, categories,
calendars, SLA policies, assignment rules) have their own settings page. Here everything is
shown as it is.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from vefa.service.models import (
    AssignmentRule,
    BusinessCalendar,
    Category,
    Queue,
    SlaPolicy,
    Ticket,
    TicketMessage,
)


class ReadOnlyMixin:
    """No add, change or delete; the record is shown as it is."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TicketMessageInline(ReadOnlyMixin, admin.TabularInline):
    model = TicketMessage
    extra = 0
    fields = ("created_at", "kind", "author", "author_email", "body", "delivery")
    readonly_fields = fields
    show_change_link = False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("number", "subject", "status", "priority", "queue", "owner", "sla_state")
    list_filter = ("status", "type", "priority", "channel", "sla_state", "queue")
    search_fields = ("number", "requester_email")
    list_select_related = ("queue", "owner")
    raw_id_fields = ("customer", "contact", "order", "product", "merged_into")
    show_full_result_count = False
    inlines = [TicketMessageInline]


@admin.register(Queue)
class QueueAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "team", "assignment", "is_default", "is_active")


@admin.register(Category)
class CategoryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("path", "queue", "is_active")


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("position", "name", "category", "ticket_type", "value_class", "queue")


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "time_zone")


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "priority", "value_class", "first_response_minutes", "is_active")

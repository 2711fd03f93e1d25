"""Admin of the marketing app: read-only, for inspection and support.

Segments, templates, campaigns, journeys and the settings are worked on the marketing pages,
where every write goes through the services (validation, change log, events) and sending
keeps its exactly-once ledger. Here everything is shown as it is.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from vefa.marketing.models import (
    Campaign,
    CampaignCost,
    CampaignRecipient,
    CampaignVariant,
    Journey,
    MarketingSettings,
    MessageTemplate,
    Segment,
    Suppression,
    TemplateVersion,
)


class ReadOnlyMixin:
    """No add, change or delete; the record is shown as it is."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TemplateVersionInline(ReadOnlyMixin, admin.StackedInline):
    model = TemplateVersion
    extra = 0
    fields = ("language", "subject", "preheader", "body_html", "body_text")


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "channel", "default_language", "owner", "is_archived", "updated_at")
    list_filter = ("channel", "is_archived")
    search_fields = ("name",)
    inlines = [TemplateVersionInline]


class VariantInline(ReadOnlyMixin, admin.TabularInline):
    model = CampaignVariant
    extra = 0
    fields = ("code", "template", "subject", "weight")


class CostInline(ReadOnlyMixin, admin.TabularInline):
    model = CampaignCost
    extra = 0
    fields = ("incurred_on", "description", "amount", "currency")


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "status", "channel", "objective", "starts_at", "owner")
    list_filter = ("status", "channel", "objective")
    search_fields = ("name",)
    date_hierarchy = "created_at"
    inlines = [VariantInline, CostInline]


@admin.register(CampaignRecipient)
class CampaignRecipientAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("campaign", "customer", "status", "sent_at", "converted_at")
    list_filter = ("status",)
    raw_id_fields = ("campaign", "customer", "variant", "conversion_order")
    exclude = ("token",)
    list_select_related = ("campaign", "customer")
    show_full_result_count = False


@admin.register(Segment)
class SegmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "owner", "last_count", "is_archived")
    list_filter = ("kind", "is_archived")
    search_fields = ("name",)


@admin.register(Journey)
class JourneyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "trigger", "is_active", "last_run_at")
    list_filter = ("trigger", "is_active")


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("channel", "address", "reason", "created_at")
    list_filter = ("channel", "reason")
    search_fields = ("address",)
    show_full_result_count = False


@admin.register(MarketingSettings)
class MarketingSettingsAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("pk", "cap_messages", "cap_days", "attribution_days", "track_opens")

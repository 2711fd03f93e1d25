"""Admin of the customer database: read-mostly, for inspection and support.

Customers and leads are edited on the pages, where every write goes through the services
(validation, change log, events); here they are shown read-only and deleted through the
services. Lead assignment rules, which have no page of their own, are edited here — also
through the services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from vefa.common.errors import ApplicationError
from vefa.customers import services
from vefa.customers.models import (
    Address,
    Consent,
    ContactPoint,
    Customer,
    CustomerRelationship,
    Lead,
    LeadAssignmentRule,
)


class ReadOnlyMixin:
    """No add or change; the record is shown as it is."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class ContactPointInline(ReadOnlyInline):
    model = ContactPoint
    fields = ("kind", "value", "normalized", "country", "label", "is_primary")
    readonly_fields = fields


class AddressInline(ReadOnlyInline):
    model = Address
    fields = ("kind", "line1", "city", "postal_code", "country", "is_primary")
    readonly_fields = fields


class ConsentInline(ReadOnlyInline):
    model = Consent
    fields = ("channel", "purpose", "status", "source", "text_version", "recorded_at", "created_by")
    readonly_fields = fields


def _report(request: HttpRequest, exc: ApplicationError) -> None:
    text = "; ".join(m for ms in exc.fields.values() for m in ms) or str(exc.message)
    messages.error(request, text)


@admin.register(Customer)
class CustomerAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "display_name",
        "kind",
        "lifecycle_stage",
        "primary_email",
        "primary_phone",
        "city",
        "owner",
        "team",
        "created_at",
    )
    list_filter = ("kind", "lifecycle_stage", "source", "country")
    search_fields = ("display_name", "primary_email", "primary_phone", "tax_number")
    list_select_related = ("owner", "team")
    raw_id_fields = ("owner", "team", "merged_into")
    inlines = [ContactPointInline, AddressInline, ConsentInline]
    show_full_result_count = False

    def delete_model(self, request: HttpRequest, obj: Customer) -> None:
        try:
            services.customer_delete(actor=request.user, customer_id=obj.pk)  # type: ignore[arg-type]
        except ApplicationError as exc:
            _report(request, exc)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        for customer in queryset:
            self.delete_model(request, customer)


@admin.register(CustomerRelationship)
class CustomerRelationshipAdmin(ReadOnlyAdmin):
    list_display = ("from_customer", "kind", "to_customer", "job_title", "role")
    list_filter = ("kind",)
    list_select_related = ("from_customer", "to_customer")
    raw_id_fields = ("from_customer", "to_customer")


@admin.register(ContactPoint)
class ContactPointAdmin(ReadOnlyAdmin):
    list_display = ("value", "kind", "normalized", "customer", "is_primary")
    list_filter = ("kind",)
    search_fields = ("normalized",)
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)
    show_full_result_count = False


@admin.register(Address)
class AddressAdmin(ReadOnlyAdmin):
    list_display = ("line1", "city", "country", "kind", "customer", "is_primary")
    list_filter = ("kind", "country")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)
    show_full_result_count = False


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ("customer", "channel", "purpose", "status", "source", "recorded_at")
    list_filter = ("channel", "purpose", "status")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)
    date_hierarchy = "recorded_at"
    show_full_result_count = False


@admin.register(Lead)
class LeadAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "status", "source", "score", "owner", "team", "created_at")
    list_filter = ("status", "source")
    search_fields = ("first_name", "last_name", "company_name", "email")
    list_select_related = ("owner", "team")
    raw_id_fields = ("owner", "team", "converted_customer")
    show_full_result_count = False

    def delete_model(self, request: HttpRequest, obj: Lead) -> None:
        try:
            services.lead_delete(actor=request.user, lead_id=obj.pk)  # type: ignore[arg-type]
        except ApplicationError as exc:
            _report(request, exc)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        for lead in queryset:
            self.delete_model(request, lead)


@admin.register(LeadAssignmentRule)
class LeadAssignmentRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "source", "is_active", "order")
    list_editable = ()
    list_filter = ("is_active", "source")
    fields = ("name", "team", "source", "is_active", "order")

    def save_model(
        self, request: HttpRequest, obj: LeadAssignmentRule, form: Any, change: bool
    ) -> None:
        data = {
            "name": form.cleaned_data["name"],
            "source": form.cleaned_data.get("source") or "",
            "is_active": bool(form.cleaned_data.get("is_active")),
            "order": form.cleaned_data.get("order") or 0,
        }
        actor = request.user
        if change:
            saved = services.lead_assignment_rule_update(
                actor=actor,  # type: ignore[arg-type]
                rule_id=obj.pk,
                data={**data, "team": form.cleaned_data["team"]},
            )
        else:
            saved = services.lead_assignment_rule_create(
                actor=actor,  # type: ignore[arg-type]
                data=data,
                team=form.cleaned_data["team"],
            )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: LeadAssignmentRule) -> None:
        services.lead_assignment_rule_delete(actor=request.user, rule_id=obj.pk)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[LeadAssignmentRule]) -> None:
        for rule in queryset:
            self.delete_model(request, rule)

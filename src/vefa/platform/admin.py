"""Administration of platform records.

The change log and the search index are read-only here: nobody can add, change or delete
their rows through the admin. Custom-field definitions are validated by the model's
``clean`` (the same rules as the API).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from vefa.platform.audit import log_change, snapshot
from vefa.platform.custom_fields import model_choices
from vefa.platform.models import (
    ChangeLogEntry,
    CustomFieldDefinition,
    Job,
    Notification,
    PeriodicRun,
    SavedView,
    SearchEntry,
    Tag,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Look, never touch: no add, change or delete permission for anyone."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}


@admin.register(ChangeLogEntry)
class ChangeLogEntryAdmin(ReadOnlyAdmin):
    list_display = ("time", "action", "model", "object_id", "object_repr", "actor_name")
    list_filter = ("action", "model")
    search_fields = ("object_repr", "actor_name", "request_id")
    date_hierarchy = "time"
    show_full_result_count = False


@admin.register(SearchEntry)
class SearchEntryAdmin(ReadOnlyAdmin):
    list_display = ("model", "object_id", "title", "subtitle", "owner_id", "team_id")
    list_filter = ("model",)
    show_full_result_count = False


@admin.register(PeriodicRun)
class PeriodicRunAdmin(ReadOnlyAdmin):
    list_display = ("name", "last_slot", "last_started_at", "last_finished_at", "has_error")

    @admin.display(boolean=True, description=_("error"))
    def has_error(self, obj: PeriodicRun) -> bool:
        return bool(obj.last_error)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Jobs are written by the worker; an administrator may look and delete old ones."""

    list_display = ("title", "kind", "status", "progress", "total", "user", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("title",)
    readonly_fields = [f.name for f in Job._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Notifications are sent by services; an administrator may look and delete."""

    list_display = ("text", "recipient", "verb", "created_at", "read_at", "emailed_at")
    list_filter = ("verb",)
    search_fields = ("text", "recipient__email")
    list_select_related = ("recipient",)
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ("name", "list_key", "owner", "team", "created_at")
    list_filter = ("list_key",)
    list_select_related = ("owner", "team")
    readonly_fields = ("owner", "list_key", "filters", "columns", "sort", "created_at")


class AuditedAdmin(admin.ModelAdmin):
    """Admin edits of platform definitions write the change log like the services do."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        if change and hasattr(obj, "version"):
            obj.version += 1
        super().save_model(request, obj, form, change)
        log_change(
            actor=request.user,  # type: ignore[arg-type]
            instance=obj,
            action="update" if change else "create",
            before=before,
            after=snapshot(obj),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        log_change(
            actor=request.user,  # type: ignore[arg-type]
            instance=obj,
            action="delete",
            before=snapshot(obj),
            after=None,
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Tag)
class TagAdmin(AuditedAdmin):
    list_display = ("name", "slug", "color", "created_at")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class CustomFieldDefinitionForm(forms.ModelForm):
    """The record type is chosen from the models that have custom fields; choices one a line."""

    model = forms.ChoiceField(label=_("record type"))
    choices = forms.CharField(
        label=_("choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For choice fields: one value a line."),
    )

    class Meta:
        model = CustomFieldDefinition
        fields = (
            "model",
            "key",
            "label",
            "field_type",
            "required",
            "choices",
            "min_value",
            "max_value",
            "max_length",
            "regex",
            "help_text",
            "show_in_list",
            "searchable",
            "order",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_field = self.fields["model"]
        assert isinstance(model_field, forms.ChoiceField)
        model_field.choices = model_choices()
        if self.instance and self.instance.pk:
            self.initial["choices"] = "\n".join(str(c) for c in self.instance.choices or [])
            # Values are stored under the key in every record: neither may change.
            self.fields["model"].disabled = True
            self.fields["key"].disabled = True

    def clean_choices(self) -> list[str]:
        text = self.cleaned_data.get("choices") or ""
        return [line.strip() for line in str(text).splitlines() if line.strip()]


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(AuditedAdmin):
    form = CustomFieldDefinitionForm
    list_display = ("model", "key", "label", "field_type", "required", "show_in_list", "order")
    list_filter = ("model", "field_type")
    search_fields = ("key", "label")
    ordering = ("model", "order", "key")

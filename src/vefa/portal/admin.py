"""Read-only admin views of the portal tables; changes go through the staff pages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from vefa.portal.models import PortalAccount, WebForm


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PortalAccount)
class PortalAccountAdmin(ReadOnlyAdmin):
    list_display = ("email", "contact", "customer", "is_active", "last_login_at")
    list_filter = ("is_active",)
    search_fields = ("email",)
    exclude = ("password",)
    raw_id_fields = ("contact", "customer")


@admin.register(WebForm)
class WebFormAdmin(ReadOnlyAdmin):
    list_display = ("name", "target", "queue", "is_active")

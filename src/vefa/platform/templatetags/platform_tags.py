"""Template helpers of the platform: saved views of a list, change-log values."""

from __future__ import annotations

import json
from typing import Any

from django import template

from vefa.platform.selectors import saved_views_for

register = template.Library()


@register.simple_tag(takes_context=True)
def saved_views_of(context: template.Context, list_key: str) -> list[Any]:
    """The saved views of ``list_key`` the signed-in user may use."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return saved_views_for(actor=user, list_key=str(list_key))


@register.filter
def change_value(value: Any) -> str:
    """A before/after value of the change log as text (escaped by the template)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)

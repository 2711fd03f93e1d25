"""Template helpers of the portal pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """``mapping[key]`` (the messages of one field, a value of a form), or nothing."""
    if isinstance(mapping, dict):
        return mapping.get(str(key), mapping.get(key, ""))
    return ""

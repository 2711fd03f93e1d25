"""The Analytics entry of the main navigation: only for those who may see the dashboards."""

from __future__ import annotations

from django import template
from django.urls import reverse

from vefa.analytics.services import can_view_dashboards

register = template.Library()


@register.simple_tag(takes_context=True)
def analytics_url(context: template.Context) -> str:
    """The dashboard's address when the signed-in user may open it, else an empty string."""
    user = context.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return reverse("analytics:dashboard") if can_view_dashboards(user) else ""

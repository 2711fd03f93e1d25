"""The Marketing menu of the main navigation: only the pages the user's role may open."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from vefa.common.nav import MenuItem, menu_entries

register = template.Library()

# (URL name, label, policy the page needs "view" on); None starts a new group. A page whose
# URL is not mounted is left out.
MENU: list[MenuItem] = [
    ("marketing:dashboard", _("Marketing dashboard"), "marketing.campaign"),
    ("marketing:segment_list", _("Segments"), "marketing.segment"),
    ("marketing:campaign_list", _("Campaigns"), "marketing.campaign"),
    ("marketing:campaign_calendar", _("Campaign calendar"), "marketing.campaign"),
    ("marketing:template_list", _("Message templates"), "marketing.campaign"),
    None,
    ("marketing:journey_list", _("Journeys"), "marketing.journey"),
    ("marketing:loyalty", _("Loyalty programme"), "marketing.settings"),
    ("marketing:referral_list", _("Referrals"), "customers.customer"),
    None,
    ("marketing:suppression_list", _("Suppressed addresses"), "marketing.campaign"),
    ("marketing:setup", _("Marketing settings"), "marketing.settings"),
]


@register.simple_tag(takes_context=True)
def marketing_menu(context: template.Context) -> list[dict[str, Any]]:
    """The menu entries the signed-in user may open; ``divider`` entries between groups."""
    return menu_entries(context.get("user"), MENU)

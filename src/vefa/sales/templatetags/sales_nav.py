"""The Sales menu of the main navigation: only the pages the user's role may open."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from vefa.common.nav import MenuItem, menu_entries

register = template.Library()

# (URL name, label, policy the page needs "view" on); None starts a new group.
MENU: list[MenuItem] = [
    ("sales:my_day", _("My day"), "interactions.activity"),
    ("sales:board", _("Pipeline board"), "sales.opportunity"),
    ("sales:opportunity_list", _("Opportunities"), "sales.opportunity"),
    ("sales:quote_list", _("Quotes"), "sales.quote"),
    ("sales:order_list", _("Orders"), "sales.order"),
    ("sales:contract_list", _("Contracts"), "sales.contract"),
    None,
    ("sales:forecast", _("Forecast"), "sales.opportunity"),
    ("sales:target_list", _("Targets"), "sales.salestarget"),
    ("sales:analysis", _("Sales analysis"), "sales.opportunity"),
    None,
    ("sales:product_list", _("Products"), "sales.product"),
    ("sales:pricelist_list", _("Price lists"), "sales.product"),
    ("sales:exchange_rate_list", _("Exchange rates"), "sales.product"),
    ("sales:competitor_list", _("Competitors"), "sales.product"),
    ("sales:pipeline_list", _("Pipelines"), "sales.product"),
]


@register.simple_tag(takes_context=True)
def sales_menu(context: template.Context) -> list[dict[str, Any]]:
    """The menu entries the signed-in user may open; ``divider`` entries between groups."""
    return menu_entries(context.get("user"), MENU)

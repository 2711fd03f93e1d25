"""The Service menu of the main navigation: only the pages the user's role may open."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from vefa.common.nav import MenuItem, menu_entries

register = template.Library()

# (URL name, label, policy the page needs "view" on); None starts a new group.
MENU: list[MenuItem] = [
    ("service:dashboard", _("Service dashboard"), "service.ticket"),
    ("service:ticket_queue", _("My queue"), "service.ticket"),
    ("service:ticket_list", _("Tickets"), "service.ticket"),
    ("service:call_centre", _("Call centre"), "service.ticket"),
    ("service:return_list", _("Returns"), "service.returnrequest"),
    None,
    ("service:survey_list", _("Surveys"), "service.survey"),
    ("service:article_list", _("Knowledge base"), "service.article"),
    None,
    ("service:setup", _("Service settings"), "service.queue"),
    ("portal:staff_forms", _("Web forms"), "service.queue"),
]


@register.simple_tag(takes_context=True)
def service_menu(context: template.Context) -> list[dict[str, Any]]:
    """The menu entries the signed-in user may open; ``divider`` entries between groups."""
    return menu_entries(context.get("user"), MENU)

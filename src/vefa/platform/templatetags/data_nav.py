"""The Data menu of the main navigation (imports, exports, duplicates, data quality, privacy,
integrations): only the pages the user's role may open."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from vefa.common.nav import MenuItem, menu_entries

register = template.Library()

# (URL name, label, policy the page needs "view" on); None starts a new group. A page whose
# URL is not mounted is left out.
MENU: list[MenuItem] = [
    ("imports:run_list", _("Imports"), "imports.importrun"),
    ("exports:export_list", _("Exports"), "exports.export"),
    None,
    ("dedupe:cluster_list", _("Duplicate review"), "dedupe.cluster"),
    ("quality:dashboard", _("Data quality"), "dedupe.cluster"),
    None,
    ("privacy:request_list", _("Privacy requests"), "privacy.request"),
    ("integrations:webhook_list", _("Webhooks"), "integrations.webhook"),
    ("integrations:source_list", _("Inbound order sources"), "integrations.webhook"),
]


@register.simple_tag(takes_context=True)
def data_menu(context: template.Context) -> list[dict[str, Any]]:
    """The menu entries the signed-in user may open; ``divider`` entries between groups."""
    return menu_entries(context.get("user"), MENU)

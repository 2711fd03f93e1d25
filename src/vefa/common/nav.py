"""The app menus of the main navigation, built once: only the pages the user's role may open.

An app's template tag lists its ``MENU`` as ``(URL name, label, policy)`` triples, ``None``
between groups; a page needs the "view" scope of its policy, and a page whose URL is not
mounted is left out.
"""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse

from vefa.accounts.access import scope_for
from vefa.accounts.choices import Scope

MenuItem = tuple[str, Any, str] | None


def menu_entries(user: Any, menu: list[MenuItem]) -> list[dict[str, Any]]:
    """The entries ``user`` may open, with ``{"divider": True}`` between groups."""
    entries: list[dict[str, Any]] = []
    for item in menu:
        if item is None:
            if entries and not entries[-1].get("divider"):
                entries.append({"divider": True})
            continue
        name, label, policy = item
        if scope_for(user, policy, "view") == Scope.NONE:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        entries.append({"url": url, "label": label})
    while entries and entries[-1].get("divider"):
        entries.pop()
    return entries

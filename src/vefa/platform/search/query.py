"""Global search: what a person finds when typing into the search box.

Access is applied twice. First inside the index: every entry carries access terms computed
from its model's access paths (see ``registry.document_row``), and the query asks for the
actor's own scope per model policy (``scope_for``):

- ``ALL``: no access term is required;
- ``OWN``: ``~o<actor id>``;
- ``TEAM``: ``~o<actor id>`` or ``~t<actor's team id>``;
- ``NONE``: the group is not searched at all.

An interaction has the owner terms of both its user and its customer's owner and the team
term of its customer, so "the customer's owner may see the customer's interactions" holds in
search exactly as in ``restrict``. Second, the records behind the hits are loaded through
``vefa.accounts.access.restrict``; a hit whose record is gone or no longer visible is dropped
(the index can trail a change by a moment). Counts are taken from the re-checked records, so
they never include anything the actor may not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vefa.accounts.access import policy_key_of, restrict, scope_for
from vefa.accounts.choices import Scope
from vefa.platform.search import backends
from vefa.platform.search.registry import model_for, model_key, registered
from vefa.platform.search.terms import owner_term, query_terms, team_term

if TYPE_CHECKING:
    from vefa.accounts.models import User

MIN_QUERY_CHARACTERS = 2
COUNT_LIMIT = 50


@dataclass(frozen=True)
class GroupSpec:
    key: str
    label: str  # model label
    title: str | Promise


# The order of the groups on the page; models registered later are appended after these.
GROUPS: tuple[GroupSpec, ...] = (
    GroupSpec("customers", "customers.customer", _("Customers")),
    GroupSpec("leads", "customers.lead", _("Leads")),
    GroupSpec("contact_points", "customers.contactpoint", _("Contact points")),
    GroupSpec("interactions", "interactions.interaction", _("Interactions")),
)


@dataclass
class SearchHit:
    title: str
    subtitle: str
    url: str
    model: str
    object_id: int


@dataclass
class SearchGroup:
    key: str
    title: str | Promise
    items: list[SearchHit]
    count: int
    count_is_lower_bound: bool

    @property
    def has_more(self) -> bool:
        return self.count_is_lower_bound or self.count > len(self.items)


@dataclass
class SearchResults:
    query: str
    terms: list[str]
    groups: list[SearchGroup] = field(default_factory=list)
    too_short: bool = False

    @property
    def is_empty(self) -> bool:
        return not any(g.items for g in self.groups)

    @property
    def nonempty_groups(self) -> list[SearchGroup]:
        return [g for g in self.groups if g.items]


def group_specs() -> list[GroupSpec]:
    """The result groups of the registered models, known ones first."""
    available = registered()
    specs = [g for g in GROUPS if g.label in available]
    known = {g.label for g in specs}
    for label in available:
        if label not in known:
            model = model_for(label)
            title = model._meta.verbose_name_plural or model_key(label)
            specs.append(GroupSpec(model_key(label), label, title))
    return specs


def access_for(actor: User, model: type[models.Model]) -> list[str] | bool | None:
    """The access terms the actor's scope requires: ``None`` for all, ``False`` for none."""
    scope = scope_for(actor, policy_key_of(model), "view")
    if scope == Scope.ALL:
        return None
    if scope == Scope.NONE:
        return False
    terms = [owner_term(actor.pk)]
    if scope == Scope.TEAM and actor.team_id is not None:
        terms.append(team_term(actor.team_id))
    return terms


def _url_of(model: type[models.Model], object_id: int, customer_id: int | None) -> str:
    """The record's page, or its customer's page for records without one (contact points).

    Built from ids alone: ``get_absolute_url`` of these models needs nothing but the key, so
    a bare instance holding only the key is enough (and far cheaper than a full one).
    """
    if callable(getattr(model, "get_absolute_url", None)):
        return str(_keyed(model, object_id).get_absolute_url())
    if customer_id is not None:
        from vefa.customers.models import Customer

        return str(_keyed(Customer, customer_id).get_absolute_url())
    return ""


def _keyed(model: type[models.Model], pk: int) -> Any:
    instance = model.__new__(model)
    instance.__dict__[model._meta.pk.attname] = pk
    return instance


def _visible_ids(model: type[models.Model], actor: User, ids: list[int]) -> set[int]:
    """The ids among ``ids`` the actor may view, checked by ``restrict`` (one query)."""
    if not ids:
        return set()
    qs = model._default_manager.filter(pk__in=ids)
    return set(restrict(qs, actor, "view").values_list("pk", flat=True))


def search(
    *,
    actor: User,
    query: str,
    limit_per_group: int = 5,
    count_limit: int = COUNT_LIMIT,
) -> SearchResults:
    """Records matching every word of ``query`` as a prefix, grouped by type, newest first.

    Each group holds at most ``limit_per_group`` hits and a count of matches up to
    ``count_limit`` (``count_is_lower_bound`` when there are more): counting is bounded so a
    search stays fast on millions of records.
    """
    terms = query_terms(query)
    results = SearchResults(query=query or "", terms=terms)
    if sum(len(t.lstrip("+")) for t in terms) < MIN_QUERY_CHARACTERS:
        results.too_short = bool(terms)
        return results
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return results
    limit_per_group = max(1, min(int(limit_per_group), 100))
    count_limit = max(limit_per_group, int(count_limit))
    for spec in group_specs():
        model = model_for(spec.label)
        access = access_for(actor, model)
        if access is False:
            continue
        hits = backends.match(
            model_key=model_key(spec.label),
            terms=terms,
            access=access if isinstance(access, list) else None,
            limit=count_limit + 1,
        )
        visible = _visible_ids(model, actor, [h.object_id for h in hits])
        shown = [h for h in hits if h.object_id in visible]
        items = [
            SearchHit(
                title=h.title,
                subtitle=h.subtitle,
                url=_url_of(model, h.object_id, h.customer_id),
                model=spec.label,
                object_id=h.object_id,
            )
            for h in shown[:limit_per_group]
        ]
        results.groups.append(
            SearchGroup(
                key=spec.key,
                title=spec.title,
                items=items,
                count=min(len(shown), count_limit),
                count_is_lower_bound=len(hits) > count_limit,
            )
        )
    return results

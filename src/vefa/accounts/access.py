"""Record-level access, defined once per role and model and applied by every selector.

The policy
----------
``POLICIES[policy_key][role]`` is a triple of scopes, one for each action
``(view, change, delete)``. A scope says how far the role reaches:

- ``Scope.ALL``: every record of the model;
- ``Scope.TEAM``: records the user owns, plus records of the user's team;
- ``Scope.OWN``: records the user owns;
- ``Scope.NONE``: nothing.

Creating a record needs a ``change`` scope other than ``NONE`` (``can_create``).

Rules that hold for every model:

- An inactive or anonymous user reaches nothing, whatever the role.
- Administrators (role ``admin`` or a Django superuser) reach everything.
- A user without a team has ``TEAM`` scope degrade to ``OWN``: there is no team to share.
- A model missing from ``POLICIES`` is reachable by administrators only.

How a model takes part
----------------------
A model names its policy key (``VefaModel.policy_key()``, by default ``app_label.model``) and
the lookups that lead to its owning user and team (``access_owner_paths`` and
``access_team_paths``; by default ``owner`` and ``team``). Child records (addresses,
contact points, consent, attachments …) name their parent's policy and reach the owner and
team through the parent, so they are visible exactly when the parent is. An interaction is
"owned" both by the user who recorded it and by the customer's owner.

How it is applied
-----------------
``restrict(queryset, actor, action)`` turns the scope into a queryset filter, so a record the
actor may not reach is simply not found (HTTP 404) on every surface. ``can(actor, action,
obj)`` answers the same question for one loaded record without a query, and ``explain``
says why (the admin page "who can see this record" shows it for every active user).

``POLICIES`` is the only place access is defined: views, the API, search, exports and
notifications never decide on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from vefa.accounts.choices import Role, Scope

if TYPE_CHECKING:
    from vefa.accounts.models import User

Action = Literal["view", "change", "delete"]
ACTIONS: tuple[Action, ...] = ("view", "change", "delete")
M = TypeVar("M", bound=Model)

A, T, O, N = Scope.ALL, Scope.TEAM, Scope.OWN, Scope.NONE  # noqa: E741 (a compact table)

# (view, change, delete) per role. Create needs a change scope other than NONE.
POLICIES: dict[str, dict[str, tuple[Scope, Scope, Scope]]] = {
    "customers.customer": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, T, T),
        Role.SALES_REP: (T, O, N),
        Role.SERVICE_AGENT: (A, T, N),
        Role.MARKETER: (A, N, N),
        Role.READ_ONLY: (A, N, N),
    },
    "customers.lead": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, T, T),
        Role.SALES_REP: (T, O, O),
        Role.SERVICE_AGENT: (N, N, N),
        Role.MARKETER: (A, A, N),
        Role.READ_ONLY: (A, N, N),
    },
    "interactions.interaction": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, T, T),
        Role.SALES_REP: (T, O, O),
        Role.SERVICE_AGENT: (A, O, O),
        Role.MARKETER: (A, O, N),
        Role.READ_ONLY: (A, N, N),
    },
    "interactions.activity": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, T, T),
        Role.SALES_REP: (T, O, O),
        Role.SERVICE_AGENT: (T, O, O),
        Role.MARKETER: (T, O, O),
        Role.READ_ONLY: (A, N, N),
    },
    # The sales catalogue: products, categories, price lists, exchange rates, competitors,
    # pipelines and stages. Everyone reads it; managers keep it.
    "sales.product": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, A, A),
        Role.SALES_REP: (A, N, N),
        Role.SERVICE_AGENT: (A, N, N),
        Role.MARKETER: (A, N, N),
        Role.READ_ONLY: (A, N, N),
    },
    # Reps see their own deals, managers their team's.
    "sales.opportunity": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (T, T, T),
        Role.SALES_REP: (O, O, O),
        Role.SERVICE_AGENT: (N, N, N),
        Role.MARKETER: (N, N, N),
        Role.READ_ONLY: (A, N, N),
    },
    "sales.quote": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (T, T, T),
        Role.SALES_REP: (O, O, O),
        Role.SERVICE_AGENT: (N, N, N),
        Role.MARKETER: (N, N, N),
        Role.READ_ONLY: (A, N, N),
    },
    # Service needs orders for returns and complaints, marketing for campaigns and analysis.
    "sales.order": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (T, T, T),
        Role.SALES_REP: (O, O, N),
        Role.SERVICE_AGENT: (A, N, N),
        Role.MARKETER: (A, N, N),
        Role.READ_ONLY: (A, N, N),
    },
    "sales.contract": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (T, T, T),
        Role.SALES_REP: (O, O, N),
        Role.SERVICE_AGENT: (A, N, N),
        Role.MARKETER: (N, N, N),
        Role.READ_ONLY: (A, N, N),
    },
    # Targets are set by managers; a rep sees their own.
    "sales.salestarget": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (T, T, T),
        Role.SALES_REP: (O, N, N),
        Role.SERVICE_AGENT: (N, N, N),
        Role.MARKETER: (N, N, N),
        Role.READ_ONLY: (A, N, N),
    },
    # Service: agents work the tickets of their team; everyone else reads them.
    "service.ticket": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, N, N),
        Role.SALES_REP: (T, N, N),
        Role.SERVICE_AGENT: (A, T, O),
        Role.MARKETER: (A, N, N),
        Role.READ_ONLY: (A, N, N),
    },
    "service.returnrequest": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, T, N),
        Role.SALES_REP: (T, N, N),
        Role.SERVICE_AGENT: (A, T, O),
        Role.MARKETER: (A, N, N),
        Role.READ_ONLY: (A, N, N),
    },
    "service.survey": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, N, N),
        Role.SALES_REP: (T, N, N),
        Role.SERVICE_AGENT: (A, T, O),
        Role.MARKETER: (A, T, O),
        Role.READ_ONLY: (A, N, N),
    },
    # The knowledge base: everyone reads it; agents write it.
    "service.article": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, N, N),
        Role.SALES_REP: (A, N, N),
        Role.SERVICE_AGENT: (A, A, N),
        Role.MARKETER: (A, N, N),
        Role.READ_ONLY: (A, N, N),
    },
    # Queues, categories, calendars, SLA policies, assignment rules: read by all, kept by admins.
    "service.queue": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, N, N),
        Role.SALES_REP: (A, N, N),
        Role.SERVICE_AGENT: (A, N, N),
        Role.MARKETER: (A, N, N),
        Role.READ_ONLY: (A, N, N),
    },
    # Marketing: marketers build segments, templates, campaigns and journeys; sales and service
    # read them (a segment is also a list filter and a task list for everyone who sees it).
    "marketing.segment": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, T, O),
        Role.SALES_REP: (A, O, O),
        Role.SERVICE_AGENT: (A, O, O),
        Role.MARKETER: (A, A, T),
        Role.READ_ONLY: (A, N, N),
    },
    "marketing.campaign": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, N, N),
        Role.SALES_REP: (A, N, N),
        Role.SERVICE_AGENT: (A, N, N),
        Role.MARKETER: (A, A, T),
        Role.READ_ONLY: (A, N, N),
    },
    "marketing.journey": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, N, N),
        Role.SALES_REP: (N, N, N),
        Role.SERVICE_AGENT: (N, N, N),
        Role.MARKETER: (A, A, T),
        Role.READ_ONLY: (A, N, N),
    },
    # The marketing settings and the loyalty programme: read by all, kept by marketers.
    "marketing.settings": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, N, N),
        Role.SALES_REP: (A, N, N),
        Role.SERVICE_AGENT: (A, N, N),
        Role.MARKETER: (A, A, N),
        Role.READ_ONLY: (A, N, N),
    },
    # Data in and out: imports by managers and marketers (lists), exports by everyone (an
    # export holds only what the actor may see), the duplicate review by managers; webhooks,
    # inbound sources and privacy requests are for administrators only (not listed).
    "imports.importrun": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, A, O),
        Role.SALES_REP: (N, N, N),
        Role.SERVICE_AGENT: (N, N, N),
        Role.MARKETER: (O, O, O),
        Role.READ_ONLY: (N, N, N),
    },
    "exports.export": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (O, O, O),
        Role.SALES_REP: (O, O, O),
        Role.SERVICE_AGENT: (O, O, O),
        Role.MARKETER: (O, O, O),
        Role.READ_ONLY: (O, O, O),
    },
    "dedupe.cluster": {
        Role.ADMIN: (A, A, A),
        Role.SALES_MANAGER: (A, A, N),
        Role.SALES_REP: (N, N, N),
        Role.SERVICE_AGENT: (N, N, N),
        Role.MARKETER: (A, N, N),
        Role.READ_ONLY: (N, N, N),
    },
}

# Policies of a person's own artefacts (the files they export): a change scope there lets
# them keep their own things, it is no write access to the CRM's records.
PERSONAL_POLICIES = frozenset({"exports.export"})

Match = Literal["own", "team"] | None


@dataclass(frozen=True)
class Decision:
    """Whether an action on one record is allowed, the scope that decided and why."""

    allowed: bool
    scope: Scope
    reason: str


def _reaches_nothing(actor: User | None) -> bool:
    return actor is None or not actor.is_authenticated or not actor.is_active


def _is_admin(actor: User) -> bool:
    return bool(actor.is_superuser or actor.role == Role.ADMIN)


def scope_for(actor: User | None, policy_key: str, action: Action) -> Scope:
    """The scope ``actor`` has for ``action`` on records under ``policy_key``.

    ``TEAM`` is returned as is for a user without a team; ``restrict`` and ``can`` then match
    own records only.
    """
    if actor is None or _reaches_nothing(actor):
        return Scope.NONE
    if _is_admin(actor):
        return Scope.ALL
    rules = POLICIES.get(policy_key)
    if rules is None:
        return Scope.NONE
    view, change, delete = rules.get(actor.role, (N, N, N))
    return {"view": view, "change": change, "delete": delete}[action]


def _owner_paths(model: type[Model]) -> tuple[str, ...]:
    return tuple(getattr(model, "access_owner_paths", ("owner",)))


def _team_paths(model: type[Model]) -> tuple[str, ...]:
    return tuple(getattr(model, "access_team_paths", ("team",)))


def scope_q(model: type[Model], actor: User, scope: Scope) -> Q | None:
    """The filter for ``scope``; ``None`` means no restriction."""
    if scope == Scope.ALL:
        return None
    if scope == Scope.NONE:
        return Q(pk__in=[])
    q = Q()
    for path in _owner_paths(model):
        q |= Q(**{path: actor.pk})
    if scope == Scope.TEAM and actor.team_id is not None:
        for path in _team_paths(model):
            q |= Q(**{path: actor.team_id})
    return q


def policy_key_of(model: type[Model]) -> str:
    """The ``POLICIES`` key whose scopes apply to ``model``."""
    getter = getattr(model, "policy_key", None)
    return str(getter()) if callable(getter) else model._meta.label_lower


def restrict(queryset: QuerySet[M], actor: User | None, action: Action = "view") -> QuerySet[M]:
    """Limit ``queryset`` to the records ``actor`` may ``action``."""
    model = queryset.model
    scope = scope_for(actor, policy_key_of(model), action)
    if scope == Scope.NONE or actor is None:
        return queryset.none()
    q = scope_q(model, actor, scope)
    return queryset if q is None else queryset.filter(q)


def sees_all(actor: User | None, model: type[Model], action: Action = "view") -> bool:
    """Whether ``restrict`` leaves every record of ``model`` to ``actor`` for ``action``."""
    return actor is not None and scope_for(actor, policy_key_of(model), action) == Scope.ALL


def access_branches(model: type[Model], actor: User | None, action: Action = "view") -> list[Q]:
    """The conditions ``restrict`` joins with OR for ``actor``, one per owner or team path.

    A list page hands them to ``keyset_page(any_of=…)`` so each is read as its own range
    in sort order (``owner = me`` and ``team = mine`` each have an index with the sort key);
    empty when the scope is a single condition, everything or nothing.
    """
    if actor is None:
        return []
    scope = scope_for(actor, policy_key_of(model), action)
    if scope in (Scope.ALL, Scope.NONE):
        return []
    branches = [Q(**{path: actor.pk}) for path in _owner_paths(model)]
    if scope == Scope.TEAM and actor.team_id is not None:
        branches += [Q(**{path: actor.team_id}) for path in _team_paths(model)]
    return branches if len(branches) > 1 else []


def _resolve(obj: Model, path: str) -> Any:
    """Follow ``a__b__c`` from ``obj``; the last step reads the ``_id`` column (no query)."""
    value: Any = obj
    parts = path.split("__")
    for i, part in enumerate(parts):
        if value is None:
            return None
        last = i == len(parts) - 1
        value = getattr(value, f"{part}_id" if last else part, None)
    return value


def _match(actor: User, obj: Model, scope: Scope) -> Match:
    """How ``obj`` falls within ``scope`` for ``actor``: as its owner, through the team, or not."""
    model = type(obj)
    if any(_resolve(obj, p) == actor.pk for p in _owner_paths(model)):
        return "own"
    in_team = scope == Scope.TEAM and actor.team_id is not None
    if in_team and any(_resolve(obj, p) == actor.team_id for p in _team_paths(model)):
        return "team"
    return None


def can(actor: User | None, action: Action, obj: Model) -> bool:
    """Whether ``actor`` may ``action`` this one record (evaluated in Python, no query)."""
    scope = scope_for(actor, policy_key_of(type(obj)), action)
    if scope == Scope.ALL:
        return True
    if scope == Scope.NONE or actor is None:
        return False
    return _match(actor, obj, scope) is not None


def can_create(actor: User | None, model: type[Model]) -> bool:
    """Whether ``actor`` may create records of ``model`` (a change scope other than none)."""
    return scope_for(actor, policy_key_of(model), "change") != Scope.NONE


def explain(actor: User, action: Action, obj: Model) -> Decision:
    """``can`` with the reason, for people: "who can see this record" shows it per user."""
    role = Role(actor.role).label if actor.role in Role.values else actor.role
    if _reaches_nothing(actor):
        return Decision(False, Scope.NONE, _("Inactive users reach no records."))
    if actor.is_superuser and actor.role != Role.ADMIN:
        return Decision(True, Scope.ALL, _("Superusers reach all records."))
    scope = scope_for(actor, policy_key_of(type(obj)), action)
    if scope == Scope.ALL:
        return Decision(True, scope, _("%(role)s: all records.") % {"role": role})
    if scope == Scope.NONE:
        return Decision(False, scope, _("%(role)s: no records.") % {"role": role})
    match = _match(actor, obj, scope)
    if match == "own":
        return Decision(True, scope, _("%(role)s: own records; this is theirs.") % {"role": role})
    if match == "team":
        return Decision(
            True, scope, _("%(role)s: own team's records; this is their team's.") % {"role": role}
        )
    if scope == Scope.TEAM and actor.team_id is None:
        return Decision(
            False,
            scope,
            _("%(role)s: own team's records, but they have no team; this is not theirs.")
            % {"role": role},
        )
    if scope == Scope.TEAM:
        return Decision(
            False,
            scope,
            _("%(role)s: own team's records; this is neither theirs nor their team's.")
            % {"role": role},
        )
    return Decision(False, scope, _("%(role)s: own records; this is not theirs.") % {"role": role})

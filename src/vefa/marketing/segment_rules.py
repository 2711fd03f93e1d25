"""The rules of a dynamic segment: checked and evaluated with the customer list's own filter.

A rule is ``{"param": <name>, "value": <text>}`` where ``param`` is a parameter of
``CustomerFilterForm`` (customer fields, custom fields ``cf_<key>``, tags and every registered
filter extension: the analytic attributes, the behaviour rules of ``vefa.marketing.filters``).
Each rule is validated by the very form the customer list uses, so a value the list accepts
is a value a segment accepts, with the same error.

Evaluation builds the filter form once per rule and combines:

- ``all``: the rules narrow one queryset in turn (one query, one join per relation);
- ``any``: the conditions are joined with OR; a rule through a many-valued relation (tags)
  is a ``pk IN (subquery)``, so the database reads that rule's customers once (hashed on
  PostgreSQL, a temporary index on SQLite) and counts no customer twice.

Over every customer (an administrator's count, a campaign's audience) the rules are applied
within ``customers.filters.id_lists``: a condition on related rows (the analytic scores,
tags) is a ``pk IN (subquery)`` list of ids, and on SQLite any other rule that joins a table
is turned into one too. SQLite keeps no histogram of a column's values (the builds in use
have no ``STAT4``), so with a join it may walk the customers in the order of an index on a
common value (580,000 customers at stage "customer" out of 1,000,000) and read each row and
its score at random; from an id list it reads the rows in id order, and an ``any`` of such
lists is a union of ids (``MULTI-INDEX OR``). At 1,000,000 customers that took *value class
A + stage customer + no purchase for 90 days* from 1.6 s to 0.24 s and *any of churn risk
high, bought a product, declining* from 0.6 s to 0.3 s (0.76 s instead of 1.0 s on
PostgreSQL). Over one team's share the lists are not forced: the team's index is the better
start, and a common condition is checked customer by customer (``with_related``).

"owner is me" and "team is mine" mean the person who saved the rule: they are stored as that
user's and team's ids. A segment may use another segment (``segment=<id>``); a segment that
would reach itself, directly or through others, is refused when saved and matches nobody
should one ever be evaluated (``_evaluating`` holds the segments being evaluated).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.db import connections
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vefa.common.errors import ValidationFailed
from vefa.customers.filters import NON_FILTER_PARAMS, CustomerFilterForm, id_lists
from vefa.platform.models import CustomFieldDefinition

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer

MAX_RULES = 20
MAX_VALUE = 300
# How deep segments may use other segments.
MAX_DEPTH = 5
# Parameters that are not conditions on the customer.
EXCLUDED_PARAMS = NON_FILTER_PARAMS | {"sort"}
SEGMENT_PARAM = "segment"

_evaluating: ContextVar[tuple[int, ...]] = ContextVar("segment_evaluating", default=())


def definitions() -> list[CustomFieldDefinition]:
    """The customer custom-field definitions, read once per evaluation."""
    return list(
        CustomFieldDefinition.objects.filter(model=CustomerFilterForm.model_label).order_by(
            "order", "key"
        )
    )


def rule_form(
    params: Mapping[str, Any],
    *,
    actor: User | None,
    defs: list[CustomFieldDefinition] | None = None,
) -> CustomerFilterForm:
    """The customer filter form bound to ``params``."""
    return CustomerFilterForm(dict(params), actor=actor, definitions=defs)


def parameter_groups(
    *, defs: list[CustomFieldDefinition] | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The parameters a rule can use: ``(heading, [(param, label)])`` per filter section."""
    form = rule_form({}, actor=None, defs=defs)
    extension_names = {name for _title, names in form.extension_groups for name in names}
    own: list[tuple[str, str]] = []
    custom: list[tuple[str, str]] = []
    for name, field in form.fields.items():
        if name in EXCLUDED_PARAMS or name in extension_names:
            continue
        target = custom if name.startswith("cf_") else own
        target.append((name, str(field.label or name)))
    groups: list[tuple[str, list[tuple[str, str]]]] = [(str(_("Customer")), own)]
    if custom:
        groups.append((str(_("Custom fields")), custom))
    for title, names in form.extension_groups:
        groups.append((str(title), [(n, str(form.fields[n].label or n)) for n in names]))
    return groups


def parameter_names(*, defs: list[CustomFieldDefinition] | None = None) -> set[str]:
    return {name for _t, params in parameter_groups(defs=defs) for name, _l in params}


def parameter_label(form: forms.Form, param: str) -> str:
    field = form.fields.get(param)
    return str(field.label) if field is not None and field.label else param


def _normalise_value(param: str, value: str, actor: User | None) -> str:
    """ "me" and "mine" become the saving person's user and team."""
    lowered = value.strip().lower()
    if param == "owner" and lowered == "me":
        return str(actor.pk) if actor is not None else "none"
    if param == "team" and lowered == "mine":
        team_id = getattr(actor, "team_id", None)
        return str(team_id) if team_id else "none"
    return value.strip()


def _named(index: int, label: str) -> dict[str, Any]:
    return {"n": index, "label": label}


def clean_rules(
    rules: Any,
    *,
    actor: User | None,
    segment_id: int | None = None,
) -> list[dict[str, str]]:
    """``rules`` checked and normalised, or ``ValidationFailed`` naming each bad rule.

    Errors are reported under ``rules`` (the list as a whole) and ``rules.<n>`` (the n-th
    rule, counted from 1), each message naming the rule's parameter.
    """
    if rules is None:
        return []
    if not isinstance(rules, list | tuple):
        raise ValidationFailed(
            _("Please correct the errors below."), fields={"rules": [_("Enter a list of rules.")]}
        )
    if len(rules) > MAX_RULES:
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={"rules": [_("At most %(n)d rules.") % {"n": MAX_RULES}]},
        )
    defs = definitions()
    form = rule_form({}, actor=actor, defs=defs)
    allowed = parameter_names(defs=defs)
    errors: dict[str, list[str]] = {}
    cleaned: list[dict[str, str]] = []
    for index, rule in enumerate(rules, start=1):
        key = f"rules.{index}"
        if not isinstance(rule, Mapping) or set(rule) - {"param", "value"}:
            errors[key] = [_("Rule %(n)d: expected a parameter and a value.") % {"n": index}]
            continue
        param, value = rule.get("param"), rule.get("value")
        if not isinstance(param, str) or param not in allowed:
            errors[key] = [
                _("Rule %(n)d: %(param)s is not a customer filter.")
                % {"n": index, "param": str(param)[:60]}
            ]
            continue
        label = parameter_label(form, param)
        if isinstance(value, bool) or not isinstance(value, str | int):
            errors[key] = [
                _("Rule %(n)d (%(label)s): enter a value.") % {"n": index, "label": label}
            ]
            continue
        text = str(value)
        if "\x00" in text or len(text) > MAX_VALUE:
            errors[key] = [
                _("Rule %(n)d (%(label)s): at most %(max)d characters, no null characters.")
                % {"n": index, "label": label, "max": MAX_VALUE}
            ]
            continue
        text = _normalise_value(param, text, actor)
        if not text:
            errors[key] = [
                _("Rule %(n)d (%(label)s): enter a value.") % {"n": index, "label": label}
            ]
            continue
        bound = rule_form({param: text}, actor=actor, defs=defs)
        if not bound.is_valid():
            messages = [str(m) for field_errors in bound.errors.values() for m in field_errors]
            errors[key] = [
                _("Rule %(n)d (%(label)s): %(error)s")
                % {"n": index, "label": label, "error": " ".join(messages)}
            ]
            continue
        if param == SEGMENT_PARAM:
            problem = _segment_reference_problem(int(bound.cleaned_data[param]), segment_id)
            if problem:
                errors[key] = [
                    _("Rule %(n)d (%(label)s): %(error)s")
                    % {"n": index, "label": label, "error": problem}
                ]
                continue
        cleaned.append({"param": param, "value": text})
    if errors:
        raise ValidationFailed(_("Some rules are not valid."), fields=errors)
    return cleaned


def segment_references(rules: Any) -> list[int]:
    """The ids of the segments ``rules`` use."""
    found: list[int] = []
    for rule in rules or ():
        if isinstance(rule, Mapping) and rule.get("param") == SEGMENT_PARAM:
            with contextlib.suppress(TypeError, ValueError):
                found.append(int(rule.get("value")))  # type: ignore[arg-type]
    return found


def _segment_reference_problem(target_id: int, segment_id: int | None) -> str | None:
    """Why the segment being saved may not use ``target_id`` (a cycle, too deep), or None."""
    from vefa.marketing.models import Segment

    if segment_id is not None and target_id == segment_id:
        return _("a segment cannot contain itself.")
    # Walk the segments ``target_id`` uses, breadth first, looking for the saved one.
    frontier = [target_id]
    seen: set[int] = set()
    depth = 1
    while frontier:
        if depth > MAX_DEPTH:
            return _("segments may use other segments at most %(n)d levels deep.") % {
                "n": MAX_DEPTH
            }
        rows = Segment.objects.filter(pk__in=frontier).values_list("pk", "kind", "rules")
        next_frontier: list[int] = []
        for pk, kind, rules in rows:
            seen.add(pk)
            if kind != "dynamic":
                continue
            for ref in segment_references(rules):
                if segment_id is not None and ref == segment_id:
                    return _("that segment uses this one, so this one would contain itself.")
                if ref not in seen:
                    next_frontier.append(ref)
        frontier = next_frontier
        depth += 1
    return None


@contextlib.contextmanager
def evaluating(segment_id: int) -> Iterator[bool]:
    """Mark ``segment_id`` as being evaluated; yields False when it already is (a cycle)."""
    stack = _evaluating.get()
    if segment_id in stack or len(stack) >= MAX_DEPTH:
        yield False
        return
    token = _evaluating.set((*stack, segment_id))
    try:
        yield True
    finally:
        _evaluating.reset(token)


def apply_rules(
    queryset: QuerySet[Customer],
    rules: Sequence[Mapping[str, Any]],
    match: str,
    *,
    actor: User | None,
    defs: list[CustomFieldDefinition] | None = None,
    whole: bool = True,
) -> QuerySet[Customer]:
    """``queryset`` narrowed to the customers matching ``rules`` combined by ``match``;
    ``whole`` is False when ``queryset`` is one person's share of the customers (a team's).

    A stored rule that no longer validates (a custom field removed, a product deleted)
    matches nobody: a segment never silently widens to everyone.
    """
    if not rules:
        return queryset.none()
    defs = definitions() if defs is None else defs
    with id_lists() if whole else contextlib.nullcontext():
        return _combined(queryset, rules, match, actor=actor, defs=defs, whole=whole)


def _combined(
    queryset: QuerySet[Customer],
    rules: Sequence[Mapping[str, Any]],
    match: str,
    *,
    actor: User | None,
    defs: list[CustomFieldDefinition],
    whole: bool,
) -> QuerySet[Customer]:
    model = queryset.model
    ids_of_joins = whole and connections[queryset.db].vendor == "sqlite"
    if match != "any":
        for rule in rules:
            form = rule_form({str(rule.get("param")): rule.get("value")}, actor=actor, defs=defs)
            if not (form.is_valid() and str(rule.get("param")) in form.fields):
                return queryset.none()
            branch = form.apply(queryset)
            if ids_of_joins and _joins(branch) - _joins(queryset):
                branch = queryset.filter(
                    pk__in=form.apply(model._default_manager.all()).values("pk")
                )
            queryset = branch
        return queryset
    # Any: rules over the customer row and its one-to-one attributes are joined with OR in
    # one scan; a rule through a many-valued relation (tags) is a ``pk IN (subquery)``, so
    # no customer is counted twice.
    combined: QuerySet[Customer] | None = None
    for rule in rules:
        form = rule_form({str(rule.get("param")): rule.get("value")}, actor=actor, defs=defs)
        if not (form.is_valid() and str(rule.get("param")) in form.fields):
            continue
        branch = form.apply(queryset)
        if _multi_valued(branch) or (ids_of_joins and _joins(branch) - _joins(queryset)):
            ids = form.apply(model._default_manager.all()).values("pk")
            branch = queryset.filter(pk__in=ids)
        combined = branch if combined is None else combined | branch
    return queryset.none() if combined is None else combined


def _joins(queryset: QuerySet[Any]) -> set[str]:
    """The tables the query joins to its own (aliases in use)."""
    query = queryset.query
    return {
        alias
        for alias, join in query.alias_map.items()
        if join.join_type and query.alias_refcount.get(alias)
    }


def _multi_valued(queryset: QuerySet[Any]) -> bool:
    """Whether the query joins a relation that can repeat the customer row."""
    for join in queryset.query.alias_map.values():
        field = getattr(join, "join_field", None)
        if field is None:
            continue
        if getattr(field, "many_to_many", False) or getattr(field, "one_to_many", False):
            return True
    return False


def describe_rule(
    rule: Mapping[str, Any], *, defs: list[CustomFieldDefinition] | None = None
) -> str:
    """A rule in words: "City: Ankara", "RFM segment: At risk"."""
    param = str(rule.get("param"))
    value = str(rule.get("value", ""))
    form = rule_form({}, actor=None, defs=defs)
    field = form.fields.get(param)
    if field is None:
        return _("%(param)s: %(value)s (no longer a filter)") % {"param": param, "value": value}
    shown = value
    if isinstance(field, forms.ChoiceField):
        choices = cast(list[tuple[Any, Any]], list(field.choices))  # type: ignore[arg-type]
        shown = str({str(k): v for k, v in choices}.get(value, value))
    describe = getattr(field, "describe", None)
    if callable(describe):
        shown = str(describe(value))
    return _("%(label)s: %(value)s") % {"label": parameter_label(form, param), "value": shown}


MATCH_WORDS = {
    "all": gettext_lazy("Customers matching all of these rules"),
    "any": gettext_lazy("Customers matching any of these rules"),
}

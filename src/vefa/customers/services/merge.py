"""Merging customers into one survivor, and undoing a merge exactly.

Every row of every model that points at a customer (found from the model registry, in any
app) follows the merged records to the survivor. Rows that cannot move because the survivor
already has their like are handled once, generically, from the model's unique constraints:

- a conditional constraint over one flag (one *primary* address per customer) clears the flag
  on the moving row;
- an unconditional one (one survey invitation per customer and survey, one score per
  customer) removes the moving row as a duplicate when nothing else depends on it, keeping
  its full content for the undo; otherwise the row stays with the archived record;
- a row whose primary key is the customer (one per customer, computed by its app: a score, a
  data-quality finding) stays with its record; the app recomputes the survivor's;
- a contact point equal to one of the survivor's (same kind and normalised value) and a
  relationship that would repeat one of the survivor's, or point from the survivor to itself,
  are duplicates by rule.

The merged records are archived (``merged_into`` the survivor): hidden from lists and search,
a visit redirects. ``CustomerMerge`` records every move, cleared flag and removed row, the
survivor's previous values and the tags added, so ``undo_merge`` puts everything back.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import restrict
from vefa.common.errors import NotFound, ValidationFailed
from vefa.common.events import DomainEvent, emit
from vefa.common.text import fold
from vefa.customers.choices import CustomerKind
from vefa.customers.models import ContactPoint, Customer, CustomerMerge, CustomerRelationship
from vefa.customers.services._common import as_pk, invalid, not_found
from vefa.customers.services.customers import (
    EDITABLE_FIELDS,
    ORGANISATION_FIELDS,
    PERSON_FIELDS,
    _check_rules,
    _stage_stamps,
    customer_refresh_contact_summary,
    derive_display_name,
)
from vefa.platform.audit import _jsonable, log_change
from vefa.platform.models import ChangeLogEntry
from vefa.platform.records import record_update

if TYPE_CHECKING:
    from vefa.accounts.models import User

# At most this many records (the survivor included) in one merge.
MAX_MERGE = 10
# Fields the person picks among the records: every editable scalar field, the kind, the
# owner and the team. Custom fields are picked one by one as ``"cf.<key>"``.
PICKABLE_FIELDS = ("kind", "owner", "team", *(f for f in EDITABLE_FIELDS if f != "custom_fields"))
CUSTOM_PREFIX = "cf."
# Customer fields derived from the records rather than picked.
DERIVED_FIELDS = ("last_interaction_at", "became_customer_at")
# Rows that belong to the merge mechanism itself, never moved.
_SKIP = {("customers.customermerge", "survivor")}
_CHUNK = 500


@dataclass
class Relation:
    """A foreign key (``field``) of ``model`` that points at ``Customer``."""

    model: type[models.Model]
    field: models.ForeignKey[Any, Any]

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def key(self) -> str:
        return f"{self.label}.{self.field.name}"


def customer_relations() -> list[Relation]:
    """Every foreign key to ``Customer`` in every installed app (many-to-many tables too),
    except the merge mechanism's own (``merged_into``, the merge record)."""
    found: list[Relation] = []
    # A model whose table does not exist yet (its migration not applied) has no rows.
    tables = set(connection.introspection.table_names())
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table not in tables:
            continue
        for fld in model._meta.concrete_fields:
            if not isinstance(fld, models.ForeignKey) or fld.remote_field.model is not Customer:
                continue
            if model is Customer:
                continue  # ``merged_into``: handled on its own
            if (model._meta.label_lower, fld.name) in _SKIP:
                continue
            found.append(Relation(model, fld))
    found.sort(key=lambda r: r.key)
    return found


@dataclass
class UniqueSet:
    fields: tuple[str, ...]  # attnames
    condition: Q | None = None
    flag: str | None = None  # the boolean a simple condition (``flag=True``) tests


def _unique_sets(relation: Relation) -> list[UniqueSet]:
    """The unique constraints of the relation's model that include its field."""
    meta = relation.model._meta
    name = relation.field.name
    sets: list[UniqueSet] = []

    def attnames(names: Iterable[str]) -> tuple[str, ...]:
        return tuple(meta.get_field(n).attname for n in names)  # type: ignore[union-attr]

    if relation.field.unique:
        sets.append(UniqueSet(attnames([name])))
    for together in meta.unique_together:
        if name in together:
            sets.append(UniqueSet(attnames(together)))
    for constraint in meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint) or name not in constraint.fields:
            continue
        condition = constraint.condition
        flag = None
        if condition is not None and len(condition.children) == 1 and not condition.negated:
            child = condition.children[0]
            if isinstance(child, tuple) and child[1] is True:
                flag = str(child[0])
        sets.append(UniqueSet(attnames(constraint.fields), condition, flag))
    return sets


def _removable(model: type[models.Model]) -> bool:
    """Whether a row of ``model`` can be removed without touching any other row."""
    meta = model._meta
    if meta.many_to_many:
        return False
    return not any(
        isinstance(f, models.ForeignObjectRel)
        for f in meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete
    )


def row_data(instance: models.Model) -> dict[str, Any]:
    """Every column of ``instance`` as JSON, enough to insert it again."""
    return {
        f.attname: _jsonable(getattr(instance, f.attname)) for f in instance._meta.concrete_fields
    }


def _rebuild(model: type[models.Model], data: Mapping[str, Any]) -> models.Model:
    values: dict[str, Any] = {}
    for fld in model._meta.concrete_fields:
        if fld.attname not in data:
            continue
        raw = data[fld.attname]
        if raw is not None and not isinstance(fld, models.JSONField):
            target = fld.target_field if fld.is_relation else fld  # type: ignore[attr-defined]
            raw = target.to_python(raw)
        values[fld.attname] = raw
    return model(**values)


def _reinsert(model: type[models.Model], data: Mapping[str, Any]) -> None:
    """Insert a removed row again, its automatic timestamps as they were."""
    instance = _rebuild(model, data)
    instance.save(force_insert=True)
    stamps = {
        f.attname: getattr(_rebuild(model, data), f.attname)
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    if stamps:
        model._base_manager.filter(pk=instance.pk).update(**stamps)


# --- the plan of the rows to move ----------------------------------------------------------


@dataclass
class MovePlan:
    """What the merge did to related rows; stored on the ``CustomerMerge``."""

    moves: list[dict[str, Any]] = field(default_factory=list)
    collapsed: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # A row's values before this merge moved it, in case it is removed later in the merge.
    originals: dict[tuple[str, Any], dict[str, Any]] = field(default_factory=dict)

    def moved(self, relation: Relation, old: int, pks: list[int]) -> None:
        for pk in pks:
            self.originals.setdefault((relation.label, pk), {}).setdefault(
                relation.field.attname, old
            )
        for start in range(0, len(pks), _CHUNK):
            chunk = pks[start : start + _CHUNK]
            self.moves.append(
                {"model": relation.label, "field": relation.field.name, "from": old, "pks": chunk}
            )
        self.counts[relation.key] += len(pks)


def _collapse(plan: MovePlan, row: models.Model, reason: str) -> None:
    label = row._meta.label_lower
    data = row_data(row)
    data.update(plan.originals.get((label, row.pk), {}))
    plan.collapsed.append({"model": label, "pk": row.pk, "reason": reason, "row": data})
    type(row)._base_manager.filter(pk=row.pk).delete()


def _move_relation(
    relation: Relation, survivor_id: int, other_ids: list[int], plan: MovePlan
) -> None:
    """Move the rows of one relation, handling its unique and check constraints."""
    model = relation.model
    attname = relation.field.attname
    manager = model._base_manager
    if relation.field.primary_key:
        # One row per customer, keyed by it (a score, a data-quality finding): computed for
        # that record by its app, which recomputes the survivor's after the merge. Moving it
        # would change the row's identity, so the undo could not find it again; it stays
        # with the archived record.
        for old in other_ids:
            for pk in manager.filter(**{attname: old}).order_by("pk").values_list("pk", flat=True):
                plan.kept.append({"model": relation.label, "pk": pk, "customer": old})
        return
    sets = _unique_sets(relation)
    checks = [c for c in model._meta.constraints if isinstance(c, models.CheckConstraint)]
    if not sets and not checks:
        for old in other_ids:
            pks = list(manager.filter(**{attname: old}).order_by("pk").values_list("pk", flat=True))
            if pks:
                plan.moved(relation, old, pks)
                for start in range(0, len(pks), _CHUNK):
                    manager.filter(pk__in=pks[start : start + _CHUNK]).update(
                        **{attname: survivor_id}
                    )
        return
    removable = _removable(model)
    taken: list[set[tuple[Any, ...]]] = []
    for unique in sets:
        qs = manager.filter(**{attname: survivor_id})
        if unique.condition is not None:
            qs = qs.filter(unique.condition)
        taken.append(set(qs.values_list(*unique.fields)))
    for old in other_ids:
        moving = list(manager.filter(**{attname: old}).order_by("pk"))
        matching: list[set[int]] = []
        for unique in sets:
            if unique.condition is None:
                matching.append({r.pk for r in moving})
            else:
                cond_qs = manager.filter(pk__in=[r.pk for r in moving]).filter(unique.condition)
                matching.append(set(cond_qs.values_list("pk", flat=True)))
        to_move: list[int] = []
        for row in moving:
            if checks and not _passes(model, row, attname, survivor_id, checks):
                # E.g. a pair of customers that would pair the survivor with itself.
                if removable:
                    _collapse(plan, row, "invalid")
                else:
                    plan.kept.append({"model": relation.label, "pk": row.pk, "customer": old})
                continue
            keys = [
                tuple(survivor_id if f == attname else getattr(row, f) for f in unique.fields)
                for unique in sets
            ]
            hard = any(
                unique.condition is None and None not in key and key in taken[i]
                for i, (unique, key) in enumerate(zip(sets, keys, strict=True))
            )
            soft = [
                i
                for i, (unique, key) in enumerate(zip(sets, keys, strict=True))
                if unique.condition is not None and row.pk in matching[i] and key in taken[i]
            ]
            if hard or any(sets[i].flag is None for i in soft):
                if removable:
                    _collapse(plan, row, "duplicate")
                else:
                    plan.kept.append({"model": relation.label, "pk": row.pk, "customer": old})
                continue
            for i in soft:
                flag = sets[i].flag
                assert flag is not None
                plan.moves.append(
                    {"model": relation.label, "field": flag, "pk": row.pk, "old": True}
                )
                manager.filter(pk=row.pk).update(**{flag: False})
                matching[i].discard(row.pk)
            for i, key in enumerate(keys):
                if sets[i].condition is None or row.pk in matching[i]:
                    taken[i].add(key)
            to_move.append(row.pk)
        if to_move:
            plan.moved(relation, old, to_move)
            for start in range(0, len(to_move), _CHUNK):
                manager.filter(pk__in=to_move[start : start + _CHUNK]).update(
                    **{attname: survivor_id}
                )


def _passes(
    model: type[models.Model],
    row: models.Model,
    attname: str,
    survivor_id: int,
    checks: list[models.CheckConstraint],
) -> bool:
    """Whether ``row`` would still satisfy the model's check constraints once moved."""
    probe = copy.copy(row)
    setattr(probe, attname, survivor_id)
    for check in checks:
        try:
            check.validate(model, probe)  # type: ignore[attr-defined]
        except ValidationError:
            return False
    return True


def _move_contact_points(survivor_id: int, other_ids: list[int], plan: MovePlan) -> None:
    """A contact point the survivor already has (same kind and value) is a duplicate."""
    have = set(
        ContactPoint.objects.filter(customer_id=survivor_id).values_list("kind", "normalized")
    )
    for row in ContactPoint.objects.filter(customer_id__in=other_ids).order_by("pk"):
        key = (row.kind, row.normalized)
        if key in have:
            _collapse(plan, row, "duplicate")
        else:
            have.add(key)


def _move_relationships(survivor_id: int, other_ids: list[int], plan: MovePlan) -> None:
    """Both ends move; a relationship to itself or one the survivor has already goes."""
    merging = set(other_ids)
    qs = CustomerRelationship.objects.filter(
        Q(from_customer_id__in=other_ids) | Q(to_customer_id__in=other_ids)
    ).order_by("pk")
    have = set(
        CustomerRelationship.objects.filter(
            Q(from_customer_id=survivor_id) | Q(to_customer_id=survivor_id)
        )
        .exclude(Q(from_customer_id__in=other_ids) | Q(to_customer_id__in=other_ids))
        .values_list("from_customer_id", "to_customer_id", "kind")
    )
    relations = {r.field.name: r for r in customer_relations() if r.model is CustomerRelationship}
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for row in qs:
        new_from = survivor_id if row.from_customer_id in merging else row.from_customer_id
        new_to = survivor_id if row.to_customer_id in merging else row.to_customer_id
        if new_from == new_to:
            _collapse(plan, row, "self")
            continue
        if (new_from, new_to, row.kind) in have:
            _collapse(plan, row, "duplicate")
            continue
        have.add((new_from, new_to, row.kind))
        if new_from != row.from_customer_id:
            groups[("from_customer", row.from_customer_id)].append(row.pk)
        if new_to != row.to_customer_id:
            groups[("to_customer", row.to_customer_id)].append(row.pk)
    for (name, old), pks in sorted(groups.items()):
        plan.moved(relations[name], old, pks)
    for (name, _old), pks in groups.items():
        CustomerRelationship.objects.filter(pk__in=pks).update(**{f"{name}_id": survivor_id})


# --- picking the survivor's values ---------------------------------------------------------


def _json(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    return _jsonable(value)


def _field_value(customer: Customer, name: str) -> Any:
    if name in ("owner", "team"):
        return getattr(customer, f"{name}_id")
    return getattr(customer, name)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def default_choices(records: Sequence[Customer]) -> dict[str, int]:
    """For each field, the record whose value is kept unless the person picks another: the
    survivor's (the first record) when it has one, else the first record that has one."""
    choices: dict[str, int] = {}
    for name in PICKABLE_FIELDS:
        source = next((r for r in records if not _empty(_field_value(r, name))), records[0])
        choices[name] = source.pk
    keys: list[str] = []
    for record in records:
        for key in record.custom_fields or {}:
            if key not in keys:
                keys.append(str(key))
    for key in keys:
        source = next(
            (r for r in records if not _empty((r.custom_fields or {}).get(key))), records[0]
        )
        choices[CUSTOM_PREFIX + key] = source.pk
    return choices


def _resolve_choices(
    records: Sequence[Customer], field_values: Mapping[str, Any] | None
) -> dict[str, int]:
    if field_values is None:
        field_values = {}
    if not isinstance(field_values, Mapping):
        raise invalid({"field_values": [_("Expected an object of field values.")]})
    by_id = {r.pk: r for r in records}
    choices = default_choices(records)
    errors: dict[str, list[str]] = {}
    for name, raw in field_values.items():
        key = str(name)
        if key not in PICKABLE_FIELDS and not (
            key.startswith(CUSTOM_PREFIX) and len(key) > len(CUSTOM_PREFIX)
        ):
            errors[key[:100]] = [_("Unknown field.")]
            continue
        try:
            source = as_pk(raw)
        except NotFound:
            source = 0
        if source not in by_id:
            errors[key[:100]] = [_("Choose one of the records being merged.")]
            continue
        choices[key] = source
    if errors:
        raise invalid(errors)
    return choices


def _picked_values(records: Sequence[Customer], choices: Mapping[str, int]) -> dict[str, Any]:
    by_id = {r.pk: r for r in records}
    survivor = records[0]
    kind = by_id[choices["kind"]].kind
    foreign = ORGANISATION_FIELDS if kind == CustomerKind.PERSON else PERSON_FIELDS
    values: dict[str, Any] = {}
    for name in PICKABLE_FIELDS:
        if name == "kind":
            continue
        if name in foreign:
            nullable = getattr(Customer._meta.get_field(name), "null", False)
            values[name] = None if nullable else ""
            continue
        values[name] = getattr(by_id[choices[name]], name)
    custom = dict(survivor.custom_fields or {})
    for key, source in choices.items():
        if not key.startswith(CUSTOM_PREFIX):
            continue
        name = key[len(CUSTOM_PREFIX) :]
        value = (by_id[source].custom_fields or {}).get(name)
        if _empty(value):
            custom.pop(name, None)
        else:
            custom[name] = value
    values["custom_fields"] = custom
    contacts = [r.last_interaction_at for r in records if r.last_interaction_at]
    values["last_interaction_at"] = max(contacts) if contacts else None
    since = [r.became_customer_at for r in records if r.became_customer_at]
    values["became_customer_at"] = min(since) if since else None
    values["kind"] = kind
    return values


# --- merge ---------------------------------------------------------------------------------


def _ids_of(survivor: Customer | int, others: Iterable[Customer | int]) -> tuple[int, list[int]]:
    def pk(value: Any, name: str) -> int:
        if isinstance(value, Customer):
            return int(value.pk)
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise invalid({name: [_("Expected a customer id.")]})
        try:
            return as_pk(value)
        except NotFound:
            raise invalid({name: [_("Expected a customer id.")]}) from None

    survivor_id = pk(survivor, "survivor")
    if isinstance(others, str | bytes) or not isinstance(others, Iterable):
        raise invalid({"others": [_("Expected a list of customer ids.")]})
    other_ids: list[int] = []
    for item in list(others)[: MAX_MERGE + 1]:
        key = pk(item, "others")
        if key == survivor_id:
            raise invalid({"others": [_("A customer cannot be merged into itself.")]})
        if key not in other_ids:
            other_ids.append(key)
    if not other_ids:
        raise invalid({"others": [_("Choose at least one record to merge.")]})
    if len(other_ids) + 1 > MAX_MERGE:
        raise invalid(
            {"others": [_("At most %(n)d records can be merged at once.") % {"n": MAX_MERGE}]}
        )
    return survivor_id, other_ids


def _lock(actor: User, ids: Sequence[int]) -> dict[int, Customer]:
    """Lock the records in primary-key order; any the actor may not change is not found."""
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    }
    allowed = set(
        restrict(Customer.objects.filter(pk__in=ids), actor, "change").values_list("pk", flat=True)
    )
    if set(ids) - set(locked) or set(ids) - allowed:
        raise not_found()
    return locked


def merge_customers(
    actor: User,
    survivor: Customer | int,
    others: Sequence[Customer | int],
    field_values: Mapping[str, Any] | None = None,
) -> CustomerMerge:
    """Merge ``others`` into ``survivor`` and return the recorded ``CustomerMerge``.

    ``field_values`` maps a field name to the id of the record (survivor or one of
    ``others``) whose value the survivor keeps: any of ``PICKABLE_FIELDS`` (``kind``,
    ``owner``, ``team``, the names, tax number …) and custom fields as ``"cf.<key>"``. A field
    not named keeps the survivor's value, or the first other record's when the survivor has
    none. Every row of every model pointing at the others moves to the survivor (see the
    module's notes for duplicates); the others are archived. Refuses (``ValidationFailed``) a
    record merged into itself, a record already merged, more than ``MAX_MERGE`` records;
    a record the actor may not change is ``NotFound``.
    """
    survivor_id, other_ids = _ids_of(survivor, others)
    ids = [survivor_id, *other_ids]
    with transaction.atomic():
        locked = _lock(actor, ids)
        merged = [pk for pk in ids if locked[pk].merged_into_id is not None]
        if merged:
            raise invalid(
                {
                    "others": [
                        _("Already merged into another record: %(ids)s.")
                        % {"ids": ", ".join(f"#{pk}" for pk in merged)}
                    ]
                }
            )
        records = [locked[pk] for pk in ids]
        choices = _resolve_choices(records, field_values)
        values = _picked_values(records, choices)
        current = records[0]
        errors: dict[str, list[str]] = {}
        _check_rules(values["kind"], values, errors)
        if errors:
            raise invalid(errors)
        values.update(_stage_stamps(current.lifecycle_stage, values["lifecycle_stage"], current))
        display_name = derive_display_name(values["kind"], values)
        values["display_name"] = display_name
        values["name_key"] = fold(display_name)[:300]
        previous = {name: _json(_field_value(current, name)) for name in values}

        plan = MovePlan()
        _move_contact_points(survivor_id, other_ids, plan)
        _move_relationships(survivor_id, other_ids, plan)
        for relation in customer_relations():
            if relation.model is CustomerRelationship:
                continue
            _move_relation(relation, survivor_id, other_ids, plan)
        # Records merged earlier into one of these now lead to the survivor.
        chained = list(
            Customer.objects.filter(merged_into_id__in=other_ids)
            .order_by("pk")
            .values_list("pk", "merged_into_id")
        )
        for pk, old in chained:
            plan.moves.append(
                {"model": "customers.customer", "field": "merged_into", "from": old, "pks": [pk]}
            )
        Customer.objects.filter(merged_into_id__in=other_ids).update(merged_into_id=survivor_id)

        # Tags: the survivor gets the union.
        through = Customer.tags.through
        have_tags = set(
            through.objects.filter(customer_id=survivor_id).values_list("tag_id", flat=True)
        )
        new_tags = sorted(
            set(through.objects.filter(customer_id__in=other_ids).values_list("tag_id", flat=True))
            - have_tags
        )
        data = dict(values)
        # Custom fields: only the values that change, and only of defined fields (a value
        # whose definition was deleted stays on its record untouched).
        from vefa.platform.custom_fields import definitions_for

        defined = {d.key for d in definitions_for("customers.customer")}
        before_cf = current.custom_fields or {}
        after_cf = values["custom_fields"]
        cf_changes = {
            key: after_cf.get(key)
            for key in sorted(set(before_cf) | set(after_cf))
            if key in defined and after_cf.get(key) != before_cf.get(key)
        }
        values["custom_fields"] = {
            key: value
            for key, value in {**before_cf, **after_cf}.items()
            if key not in defined or key in after_cf
        }
        if cf_changes:
            data["custom_fields"] = cf_changes
        else:
            data.pop("custom_fields")
        data["owner"] = records[[r.pk for r in records].index(choices["owner"])].owner
        data["team"] = records[[r.pk for r in records].index(choices["team"])].team
        from vefa.platform.models import Tag

        tags = list(Tag.objects.filter(pk__in=sorted(have_tags | set(new_tags))))
        updated = record_update(current, actor=actor, data=data, tags=tags)

        now = timezone.now()
        archived: dict[str, Any] = {}
        for record in records[1:]:
            archived[str(record.pk)] = {"version": record.version}
            Customer.objects.filter(pk=record.pk).update(
                merged_into_id=survivor_id,
                version=record.version + 1,
                updated_at=now,
                updated_by=actor,
            )
            log_change(
                actor=actor,
                instance=record,
                action=ChangeLogEntry.Action.UPDATE,
                before={"merged_into": None},
                after={"merged_into": survivor_id},
            )
            emit(
                DomainEvent(
                    name="customers.customer.updated",
                    model="customers.customer",
                    object_id=record.pk,
                    actor_id=actor.pk,
                    payload={"changed": ["merged_into"]},
                )
            )
        customer_refresh_contact_summary(customer_id=survivor_id, actor=actor)
        # Read back, so the undo compares values as the database returns them.
        fresh = Customer.objects.get(pk=survivor_id)
        merged_values = {name: _json(_field_value(fresh, name)) for name in values}
        merge = CustomerMerge.objects.create(
            survivor_id=survivor_id,
            merged_ids=other_ids,
            actor=actor,
            actor_name=str(actor)[:200],
            merged_at=now,
            field_choices=choices,
            previous_values=previous,
            merged_values=merged_values,
            archived=archived,
            moves=plan.moves,
            collapsed=plan.collapsed,
            kept=plan.kept,
            tags_added=new_tags,
        )
        summary = {
            "merge": merge.pk,
            "merged": other_ids,
            "moved": dict(plan.counts),
            "collapsed": len(plan.collapsed),
            "kept": len(plan.kept),
        }
        log_change(
            actor=actor,
            instance=updated,
            action=ChangeLogEntry.Action.MERGE,
            before=None,
            after=summary,
        )
        emit(
            DomainEvent(
                name="customers.customer.merged",
                model="customers.customer",
                object_id=survivor_id,
                actor_id=actor.pk,
                payload=summary,
            )
        )
    return merge


# --- undo ----------------------------------------------------------------------------------


@dataclass
class UndoResult:
    """How an undo went: rows put back and what could not be restored (people's words)."""

    merge: CustomerMerge
    restored: int
    problems: list[str]


def _label(model_label: str) -> str:
    try:
        return str(apps.get_model(model_label)._meta.verbose_name)
    except LookupError:
        return model_label


def _problem_row(model_label: str, pk: Any, what: str) -> str:
    return f"{_label(model_label)} #{pk}: {what}"


def merge_get(*, actor: User, merge_id: Any) -> CustomerMerge:
    """One merge, if the actor may see its survivor."""
    merge = CustomerMerge.objects.select_related("survivor").filter(pk=as_pk(merge_id)).first()
    if merge is None:
        raise not_found()
    visible = restrict(Customer.objects.filter(pk=merge.survivor_id), actor, "view")
    if not visible.exists():
        raise not_found()
    return merge


def _plan_undo(merge: CustomerMerge, survivor: Customer) -> tuple[list[str], dict[str, Any]]:
    """What undoing ``merge`` would fail to restore, and the survivor fields to put back."""
    problems: list[str] = []
    removed = {(row["model"], row["pk"]) for row in merge.collapsed}
    for move in merge.moves:
        model = apps.get_model(move["model"])
        if "pks" in move:
            column = model._meta.get_field(move["field"]).attname
            found = dict(model._base_manager.filter(pk__in=move["pks"]).values_list("pk", column))
            for pk in move["pks"]:
                if (move["model"], pk) in removed:
                    continue  # moved, then removed later in the merge: recreated as it was
                if pk not in found:
                    problems.append(_problem_row(move["model"], pk, _("deleted since the merge")))
                elif found[pk] != merge.survivor_id:
                    problems.append(_problem_row(move["model"], pk, _("moved since the merge")))
    for row in merge.collapsed:
        model = apps.get_model(row["model"])
        if model._base_manager.filter(pk=row["pk"]).exists():
            problems.append(_problem_row(row["model"], row["pk"], _("its number is taken again")))
    restore: dict[str, Any] = {}
    for name, old in merge.previous_values.items():
        now = _json(_field_value(survivor, name))
        if now != merge.merged_values.get(name):
            if name in DERIVED_FIELDS:
                continue  # e.g. a contact logged since: the current value is the true one
            problems.append(
                _("Field %(field)s: changed since the merge, left as it is.") % {"field": name}
            )
            continue
        restore[name] = old
    return problems, restore


def undo_merge(actor: User, merge: CustomerMerge | int, *, partial: bool = False) -> UndoResult:
    """Undo ``merge``: every moved row goes back to its record, removed duplicates come back,
    the survivor's fields and tags are restored and the merged records are un-archived.

    When something cannot be restored exactly (a moved row deleted since, a field changed
    since …) the undo is refused with a ``ValidationFailed`` naming each problem — unless
    ``partial`` is true: then what can be undone is undone and the rest is reported.
    """
    merge_id = merge.pk if isinstance(merge, CustomerMerge) else as_pk(merge)
    with transaction.atomic():
        record = CustomerMerge.objects.select_for_update().filter(pk=merge_id).first()
        if record is None:
            raise not_found()
        ids = sorted({record.survivor_id, *record.merged_ids})
        existing = set(Customer.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if existing != set(ids):
            raise invalid(
                {"__all__": [_("A merged record was deleted since; this merge cannot be undone.")]}
            )
        locked = _lock(actor, ids)
        if record.undone_at is not None:
            raise invalid({"__all__": [_("This merge was already undone.")]})
        survivor = locked[record.survivor_id]
        if survivor.merged_into_id is not None:
            raise invalid(
                {"__all__": [_("The survivor was merged again since; undo that merge first.")]}
            )
        strays = [pk for pk in record.merged_ids if locked[pk].merged_into_id != survivor.pk]
        if strays:
            raise invalid(
                {
                    "__all__": [
                        _("Records no longer merged into the survivor: %(ids)s.")
                        % {"ids": ", ".join(f"#{pk}" for pk in strays)}
                    ]
                }
            )
        problems, restore = _plan_undo(record, survivor)
        if problems and not partial:
            raise ValidationFailed(
                _("This merge cannot be undone exactly."), fields={"__all__": problems}
            )
        restored = 0
        # Un-archive first: moved rows may lead back to records merged earlier.
        now = timezone.now()
        for pk in record.merged_ids:
            other = locked[pk]
            Customer.objects.filter(pk=pk).update(
                merged_into_id=None, version=other.version + 1, updated_at=now, updated_by=actor
            )
            log_change(
                actor=actor,
                instance=other,
                action=ChangeLogEntry.Action.UPDATE,
                before={"merged_into": survivor.pk},
                after={"merged_into": None},
            )
        for move in reversed(record.moves):
            model = apps.get_model(move["model"])
            manager = model._base_manager
            if "pks" in move:
                column = model._meta.get_field(move["field"]).attname
                qs = manager.filter(pk__in=move["pks"], **{column: survivor.pk})
                restored += qs.update(**{column: move["from"]})
            else:
                try:
                    with transaction.atomic():
                        manager.filter(pk=move["pk"]).update(**{move["field"]: move["old"]})
                except IntegrityError:
                    problems.append(
                        _problem_row(
                            move["model"], move["pk"], _("could not be made primary again")
                        )
                    )
        for row in record.collapsed:
            model = apps.get_model(row["model"])
            if model._base_manager.filter(pk=row["pk"]).exists():
                continue
            try:
                with transaction.atomic():
                    _reinsert(model, row["row"])
                restored += 1
            except IntegrityError:
                problems.append(_problem_row(row["model"], row["pk"], _("could not be recreated")))
        data: dict[str, Any] = {}
        for name, old in restore.items():
            if name in ("owner", "team"):
                data[f"{name}_id"] = old
            else:
                fld = Customer._meta.get_field(name)
                data[name] = (
                    fld.to_python(old)  # type: ignore[union-attr]
                    if old is not None and not isinstance(fld, models.JSONField)
                    else old
                )
        through = Customer.tags.through
        through.objects.filter(customer_id=survivor.pk, tag_id__in=record.tags_added).delete()
        if data:
            Customer.objects.filter(pk=survivor.pk).update(
                **data, version=survivor.version + 1, updated_at=now, updated_by=actor
            )
        for pk in ids:
            customer_refresh_contact_summary(customer_id=pk, actor=actor)
        record.undone_at = now
        record.undone_by = actor
        record.undo_report = problems
        record.save(update_fields=["undone_at", "undone_by", "undo_report"])
        log_change(
            actor=actor,
            instance=survivor,
            action=ChangeLogEntry.Action.UPDATE,
            before={
                "merge": record.pk,
                **{k: _json(v) for k, v in record.merged_values.items() if k in restore},
            },
            after={
                "merge_undone": record.pk,
                "restored": restored,
                "problems": problems,
                **restore,
            },
        )
        payload = {"merge": record.pk, "unmerged": record.merged_ids, "changed": sorted(restore)}
        emit(
            DomainEvent(
                name="customers.customer.merge_undone",
                model="customers.customer",
                object_id=survivor.pk,
                actor_id=actor.pk,
                payload=payload,
            )
        )
        for pk in record.merged_ids:
            emit(
                DomainEvent(
                    name="customers.customer.updated",
                    model="customers.customer",
                    object_id=pk,
                    actor_id=actor.pk,
                    payload={"changed": ["merged_into"]},
                )
            )
        # The rows that went back still sit under the survivor in the search index.
        survivor_id = survivor.pk
        transaction.on_commit(lambda: _reindex_children(survivor_id))
    return UndoResult(merge=record, restored=restored, problems=problems)


def _reindex_children(customer_id: int) -> None:
    from vefa.platform.search.indexer import reindex_customer_children

    try:
        reindex_customer_children(customer_id)
    except Exception:  # the index is rebuilt in bulk if this fails; the undo stands
        import logging

        logging.getLogger(__name__).exception("search index: customer %s", customer_id)


# --- what the merge page shows -------------------------------------------------------------


@dataclass
class RelatedCount:
    key: str
    label: str
    counts: dict[int, int]


def related_counts(ids: Sequence[int]) -> list[RelatedCount]:
    """For each kind of related row, how many each record has (rows that will move)."""
    result: list[RelatedCount] = []
    per_model: dict[type[models.Model], int] = defaultdict(int)
    relations = customer_relations()
    for relation in relations:
        per_model[relation.model] += 1
    for relation in relations:
        if relation.model._meta.auto_created or relation.field.primary_key:
            continue  # many-to-many tables; rows keyed by the customer stay with it
        rows = (
            relation.model._base_manager.filter(**{f"{relation.field.attname}__in": list(ids)})
            .values_list(relation.field.attname)
            .annotate(n=models.Count("pk"))
            .order_by()
        )
        counts = {int(pk): int(n) for pk, n in rows}
        if not any(counts.values()):
            continue
        label = str(relation.model._meta.verbose_name_plural)
        if per_model[relation.model] > 1:
            label = f"{label} ({relation.field.verbose_name})"
        result.append(RelatedCount(relation.key, label, counts))
    return result


# --- reads ---------------------------------------------------------------------------------


def moved_counts(merge: CustomerMerge) -> dict[str, int]:
    """How many rows of each relation (``app.model.field``) the merge moved."""
    counts: dict[str, int] = defaultdict(int)
    for move in merge.moves:
        if "pks" in move:
            counts[f"{move['model']}.{move['field']}"] += len(move["pks"])
    return dict(counts)


def merges_of(*, actor: User, customer_id: Any, limit: int = 50) -> list[CustomerMerge]:
    """The merges into a customer the actor may see, newest first."""
    key = as_pk(customer_id)
    if not restrict(Customer.objects.filter(pk=key), actor, "view").exists():
        raise not_found()
    return list(CustomerMerge.objects.filter(survivor_id=key).order_by("-merged_at", "-id")[:limit])


def merge_candidates(*, actor: User, ids: Sequence[Any]) -> list[Customer]:
    """The records of a proposed merge, in the order given, if the actor may change each and
    none is merged already (``NotFound`` / ``ValidationFailed`` otherwise)."""
    keys: list[int] = []
    for raw in ids:
        key = as_pk(raw)
        if key not in keys:
            keys.append(key)
    if len(keys) < 2:
        raise invalid({"ids": [_("Choose at least two records to merge.")]})
    if len(keys) > MAX_MERGE:
        raise invalid(
            {"ids": [_("At most %(n)d records can be merged at once.") % {"n": MAX_MERGE}]}
        )
    found = {
        c.pk: c
        for c in restrict(Customer.objects.filter(pk__in=keys), actor, "change").select_related(
            "owner", "team"
        )
    }
    if set(keys) - set(found):
        raise not_found()
    merged = [k for k in keys if found[k].merged_into_id is not None]
    if merged:
        raise invalid(
            {
                "ids": [
                    _("Already merged into another record: %(ids)s.")
                    % {"ids": ", ".join(f"#{pk}" for pk in merged)}
                ]
            }
        )
    return [found[k] for k in keys]


def merged_survivor(*, actor: User, customer_id: Any) -> Customer | None:
    """The record a merged customer now lives in (following later merges), if the actor may
    see it; ``None`` when the customer was not merged."""
    key = as_pk(customer_id)
    seen: set[int] = set()
    current = Customer.objects.filter(pk=key).values_list("merged_into_id", flat=True).first()
    while current is not None and current not in seen and len(seen) <= MAX_MERGE * 10:
        seen.add(current)
        nxt = Customer.objects.filter(pk=current).values_list("merged_into_id", flat=True).first()
        if nxt is None:
            break
        current = nxt
    if current is None:
        return None
    return restrict(Customer.objects.filter(pk=current), actor, "view").first()

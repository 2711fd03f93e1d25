"""Writes of segments: create, change, archive; static list members; counts and sizes.

A dynamic segment's rules are checked by ``vefa.marketing.segment_rules.clean_rules`` (the
customer list's own filter form); a static list holds its members in ``SegmentMember``.
Adding and removing members needs the right to change the segment and reaches only
customers the person may see; a customer already on the list is not added twice, whoever
adds it at the same time (the unique constraint decides, ``ignore_conflicts``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create, restrict
from vefa.accounts.models import Team, User
from vefa.common.errors import PermissionDenied, ValidationFailed
from vefa.customers.selectors import customer_queryset
from vefa.customers.services._common import as_pk, as_text, denied, get_for, invalid
from vefa.interactions.choices import ActivityKind
from vefa.interactions.models import Activity
from vefa.marketing.choices import RuleMatch, SegmentKind
from vefa.marketing.models import Segment, SegmentMember, SegmentSize
from vefa.marketing.segment_rules import clean_rules
from vefa.platform.jobs import Progress, job_start
from vefa.platform.models import Job
from vefa.platform.records import record_create, record_update

__all__ = [
    "MAX_STATIC_ADD",
    "MAX_TAGS",
    "call_tasks_batch",
    "segment_archive",
    "segment_call_tasks_start",
    "segment_create",
    "segment_record_count",
    "segment_restore",
    "segment_update",
    "segment_write_size",
    "static_members_add",
    "static_members_add_matching",
    "static_members_remove",
]

MAX_TAGS = 20
# Customers added or removed in one request (ids given one by one).
MAX_IDS = 1000
# Customers "add all matching" copies onto a static list at most.
MAX_STATIC_ADD = 50_000


def _choice(value: Any, field: str, choices: list[str], default: str) -> str:
    if value is None or value == "":
        return default
    if not isinstance(value, str) or value not in choices:
        raise invalid({field: [_("Choose a valid option.")]})
    return value


def _tags(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise invalid({"tags": [_("Enter a list of tags.")]})
    tags = [" ".join(t.split()) for t in value if t.strip()]
    if len(tags) > MAX_TAGS:
        raise invalid({"tags": [_("At most %(n)d tags.") % {"n": MAX_TAGS}]})
    if any(len(t) > 50 or "\x00" in t for t in tags):
        raise invalid({"tags": [_("A tag has at most 50 characters.")]})
    return tags


def _name(value: Any) -> str:
    name = as_text(value, field="name", max_length=200)
    if not name:
        raise invalid({"name": [_("This field is required.")]})
    return name


def _owner(value: Any) -> User | None:
    if value is None or value == "":
        return None
    if isinstance(value, User):
        return value
    try:
        user = User.objects.filter(pk=as_pk(value), is_active=True).first()
    except Exception:
        user = None
    if user is None:
        raise invalid({"owner": [_("Choose an active user.")]})
    return user


def _team(value: Any) -> Team | None:
    if value is None or value == "":
        return None
    if isinstance(value, Team):
        return value
    try:
        team = Team.objects.filter(pk=as_pk(value)).first()
    except Exception:
        team = None
    if team is None:
        raise invalid({"team": [_("Choose a team.")]})
    return team


def segment_create(
    *,
    actor: User,
    name: Any,
    kind: Any,
    match: Any = RuleMatch.ALL,
    rules: Any = (),
    description: Any = "",
    tags: Any = None,
    owner: Any = None,
    team: Any = None,
) -> Segment:
    """A new segment owned by ``actor`` (or ``owner``); dynamic segments need a rule."""
    if not can_create(actor, Segment):
        raise denied()
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for field, check in (
        ("name", lambda: _name(name)),
        ("kind", lambda: _choice(kind, "kind", SegmentKind.values, SegmentKind.DYNAMIC)),
        ("match", lambda: _choice(match, "match", RuleMatch.values, RuleMatch.ALL)),
        ("description", lambda: as_text(description, field="description", max_length=5000)),
        ("tags", lambda: _tags(tags)),
        ("owner", lambda: _owner(owner) if owner is not None else actor),
        ("team", lambda: _team(team) if team is not None else actor.team),
    ):
        try:
            values[field] = check()
        except ValidationFailed as exc:
            errors.update(exc.fields or {field: [str(exc)]})
    cleaned_rules: list[dict[str, str]] = []
    if values.get("kind") == SegmentKind.DYNAMIC:
        try:
            cleaned_rules = clean_rules(list(rules or ()), actor=actor)
        except ValidationFailed as exc:
            errors.update(exc.fields or {})
        if not errors and not cleaned_rules:
            errors["rules"] = [_("Add at least one rule.")]
    elif rules:
        errors["rules"] = [_("A static list has members, not rules.")]
    if errors:
        raise invalid(errors)
    return record_create(
        Segment(
            name=values["name"],
            kind=values["kind"],
            match=values["match"],
            rules=cleaned_rules,
            description=values["description"],
            owner=values["owner"],
            team=values["team"],
        ),
        actor=actor,
        tags=values["tags"],
    )


_UPDATABLE = frozenset({"name", "match", "rules", "description", "tags", "owner", "team"})


def segment_update(
    *,
    actor: User,
    segment_id: Any,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Segment:
    """Change a segment; only the keys of ``data`` change (the kind never does)."""
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = [str(k) for k in data if k not in _UPDATABLE]
    if unknown:
        raise invalid({key: [_("Unknown field.")] for key in unknown})
    with transaction.atomic():
        segment = get_for(Segment.objects.all(), actor=actor, pk=segment_id, action="change")
        changes: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        checks = {
            "name": _name,
            "match": lambda v: _choice(v, "match", RuleMatch.values, segment.match),
            "description": lambda v: as_text(v, field="description", max_length=5000),
            "owner": _owner,
            "team": _team,
        }
        for field, check in checks.items():
            if field in data:
                try:
                    changes[field] = check(data[field])
                except ValidationFailed as exc:
                    errors.update(exc.fields or {field: [str(exc)]})
        tags = None
        if "tags" in data:
            try:
                tags = _tags(data["tags"])
            except ValidationFailed as exc:
                errors.update(exc.fields or {})
        if "rules" in data:
            if segment.kind == SegmentKind.STATIC:
                if data["rules"]:
                    errors["rules"] = [_("A static list has members, not rules.")]
            else:
                try:
                    changes["rules"] = clean_rules(
                        data["rules"], actor=actor, segment_id=int(segment.pk)
                    )
                except ValidationFailed as exc:
                    errors.update(exc.fields or {})
                if "rules" in changes and not changes["rules"]:
                    errors["rules"] = [_("Add at least one rule.")]
        if errors:
            raise invalid(errors)
        return record_update(
            segment, actor=actor, data=changes, expected_version=expected_version, tags=tags
        )


def segment_archive(*, actor: User, segment_id: Any) -> Segment:
    """Archive a segment: hidden from lists and choices; campaigns that use it keep it."""
    with transaction.atomic():
        segment = get_for(Segment.objects.all(), actor=actor, pk=segment_id, action="change")
        return record_update(segment, actor=actor, data={"is_archived": True})


def segment_restore(*, actor: User, segment_id: Any) -> Segment:
    """Bring an archived segment back."""
    with transaction.atomic():
        segment = get_for(Segment.objects.all(), actor=actor, pk=segment_id, action="change")
        return record_update(segment, actor=actor, data={"is_archived": False})


# --- static lists -----------------------------------------------------------------------------


def _static_for_change(actor: User, segment_id: Any) -> Segment:
    segment = get_for(Segment.objects.all(), actor=actor, pk=segment_id, action="change")
    if segment.kind != SegmentKind.STATIC:
        raise invalid({"segment": [_("Customers are added to static lists only.")]})
    if segment.is_archived:
        raise invalid({"segment": [_("This list is archived.")]})
    return segment


def _customer_ids(value: Any) -> list[int]:
    if not isinstance(value, list | tuple | set | frozenset):
        raise invalid({"customer_ids": [_("Enter a list of customer ids.")]})
    ids: list[int] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise invalid({"customer_ids": [_("Enter a list of customer ids.")]})
        try:
            ids.append(as_pk(item))
        except Exception:
            raise invalid(
                {"customer_ids": [_("%(value)s is not a customer id.") % {"value": str(item)[:40]}]}
            ) from None
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_IDS:
        raise invalid({"customer_ids": [_("At most %(n)d customers at once.") % {"n": MAX_IDS}]})
    return ids


def _add(segment: Segment, actor: User, customer_ids: Iterable[int]) -> int:
    """Insert the members not yet on the list; how many were new."""
    ids = list(customer_ids)
    if not ids:
        return 0
    before = SegmentMember.objects.filter(segment=segment).count()
    for start in range(0, len(ids), 1000):
        SegmentMember.objects.bulk_create(
            [
                SegmentMember(segment=segment, customer_id=pk, added_by=actor)
                for pk in ids[start : start + 1000]
            ],
            ignore_conflicts=True,
        )
    return SegmentMember.objects.filter(segment=segment).count() - before


def _touch(segment: Segment, actor: User) -> None:
    Segment.objects.filter(pk=segment.pk).update(updated_at=timezone.now(), updated_by=actor)


def static_members_add(*, actor: User, segment_id: Any, customer_ids: Any) -> int:
    """Put the given customers on a static list; how many were not on it yet.

    Every id must be a customer ``actor`` may see; an unknown or hidden one is an error naming
    it, and nothing is added.
    """
    ids = _customer_ids(customer_ids)
    with transaction.atomic():
        segment = _static_for_change(actor, segment_id)
        visible = set(
            restrict(customer_queryset(), actor, "view")
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        missing = [pk for pk in ids if pk not in visible]
        if missing:
            shown = ", ".join(str(pk) for pk in missing[:10])
            raise invalid({"customer_ids": [_("No such customers: %(ids)s.") % {"ids": shown}]})
        added = _add(segment, actor, ids)
        if added:
            _touch(segment, actor)
    return added


def static_members_add_matching(
    *, actor: User, segment_id: Any, customers: Any, limit: int = MAX_STATIC_ADD
) -> int:
    """Put every customer of ``customers`` (a queryset the caller already restricted to what
    ``actor`` may see, e.g. the filtered customer list) on a static list, up to ``limit``.

    Refused when more than ``limit`` customers match, so a list never holds a silent cut.
    """
    with transaction.atomic():
        segment = _static_for_change(actor, segment_id)
        visible = restrict(customers, actor, "view")
        ids = list(visible.order_by().values_list("pk", flat=True)[: limit + 1])
        if len(ids) > limit:
            raise invalid(
                {
                    "customer_ids": [
                        _("More than %(n)d customers match; narrow the filters first.")
                        % {"n": limit}
                    ]
                }
            )
        added = _add(segment, actor, ids)
        if added:
            _touch(segment, actor)
    return added


def static_members_remove(*, actor: User, segment_id: Any, customer_ids: Any) -> int:
    """Take the given customers off a static list; how many were on it.

    Only customers ``actor`` may see are removed; other ids are ignored.
    """
    ids = _customer_ids(customer_ids)
    with transaction.atomic():
        segment = _static_for_change(actor, segment_id)
        visible = restrict(customer_queryset(), actor, "view").filter(pk__in=ids).values("pk")
        removed, _detail = SegmentMember.objects.filter(
            segment=segment, customer_id__in=visible
        ).delete()
        if removed:
            _touch(segment, actor)
    return int(removed)


# --- counts and sizes ----------------------------------------------------------------------


def segment_record_count(*, segment: Segment, count: int) -> None:
    """Keep ``count`` as the segment's latest size (not a change of the segment itself)."""
    Segment.objects.filter(pk=segment.pk).update(last_count=count, last_counted_at=timezone.now())
    segment.last_count = count
    segment.last_counted_at = timezone.now()


def segment_write_size(*, segment: Segment, day: datetime.date | None = None) -> SegmentSize:
    """Count every customer in ``segment`` (system-wide) and keep it as the day's size.

    Running again on the same day replaces the day's figure.
    """
    from vefa.marketing.selectors.segments import segment_customers

    count = segment_customers(segment).count()
    day = day or timezone.localdate()
    with transaction.atomic():
        size, _created = SegmentSize.objects.update_or_create(
            segment=segment, day=day, defaults={"count": count}
        )
        segment_record_count(segment=segment, count=count)
    return size


# --- call lists ---------------------------------------------------------------------------------

# Calls one job creates at most: a bigger segment is narrowed first.
MAX_CALL_TASKS = 5000


def _call_subject(segment: Segment) -> str:
    return (_("Call: %(segment)s") % {"segment": segment.name})[:300]


def segment_call_tasks_start(
    *, actor: User, segment_id: Any, due_on: datetime.date | None = None
) -> Job:
    """Start the job that plans a call for the owner of each customer in the segment that
    ``actor`` may see (due ``due_on``, default today), once per segment and day.

    A second start on the same day is refused while the first is queued, running or done;
    a customer without an owner gets the call on ``actor``'s list. Customers whose owner
    ``actor`` may not assign work to are left out and counted in the job's result.
    """
    from vefa.marketing.selectors.segments import segment_get, visible_members
    from vefa.marketing.tasks_segments import CALL_TASKS_KIND

    if not can_create(actor, Activity):
        raise denied()
    segment = segment_get(actor=actor, pk=segment_id)
    day = timezone.localdate()
    due = due_on or day
    if not isinstance(due, datetime.date) or due < day:
        raise invalid({"due_on": [_("Choose today or a later day.")]})
    with transaction.atomic():
        # Serialise starts for one segment, so two clicks make one job.
        Segment.objects.select_for_update().filter(pk=segment.pk).first()
        already = (
            Job.objects.filter(
                kind=CALL_TASKS_KIND, params__segment=segment.pk, params__day=day.isoformat()
            )
            .exclude(status=Job.Status.FAILED)
            .exists()
        )
        if already:
            raise invalid({"segment": [_("The calls of this segment were planned today.")]})
        count = visible_members(actor=actor, segment=segment)[: MAX_CALL_TASKS + 1].count()
        if count == 0:
            raise invalid({"segment": [_("There is no customer in this segment.")]})
        if count > MAX_CALL_TASKS:
            raise invalid(
                {
                    "segment": [
                        _("More than %(n)d customers: narrow the segment first.")
                        % {"n": MAX_CALL_TASKS}
                    ]
                }
            )
        return job_start(
            actor=actor,
            kind=CALL_TASKS_KIND,
            title=(_("Calls for segment %(name)s") % {"name": segment.name})[:200],
            params={
                "segment": int(segment.pk),
                "day": day.isoformat(),
                "due_on": due.isoformat(),
                "subject": _call_subject(segment),
                "total": count,
            },
        )


def call_tasks_batch(*, job: Job, report: Progress, batch: int = 200) -> dict[str, Any]:
    """Run the call-list job: resumes after ``job.checkpoint["after"]`` (a customer id)."""
    from vefa.interactions.services.activities import activity_create
    from vefa.marketing.selectors.segments import visible_members

    actor = job.user
    params = job.params
    segment = Segment.objects.select_related("owner").filter(pk=params.get("segment")).first()
    if actor is None or segment is None:
        return {"created": 0, "skipped": 0, "not_assignable": 0}
    subject = str(params["subject"])
    due_day = datetime.date.fromisoformat(str(params["due_on"]))
    due_at = timezone.make_aware(
        datetime.datetime.combine(due_day, datetime.time(10, 0)), timezone.get_current_timezone()
    )
    created_day = datetime.date.fromisoformat(str(params["day"]))
    counts = {
        "created": int(job.checkpoint.get("created", 0)),
        "skipped": int(job.checkpoint.get("skipped", 0)),
        "not_assignable": int(job.checkpoint.get("not_assignable", 0)),
    }
    after = int(job.checkpoint.get("after", 0))
    total = int(params.get("total") or 0)
    done = sum(counts.values())
    members = visible_members(actor=actor, segment=segment).order_by("pk")
    while True:
        rows = list(members.filter(pk__gt=after).values_list("pk", "owner_id")[:batch])
        if not rows:
            break
        ids = [pk for pk, _owner in rows]
        has_call = set(
            Activity.objects.filter(
                customer_id__in=ids,
                kind=ActivityKind.CALL,
                subject=subject,
                created_at__date=created_day,
            ).values_list("customer_id", flat=True)
        )
        for pk, owner_id in rows:
            if done >= MAX_CALL_TASKS:
                break
            if pk in has_call:
                counts["skipped"] += 1
            else:
                try:
                    activity_create(
                        actor=actor,
                        kind=ActivityKind.CALL,
                        subject=subject,
                        owner_id=owner_id,
                        customer_id=pk,
                        due_at=due_at,
                    )
                    counts["created"] += 1
                except (ValidationFailed, PermissionDenied):
                    counts["not_assignable"] += 1
            done += 1
            after = pk
        report(done, total, checkpoint={"after": after, **counts})
        if done >= MAX_CALL_TASKS:
            break
    return counts

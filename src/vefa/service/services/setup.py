"""Writes of the service configuration: queues, the category tree, business calendars and
their holidays, SLA policies and assignment rules. Administrators only
(``POLICIES["service.queue"]``); anyone else gets ``NotFound``, as for a missing record.

Every write goes through ``vefa.platform.records`` (validation, version check, change log,
event). Nothing is deleted: a queue, category, policy or rule is deactivated (tickets and
reports keep pointing at it); a holiday is removed.

Rules kept here:

- the category tree has no cycles and at most ``MAX_DEPTH`` levels; each node's ``path``
  ("Delivery › Late › Carrier") follows renames and moves of its ancestors;
- a calendar's hours are checked by ``vefa.service.sla.parse_hours`` and its zone must be an
  IANA name; a change to a calendar or its holidays moves its version, so cached clocks
  are rebuilt;
- an SLA policy's resolution target is not shorter than its first-response target, and one
  that reassigns on breach names who takes over;
- one default queue at most.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Model
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create
from vefa.accounts.models import Team, User
from vefa.common.errors import NotFound, ValidationFailed
from vefa.platform.records import record_create, record_delete, record_update
from vefa.service.choices import AssignmentMethod, EscalationAction, TicketPriority, TicketType
from vefa.service.models import (
    AssignmentRule,
    BusinessCalendar,
    Category,
    Holiday,
    Queue,
    SlaPolicy,
)
from vefa.service.sla import HoursError, parse_hours, validate_time_zone

if TYPE_CHECKING:
    import datetime

MAX_DEPTH = 8
MAX_PATH = 500
PATH_SEPARATOR = " › "
VALUE_CLASSES = ("", "A", "B", "C")
# Ten years of round-the-clock minutes: longer targets are certainly typing mistakes.
MAX_TARGET_MINUTES = 10 * 366 * 24 * 60

Cleaner = Callable[[Any], Any]


def invalid(fields: dict[str, list[str]]) -> ValidationFailed:
    return ValidationFailed(_("Please correct the errors below."), fields=fields)


def require_admin(actor: User | None) -> None:
    """Only those who keep the configuration write it; anyone else is told "not found"."""
    if actor is None or not can_create(actor, Queue):
        raise NotFound(_("No such page."))


# --- value cleaners --------------------------------------------------------------------------


def _text(field: str, max_length: int, *, required: bool = True) -> Cleaner:
    def clean(value: Any) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise invalid({field: [_("Enter text.")]})
        value = " ".join(value.split())
        if required and not value:
            raise invalid({field: [_("This field is required.")]})
        if len(value) > max_length:
            raise invalid({field: [_("At most %(n)d characters.") % {"n": max_length}]})
        return value

    return clean


def _bool(field: str) -> Cleaner:
    def clean(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "1", "on", 1):
            return True
        if value in ("false", "0", "", 0, None):
            return False
        raise invalid({field: [_("Enter yes or no.")]})

    return clean


def _whole(field: str, minimum: int, maximum: int) -> Cleaner:
    def clean(value: Any) -> int:
        if isinstance(value, bool) or value is None or value == "":
            raise invalid({field: [_("Enter a whole number.")]})
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise invalid({field: [_("Enter a whole number.")]}) from None
        if isinstance(value, float) and number != value:
            raise invalid({field: [_("Enter a whole number.")]})
        if not minimum <= number <= maximum:
            raise invalid(
                {
                    field: [
                        _("Enter a number from %(min)d to %(max)d.")
                        % {"min": minimum, "max": maximum}
                    ]
                }
            )
        return number

    return clean


def _choice(field: str, values: Any, *, blank: bool = False) -> Cleaner:
    allowed = set(values) | ({""} if blank else set())

    def clean(value: Any) -> str:
        if value is None and blank:
            return ""
        if not isinstance(value, str) or value not in allowed:
            raise invalid({field: [_("Choose a valid option.")]})
        return value

    return clean


def _ref(field: str, model: type[Model], *, required: bool = False, **filters: Any) -> Cleaner:
    def clean(value: Any) -> Any:
        if isinstance(value, model):
            value = value.pk
        if value in (None, ""):
            if required:
                raise invalid({field: [_("This field is required.")]})
            return None
        if isinstance(value, bool):
            raise invalid({field: [_("Choose a valid option.")]})
        try:
            pk = int(value)
        except (TypeError, ValueError):
            raise invalid({field: [_("Choose a valid option.")]}) from None
        found = model._default_manager.filter(pk=pk, **filters).first()
        if found is None:
            raise invalid({field: [_("Choose a valid option.")]})
        return found

    return clean


def _email(value: Any) -> str:
    value = _text("email_address", 254, required=False)(value)
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise invalid({"email_address": [_("Enter a valid e-mail address.")]}) from None
    return value.lower()


def _zone(value: Any) -> str:
    try:
        validate_time_zone(value)
    except ValueError:
        raise invalid({"time_zone": [_("Choose a time zone such as Europe/Istanbul.")]}) from None
    return str(value)


def _hours(value: Any) -> dict[str, list[list[str]]]:
    try:
        parsed = parse_hours(value)
    except HoursError as exc:
        raise invalid({"hours": exc.messages}) from None

    def hhmm(minutes: int) -> str:
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    return {
        str(day): [[hhmm(a), hhmm(b)] for a, b in intervals]
        for day, intervals in sorted(parsed.items())
        if intervals
    }


def _clean(
    data: Mapping[str, Any], cleaners: Mapping[str, Cleaner], *, required: tuple[str, ...]
) -> dict[str, Any]:
    """Every given field cleaned; errors of all fields collected into one refusal."""
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Send the fields as an object.")]})
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for key in data:
        if key not in cleaners:
            errors[str(key)[:50]] = [_("Unknown field.")]
    for key in required:
        if key not in data:
            errors[key] = [_("This field is required.")]
    for key, cleaner in cleaners.items():
        if key not in data or key in errors:
            continue
        try:
            values[key] = cleaner(data[key])
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                errors.setdefault(name, []).extend(messages)
    if errors:
        raise invalid(errors)
    return values


def _unique_name(model: type[Model], name: str, exclude: int | None, **scope: Any) -> None:
    clash = model._default_manager.filter(name__iexact=name, **scope)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise invalid({"name": [_("This name is taken already.")]})


def _locked(model: type[Model], pk: Any) -> Any:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("No such record.")) from None
    found = model._default_manager.select_for_update().filter(pk=key).first()
    if found is None:
        raise NotFound(_("No such record."))
    return found


# --- queues ----------------------------------------------------------------------------------

QUEUE_CLEANERS: dict[str, Cleaner] = {
    "name": _text("name", 100),
    "team": _ref("team", Team),
    "calendar": _ref("calendar", BusinessCalendar),
    "assignment": _choice("assignment", AssignmentMethod.values),
    "email_address": _email,
    "is_default": _bool("is_default"),
    "is_active": _bool("is_active"),
}


def _queue_rules(values: dict[str, Any], queue: Queue | None) -> None:
    name = values.get("name", queue.name if queue else "")
    _unique_name(Queue, name, queue.pk if queue else None)
    email = values.get("email_address", queue.email_address if queue else "")
    if email:
        clash = Queue.objects.filter(email_address__iexact=email)
        if queue is not None:
            clash = clash.exclude(pk=queue.pk)
        if clash.exists():
            raise invalid({"email_address": [_("Another queue receives this address.")]})
    active = values.get("is_active", queue.is_active if queue else True)
    default = values.get("is_default", queue.is_default if queue else False)
    if default and not active:
        raise invalid({"is_default": [_("The default queue must be active.")]})


def _unset_other_defaults(queue: Queue, actor: User) -> None:
    for other in Queue.objects.select_for_update().filter(is_default=True).exclude(pk=queue.pk):
        record_update(other, actor=actor, data={"is_default": False})


def queue_create(*, actor: User, data: Mapping[str, Any]) -> Queue:
    require_admin(actor)
    values = _clean(data, QUEUE_CLEANERS, required=("name",))
    with transaction.atomic():
        _queue_rules(values, None)
        queue = record_create(Queue(**values), actor=actor)
        if queue.is_default:
            _unset_other_defaults(queue, actor)
    return queue


def queue_update(
    *, actor: User, queue_id: int, data: Mapping[str, Any], expected_version: int | None = None
) -> Queue:
    require_admin(actor)
    values = _clean(data, QUEUE_CLEANERS, required=())
    with transaction.atomic():
        queue = _locked(Queue, queue_id)
        _queue_rules(values, queue)
        queue = record_update(queue, actor=actor, data=values, expected_version=expected_version)
        if queue.is_default:
            _unset_other_defaults(queue, actor)
    return queue


# --- categories ------------------------------------------------------------------------------

CATEGORY_CLEANERS: dict[str, Cleaner] = {
    "name": _text("name", 100),
    "parent": _ref("parent", Category),
    "queue": _ref("queue", Queue),
    "is_active": _bool("is_active"),
}


def _ancestors(category: Category | None) -> list[Category]:
    """The chain from the root down to ``category`` (inclusive)."""
    chain: list[Category] = []
    seen: set[int] = set()
    while category is not None and category.pk not in seen:
        seen.add(category.pk)
        chain.append(category)
        category = category.parent
    chain.reverse()
    return chain


def _category_rules(values: dict[str, Any], category: Category | None) -> str:
    """Check name, parent (no cycle, depth) and return the node's new path."""
    name = values.get("name", category.name if category else "")
    parent = values.get("parent", category.parent if category else None)
    chain = _ancestors(parent)
    if category is not None and any(c.pk == category.pk for c in chain):
        raise invalid({"parent": [_("A category cannot be placed under itself or below.")]})
    if len(chain) + 1 + (_subtree_height(category) if category else 0) > MAX_DEPTH:
        raise invalid({"parent": [_("At most %(n)d levels.") % {"n": MAX_DEPTH}]})
    _unique_name(Category, name, category.pk if category else None, parent=parent)
    path = PATH_SEPARATOR.join([*(c.name for c in chain), name])
    if len(path) > MAX_PATH:
        raise invalid({"name": [_("The full path is too long.")]})
    return path


def _children(parent_ids: list[int]) -> list[Category]:
    return list(Category.objects.filter(parent_id__in=parent_ids).order_by("pk"))


def _subtree_height(category: Category) -> int:
    height, level = 0, [category.pk]
    while level and height <= MAX_DEPTH:
        level = [c.pk for c in _children(level)]
        if level:
            height += 1
    return height


def _refresh_descendant_paths(category: Category) -> int:
    """Rewrite the paths below ``category`` after it was renamed or moved; returns the count."""
    paths = {category.pk: category.path}
    level = [category.pk]
    changed: list[Category] = []
    while level:
        children = _children(level)
        for child in children:
            child.path = paths[child.parent_id] + PATH_SEPARATOR + child.name  # type: ignore[index]
            paths[child.pk] = child.path
            if len(child.path) > MAX_PATH:
                raise invalid({"name": [_("A category below would get too long a path.")]})
            changed.append(child)
        level = [c.pk for c in children]
    if changed:
        Category.objects.bulk_update(changed, ["path"], batch_size=500)
    return len(changed)


def category_create(*, actor: User, data: Mapping[str, Any]) -> Category:
    require_admin(actor)
    values = _clean(data, CATEGORY_CLEANERS, required=("name",))
    with transaction.atomic():
        path = _category_rules(values, None)
        category = Category(**values)
        category.path = path
        return record_create(category, actor=actor)


def category_update(
    *,
    actor: User,
    category_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Category:
    """Rename, move, re-route or deactivate a category; the paths below follow."""
    require_admin(actor)
    values = _clean(data, CATEGORY_CLEANERS, required=())
    with transaction.atomic():
        category = _locked(Category, category_id)
        path = _category_rules(values, category)
        category = record_update(
            category, actor=actor, data={**values, "path": path}, expected_version=expected_version
        )
        _refresh_descendant_paths(category)
    return category


# --- calendars and holidays ------------------------------------------------------------------

CALENDAR_CLEANERS: dict[str, Cleaner] = {
    "name": _text("name", 100),
    "time_zone": _zone,
    "hours": _hours,
}


def calendar_create(*, actor: User, data: Mapping[str, Any]) -> BusinessCalendar:
    require_admin(actor)
    values = _clean(data, CALENDAR_CLEANERS, required=("name", "time_zone"))
    with transaction.atomic():
        _unique_name(BusinessCalendar, values["name"], None)
        return record_create(BusinessCalendar(**values), actor=actor)


def calendar_update(
    *,
    actor: User,
    calendar_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> BusinessCalendar:
    require_admin(actor)
    values = _clean(data, CALENDAR_CLEANERS, required=())
    with transaction.atomic():
        calendar = _locked(BusinessCalendar, calendar_id)
        if "name" in values:
            _unique_name(BusinessCalendar, values["name"], calendar.pk)
        return record_update(calendar, actor=actor, data=values, expected_version=expected_version)


def _touch_calendar(calendar_id: int) -> None:
    """A holiday changed: move the calendar's version so cached clocks are rebuilt."""
    BusinessCalendar.objects.filter(pk=calendar_id).update(
        version=F("version") + 1, updated_at=timezone.now()
    )


def _date(value: Any) -> datetime.date:
    import datetime as dt

    if isinstance(value, dt.datetime):
        raise invalid({"date": [_("Enter a date.")]})
    if isinstance(value, dt.date):
        return value
    parsed = None
    if isinstance(value, str) and len(value) <= 10:
        try:
            parsed = parse_date(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise invalid({"date": [_("Enter a date as YYYY-MM-DD.")]})
    if not 2000 <= parsed.year <= 2200:
        raise invalid({"date": [_("Enter a date as YYYY-MM-DD.")]})
    return parsed


def holiday_add(*, actor: User, calendar_id: int, date: Any, name: Any) -> Holiday:
    require_admin(actor)
    values = _clean(
        {"date": date, "name": name},
        {"date": _date, "name": _text("name", 100)},
        required=("date", "name"),
    )
    with transaction.atomic():
        calendar = _locked(BusinessCalendar, calendar_id)
        if Holiday.objects.filter(calendar=calendar, date=values["date"]).exists():
            raise invalid({"date": [_("This day is a holiday already.")]})
        holiday = record_create(Holiday(calendar=calendar, **values), actor=actor)
        _touch_calendar(calendar.pk)
    return holiday


def holiday_remove(*, actor: User, holiday_id: int) -> int:
    """Remove a holiday; returns its calendar's id."""
    require_admin(actor)
    with transaction.atomic():
        holiday = _locked(Holiday, holiday_id)
        calendar_id = holiday.calendar_id
        record_delete(holiday, actor=actor)
        _touch_calendar(calendar_id)
    return calendar_id


# --- SLA policies ----------------------------------------------------------------------------

POLICY_CLEANERS: dict[str, Cleaner] = {
    "name": _text("name", 100),
    "priority": _choice("priority", TicketPriority.values, blank=True),
    "value_class": _choice("value_class", VALUE_CLASSES, blank=True),
    "first_response_minutes": _whole("first_response_minutes", 1, MAX_TARGET_MINUTES),
    "resolution_minutes": _whole("resolution_minutes", 1, MAX_TARGET_MINUTES),
    "warn_at_percent": _whole("warn_at_percent", 1, 99),
    "escalation": _choice("escalation", EscalationAction.values),
    "escalate_to": _ref("escalate_to", User, is_active=True),
    "is_active": _bool("is_active"),
}


def _policy_rules(values: dict[str, Any], policy: SlaPolicy | None) -> None:
    def current(name: str, default: Any) -> Any:
        return values[name] if name in values else getattr(policy, name, default)

    _unique_name(SlaPolicy, current("name", ""), policy.pk if policy else None)
    first = current("first_response_minutes", None)
    resolution = current("resolution_minutes", None)
    if first is not None and resolution is not None and resolution < first:
        raise invalid(
            {
                "resolution_minutes": [
                    _("The resolution target cannot be shorter than the first response's.")
                ]
            }
        )
    if current("escalation", EscalationAction.NOTIFY) == EscalationAction.REASSIGN and (
        current("escalate_to", None) is None
    ):
        raise invalid({"escalate_to": [_("Choose who takes over a ticket that breaches.")]})


def sla_policy_create(*, actor: User, data: Mapping[str, Any]) -> SlaPolicy:
    require_admin(actor)
    values = _clean(
        data, POLICY_CLEANERS, required=("name", "first_response_minutes", "resolution_minutes")
    )
    with transaction.atomic():
        _policy_rules(values, None)
        return record_create(SlaPolicy(**values), actor=actor)


def sla_policy_update(
    *,
    actor: User,
    policy_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> SlaPolicy:
    """Change a policy; running clocks keep their due times (ADR 0010)."""
    require_admin(actor)
    values = _clean(data, POLICY_CLEANERS, required=())
    with transaction.atomic():
        policy = _locked(SlaPolicy, policy_id)
        _policy_rules(values, policy)
        return record_update(policy, actor=actor, data=values, expected_version=expected_version)


# --- assignment rules ------------------------------------------------------------------------

RULE_CLEANERS: dict[str, Cleaner] = {
    "position": _whole("position", 0, 100_000),
    "name": _text("name", 100),
    "category": _ref("category", Category),
    "ticket_type": _choice("ticket_type", TicketType.values, blank=True),
    "value_class": _choice("value_class", VALUE_CLASSES, blank=True),
    "queue": _ref("queue", Queue, required=True),
    "assignee": _ref("assignee", User, is_active=True),
    "is_active": _bool("is_active"),
}


def _rule_rules(values: dict[str, Any], rule: AssignmentRule | None) -> None:
    def current(name: str) -> Any:
        return values[name] if name in values else getattr(rule, name, None)

    if not (current("category") or current("ticket_type") or current("value_class")):
        raise invalid({"__all__": [_("Match on at least a category, a type or a value class.")]})


def assignment_rule_create(*, actor: User, data: Mapping[str, Any]) -> AssignmentRule:
    require_admin(actor)
    values = _clean(data, RULE_CLEANERS, required=("name", "queue"))
    with transaction.atomic():
        _rule_rules(values, None)
        return record_create(AssignmentRule(**values), actor=actor)


def assignment_rule_update(
    *,
    actor: User,
    rule_id: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> AssignmentRule:
    require_admin(actor)
    values = _clean(data, RULE_CLEANERS, required=())
    with transaction.atomic():
        rule = _locked(AssignmentRule, rule_id)
        _rule_rules(values, rule)
        return record_update(rule, actor=actor, data=values, expected_version=expected_version)


# --- by kind (the page and the API) ----------------------------------------------------------

CREATE: dict[str, Callable[..., Any]] = {
    "queue": queue_create,
    "category": category_create,
    "calendar": calendar_create,
    "policy": sla_policy_create,
    "rule": assignment_rule_create,
}


def setup_create(*, actor: User, kind: str, data: Mapping[str, Any]) -> Any:
    if kind not in CREATE:
        raise NotFound(_("No such page."))
    return CREATE[kind](actor=actor, data=data)


def setup_update(
    *,
    actor: User,
    kind: str,
    pk: int,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Any:
    if kind == "queue":
        return queue_update(actor=actor, queue_id=pk, data=data, expected_version=expected_version)
    if kind == "category":
        return category_update(
            actor=actor, category_id=pk, data=data, expected_version=expected_version
        )
    if kind == "calendar":
        return calendar_update(
            actor=actor, calendar_id=pk, data=data, expected_version=expected_version
        )
    if kind == "policy":
        return sla_policy_update(
            actor=actor, policy_id=pk, data=data, expected_version=expected_version
        )
    if kind == "rule":
        return assignment_rule_update(
            actor=actor, rule_id=pk, data=data, expected_version=expected_version
        )
    raise NotFound(_("No such page."))

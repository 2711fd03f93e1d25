"""Loyalty points: the programme, earning rules and tiers, awards, redemption, expiry.

Rules decided here:

* The installation runs one programme: the first active ``LoyaltyProgram``. Points are a
  ledger (``PointsEntry``); the balance is the sum of a customer's entries.
* Every award carries a key (``order:<id>``, ``birthday:<year>``, ``referral:<id>`` …) that is
  unique per programme and customer, so an award delivered twice is written once.
* Spending earns ``points`` per ``per_amount`` of the order's total (or of its lines in the
  rule's category), in the programme's currency only (nothing is converted), once the order
  is paid or delivered, times the multiplier of the customer's tier.
* A customer's tier is the tier of their ladder step; the ladder step is an analytic
  attribute read through the customer list's filter (parameter ``ladder_step``).
* Redeeming and expiring lock the customer's row first, so two redemptions at the same time
  cannot spend the same points twice.
* Expiry is first in, first out: points spent are taken from the oldest points, and what is
  left of points past their ``expires_at`` is written off by one ``expire`` entry per day.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create, restrict
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.customers.models import Customer
from vefa.marketing.choices import EarningRuleKind, PointsKind
from vefa.marketing.models import EarningRule, LoyaltyProgram, LoyaltyTier, PointsEntry
from vefa.platform.audit import log_change
from vefa.platform.models import ChangeLogEntry
from vefa.platform.records import record_create, record_delete, record_update

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.sales.models import Order

LADDER_STEPS = ("one_time", "occasional", "regular", "loyal")
MAX_POINTS = 10_000_000
MAX_REASON = 300
EARNING_STATUSES = ("paid", "delivered")


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={field: [message]})


def ladder_step_labels() -> dict[str, str]:
    return {
        "one_time": _("One-time buyer"),
        "occasional": _("Occasional buyer"),
        "regular": _("Regular buyer"),
        "loyal": _("Loyal customer"),
    }


# --- the programme ---------------------------------------------------------------------------


def active_program() -> LoyaltyProgram | None:
    """The programme points are earned in (the first active one), or ``None``."""
    return LoyaltyProgram.objects.filter(is_active=True).order_by("id").first()


def _setup_allowed(actor: User) -> None:
    if not can_create(actor, LoyaltyProgram):
        raise PermissionDenied(_("You may not change the loyalty programme."))


def _as_int(value: Any, field: str, *, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise invalid(field, _("Enter a whole number.")) from None
    if number < low or number > high:
        raise invalid(
            field, _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}
        )
    return number


def _as_decimal(value: Any, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise invalid(field, _("Enter a number.")) from None
    if not number.is_finite() or number < 0:
        raise invalid(field, _("Enter a number of zero or more."))
    return number


def program_save(*, actor: User, data: dict[str, Any]) -> LoyaltyProgram:
    """Create the programme or change it (name, currency, point value, minimum, expiry)."""
    _setup_allowed(actor)
    allowed = {"name", "currency", "point_value", "min_redeem", "expiry_months", "is_active"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={key: [_("Unknown field.")] for key in unknown},
        )
    values = dict(data)
    if "name" in values:
        values["name"] = str(values["name"] or "").strip()
    if "point_value" in values:
        values["point_value"] = _as_decimal(values["point_value"], "point_value") or Decimal(0)
    if values.get("expiry_months") in ("", None):
        values["expiry_months"] = None
    with transaction.atomic():
        program = LoyaltyProgram.objects.order_by("id").first()
        if program is None:
            return record_create(LoyaltyProgram(**values), actor=actor)
        return record_update(program, actor=actor, data=values)


def earning_rule_add(
    *,
    actor: User,
    kind: str,
    points: Any,
    per_amount: Any = None,
    category_id: int | None = None,
) -> EarningRule:
    """Add an earning rule to the programme; a spending rule needs the amount per points."""
    _setup_allowed(actor)
    program = active_program()
    if program is None:
        raise invalid("kind", _("Set up the loyalty programme first."))
    if kind not in EarningRuleKind.values:
        raise invalid("kind", _("Choose a valid value."))
    amount = _as_decimal(per_amount, "per_amount")
    if kind == EarningRuleKind.SPEND and not amount:
        raise invalid("per_amount", _("Enter the amount spent that earns the points."))
    if kind != EarningRuleKind.SPEND:
        amount = None
        category_id = None
    rule = EarningRule(
        program=program,
        kind=kind,
        points=_as_int(points, "points", low=1, high=MAX_POINTS),
        per_amount=amount,
        category_id=category_id or None,
    )
    return record_create(rule, actor=actor)


def earning_rule_delete(*, actor: User, rule_id: int) -> None:
    _setup_allowed(actor)
    rule = EarningRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("No such earning rule."))
    record_delete(rule, actor=actor)


def tier_add(
    *, actor: User, name: str, ladder_step: str, multiplier: Any, position: Any = 0
) -> LoyaltyTier:
    """Add a tier for a ladder step (one tier per step)."""
    _setup_allowed(actor)
    program = active_program()
    if program is None:
        raise invalid("name", _("Set up the loyalty programme first."))
    if ladder_step not in LADDER_STEPS:
        raise invalid("ladder_step", _("Choose a valid value."))
    if program.tiers.filter(ladder_step=ladder_step).exists():
        raise invalid("ladder_step", _("This ladder step already has a tier."))
    value = _as_decimal(multiplier, "multiplier")
    if value is None or value > Decimal(100):
        raise invalid("multiplier", _("Enter a multiplier from 0 to 100."))
    tier = LoyaltyTier(
        program=program,
        name=str(name or "").strip(),
        ladder_step=ladder_step,
        multiplier=value,
        position=_as_int(position or 0, "position", low=0, high=1000),
    )
    return record_create(tier, actor=actor)


def tier_delete(*, actor: User, tier_id: int) -> None:
    _setup_allowed(actor)
    tier = LoyaltyTier.objects.filter(pk=tier_id).first()
    if tier is None:
        raise NotFound(_("No such tier."))
    record_delete(tier, actor=actor)


# --- tiers and balances ----------------------------------------------------------------------


def customer_tier(customer_id: int, program: LoyaltyProgram) -> LoyaltyTier | None:
    """The tier of the customer's ladder step, read through the customer filter."""
    from vefa.customers.filters import CustomerFilterForm

    tiers = list(program.tiers.all())
    if not tiers:
        return None
    for tier in tiers:
        form = CustomerFilterForm({"ladder_step": tier.ladder_step}, actor=None)
        if "ladder_step" not in form.fields or not form.is_valid():
            return None
        if form.apply(Customer.objects.filter(pk=customer_id)).exists():
            return tier
    return None


def balance_of(customer_id: int, program: LoyaltyProgram) -> int:
    total = PointsEntry.objects.filter(program=program, customer_id=customer_id).aggregate(
        total=Sum("points")
    )["total"]
    return int(total or 0)


def _expires_at(
    program: LoyaltyProgram, occurred_at: datetime.datetime
) -> datetime.datetime | None:
    if not program.expiry_months:
        return None
    months = occurred_at.month - 1 + program.expiry_months
    year = occurred_at.year + months // 12
    month = months % 12 + 1
    day = min(occurred_at.day, _days_in_month(year, month))
    return occurred_at.replace(year=year, month=month, day=day)


def _days_in_month(year: int, month: int) -> int:
    following = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return (following - datetime.timedelta(days=1)).day


# --- awards ----------------------------------------------------------------------------------


def points_award(
    *,
    customer_id: int,
    points: int,
    key: str,
    kind: str = PointsKind.EARN,
    description: str = "",
    order: Order | None = None,
    actor: User | None = None,
    occurred_at: datetime.datetime | None = None,
    program: LoyaltyProgram | None = None,
) -> PointsEntry | None:
    """Write an award once per key; ``None`` when there is no programme or no points.

    An award whose key was already used returns the existing entry and writes nothing.
    """
    program = program or active_program()
    if program is None or points <= 0:
        return None
    existing = PointsEntry.objects.filter(program=program, customer_id=customer_id, key=key)
    found = existing.first()
    if found is not None:
        return found
    when = occurred_at or timezone.now()
    entry = PointsEntry(
        program=program,
        customer_id=customer_id,
        kind=kind,
        points=min(int(points), MAX_POINTS),
        key=key[:100],
        description=description[:MAX_REASON],
        occurred_at=when,
        expires_at=_expires_at(program, when),
        order=order,
        created_by=actor,
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        # The same award written at the same time by another process: that one counts.
        return existing.first()
    return entry


def rule_points(program: LoyaltyProgram, kind: str) -> int:
    """The points of the programme's active rules of a kind (birthday, sign-up …)."""
    total = program.rules.filter(kind=kind, is_active=True).aggregate(total=Sum("points"))
    return int(total["total"] or 0)


def points_award_rule(
    *, customer_id: int, kind: str, key: str, description: str = ""
) -> PointsEntry | None:
    """Award the points of the programme's ``kind`` rules (times the tier), once per key."""
    program = active_program()
    if program is None:
        return None
    points = rule_points(program, kind)
    tier = customer_tier(customer_id, program)
    if tier is not None:
        points = int((Decimal(points) * tier.multiplier).to_integral_value(ROUND_FLOOR))
    label = EarningRuleKind(kind).label if kind in EarningRuleKind.values else kind
    return points_award(
        customer_id=customer_id,
        points=points,
        key=key,
        kind=PointsKind.REFERRAL if kind == EarningRuleKind.REFERRAL else PointsKind.EARN,
        description=description or str(label),
        program=program,
    )


def order_points(order: Order, program: LoyaltyProgram) -> int:
    """The points an order earns under the programme's spending rules (before the tier)."""
    if order.currency != program.currency:
        return 0
    total = 0
    for rule in program.rules.filter(kind=EarningRuleKind.SPEND, is_active=True):
        if not rule.per_amount or rule.per_amount <= 0:
            continue
        if rule.category_id is not None:
            amount = sum(
                (line.total for line in order.lines.filter(product__category_id=rule.category_id)),
                Decimal(0),
            )
        else:
            amount = order.total
        if amount <= 0:
            continue
        total += int((amount / rule.per_amount).to_integral_value(ROUND_FLOOR)) * rule.points
    return total


def points_for_order(*, order_id: int) -> PointsEntry | None:
    """Award the points of a paid or delivered order, once (key ``order:<id>``)."""
    from vefa.sales.models import Order

    order = Order.objects.filter(pk=order_id).first()
    program = active_program()
    if order is None or program is None or order.status not in EARNING_STATUSES:
        return None
    points = order_points(order, program)
    tier = customer_tier(order.customer_id, program)
    if tier is not None:
        points = int((Decimal(points) * tier.multiplier).to_integral_value(ROUND_FLOOR))
    return points_award(
        customer_id=order.customer_id,
        points=points,
        key=f"order:{order.pk}",
        description=_("Order %(number)s") % {"number": order.number},
        order=order,
        program=program,
    )


# Orders that reached a paid or delivered status without an event (bulk intake, imports,
# a shop's inbound endpoint) are caught up by the hourly job: the orders changed since its
# last run (with a margin), or in this window when it never ran.
CATCH_UP_WINDOW = datetime.timedelta(days=30)
CATCH_UP_BATCH = 1_000


def order_points_catch_up(
    *, since: datetime.datetime | None = None, now: datetime.datetime | None = None
) -> int:
    """Award the points (and the referrer's reward) of paid or delivered orders that earned
    nothing yet: orders of the programme's currency, placed since the programme began and
    changed since ``since`` (default: the last ``CATCH_UP_WINDOW``). Idempotent (the award
    keys); returns how many orders were looked at, in batches by id."""
    from vefa.marketing.services.referrals import referral_reward
    from vefa.sales.models import Order

    program = active_program()
    if program is None:
        return 0
    now = now or timezone.now()
    since = max(program.created_at, since or now - CATCH_UP_WINDOW)
    awarded = PointsEntry.objects.filter(program=program, order__isnull=False).values("order_id")
    candidates = Order.objects.filter(
        status__in=EARNING_STATUSES,
        currency=program.currency,
        created_at__gte=program.created_at,
        updated_at__gte=since,
    ).exclude(pk__in=awarded)
    seen, last = 0, 0
    while True:
        batch = list(
            candidates.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "customer_id")[:CATCH_UP_BATCH]
        )
        for order_id, customer_id in batch:
            points_for_order(order_id=order_id)
            referral_reward(referred_id=customer_id, order_id=order_id)
        seen += len(batch)
        if len(batch) < CATCH_UP_BATCH:
            return seen
        last = batch[-1][0]


# --- redemption, adjustment, expiry ----------------------------------------------------------


def _customer_for(actor: User, customer_id: Any, action: str = "change") -> Customer:
    try:
        pk = int(customer_id)
    except (TypeError, ValueError):
        raise NotFound(_("No such customer.")) from None
    customer = restrict(Customer.objects.filter(merged_into__isnull=True), actor, action)  # type: ignore[arg-type]
    found = customer.filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No such customer."))
    return found


def _lock_customer(customer_id: int) -> None:
    """Serialise the points writes of one customer (row lock; SQLite locks the database)."""
    list(Customer.objects.select_for_update().filter(pk=customer_id).values_list("pk"))


def _clean_reason(reason: Any) -> str:
    text = str(reason or "").strip()
    if not text:
        raise invalid("reason", _("Give a reason."))
    if len(text) > MAX_REASON:
        raise invalid("reason", _("At most %(n)d characters.") % {"n": MAX_REASON})
    return text


def points_redeem(*, actor: User, customer_id: int, points: Any, reason: Any) -> PointsEntry:
    """Spend a customer's points; refused beyond the balance or below the programme minimum."""
    program = active_program()
    if program is None:
        raise invalid("points", _("There is no active loyalty programme."))
    amount = _as_int(points, "points", low=1, high=MAX_POINTS)
    text = _clean_reason(reason)
    if amount < program.min_redeem:
        raise invalid(
            "points",
            _("At least %(n)d points are redeemed at a time.") % {"n": program.min_redeem},
        )
    with transaction.atomic():
        customer = _customer_for(actor, customer_id)
        _lock_customer(customer.pk)
        balance = balance_of(customer.pk, program)
        if amount > balance:
            raise invalid("points", _("The balance is %(balance)d points.") % {"balance": balance})
        entry = PointsEntry.objects.create(
            program=program,
            customer=customer,
            kind=PointsKind.REDEEM,
            points=-amount,
            key=f"redeem:{uuid.uuid4().hex}",
            description=text,
            occurred_at=timezone.now(),
            created_by=actor,
        )
        _log(actor, entry, balance)
    return entry


def points_adjust(*, actor: User, customer_id: int, points: Any, reason: Any) -> PointsEntry:
    """Add or take away points by hand, with a reason; the balance never goes below zero."""
    program = active_program()
    if program is None:
        raise invalid("points", _("There is no active loyalty programme."))
    change = _as_int(points, "points", low=-MAX_POINTS, high=MAX_POINTS)
    if change == 0:
        raise invalid("points", _("Enter a number other than zero."))
    text = _clean_reason(reason)
    if not can_create(actor, LoyaltyProgram):
        raise PermissionDenied(_("You may not adjust points."))
    with transaction.atomic():
        customer = _customer_for(actor, customer_id, "view")
        _lock_customer(customer.pk)
        balance = balance_of(customer.pk, program)
        if balance + change < 0:
            raise invalid("points", _("The balance is %(balance)d points.") % {"balance": balance})
        now = timezone.now()
        entry = PointsEntry.objects.create(
            program=program,
            customer=customer,
            kind=PointsKind.ADJUST,
            points=change,
            key=f"adjust:{uuid.uuid4().hex}",
            description=text,
            occurred_at=now,
            expires_at=_expires_at(program, now) if change > 0 else None,
            created_by=actor,
        )
        _log(actor, entry, balance)
    return entry


def _log(actor: User | None, entry: PointsEntry, balance_before: int) -> None:
    log_change(
        actor=actor,
        instance=entry,
        action=ChangeLogEntry.Action.CREATE,
        before=None,
        after={
            "customer": entry.customer_id,
            "kind": entry.kind,
            "points": entry.points,
            "description": entry.description,
            "balance_before": balance_before,
            "balance_after": balance_before + entry.points,
        },
    )


EXPIRY_BATCH = 500


def _expired_due(
    program: LoyaltyProgram, customer_ids: list[int], now: datetime.datetime
) -> dict[int, int]:
    """Points to write off now per customer (first in, first out), for a batch of customers."""
    rows = (
        PointsEntry.objects.filter(program=program, customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(
            past=Sum("points", filter=Q(points__gt=0, expires_at__lte=now)),
            spent=Sum("points", filter=Q(points__lt=0) & ~Q(kind=PointsKind.EXPIRE)),
            expired=Sum("points", filter=Q(kind=PointsKind.EXPIRE)),
            balance=Sum("points"),
        )
        .order_by()
    )
    due: dict[int, int] = {}
    for row in rows:
        past = int(row["past"] or 0)
        spent = -int(row["spent"] or 0)
        expired = -int(row["expired"] or 0)
        amount = max(0, min(past - spent - expired, int(row["balance"] or 0)))
        if amount > 0:
            due[int(row["customer_id"])] = amount
    return due


def points_expire(*, now: datetime.datetime | None = None) -> int:
    """Write ``expire`` entries for points past their expiry; idempotent. Returns the count.

    Customers are taken in batches: each batch's rows are locked, their amounts computed in
    one query and the entries written together, so a run over many customers stays quick and
    a rerun writes nothing.
    """
    now = now or timezone.now()
    program = active_program()
    if program is None:
        return 0
    customers = (
        PointsEntry.objects.filter(program=program, points__gt=0, expires_at__lte=now)
        .values_list("customer_id", flat=True)
        .distinct()
        .order_by("customer_id")
    )
    written = 0
    batch: list[int] = []
    for customer_id in customers.iterator(chunk_size=EXPIRY_BATCH * 4):
        batch.append(int(customer_id))
        if len(batch) == EXPIRY_BATCH:
            written += _expire_batch(program, batch, now)
            batch = []
    if batch:
        written += _expire_batch(program, batch, now)
    return written


def _expire_batch(program: LoyaltyProgram, customer_ids: list[int], now: datetime.datetime) -> int:
    with transaction.atomic():
        list(
            Customer.objects.select_for_update()
            .filter(pk__in=customer_ids)
            .order_by("pk")
            .values_list("pk")
        )
        due = _expired_due(program, customer_ids, now)
        if not due:
            return 0
        key = f"expire:{now:%Y-%m-%d}"
        taken = set(
            PointsEntry.objects.filter(
                program=program, customer_id__in=list(due), key=key
            ).values_list("customer_id", flat=True)
        )
        PointsEntry.objects.bulk_create(
            [
                PointsEntry(
                    program=program,
                    customer_id=customer_id,
                    kind=PointsKind.EXPIRE,
                    points=-amount,
                    key=f"expire:{now:%Y-%m-%dT%H%M%S}" if customer_id in taken else key,
                    description=_("Points past their expiry date"),
                    occurred_at=now,
                )
                for customer_id, amount in due.items()
            ]
        )
    return len(due)


def birthdays_on(day: datetime.date) -> Q:
    """Customers whose birthday falls on ``day`` (29 February on the 28th in other years)."""
    condition = Q(birth_date__month=day.month, birth_date__day=day.day)
    if day.month == 2 and day.day == 28 and _days_in_month(day.year, 2) == 28:
        condition |= Q(birth_date__month=2, birth_date__day=29)
    return condition


def birthday_points_award(*, today: datetime.date | None = None) -> int:
    """Award the birthday rule's points to today's birthdays, once a year (``birthday:<year>``)."""
    program = active_program()
    if program is None or rule_points(program, EarningRuleKind.BIRTHDAY) <= 0:
        return 0
    today = today or timezone.localdate()
    customers = (
        Customer.objects.filter(birthdays_on(today), merged_into__isnull=True)
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    awarded = 0
    for customer_id in customers.iterator(chunk_size=500):
        key = f"birthday:{today.year}"
        if PointsEntry.objects.filter(program=program, customer_id=customer_id, key=key).exists():
            continue
        if points_award_rule(customer_id=customer_id, kind=EarningRuleKind.BIRTHDAY, key=key):
            awarded += 1
    return awarded

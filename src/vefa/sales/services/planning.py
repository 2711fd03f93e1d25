"""Sales targets: revenue or won-deal count per user or team and month, quarter or year.

Managers set targets for themselves, the people of their team and their team; administrators
for anyone. A rep sees their own targets and sets none (``sales.salestarget`` policy). The
period is given by any day in it and stored as its first and last day.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create, scope_for
from vefa.accounts.choices import Scope
from vefa.platform.records import record_create, record_delete, record_update
from vefa.sales.choices import PeriodKind, TargetMetric
from vefa.sales.models import SalesTarget
from vefa.sales.services._common import (
    as_currency,
    as_date,
    as_money,
    denied,
    get_for,
    invalid,
    resolve_owner,
    resolve_team,
)

if TYPE_CHECKING:
    from vefa.accounts.models import Team, User

MAX_COUNT = Decimal(10_000_000)


def period_bounds(kind: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the month, quarter or year ``day`` falls in."""
    if kind == PeriodKind.MONTH:
        start = day.replace(day=1)
        months = 1
    elif kind == PeriodKind.QUARTER:
        start = datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        months = 3
    elif kind == PeriodKind.YEAR:
        start = datetime.date(day.year, 1, 1)
        months = 12
    else:
        raise invalid({"period_kind": [_("Choose month, quarter or year.")]})
    year, month = divmod(start.month - 1 + months, 12)
    if start.year + year > 9999:
        raise invalid({"period_start": [_("Enter a valid date.")]})
    following = datetime.date(start.year + year, month + 1, 1)
    return start, following - datetime.timedelta(days=1)


def _amount(metric: str, amount: Any, currency: Any) -> tuple[Decimal, str]:
    if metric == TargetMetric.REVENUE:
        value = as_money(amount, field="amount")
        assert value is not None
        if value <= 0:
            raise invalid({"amount": [_("Enter a target above zero.")]})
        return value, as_currency(currency)
    if metric == TargetMetric.COUNT:
        value = as_money(amount, field="amount")
        assert value is not None
        if value != value.to_integral_value() or value <= 0 or value > MAX_COUNT:
            raise invalid({"amount": [_("Enter a whole number of deals above zero.")]})
        if currency not in (None, ""):
            raise invalid({"currency": [_("A count of deals has no currency.")]})
        return value.to_integral_value(), ""
    raise invalid({"metric": [_("Choose revenue or number of won deals.")]})


def _subject(actor: User, user_id: Any, team_id: Any) -> tuple[User | None, Team | None]:
    """The user or team the target is for, if the actor may set targets for them."""
    has_user = user_id not in (None, "")
    has_team = team_id not in (None, "")
    if has_user == has_team:
        raise invalid({"user_id": [_("Choose either a salesperson or a team.")]})
    scope = scope_for(actor, "sales.salestarget", "change")
    if has_user:
        user = resolve_owner(user_id, field="user_id")
        assert user is not None
        same_team = actor.team_id is not None and user.team_id == actor.team_id
        if not (scope == Scope.ALL or user.pk == actor.pk or (scope == Scope.TEAM and same_team)):
            raise invalid({"user_id": [_("You cannot set targets for this user.")]})
        return user, None
    team = resolve_team(team_id, field="team_id")
    assert team is not None
    if not (scope == Scope.ALL or (scope == Scope.TEAM and team.pk == actor.team_id)):
        raise invalid({"team_id": [_("You cannot set targets for this team.")]})
    return None, team


def _save(action: Any) -> SalesTarget:
    try:
        with transaction.atomic():
            return action()
    except IntegrityError:
        raise invalid(
            {"period_start": [_("There is already a target for this period and measure.")]}
        ) from None


def target_create(
    *,
    actor: User,
    period_start: Any,
    amount: Any,
    period_kind: Any = PeriodKind.MONTH,
    metric: Any = TargetMetric.REVENUE,
    currency: Any = "",
    user_id: Any = None,
    team_id: Any = None,
) -> SalesTarget:
    """Set a target; ``period_start`` may be any day of the period."""
    if not can_create(actor, SalesTarget):
        raise denied()
    user, team = _subject(actor, user_id, team_id)
    if not isinstance(period_kind, str) or period_kind not in PeriodKind.values:
        raise invalid({"period_kind": [_("Choose month, quarter or year.")]})
    if not isinstance(metric, str) or metric not in TargetMetric.values:
        raise invalid({"metric": [_("Choose revenue or number of won deals.")]})
    day = as_date(period_start, field="period_start", required=True)
    assert day is not None
    start, end = period_bounds(period_kind, day)
    value, code = _amount(metric, amount, currency)
    if SalesTarget.objects.filter(user=user, team=team, period_start=start, metric=metric).exists():
        raise invalid(
            {"period_start": [_("There is already a target for this period and measure.")]}
        )
    target = SalesTarget(
        user=user,
        team=team,
        period_kind=period_kind,
        period_start=start,
        period_end=end,
        metric=metric,
        amount=value,
        currency=code,
    )
    return _save(lambda: record_create(target, actor=actor))


def target_update(
    *,
    actor: User,
    target_id: Any,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> SalesTarget:
    """Change a target's amount (and currency); who and when stay, delete and re-create to
    move a target."""
    if not isinstance(data, dict):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = sorted(str(k) for k in data if k not in {"amount", "currency"})
    if unknown:
        raise invalid({key: [_("Unknown field.")] for key in unknown})
    with transaction.atomic():
        target = get_for(SalesTarget.objects.all(), actor=actor, pk=target_id)
        value, code = _amount(
            target.metric,
            data.get("amount", target.amount),
            data.get("currency", target.currency or None),
        )
        return record_update(
            target,
            actor=actor,
            data={"amount": value, "currency": code},
            expected_version=expected_version,
        )


def target_delete(*, actor: User, target_id: Any) -> None:
    with transaction.atomic():
        target = get_for(SalesTarget.objects.all(), actor=actor, pk=target_id, action="delete")
        record_delete(target, actor=actor)

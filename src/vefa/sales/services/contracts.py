"""Contracts: terms, value, renewal reminders and renewals.

A contract runs from ``start_date`` to ``end_date``. Its ``renewal_date`` (by default the end
date) is when the customer has to decide; ``remind_days_before`` that date the renewal job
(``contracts_process_renewals``, run daily by the worker) tells the owner and opens a renewal
opportunity in the default renewals pipeline, exactly once per contract and renewal date:

- the contract row is claimed with a conditional UPDATE (``reminded_at IS NULL``), so two
  workers, or the job running twice, cannot both act on it;
- the opportunity is only created when the contract has no open or won renewal opportunity;
- the notification carries a dedupe key.

"Renew now" does the same by hand. When the renewal opportunity is won, ``contract_renew``
creates the next term (same length, value of the won deal) and marks the old contract
renewed. Active contracts past their end date expire in the same job; one that renews
automatically is renewed instead.

Status flow: draft → active → expired | renewed, and draft or active → cancelled; an expired
contract may be renewed or cancelled. ``renewed`` is set only by ``contract_renew``.
"""

from __future__ import annotations

import calendar
import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create, scope_for
from vefa.accounts.choices import Scope
from vefa.platform.records import record_create, record_update
from vefa.sales.choices import (
    BillingPeriod,
    ContractStatus,
    OpportunityStatus,
    PipelineKind,
    StageKind,
)
from vefa.sales.models import Contract, Opportunity, Pipeline, Stage
from vefa.sales.numbering import next_number
from vefa.sales.services._common import (
    as_currency,
    as_date,
    as_money,
    as_text,
    customer_visible,
    denied,
    get_for,
    invalid,
    not_found,
    resolve_owner,
    resolve_team,
)

if TYPE_CHECKING:
    from vefa.accounts.models import Team, User

logger = logging.getLogger(__name__)

MAX_REMIND_DAYS = 365
MAX_TERM_DAYS = 366 * 50
BATCH = 500

# Where a contract may go from each status by an edit (``renewed`` only by a renewal).
TRANSITIONS: dict[str, frozenset[str]] = {
    ContractStatus.DRAFT: frozenset({ContractStatus.ACTIVE, ContractStatus.CANCELLED}),
    ContractStatus.ACTIVE: frozenset({ContractStatus.EXPIRED, ContractStatus.CANCELLED}),
    ContractStatus.EXPIRED: frozenset({ContractStatus.CANCELLED}),
    ContractStatus.RENEWED: frozenset(),
    ContractStatus.CANCELLED: frozenset(),
}
CREATE_STATUSES = frozenset({ContractStatus.DRAFT, ContractStatus.ACTIVE})
EDITABLE = frozenset(
    {
        "title",
        "start_date",
        "end_date",
        "value",
        "currency",
        "billing_period",
        "renewal_date",
        "remind_days_before",
        "auto_renew",
        "status",
        "owner_id",
        "team_id",
        "notes",
        "custom_fields",
    }
)
# A renewal opportunity in one of these states counts as "the" renewal of its contract.
LIVE_RENEWAL = (OpportunityStatus.OPEN, OpportunityStatus.WON)


# --- input ----------------------------------------------------------------------------------


def _status(value: Any, allowed: frozenset[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise invalid({"status": [_("Choose a valid status.")]})
    return value


def _billing(value: Any) -> str:
    if value is None or value == "":
        return BillingPeriod.YEARLY
    if not isinstance(value, str) or value not in BillingPeriod.values:
        raise invalid({"billing_period": [_("Choose a valid billing period.")]})
    return value


def _remind_days(value: Any) -> int:
    if value is None or value == "":
        return 30
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid({"remind_days_before": [_("Enter a whole number of days.")]})
    try:
        days = int(value)
    except ValueError:
        raise invalid({"remind_days_before": [_("Enter a whole number of days.")]}) from None
    if not 0 <= days <= MAX_REMIND_DAYS:
        raise invalid(
            {
                "remind_days_before": [
                    _("Enter a number of days between 0 and %(n)d.") % {"n": MAX_REMIND_DAYS}
                ]
            }
        )
    return days


def _flag(value: Any, field: str) -> bool:
    if value is None or value == "":
        return False
    if not isinstance(value, bool):
        raise invalid({field: [_("Enter yes or no.")]})
    return value


def _check_term(start: datetime.date, end: datetime.date, renewal: datetime.date | None) -> None:
    errors: dict[str, list[str]] = {}
    if end < start:
        errors["end_date"] = [_("The end must be on or after the start.")]
    elif (end - start).days > MAX_TERM_DAYS:
        errors["end_date"] = [_("A contract runs at most 50 years.")]
    if renewal is not None and renewal < start:
        errors["renewal_date"] = [_("The renewal date must be on or after the start.")]
    if renewal is not None and end >= start and renewal > end + datetime.timedelta(days=366):
        errors["renewal_date"] = [_("The renewal date must be within a year after the end.")]
    if errors:
        raise invalid(errors)


def _owner_and_team(
    actor: User, owner_id: Any, team_id: Any, *, current: Contract | None = None
) -> tuple[User, Team | None]:
    """The owner and team: the actor and their team unless the actor may give it to others.

    A rep (own scope) keeps their contracts; a manager assigns within their team; an
    administrator to anyone. Others would create a contract they could no longer see.
    """
    owner: User = actor
    if owner_id not in (None, ""):
        chosen = resolve_owner(owner_id, field="owner_id")
        assert chosen is not None
        owner = chosen
    elif current is not None and current.owner is not None:
        owner = current.owner
    scope = scope_for(actor, "sales.contract", "change")
    if owner.pk != actor.pk and (current is None or owner.pk != current.owner_id):
        same_team = actor.team_id is not None and owner.team_id == actor.team_id
        if not (scope == Scope.ALL or (scope == Scope.TEAM and same_team)):
            raise invalid({"owner_id": [_("You cannot give a contract to this user.")]})
    if team_id is None or team_id == "":
        team = owner.team if current is None else current.team
        if current is not None and owner.pk != current.owner_id:
            team = owner.team
    else:
        team = resolve_team(team_id, field="team_id")
        if (
            team is not None
            and scope != Scope.ALL
            and team.pk != actor.team_id
            and (current is None or team.pk != current.team_id)
        ):
            raise invalid({"team_id": [_("You cannot give a contract to this team.")]})
    return owner, team


# --- create and update ------------------------------------------------------------------------


def contract_create(
    *,
    actor: User,
    customer_id: Any,
    title: Any,
    start_date: Any,
    end_date: Any,
    value: Any = 0,
    currency: Any = "TRY",
    billing_period: Any = BillingPeriod.YEARLY,
    renewal_date: Any = None,
    remind_days_before: Any = 30,
    auto_renew: Any = False,
    status: Any = ContractStatus.DRAFT,
    owner_id: Any = None,
    team_id: Any = None,
    notes: Any = "",
    custom_fields: dict[str, Any] | None = None,
    tags: list[str] | None = None,
) -> Contract:
    """Create a contract for a customer the actor can see; its number comes from the
    contract sequence (C-2026-000007). The renewal date defaults to the end date."""
    if not can_create(actor, Contract):
        raise denied()
    customer = customer_visible(actor=actor, customer_id=customer_id, field="customer_id")
    clean_title = as_text(title, field="title", max_length=200)
    if not clean_title:
        raise invalid({"title": [_("This field is required.")]})
    start = as_date(start_date, field="start_date", required=True)
    end = as_date(end_date, field="end_date", required=True)
    assert start is not None and end is not None
    renewal = as_date(renewal_date, field="renewal_date") or end
    _check_term(start, end, renewal)
    amount = as_money(value if value not in (None, "") else 0, field="value")
    code = as_currency(currency)
    owner, team = _owner_and_team(actor, owner_id, team_id)
    if custom_fields is not None and not isinstance(custom_fields, dict):
        raise invalid({"custom_fields": [_("Expected an object of field values.")]})
    contract = Contract(
        title=clean_title,
        customer=customer,
        owner=owner,
        team=team,
        status=_status(status or ContractStatus.DRAFT, CREATE_STATUSES),
        start_date=start,
        end_date=end,
        value=amount,
        currency=code,
        billing_period=_billing(billing_period),
        renewal_date=renewal,
        remind_days_before=_remind_days(remind_days_before),
        auto_renew=_flag(auto_renew, "auto_renew"),
        notes=as_text(notes, field="notes", max_length=20_000),
        custom_fields=custom_fields or {},
    )
    with transaction.atomic():
        contract.number = next_number("contract")
        return record_create(contract, actor=actor, tags=tags)


def contract_update(
    *,
    actor: User,
    contract_id: Any,
    data: dict[str, Any],
    expected_version: int | None = None,
    tags: list[str] | None = None,
) -> Contract:
    """Change a contract. A stale ``expected_version`` raises ``Conflict`` (HTTP 412).

    Moving the renewal date (or the end date of a contract whose renewal date followed it)
    makes the reminder due again, unless a renewal opportunity is already open.
    """
    if not isinstance(data, dict):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = sorted(str(k) for k in data if k not in EDITABLE)
    if unknown:
        raise invalid({key: [_("Unknown field.")] for key in unknown})
    with transaction.atomic():
        contract = get_for(
            Contract.objects.select_related("owner", "team"), actor=actor, pk=contract_id
        )
        changes: dict[str, Any] = {}
        if "title" in data:
            changes["title"] = as_text(data["title"], field="title", max_length=200)
            if not changes["title"]:
                raise invalid({"title": [_("This field is required.")]})
        start = contract.start_date
        end = contract.end_date
        if "start_date" in data:
            start = as_date(data["start_date"], field="start_date", required=True) or start
        if "end_date" in data:
            end = as_date(data["end_date"], field="end_date", required=True) or end
        renewal = contract.renewal_date
        if "renewal_date" in data:
            renewal = as_date(data["renewal_date"], field="renewal_date") or end
        elif end != contract.end_date and contract.renewal_date in (None, contract.end_date):
            renewal = end
        _check_term(start, end, renewal)
        changes.update(start_date=start, end_date=end, renewal_date=renewal)
        if "value" in data:
            changes["value"] = as_money(data["value"], field="value")
        if "currency" in data:
            changes["currency"] = as_currency(data["currency"])
        if "billing_period" in data:
            changes["billing_period"] = _billing(data["billing_period"])
        if "remind_days_before" in data:
            changes["remind_days_before"] = _remind_days(data["remind_days_before"])
        if "auto_renew" in data:
            changes["auto_renew"] = _flag(data["auto_renew"], "auto_renew")
        if "notes" in data:
            changes["notes"] = as_text(data["notes"], field="notes", max_length=20_000)
        if "custom_fields" in data:
            if not isinstance(data["custom_fields"], dict):
                raise invalid({"custom_fields": [_("Expected an object of field values.")]})
            changes["custom_fields"] = data["custom_fields"]
        if "status" in data and data["status"] != contract.status:
            allowed = TRANSITIONS.get(contract.status, frozenset())
            if data["status"] == ContractStatus.RENEWED:
                raise invalid(
                    {"status": [_("A contract becomes renewed when its renewal is signed.")]}
                )
            if data["status"] not in allowed:
                raise invalid(
                    {
                        "status": [
                            _("A contract cannot go from %(old)s to %(new)s.")
                            % {
                                "old": ContractStatus(contract.status).label,
                                "new": str(data["status"])[:20],
                            }
                        ]
                    }
                )
            changes["status"] = _status(data["status"], allowed)
        if "owner_id" in data or "team_id" in data:
            owner, team = _owner_and_team(
                actor, data.get("owner_id"), data.get("team_id"), current=contract
            )
            changes["owner"] = owner
            changes["team"] = team
        if renewal != contract.renewal_date and not _has_live_renewal(contract):
            changes["reminded_at"] = None
        return record_update(
            contract,
            actor=actor,
            data=changes,
            expected_version=expected_version,
            tags=tags,
        )


# --- renewals ---------------------------------------------------------------------------------


def _has_live_renewal(contract: Contract) -> bool:
    return Opportunity.objects.filter(renewal_of=contract, status__in=LIVE_RENEWAL).exists()


def renewal_opportunity(contract: Contract) -> Opportunity | None:
    """The contract's open or won renewal opportunity (the newest), if any."""
    return (
        Opportunity.objects.filter(renewal_of=contract, status__in=LIVE_RENEWAL)
        .order_by("-created_at", "-id")
        .first()
    )


def renewal_pipeline() -> tuple[Pipeline, Stage] | None:
    """The default renewals pipeline and its first open stage (``None`` when there is none)."""
    pipelines = Pipeline.objects.filter(kind=PipelineKind.RENEWAL, is_active=True).order_by(
        "-is_default", "order", "id"
    )
    for pipeline in pipelines:
        stage = (
            Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN)
            .order_by("order", "id")
            .first()
        )
        if stage is not None:
            return pipeline, stage
    return None


def _create_renewal_opportunity(contract: Contract, *, actor: User | None) -> Opportunity:
    target = renewal_pipeline()
    if target is None:
        raise invalid({"__all__": [_("There is no active renewals pipeline with an open stage.")]})
    pipeline, stage = target
    language = (contract.owner.language if contract.owner else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        name = _("Renewal: %(title)s") % {"title": contract.title}
    opportunity = Opportunity(
        name=name[:200],
        customer_id=contract.customer_id,
        pipeline=pipeline,
        stage=stage,
        amount=contract.value,
        currency=contract.currency,
        expected_close_date=contract.renewal_date or contract.end_date,
        probability=stage.probability,
        owner_id=contract.owner_id,
        team_id=contract.team_id,
        renewal_of=contract,
        stage_changed_at=timezone.now(),
    )
    return record_create(opportunity, actor=actor)


def _notify_owner(contract: Contract, opportunity: Opportunity) -> None:
    owner = contract.owner
    if owner is None or not owner.is_active:
        return
    from vefa.platform.notifications import notification_send

    with translation.override(owner.language or settings.LANGUAGE_CODE):
        text = _("Contract %(number)s (%(title)s) is due for renewal on %(date)s.") % {
            "number": contract.number,
            "title": contract.title,
            "date": (contract.renewal_date or contract.end_date).isoformat(),
        }
    notification_send(
        recipient=owner,
        verb="contract_renewal_due",
        text=text,
        url=contract.get_absolute_url(),
        model="sales.contract",
        object_id=contract.pk,
        dedupe_key=f"contract-renewal:{contract.pk}:{contract.renewal_date or contract.end_date}",
    )


@dataclass(frozen=True)
class RenewalRun:
    """What one run of the renewal job did."""

    reminded: int
    opportunities: int
    expired: int
    auto_renewed: int


def _remind_one(contract_id: int, now: datetime.datetime) -> tuple[bool, bool]:
    """Claim one contract's reminder and act on it: (claimed, opportunity created)."""
    with transaction.atomic():
        claimed = Contract.objects.filter(
            pk=contract_id, status=ContractStatus.ACTIVE, reminded_at__isnull=True
        ).update(reminded_at=now)
        if not claimed:
            return False, False
        contract = Contract.objects.select_related("owner").get(pk=contract_id)
        created = False
        opportunity = renewal_opportunity(contract)
        if opportunity is None:
            opportunity = _create_renewal_opportunity(contract, actor=None)
            created = True
        _notify_owner(contract, opportunity)
        return True, created


def contracts_process_renewals(*, now: datetime.datetime | None = None) -> RenewalRun:
    """The daily renewal job: remind, open renewal opportunities, expire and auto-renew.

    Safe to run any number of times and from several workers at once (see module notes).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    reminded = opportunities = expired = auto_renewed = 0
    horizon = today + datetime.timedelta(days=MAX_REMIND_DAYS)
    due = (
        Contract.objects.filter(
            status=ContractStatus.ACTIVE,
            reminded_at__isnull=True,
            renewal_date__lte=horizon,
            end_date__gte=today,
        )
        .order_by("renewal_date", "id")
        .values_list("pk", "renewal_date", "remind_days_before")
    )
    for pk, renewal, days in due.iterator(chunk_size=BATCH):
        if renewal is None or renewal - datetime.timedelta(days=days) > today:
            continue
        try:
            claimed, created = _remind_one(pk, now)
        except Exception:
            logger.exception("renewal reminder of contract %s failed", pk)
            continue
        reminded += int(claimed)
        opportunities += int(created)
    ended = list(
        Contract.objects.filter(status=ContractStatus.ACTIVE, end_date__lt=today)
        .order_by("end_date", "id")
        .values_list("pk", "auto_renew")[: BATCH * 10]
    )
    for pk, auto in ended:
        try:
            with transaction.atomic():
                contract = (
                    Contract.objects.select_for_update()
                    .filter(pk=pk, status=ContractStatus.ACTIVE, end_date__lt=today)
                    .first()
                )
                if contract is None:
                    continue
                if auto:
                    _renew(contract, actor=None, opportunity=renewal_opportunity(contract))
                    auto_renewed += 1
                else:
                    record_update(contract, actor=None, data={"status": ContractStatus.EXPIRED})
                    expired += 1
        except Exception:
            logger.exception("expiring contract %s failed", pk)
    return RenewalRun(
        reminded=reminded, opportunities=opportunities, expired=expired, auto_renewed=auto_renewed
    )


def contract_renew_now(*, actor: User, contract_id: Any) -> Opportunity:
    """ "Renew now": open the renewal opportunity by hand (or return the one already open)."""
    with transaction.atomic():
        contract = get_for(Contract.objects.select_related("owner"), actor=actor, pk=contract_id)
        if contract.status not in (ContractStatus.ACTIVE, ContractStatus.EXPIRED):
            raise invalid({"status": [_("Only an active or expired contract can be renewed.")]})
        existing = renewal_opportunity(contract)
        if existing is not None:
            return existing
        opportunity = _create_renewal_opportunity(contract, actor=actor)
        if contract.reminded_at is None:
            Contract.objects.filter(pk=contract.pk, reminded_at__isnull=True).update(
                reminded_at=timezone.now()
            )
        if contract.owner_id != actor.pk:
            _notify_owner(contract, opportunity)
        return opportunity


def add_term(start: datetime.date, end: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The next term after ``start``–``end``: whole months stay whole months (a year runs
    1 Jan–31 Dec again, Feb 29 included), any other term keeps its length in days."""
    new_start = end + datetime.timedelta(days=1)
    months = (new_start.year - start.year) * 12 + new_start.month - start.month
    if new_start.day == start.day and months > 0:
        year, month = divmod(new_start.month - 1 + months, 12)
        year += new_start.year
        day = min(new_start.day, calendar.monthrange(year, month + 1)[1])
        following = datetime.date(year, month + 1, day)
        return new_start, following - datetime.timedelta(days=1)
    return new_start, new_start + (end - start)


def _renew(contract: Contract, *, actor: User | None, opportunity: Opportunity | None) -> Contract:
    start, end = add_term(contract.start_date, contract.end_date)
    value: Decimal = contract.value
    currency = contract.currency
    if opportunity is not None and opportunity.status == OpportunityStatus.WON:
        value, currency = opportunity.amount, opportunity.currency
    renewal_date = None
    if contract.renewal_date is not None:
        renewal_date = end - (contract.end_date - contract.renewal_date)
        renewal_date = max(renewal_date, start)
    successor = Contract(
        title=contract.title,
        customer_id=contract.customer_id,
        owner_id=contract.owner_id,
        team_id=contract.team_id,
        status=ContractStatus.ACTIVE,
        start_date=start,
        end_date=end,
        value=value,
        currency=currency,
        billing_period=contract.billing_period,
        renewal_date=renewal_date or end,
        remind_days_before=contract.remind_days_before,
        auto_renew=contract.auto_renew,
        custom_fields=dict(contract.custom_fields or {}),
    )
    successor.number = next_number("contract")
    record_create(successor, actor=actor)
    record_update(
        contract,
        actor=actor,
        data={"status": ContractStatus.RENEWED, "renewed_by": successor},
    )
    return successor


def contract_renew(
    *, actor: User, contract_id: Any, expected_version: int | None = None
) -> Contract:
    """Create the next term of a contract whose renewal opportunity was won (one click).

    The new contract is active, starts the day after the old one ends, runs as long and is
    worth what the won deal is worth; the old contract becomes renewed.
    """
    with transaction.atomic():
        contract = get_for(Contract.objects.all(), actor=actor, pk=contract_id)
        if expected_version is not None and contract.version != expected_version:
            from vefa.common.errors import Conflict

            raise Conflict(
                _("This record was changed by someone else. Reload it and try again."),
                current_version=contract.version,
            )
        if contract.renewed_by_id is not None or contract.status == ContractStatus.RENEWED:
            raise invalid({"status": [_("This contract has been renewed already.")]})
        if contract.status not in (ContractStatus.ACTIVE, ContractStatus.EXPIRED):
            raise invalid({"status": [_("Only an active or expired contract can be renewed.")]})
        opportunity = (
            Opportunity.objects.filter(renewal_of=contract, status=OpportunityStatus.WON)
            .order_by("-closed_at", "-id")
            .first()
        )
        if opportunity is None:
            raise invalid(
                {"status": [_("Win the renewal opportunity before renewing the contract.")]}
            )
        if not can_create(actor, Contract):
            raise not_found()
        return _renew(contract, actor=actor, opportunity=opportunity)

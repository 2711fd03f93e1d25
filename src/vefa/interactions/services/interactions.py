"""Recording, editing and deleting interactions (the contact history, MISSION §2)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create
from vefa.common.errors import PermissionDenied
from vefa.interactions.choices import (
    Direction,
    InitiatedBy,
    InteractionStatus,
)
from vefa.interactions.models import Interaction
from vefa.interactions.services._common import (
    as_datetime,
    customer_visible,
    get_for,
    invalid,
)
from vefa.platform.records import record_create, record_delete, record_update

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer
    from vefa.platform.models import Tag

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MODEL_LABEL = re.compile(r"^[a-z_]+\.[a-z_]+$")


class InteractionData(TypedDict, total=False):
    """The fields of an interaction a user may change after recording it."""

    kind: str
    direction: str
    initiated_by: str
    channel: str
    occurred_at: datetime.datetime | str
    subject: str
    body: str
    outcome: str
    status: str
    duration_minutes: int | None
    amount: Decimal | str | None
    currency: str
    related_model: str
    related_id: int | None
    custom_fields: dict[str, Any]


EDITABLE = frozenset(InteractionData.__annotations__)


def _check_money_and_links(interaction: Interaction) -> None:
    errors: dict[str, list[str]] = {}
    if interaction.amount not in (None, "") and not interaction.currency:
        errors["currency"] = [_("Give the currency of the amount.")]
    if interaction.currency and not _CURRENCY.match(str(interaction.currency)):
        errors["currency"] = [_("Use a three-letter ISO 4217 code such as TRY or EUR.")]
    if interaction.related_model and not _MODEL_LABEL.match(str(interaction.related_model)):
        errors["related_model"] = [_("Use the form app.model, e.g. sales.order.")]
    if bool(interaction.related_model) != (interaction.related_id is not None):
        errors["related_id"] = [_("Give both the related record's type and its id.")]
    if errors:
        raise invalid(errors)


def customer_touch_last_interaction(*, customer_id: int, occurred_at: datetime.datetime) -> None:
    """Move the customer's ``last_interaction_at`` forward to ``occurred_at`` (never back).

    ``last_interaction_at`` is derived data (the newest interaction's time, kept on the
    customer so lists can sort and filter by "last contact" without a join). It is written
    with one conditional UPDATE instead of the customer service because it is not an edit
    of the customer: it must not bump the customer's version (which would make a colleague's
    open edit form fail with a conflict), not write a change-log row per call, and two
    concurrent recordings must not overwrite a newer time with an older one — the
    ``WHERE last_interaction_at < new`` condition makes that race-free.
    """
    from vefa.customers.models import Customer

    Customer.objects.filter(pk=customer_id).filter(
        Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lt=occurred_at)
    ).update(last_interaction_at=occurred_at)


def customer_recompute_last_interaction(*, customer_id: int) -> None:
    """Set ``last_interaction_at`` to the newest remaining interaction (after a delete or a
    move back in time); derived data, written directly for the reasons given above."""
    from vefa.customers.models import Customer

    newest = (
        Interaction.objects.filter(customer_id=OuterRef("pk"))
        .order_by()
        .values("customer_id")
        .annotate(newest=Max("occurred_at"))
        .values("newest")
    )
    Customer.objects.filter(pk=customer_id).update(last_interaction_at=Subquery(newest))


def interaction_create(
    *,
    actor: User,
    customer_id: int,
    kind: str,
    subject: str,
    occurred_at: datetime.datetime | str | None = None,
    direction: str = Direction.OUTBOUND,
    initiated_by: str = InitiatedBy.COMPANY,
    channel: str = "",
    body: str = "",
    outcome: str = "",
    status: str = InteractionStatus.DONE,
    duration_minutes: int | None = None,
    amount: Decimal | str | None = None,
    currency: str = "",
    related_model: str = "",
    related_id: int | None = None,
    external_id: str = "",
    custom_fields: dict[str, Any] | None = None,
    tags: Iterable[Tag | str] | None = None,
) -> Interaction:
    """Record a touch point with a customer.

    Any employee who can see the customer may record one (MISSION §2: "any employee can
    record a new one at any time"); only roles without any write access (read-only) are
    refused. The recorder becomes the interaction's ``user`` (never chosen by the caller,
    since the user is one of the paths that grant access to the record). The customer's
    last-contact time moves forward when this is the newest interaction.
    """
    customer = customer_visible(actor=actor, customer_id=customer_id)
    if not can_create(actor, Interaction):
        raise PermissionDenied(_("Your role cannot record interactions."))
    return interaction_insert(
        actor=actor,
        customer=customer,
        kind=kind,
        subject=subject,
        occurred_at=occurred_at,
        direction=direction,
        initiated_by=initiated_by,
        channel=channel,
        body=body,
        outcome=outcome,
        status=status,
        duration_minutes=duration_minutes,
        amount=amount,
        currency=currency,
        related_model=related_model,
        related_id=related_id,
        external_id=external_id,
        custom_fields=custom_fields,
        tags=tags,
    )


def interaction_insert(
    *,
    actor: User,
    customer: Customer,
    kind: str,
    subject: str,
    occurred_at: datetime.datetime | str | None = None,
    direction: str = Direction.OUTBOUND,
    initiated_by: str = InitiatedBy.COMPANY,
    channel: str = "",
    body: str = "",
    outcome: str = "",
    status: str = InteractionStatus.DONE,
    duration_minutes: int | None = None,
    amount: Decimal | str | None = None,
    currency: str = "",
    related_model: str = "",
    related_id: int | None = None,
    external_id: str = "",
    custom_fields: dict[str, Any] | None = None,
    tags: Iterable[Tag | str] | None = None,
) -> Interaction:
    """Insert an interaction for a customer the caller has already checked access to.

    Used by ``interaction_create`` and by services that record an interaction as a side
    effect of their own permitted work (completing a call or meeting).
    """
    when = as_datetime(occurred_at, field="occurred_at") or timezone.now()
    if currency == "" and amount not in (None, ""):
        currency = customer.currency
    interaction = Interaction(
        customer=customer,
        kind=kind,
        direction=direction,
        initiated_by=initiated_by,
        channel=channel,
        occurred_at=when,
        subject=subject.strip() if isinstance(subject, str) else subject,
        body=body,
        outcome=outcome,
        status=status,
        duration_minutes=duration_minutes,
        amount=amount,
        currency=currency.strip().upper() if isinstance(currency, str) else currency,
        user=actor,
        related_model=related_model,
        related_id=related_id,
        external_id=external_id,
        custom_fields=custom_fields or {},
    )
    with transaction.atomic():
        _check_money_and_links(interaction)
        # Without an external id the unique constraint on it cannot apply: no query for it.
        interaction = record_create(
            interaction,
            actor=actor,
            tags=tags,
            clean_exclude=() if external_id else ("external_id",),
        )
        customer_touch_last_interaction(
            customer_id=customer.pk, occurred_at=interaction.occurred_at
        )
    return interaction


def interaction_update(
    *,
    actor: User,
    interaction_id: int,
    data: InteractionData,
    expected_version: int | None = None,
    tags: Iterable[Tag | str] | None = None,
) -> Interaction:
    """Change an interaction (its status, outcome, details …) under the access policy.

    Raises ``NotFound`` when the actor may not change it (whether or not they can see it),
    ``Conflict`` when ``expected_version`` is stale.
    """
    unknown = sorted(set(data) - EDITABLE)
    if unknown:
        raise invalid({key: [_("This field cannot be changed.")] for key in unknown})
    values: dict[str, Any] = dict(data)
    if "occurred_at" in values:
        values["occurred_at"] = as_datetime(
            values["occurred_at"], field="occurred_at", required=True
        )
    if isinstance(values.get("currency"), str):
        values["currency"] = values["currency"].strip().upper()
    if isinstance(values.get("subject"), str):
        values["subject"] = values["subject"].strip()
    with transaction.atomic():
        current = get_for(
            Interaction.objects.all(), actor=actor, pk=interaction_id, action="change"
        )
        old_time = current.occurred_at
        for key, value in values.items():
            setattr(current, key, value)
        _check_money_and_links(current)
        updated = record_update(
            current, actor=actor, data=values, expected_version=expected_version, tags=tags
        )
        if updated.occurred_at > old_time:
            customer_touch_last_interaction(
                customer_id=updated.customer_id, occurred_at=updated.occurred_at
            )
        elif updated.occurred_at < old_time:
            customer_recompute_last_interaction(customer_id=updated.customer_id)
    return updated


def interaction_delete(*, actor: User, interaction_id: int) -> None:
    """Delete an interaction and its attachments (files are removed after commit)."""
    from vefa.interactions.services.attachments import attachment_files_forget

    with transaction.atomic():
        interaction = get_for(
            Interaction.objects.all(), actor=actor, pk=interaction_id, action="delete"
        )
        customer_id = interaction.customer_id
        names = list(interaction.attachments.values_list("file", flat=True))
        record_delete(interaction, actor=actor)
        customer_recompute_last_interaction(customer_id=customer_id)
        attachment_files_forget(names)

"""Referrals: who brought whom, each customer's own referral code, and the referrer's reward.

A customer's referral code is derived from their id and the installation's secret: stable
(the same code every time), short enough to read out, and not guessable for another
customer (``<id in base 36>-<4 characters of a keyed hash>``). A customer is referred at
most once and never by themselves. The referrer earns the referral rule's points once
(key ``referral:<referred id>``) when the referred customer's first order is paid or
delivered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.access import restrict
from vefa.common.errors import NotFound, ValidationFailed
from vefa.customers.models import Customer
from vefa.marketing.choices import EarningRuleKind
from vefa.marketing.models import Referral
from vefa.platform.records import record_create

if TYPE_CHECKING:
    from vefa.accounts.models import User

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _ALPHABET[rest] + digits
        if number == 0:
            return digits


def _signature(customer_id: int) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"referral:{customer_id}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest).decode()[:4]


def referral_code(customer_id: int) -> str:
    """The customer's own referral code (stable, e.g. ``2N9C-K4QZ``)."""
    return f"{_base36(int(customer_id)).upper()}-{_signature(int(customer_id))}"


def customer_for_code(code: str) -> int | None:
    """The id of the customer whose code this is, or ``None`` (wrong or forged code)."""
    text = str(code or "").strip().upper()
    head, _sep, tail = text.partition("-")
    if not head or len(tail) != 4 or len(head) > 13:
        return None
    try:
        customer_id = int(head.lower(), 36)
    except ValueError:
        return None
    if not hmac.compare_digest(_signature(customer_id), tail):
        return None
    return customer_id


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={field: [message]})


def _visible(actor: User, pk: Any, action: str, field: str) -> Customer:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise _invalid(field, _("Choose a customer.")) from None
    found = (
        restrict(Customer.objects.filter(merged_into__isnull=True), actor, action)  # type: ignore[arg-type]
        .filter(pk=key)
        .first()
    )
    if found is None:
        raise NotFound(_("No such customer."))
    return found


def referral_create(
    *,
    actor: User,
    referred_id: int,
    referrer_id: int | None = None,
    code: str = "",
) -> Referral:
    """Record that ``referrer`` (given by id or by their code) brought ``referred``."""
    if referrer_id in (None, "") and code:
        referrer_id = customer_for_code(code)
        if referrer_id is None:
            raise _invalid("code", _("This referral code is not valid."))
    if referrer_id in (None, ""):
        raise _invalid("referrer", _("Choose who brought the customer."))
    with transaction.atomic():
        referred = _visible(actor, referred_id, "change", "referred")
        referrer = _visible(actor, referrer_id, "view", "referrer")
        if referrer.pk == referred.pk:
            raise _invalid("referrer", _("A customer cannot refer themselves."))
        existing = Referral.objects.filter(referred=referred).select_related("referrer").first()
        if existing is not None:
            raise _invalid(
                "referred",
                _("This customer was already referred by %(name)s.")
                % {"name": existing.referrer.display_name},
            )
        if Referral.objects.filter(referrer=referred, referred=referrer).exists():
            raise _invalid("referrer", _("This customer was referred by the new customer."))
        referral = Referral(referrer=referrer, referred=referred, code=referral_code(referrer.pk))
        try:
            with transaction.atomic():
                record_create(referral, actor=actor)
        except IntegrityError:
            raise _invalid("referred", _("This customer was already referred.")) from None
        except ValidationFailed as exc:
            if "referred" in (exc.fields or {}):
                raise _invalid("referred", _("This customer was already referred.")) from None
            raise
    return referral


def referral_reward(*, referred_id: int, order_id: int) -> bool:
    """Reward the referrer of a customer whose order was paid or delivered, once.

    Only the referred customer's first such order counts; returns whether points were written.
    """
    from vefa.marketing.services.loyalty import points_award_rule
    from vefa.sales.models import Order

    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update()
            .filter(referred_id=referred_id, rewarded_at__isnull=True)
            .first()
        )
        if referral is None:
            return False
        first = (
            Order.objects.filter(customer_id=referred_id, status__in=("paid", "delivered"))
            .order_by("ordered_at", "id")
            .values_list("pk", flat=True)
            .first()
        )
        if first is None:
            return False
        entry = points_award_rule(
            customer_id=referral.referrer_id,
            kind=EarningRuleKind.REFERRAL,
            key=f"referral:{referred_id}",
        )
        Referral.objects.filter(pk=referral.pk).update(
            rewarded_at=timezone.now(), reward_order_id=first or order_id
        )
    return entry is not None

"""Reads of referrals for a person: the list and a customer's referrals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vefa.accounts.access import restrict
from vefa.common.paging import Page, keyset_page
from vefa.marketing.models import Referral

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer

MAX_PAGE = 100


def referral_queryset(actor: User) -> Any:
    """Referrals whose referrer and new customer the actor may both see."""
    from vefa.customers.selectors import visible_customers

    return restrict(Referral.objects.all(), actor).filter(
        referred__in=visible_customers(actor).values("pk")
    )


def referral_list(
    *, actor: User, rewarded: str = "", cursor: str | None = None, limit: int = 25
) -> Page[Referral]:
    qs = referral_queryset(actor).select_related("referrer", "referred")
    if rewarded == "true":
        qs = qs.filter(rewarded_at__isnull=False)
    elif rewarded == "false":
        qs = qs.filter(rewarded_at__isnull=True)
    return keyset_page(
        qs, ordering="-created_at", cursor=cursor, size=max(1, min(int(limit or 25), MAX_PAGE))
    )


def customer_referrals(*, actor: User, customer: Customer, limit: int = 20) -> dict[str, Any]:
    """Who referred the customer and whom they referred (visible ones)."""
    qs = referral_queryset(actor).select_related("referrer", "referred")
    return {
        "referred_by": qs.filter(referred=customer).first(),
        "referred": list(qs.filter(referrer=customer).order_by("-created_at", "-id")[:limit]),
    }

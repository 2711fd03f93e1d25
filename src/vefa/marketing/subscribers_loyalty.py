"""Loyalty subscribers: points for paid or delivered orders, the referrer's reward, points for
joining the programme and for answering a survey; and the web-form consent of a converted lead.

Each award is keyed (``order:<id>``, ``referral:<id>``, ``sign_up``, ``survey:<id>``), so an
event delivered twice, or an order paid and then delivered, earns once.
"""

from __future__ import annotations

import logging

from vefa.common.events import DomainEvent, subscribe

logger = logging.getLogger(__name__)

EARNING_STATUSES = ("paid", "delivered")


@subscribe("sales.order.created", "sales.order.updated")
def award_order_points(event: DomainEvent) -> None:
    from vefa.marketing.services.loyalty import points_for_order
    from vefa.marketing.services.referrals import referral_reward
    from vefa.sales.models import Order

    changed = event.payload.get("changed")
    if event.name.endswith(".updated") and isinstance(changed, list) and "status" not in changed:
        return
    row = Order.objects.filter(pk=event.object_id).values("status", "customer_id").first()
    if row is None or row["status"] not in EARNING_STATUSES:
        return
    points_for_order(order_id=int(event.object_id))
    referral_reward(referred_id=int(row["customer_id"]), order_id=int(event.object_id))


@subscribe("customers.customer.created")
def award_sign_up_points(event: DomainEvent) -> None:
    from vefa.marketing.choices import EarningRuleKind
    from vefa.marketing.services.loyalty import points_award_rule

    points_award_rule(customer_id=int(event.object_id), kind=EarningRuleKind.SIGN_UP, key="sign_up")


@subscribe("service.surveyinvitation.answered")
def award_survey_points(event: DomainEvent) -> None:
    from vefa.marketing.choices import EarningRuleKind
    from vefa.marketing.services.loyalty import points_award_rule
    from vefa.service.models import SurveyInvitation

    customer_id = (
        SurveyInvitation.objects.filter(pk=event.object_id)
        .values_list("customer_id", flat=True)
        .first()
    )
    if customer_id is None:
        return
    points_award_rule(
        customer_id=int(customer_id),
        kind=EarningRuleKind.SURVEY,
        key=f"survey:{event.object_id}",
    )


@subscribe("customers.lead.converted")
def record_web_form_consent(event: DomainEvent) -> None:
    """A lead from a web form whose visitor ticked the consent box: the new customer's
    consent is recorded with the form's text version and the time it was given."""
    from vefa.accounts.models import User
    from vefa.portal.services import webform_consent_to_customer

    actor = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    if actor is None:
        return
    webform_consent_to_customer(lead_id=int(event.object_id), actor=actor)

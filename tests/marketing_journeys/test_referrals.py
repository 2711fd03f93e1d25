"""Referrals: stable codes, who may refer whom, the referrer rewarded once."""

from __future__ import annotations

import pytest

from tests.customers.factories import make_customer
from tests.marketing_journeys.conftest import HOSTILE, make_order
from vefa.common.errors import NotFound, ValidationFailed
from vefa.marketing.models import EarningRule, PointsEntry, Referral
from vefa.marketing.services.loyalty import balance_of
from vefa.marketing.services.referrals import (
    customer_for_code,
    referral_code,
    referral_create,
)
from vefa.sales.services.orders import order_set_status


def test_code_is_stable_and_cannot_be_forged(customer, other_customer):
    code = referral_code(customer.pk)
    assert code == referral_code(customer.pk)
    assert code != referral_code(other_customer.pk)
    assert customer_for_code(code) == customer.pk
    assert customer_for_code(code.lower()) == customer.pk
    _head, _sep, tail = code.partition("-")
    forged = f"{referral_code(other_customer.pk).split('-')[0]}-{tail}"
    assert customer_for_code(forged) is None
    for bad in ["", "-", "ZZZZ", *HOSTILE, "9" * 40 + "-ABCD"]:
        assert customer_for_code(bad) is None


def test_referral_rules(customer, rep, team, admin_user):
    newcomer = make_customer(owner=rep, team=team, first_name="Yeni")
    with pytest.raises(ValidationFailed) as own:
        referral_create(actor=rep, referred_id=customer.pk, referrer_id=customer.pk)
    assert "referrer" in own.value.fields
    with pytest.raises(ValidationFailed) as forged:
        referral_create(actor=rep, referred_id=newcomer.pk, code=HOSTILE[0])
    assert "code" in forged.value.fields
    referral = referral_create(actor=rep, referred_id=newcomer.pk, code=referral_code(customer.pk))
    assert referral.referrer_id == customer.pk
    assert referral.code == referral_code(customer.pk)
    third = make_customer(owner=rep, team=team, first_name="Üçüncü")
    with pytest.raises(ValidationFailed) as twice:
        referral_create(actor=rep, referred_id=newcomer.pk, referrer_id=third.pk)
    assert "referred" in twice.value.fields
    with pytest.raises(ValidationFailed):
        referral_create(actor=rep, referred_id=customer.pk, referrer_id=newcomer.pk)
    assert Referral.objects.count() == 1


def test_customer_out_of_reach_is_not_found(customer, other_customer, rep):
    with pytest.raises(NotFound):
        referral_create(actor=rep, referred_id=other_customer.pk, referrer_id=customer.pk)


def test_referrer_rewarded_once_on_first_delivered_order(
    program, customer, rep, team, admin_user, django_capture_on_commit_callbacks
):
    EarningRule.objects.create(program=program, kind="referral", points=200)
    newcomer = make_customer(owner=rep, team=team, first_name="Yeni")
    referral_create(actor=rep, referred_id=newcomer.pk, referrer_id=customer.pk)
    first = make_order(newcomer, amount="50")
    second = make_order(newcomer, amount="70")
    with django_capture_on_commit_callbacks(execute=True):
        for status in ("confirmed", "shipped"):
            order_set_status(actor=admin_user, order_id=first.pk, status=status)
    assert balance_of(customer.pk, program) == 0
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(actor=admin_user, order_id=first.pk, status="delivered")
        for status in ("confirmed", "shipped", "delivered"):
            order_set_status(actor=admin_user, order_id=second.pk, status=status)
    assert balance_of(customer.pk, program) == 200
    reward = PointsEntry.objects.get(customer=customer)
    assert reward.key == f"referral:{newcomer.pk}" and reward.kind == "referral"
    referral = Referral.objects.get(referred=newcomer)
    assert referral.rewarded_at is not None and referral.reward_order_id == first.pk
    assert balance_of(newcomer.pk, program) == 5 + 7

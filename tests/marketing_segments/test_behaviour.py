"""Behaviour rules: as segment rules and as filters of the customer list and its API."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.service.returns_helpers import make_order, make_product
from vefa.customers.selectors import customer_list
from vefa.marketing.models import Campaign, CampaignRecipient
from vefa.marketing.selectors.segments import segment_customers
from vefa.marketing.services.segments import segment_create
from vefa.sales.models import ProductCategory
from vefa.service.models import Ticket

_n = itertools.count(1)


def _ids(qs):
    return set(qs.values_list("pk", flat=True))


def _segment(actor, *rules, match="all"):
    return segment_create(
        actor=actor,
        name=f"S{next(_n)}",
        kind="dynamic",
        match=match,
        rules=[{"param": p, "value": v} for p, v in rules],
    )


@pytest.fixture
def catalogue(db):
    food = ProductCategory.objects.create(name="Food")
    coffee = ProductCategory.objects.create(name="Coffee", parent=food)
    beans = make_product(sku="BEAN-1", name="Beans")
    beans.category = coffee
    beans.save()
    tea = make_product(sku="TEA-1", name="Tea")
    return {"food": food, "coffee": coffee, "beans": beans, "tea": tea}


def test_bought_product_and_category_ignore_cancelled_orders(marketer, ankara, izmir, catalogue):
    make_order(ankara, [(catalogue["beans"], "1", "10")])
    make_order(izmir, [(catalogue["beans"], "1", "10")], status="cancelled")
    make_order(izmir, [(catalogue["tea"], "1", "10")])
    by_product = _segment(marketer, ("bought_product", str(catalogue["beans"].pk)))
    assert _ids(segment_customers(by_product)) == {ankara.pk}
    # The parent category includes its subcategories.
    by_category = _segment(marketer, ("bought_category", str(catalogue["food"].pk)))
    assert _ids(segment_customers(by_category)) == {ankara.pk}


def test_no_purchase_for_days_includes_never_bought(marketer, ankara, izmir, hidden, catalogue):
    make_order(ankara, [(catalogue["tea"], "1", "10")])
    old = timezone.now() - datetime.timedelta(days=400)
    make_order(izmir, [(catalogue["tea"], "1", "10")], ordered_at=old)
    segment = _segment(marketer, ("no_purchase_days", "90"))
    assert _ids(segment_customers(segment)) == {izmir.pk, hidden.pk}


def test_campaign_responses(marketer, ankara, izmir, hidden):
    campaign = Campaign.objects.create(name="Spring", objective="retention")
    now = timezone.now()
    CampaignRecipient.objects.create(
        campaign=campaign, customer=ankara, token="a" * 32, sent_at=now, opened_at=now
    )
    CampaignRecipient.objects.create(
        campaign=campaign, customer=izmir, token="b" * 32, sent_at=now, clicked_at=now
    )
    CampaignRecipient.objects.create(
        campaign=campaign, customer=hidden, token="c" * 32, sent_at=now
    )
    opened = _segment(marketer, ("campaign_opened", str(campaign.pk)))
    clicked = _segment(marketer, ("campaign_clicked", str(campaign.pk)))
    ignored = _segment(marketer, ("campaign_ignored", str(campaign.pk)))
    assert _ids(segment_customers(opened)) == {ankara.pk}
    assert _ids(segment_customers(clicked)) == {izmir.pk}
    assert _ids(segment_customers(ignored)) == {hidden.pk}


def test_open_complaint(marketer, ankara, izmir):
    Ticket.objects.create(number="T-1", subject="Broken", customer=ankara, type="complaint")
    Ticket.objects.create(
        number="T-2", subject="Old", customer=izmir, type="complaint", status="closed"
    )
    has = _segment(marketer, ("open_complaint", "true"))
    has_not = _segment(marketer, ("open_complaint", "false"))
    assert _ids(segment_customers(has)) == {ankara.pk}
    assert izmir.pk in _ids(segment_customers(has_not))
    assert ankara.pk not in _ids(segment_customers(has_not))


def test_behaviour_filters_on_the_customer_list_and_api(client, rep, marketer, ankara, izmir):
    Ticket.objects.create(number="T-9", subject="Broken", customer=ankara, type="complaint")
    page = customer_list(actor=rep, filters={"open_complaint": "true"})
    assert [c.pk for c in page.items] == [ankara.pk]
    segment = _segment(marketer, ("city", "İzmir"))
    page = customer_list(actor=rep, filters={"segment": str(segment.pk)})
    assert [c.pk for c in page.items] == [izmir.pk]
    client.force_login(rep)
    html = client.get(reverse("customers:list") + f"?segment={segment.pk}").content.decode()
    assert "Mehmet" in html and "Ayşe Yılmaz" not in html
    bad = client.get(reverse("customers:list") + "?bought_product=99999")
    assert "No such product." in bad.content.decode()


def test_unknown_record_in_a_rule_is_named(marketer):
    from vefa.common.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        _segment(marketer, ("campaign_opened", "424242"))
    assert "No such campaign." in caught.value.fields["rules.1"][0]
    with pytest.raises(ValidationFailed):
        _segment(marketer, ("no_purchase_days", "0"))
    with pytest.raises(ValidationFailed):
        _segment(marketer, ("no_purchase_days", "'; DROP TABLE sales_order; --"))


def test_segment_in_any_match_with_a_nested_segment(marketer, ankara, izmir, hidden):
    inner = _segment(marketer, ("city", "İzmir"))
    outer = _segment(marketer, ("segment", str(inner.pk)), ("kind", "organisation"), match="any")
    assert _ids(segment_customers(outer)) == {izmir.pk}


def test_owner_me_is_stored_as_the_saving_user(marketer, rep, ankara, izmir):
    segment = _segment(rep, ("owner", "me"))
    assert segment.rules == [{"param": "owner", "value": str(rep.pk)}]
    assert _ids(segment_customers(segment)) == {ankara.pk, izmir.pk}


def test_a_rule_that_stops_validating_matches_nobody(marketer, ankara, catalogue):
    segment = _segment(marketer, ("bought_product", str(catalogue["tea"].pk)))
    make_order(ankara, [(catalogue["tea"], "1", "10")])
    assert _ids(segment_customers(segment)) == {ankara.pk}
    from vefa.marketing.models import Segment

    Segment.objects.filter(pk=segment.pk).update(rules=[{"param": "gone", "value": "1"}])
    segment.refresh_from_db()
    assert _ids(segment_customers(segment)) == set()

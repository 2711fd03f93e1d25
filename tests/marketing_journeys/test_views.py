"""The journey, loyalty and referral pages: access, forms, errors, escaping."""

from __future__ import annotations

from django.test import Client

from tests.customers.factories import make_customer
from tests.marketing_journeys.conftest import HOSTILE, write_message
from vefa.marketing.models import Campaign, Journey, JourneyStep, LoyaltyTier, PointsEntry
from vefa.marketing.services.journeys import journey_create, step_add
from vefa.marketing.services.loyalty import balance_of, points_award
from vefa.marketing.services.referrals import referral_code, referral_create


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_journey_pages_create_edit_steps_and_activate(marketer):
    client = login(marketer)
    assert client.get("/marketing/journeys/").status_code == 200
    bad = client.post("/marketing/journeys/new/", {"name": "", "trigger": "nonsense"})
    assert bad.status_code == 200 and Journey.objects.count() == 0
    made = client.post(
        "/marketing/journeys/new/",
        {"name": HOSTILE[0], "trigger": "birthday", "purpose": "marketing", "days_before": "2"},
    )
    journey = Journey.objects.get()
    assert made.status_code == 302 and journey.trigger_params == {"days_before": 2}
    page = client.get(f"/marketing/journeys/{journey.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    no_steps = client.post(f"/marketing/journeys/{journey.pk}/active/", {"active": "true"})
    assert (
        no_steps.status_code == 400 and "Add at least one step first." in no_steps.content.decode()
    )
    added = client.post(
        f"/marketing/journeys/{journey.pk}/steps/", {"action": "send_email", "wait_days": "0"}
    )
    assert added.status_code == 302
    step = JourneyStep.objects.get(journey=journey)
    assert Campaign.objects.get(journey=journey) == step.campaign
    unwritten = client.post(f"/marketing/journeys/{journey.pk}/active/", {"active": "true"})
    assert unwritten.status_code == 400 and "has no message to send" in unwritten.content.decode()
    write_message(step)
    refused = client.post(
        f"/marketing/journeys/{journey.pk}/steps/", {"action": "call_task", "wait_days": "1"}
    )
    assert (
        refused.status_code == 400 and "Enter what the call is about." in refused.content.decode()
    )
    changed = client.post(
        f"/marketing/journeys/{journey.pk}/steps/{step.pk}/", {f"step{step.pk}-wait_days": "3"}
    )
    assert changed.status_code == 302
    step.refresh_from_db()
    assert step.wait_days == 3
    on = client.post(f"/marketing/journeys/{journey.pk}/active/", {"active": "true"})
    assert on.status_code == 302
    journey.refresh_from_db()
    assert journey.is_active
    listing = client.get("/marketing/journeys/?active=true&trigger=birthday&q=script")
    assert "&lt;script&gt;" in listing.content.decode()
    edit = client.post(
        f"/marketing/journeys/{journey.pk}/edit/",
        {"name": "Renamed", "trigger": "birthday", "purpose": "marketing", "days_before": "99"},
    )
    assert edit.status_code == 200  # 99 days is out of range: the form shows the error
    journey.refresh_from_db()
    assert journey.name == HOSTILE[0]


def test_journeys_hidden_from_roles_without_access(marketer, rep):
    journey = journey_create(actor=marketer, name="Private", trigger="new_customer")
    step = step_add(actor=marketer, journey_id=journey.pk, action="award_points", points=5)
    client = login(rep)
    assert client.get(f"/marketing/journeys/{journey.pk}/").status_code == 404
    assert client.get("/marketing/journeys/new/").status_code == 404
    assert (
        client.post(f"/marketing/journeys/{journey.pk}/active/", {"active": "true"}).status_code
        == 404
    )
    assert (
        client.post(f"/marketing/journeys/{journey.pk}/steps/{step.pk}/delete/").status_code == 404
    )
    assert "Private" not in client.get("/marketing/journeys/").content.decode()
    assert login(marketer).get("/marketing/journeys/999999/").status_code == 404


def test_loyalty_settings_page(marketer, rep):
    client = login(marketer)
    assert client.get("/marketing/loyalty/").status_code == 200
    saved = client.post(
        "/marketing/loyalty/",
        {
            "part": "program",
            "name": "Vefa Club",
            "currency": "try",
            "point_value": "0.05",
            "min_redeem": "10",
            "expiry_months": "12",
            "is_active": "on",
        },
    )
    assert saved.status_code == 302
    rule = client.post(
        "/marketing/loyalty/", {"part": "rule", "kind": "spend", "points": "1", "per_amount": ""}
    )
    assert rule.status_code == 400
    assert "Enter the amount spent that earns the points." in rule.content.decode()
    assert (
        client.post(
            "/marketing/loyalty/",
            {"part": "rule", "kind": "spend", "points": "1", "per_amount": "10"},
        ).status_code
        == 302
    )
    tier = {
        "part": "tier",
        "name": HOSTILE[0],
        "ladder_step": "loyal",
        "multiplier": "1.5",
        "position": "1",
    }
    assert client.post("/marketing/loyalty/", tier).status_code == 302
    again = client.post("/marketing/loyalty/", tier)
    assert again.status_code == 400 and LoyaltyTier.objects.count() == 1
    page = client.get("/marketing/loyalty/").content.decode()
    assert "&lt;script&gt;" in page and "<script>alert(1)</script>" not in page
    other = login(rep)
    assert other.get("/marketing/loyalty/").status_code == 200
    assert other.post("/marketing/loyalty/", tier | {"ladder_step": "regular"}).status_code == 404
    assert "Add the tier" not in other.get("/marketing/loyalty/").content.decode()


def test_customer_points_card_redeem_adjust_and_isolation(
    program, customer, other_customer, rep, marketer
):
    points_award(customer_id=customer.pk, points=100, key="start", description=HOSTILE[0])
    client = login(rep)
    card = client.get(f"/marketing/loyalty/customer/{customer.pk}/")
    html = card.content.decode()
    assert card.status_code == 200 and "100" in html and "&lt;script&gt;" in html
    assert "Redeem points" in html and "Adjust points" not in html
    assert client.get(f"/marketing/loyalty/customer/{other_customer.pk}/").status_code == 404
    too_many = client.post(
        f"/marketing/loyalty/customer/{customer.pk}/redeem/",
        {"redeem-points": "500", "redeem-reason": "gift"},
    )
    assert too_many.status_code == 400 and "The balance is 100 points." in too_many.content.decode()
    ok = client.post(
        f"/marketing/loyalty/customer/{customer.pk}/redeem/",
        {"redeem-points": "30", "redeem-reason": "Coffee"},
    )
    assert ok.status_code == 200 and balance_of(customer.pk, program) == 70
    assert (
        client.post(
            f"/marketing/loyalty/customer/{customer.pk}/adjust/",
            {"adjust-points": "30", "adjust-reason": "x"},
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/marketing/loyalty/customer/{other_customer.pk}/redeem/",
            {"redeem-points": "1", "redeem-reason": "x"},
        ).status_code
        == 404
    )
    adjusted = login(marketer).post(
        f"/marketing/loyalty/customer/{customer.pk}/adjust/",
        {"adjust-points": "-20", "adjust-reason": "Correction"},
    )
    assert adjusted.status_code == 200 and balance_of(customer.pk, program) == 50
    assert PointsEntry.objects.filter(customer=customer).count() == 3


def test_referral_on_the_card_and_the_list(customer, rep, team, rep_other_team, other_customer):
    newcomer = make_customer(owner=rep, team=team, first_name="Yeni")
    client = login(rep)
    self_ref = client.post(
        f"/marketing/loyalty/customer/{customer.pk}/referral/add/",
        {"referral-code": referral_code(customer.pk)},
    )
    assert self_ref.status_code == 400 and "cannot refer themselves" in self_ref.content.decode()
    hidden = client.post(
        f"/marketing/loyalty/customer/{newcomer.pk}/referral/add/",
        {"referral-code": referral_code(other_customer.pk)},
    )
    assert hidden.status_code == 400 and "not valid" in hidden.content.decode()
    ok = client.post(
        f"/marketing/loyalty/customer/{newcomer.pk}/referral/add/",
        {"referral-code": referral_code(customer.pk)},
    )
    assert ok.status_code == 200 and "The referral was recorded." in ok.content.decode()
    listing = client.get("/marketing/referrals/").content.decode()
    assert "Yeni" in listing
    assert "Yeni" not in login(rep_other_team).get("/marketing/referrals/").content.decode()
    third = make_customer(owner=rep_other_team, first_name="Üç")
    referral_create(actor=rep_other_team, referred_id=third.pk, referrer_id=other_customer.pk)
    assert "Üç" not in client.get("/marketing/referrals/?rewarded=false").content.decode()

"""API of journeys, points and referrals: create, steps, errors in the API shape, access."""

from __future__ import annotations

import json

from django.test import Client

from tests.customers.factories import make_customer
from tests.marketing_journeys.conftest import HOSTILE, write_message
from vefa.accounts.services import api_token_create
from vefa.marketing.models import Campaign, Journey
from vefa.marketing.services.loyalty import balance_of, points_award
from vefa.marketing.services.referrals import referral_code

BASE = "/api/v1/marketing"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client, url, data):
    return client.post(url, data=json.dumps(data), content_type="application/json")


def test_journey_api_round_trip(marketer, rep):
    api = client_for(marketer)
    bad = post(
        api,
        f"{BASE}/journeys",
        {"name": "x", "trigger": "birthday", "trigger_params": {"days_before": 400}},
    )
    assert bad.status_code == 422
    assert "days_before" in bad.json()["fields"]
    made = post(api, f"{BASE}/journeys", {"name": HOSTILE[0], "trigger": "new_customer"})
    assert made.status_code == 201, made.content
    journey_id = made.json()["id"]
    assert made.json()["name"] == HOSTILE[0] and made.json()["is_active"] is False
    refused = post(api, f"{BASE}/journeys/{journey_id}/active", {"active": True})
    assert refused.status_code == 422
    step = post(api, f"{BASE}/journeys/{journey_id}/steps", {"action": "send_sms", "wait_days": 1})
    assert step.status_code == 200
    campaign_id = step.json()["steps"][0]["campaign_id"]
    assert Campaign.objects.get(pk=campaign_id).channel == "sms"
    unwritten = post(api, f"{BASE}/journeys/{journey_id}/active", {"active": True})
    assert unwritten.status_code == 422 and "is_active" in unwritten.json()["fields"]
    write_message(Journey.objects.get(pk=journey_id).steps.get())
    survey = post(api, f"{BASE}/journeys/{journey_id}/steps", {"action": "send_survey"})
    assert survey.status_code == 422 and "action" in survey.json()["fields"]
    on = post(api, f"{BASE}/journeys/{journey_id}/active", {"active": True})
    assert on.status_code == 200 and on.json()["is_active"] is True
    listing = api.get(f"{BASE}/journeys?active=true").json()
    assert [j["id"] for j in listing["items"]] == [journey_id]
    figures = api.get(f"{BASE}/journeys/{journey_id}/figures").json()
    assert figures["active"] == 0 and figures["steps"][0]["waiting"] == 0
    assert api.get(f"{BASE}/journeys/{journey_id}/enrollments").json()["items"] == []
    patched = api.patch(
        f"{BASE}/journeys/{journey_id}",
        data=json.dumps({"name": "Hoş geldiniz"}),
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["name"] == "Hoş geldiniz"
    other = client_for(rep)
    assert other.get(f"{BASE}/journeys/{journey_id}").status_code == 404
    assert post(other, f"{BASE}/journeys", {"name": "x", "trigger": "birthday"}).status_code == 403
    assert Journey.objects.count() == 1


def test_points_and_referrals_api(program, customer, other_customer, rep, team, marketer):
    points_award(customer_id=customer.pk, points=80, key="start")
    api = client_for(rep)
    card = api.get(f"{BASE}/customers/{customer.pk}/points").json()
    assert card["balance"] == 80 and card["referral_code"] == referral_code(customer.pk)
    assert api.get(f"{BASE}/customers/{other_customer.pk}/points").status_code == 404
    over = post(api, f"{BASE}/customers/{customer.pk}/points/redeem", {"points": 81, "reason": "x"})
    assert over.status_code == 422 and "points" in over.json()["fields"]
    ok = post(api, f"{BASE}/customers/{customer.pk}/points/redeem", {"points": 20, "reason": "x"})
    assert ok.status_code == 200 and ok.json()["balance"] == 60
    denied = post(
        api, f"{BASE}/customers/{customer.pk}/points/adjust", {"points": 5, "reason": "x"}
    )
    assert denied.status_code == 403
    adjusted = post(
        client_for(marketer),
        f"{BASE}/customers/{customer.pk}/points/adjust",
        {"points": 5, "reason": HOSTILE[1]},
    )
    assert adjusted.status_code == 200 and balance_of(customer.pk, program) == 65
    history = api.get(f"{BASE}/customers/{customer.pk}/points/history?limit=2").json()
    assert len(history["items"]) == 2 and history["next_cursor"]
    newcomer = make_customer(owner=rep, team=team, first_name="Yeni")
    made = post(
        api, f"{BASE}/referrals", {"referred": newcomer.pk, "code": referral_code(customer.pk)}
    )
    assert made.status_code == 201 and made.json()["referrer_id"] == customer.pk
    twice = post(api, f"{BASE}/referrals", {"referred": newcomer.pk, "referrer": customer.pk})
    assert twice.status_code == 422 and "referred" in twice.json()["fields"]
    assert [r["referred_id"] for r in api.get(f"{BASE}/referrals").json()["items"]] == [newcomer.pk]

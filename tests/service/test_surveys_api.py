"""Survey API: create with an audience checked by the customer filters, figures, answers
page, sending as a job, access as 404."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.accounts.services import api_token_create
from vefa.service.models import Survey, SurveyInvitation
from vefa.service.services.surveys import _new_token

pytestmark = pytest.mark.django_db

BASE = "/api/v1/service/surveys"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client, url, data, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def _answer(survey, score, comment=""):
    customer = make_customer(owner=survey.owner, team=survey.team)
    SurveyInvitation.objects.create(
        kind=survey.kind,
        survey=survey,
        customer=customer,
        token_hash=_new_token()[1],
        expires_at=timezone.now() + datetime.timedelta(days=1),
        responded_at=timezone.now(),
        score=score,
        comment=comment,
        owner=survey.owner,
        team=survey.team,
    )


def test_create_and_read_figures(agent):
    client = client_for(agent)
    created = post(client, BASE, {"name": "Kış NPS", "audience": "stage=customer"})
    assert created.status_code == 201
    survey = Survey.objects.get(pk=created.json()["id"])
    for score in (10, 10, 9, 7, 6, 0):
        _answer(survey, score, comment=f"c{score}")
    detail = client.get(f"{BASE}/{survey.pk}").json()
    figures = detail["figures"]
    # 3 promoters, 1 passive, 2 detractors of 6: 50 − 33.3 = 16.7 → 17.
    assert (figures["promoters"], figures["passives"], figures["detractors"]) == (3, 1, 2)
    assert figures["score"] == 17
    assert figures["promoter_share"] == "50.0"
    answers = client.get(f"{BASE}/{survey.pk}/answers", {"limit": 4}).json()
    assert len(answers["items"]) == 4 and answers["next_cursor"]
    assert client.get(BASE).json()["items"][0]["id"] == survey.pk


def test_bad_input(agent):
    client = client_for(agent)
    assert post(client, BASE, {"name": ""}).status_code == 422
    bad = post(client, BASE, {"name": "x", "audience": "stagee=customer"})
    assert bad.status_code == 422 and "audience" in bad.json()["fields"]
    assert post(client, BASE, {"name": "x", "kind": "poll"}).status_code == 422
    assert post(client, BASE, {"name": 12}).status_code == 422
    assert not Survey.objects.exists()


def test_send_returns_the_job(agent, django_capture_on_commit_callbacks):
    client = client_for(agent)
    survey = post(client, BASE, {"name": "Send"}).json()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{BASE}/{survey['id']}/send")
    assert response.status_code == 202
    assert response.json()["job_url"].endswith(f"/jobs/{response.json()['job_id']}/")
    assert client.post(f"{BASE}/{survey['id']}/send").status_code == 422


def test_csat_figures(agent):
    assert client_for(agent).get(f"{BASE}/csat").json()["answers"] == 0
    assert client_for(agent).get(f"{BASE}/csat", {"days": 0}).status_code == 422


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.READ_ONLY])
def test_access_as_404(agent, other_team, role):
    survey = post(client_for(agent), BASE, {"name": "Hidden"}).json()
    client = client_for(UserFactory(role=role, team=other_team))
    assert post(client, BASE, {"name": "Mine"}).status_code == 404
    assert client.post(f"{BASE}/{survey['id']}/send").status_code == 404
    expected = 404 if role == Role.SALES_REP else 200
    assert client.get(f"{BASE}/{survey['id']}").status_code == expected

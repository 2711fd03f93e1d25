"""The survey link in a real browser: a Persian customer answers right to left, a wrong
attempt keeps the comment typed, the second visit finds the link no longer valid."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.factories import TeamFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.service.models import SurveyInvitation, Ticket
from vefa.service.services import surveys as services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_persian_customer_answers_once(page, live_server):
    agent = UserFactory(role=Role.SERVICE_AGENT, team=TeamFactory(name="Tehran"))
    customer = make_customer(
        owner=agent,
        first_name="سارا",
        last_name="احمدی",
        primary_email="sara@example.ir",
        language="fa",
    )
    ticket = Ticket.objects.create(
        number="T-2026-004242",
        subject="مرجوعی",
        customer=customer,
        owner=agent,
        status="resolved",
    )
    invitation = services.csat_request(ticket_id=ticket.pk)
    # The e-mail went out at commit with its own token; the test issues the one it uses.
    token, hashed = services._new_token()
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        token_hash=hashed, expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    url = f"/service/survey/{token}/"
    page.goto(url)
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "fa"
    page.fill("textarea[name=comment]", "خیلی خوب <b>بود</b>")
    page.click("button[type=submit]")
    # No score chosen: an error, and the comment is still there.
    assert page.locator("#score-error").is_visible()
    assert page.input_value("textarea[name=comment]") == "خیلی خوب <b>بود</b>"
    page.click("label[for=score-4]")
    page.click("button[type=submit]")
    # The page speaks Persian: the thanks are found by their element, not their English text.
    page.wait_for_selector("#survey-thanks")
    assert page.locator("#survey-thanks").inner_text() != "Thank you!"
    invitation.refresh_from_db()
    assert (invitation.score, invitation.comment) == (4, "خیلی خوب <b>بود</b>")
    response = page.goto(url)
    assert response is not None and response.status == 404

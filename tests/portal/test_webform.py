"""The embeddable public form: framing headers, honeypot, rate limit, tickets and leads,
bad input; the staff page that keeps the forms."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.service.conftest import HOSTILE
from vefa.accounts.choices import Role
from vefa.common.errors import PermissionDenied, ValidationFailed
from vefa.customers.models import Lead
from vefa.portal import services
from vefa.portal.models import WebForm
from vefa.service.models import Ticket

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "Dragana Jovanović",
    "email": "Dragana@Example.rs",
    "subject": "Kafa je stigla hladna",
    "message": "Poručila sam kafu, stigla je hladna.",
}


@pytest.fixture
def ticket_form(admin_user, queue) -> WebForm:
    return services.webform_create(
        actor=admin_user,
        data={
            "name": "Complaints",
            "target": "ticket",
            "ticket_type": "complaint",
            "queue": queue.pk,
            "allowed_origins": "https://www.vefa-shop.example\nhttps://shop.example.rs/",
        },
    )


@pytest.fixture
def lead_form(admin_user, team) -> WebForm:
    rep = UserFactory(role=Role.SALES_REP, team=team)
    return services.webform_create(
        actor=admin_user, data={"name": "Contact us", "target": "lead", "lead_owner": rep.pk}
    )


def _url(form: WebForm) -> str:
    return reverse("portal:webform", args=[form.key])


def test_form_page_may_be_framed_only_by_its_sites(ticket_form):
    response = Client().get(_url(ticket_form))
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert response["Content-Security-Policy"] == (
        "frame-ancestors 'self' https://www.vefa-shop.example https://shop.example.rs"
    )
    # Every other page stays unframeable.
    assert Client().get(reverse("portal:login"))["X-Frame-Options"] == "DENY"


def test_submission_creates_a_web_form_ticket(ticket_form, queue):
    response = Client().post(_url(ticket_form), GOOD, REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:webform_thanks", args=[ticket_form.key])
    ticket = Ticket.objects.get(subject=GOOD["subject"])
    assert (ticket.channel, ticket.type, ticket.queue_id, ticket.customer_id) == (
        "web_form",
        "complaint",
        queue.pk,
        None,
    )
    assert (ticket.requester_email, ticket.requester_name) == (
        "dragana@example.rs",
        GOOD["name"],
    )
    assert Client().get(response["Location"]).status_code == 200


def test_submission_creates_a_lead(lead_form):
    response = Client().post(
        _url(lead_form), {**GOOD, "company": "Kafana Beograd", "phone": "+381 11 123 4567"}
    )
    assert response.status_code == 302
    lead = Lead.objects.get(email="dragana@example.rs")
    assert (lead.first_name, lead.last_name, lead.company_name, lead.source) == (
        "Dragana",
        "Jovanović",
        "Kafana Beograd",
        "web",
    )
    assert lead.owner == lead_form.lead_owner
    assert GOOD["message"] in lead.notes


def test_honeypot_is_thanked_and_nothing_is_kept(ticket_form):
    response = Client().post(_url(ticket_form), {**GOOD, "website": "http://spam.example"})
    assert response.status_code == 302
    assert not Ticket.objects.exists()


def test_rate_limit_per_address(ticket_form):
    client = Client()
    for i in range(services.FORM_PER_IP):
        data = {**GOOD, "subject": f"s{i}"}
        assert client.post(_url(ticket_form), data, REMOTE_ADDR="10.2.2.2").status_code == 302
    blocked = client.post(_url(ticket_form), GOOD, REMOTE_ADDR="10.2.2.2")
    assert blocked.status_code == 429
    assert Ticket.objects.count() == services.FORM_PER_IP
    assert client.post(_url(ticket_form), GOOD, REMOTE_ADDR="10.2.2.3").status_code == 302


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": ""}, "email"),
        ({"name": ""}, "name"),
        ({"subject": "x" * 301}, "subject"),
        ({"message": ""}, "message"),
        ({"phone": "call me"}, "phone"),
        ({"message": "a\x00b"}, "message"),
    ],
)
def test_bad_input_is_refused_per_field(ticket_form, change, field):
    response = Client().post(_url(ticket_form), {**GOOD, **change})
    assert response.status_code == 422
    assert field in response.context["errors"]
    assert not Ticket.objects.exists()
    assert response["Content-Security-Policy"].startswith("frame-ancestors")


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_is_escaped_when_shown_again(ticket_form, text):
    response = Client().post(_url(ticket_form), {**GOOD, "subject": text, "email": "bad"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html


def test_unknown_or_inactive_forms_are_not_found(ticket_form, admin_user):
    assert Client().get(reverse("portal:webform", args=["x" * 20])).status_code == 404
    services.webform_update(
        actor=admin_user,
        form_id=ticket_form.pk,
        data={"name": "Complaints", "target": "ticket", "is_active": False},
    )
    assert Client().get(_url(ticket_form)).status_code == 404
    assert Client().post(_url(ticket_form), GOOD).status_code == 404


def test_forms_are_kept_by_administrators_only(admin_user, team):
    agent = UserFactory(role=Role.SERVICE_AGENT, team=team)
    with pytest.raises(PermissionDenied):
        services.webform_create(actor=agent, data={"name": "x"})
    client = Client()
    client.force_login(agent)
    assert client.get(reverse("portal:staff_forms")).status_code == 404
    for data, field in (
        ({"name": ""}, "name"),
        ({"name": "x", "target": "spam"}, "target"),
        ({"name": "x", "target": "lead"}, "lead_owner"),
        ({"name": "x", "allowed_origins": "javascript:alert(1)"}, "allowed_origins"),
        ({"name": "x", "allowed_origins": "https://a.example/path"}, "allowed_origins"),
        ({"name": "x", "allowed_origins": "https://a.example; script-src *"}, "allowed_origins"),
        ({"name": "x", "queue": "abc"}, "queue"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            services.webform_create(actor=admin_user, data=data)
        assert field in caught.value.fields, data


def test_staff_page_lists_forms_with_an_escaped_embed_snippet(admin_user, queue):
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        reverse("portal:staff_forms"),
        {
            "name": '<img src=x onerror="alert(1)">',
            "target": "ticket",
            "ticket_type": "request",
            "queue": queue.pk,
            "allowed_origins": "https://www.example.com",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    form = WebForm.objects.get()
    html = client.get(reverse("portal:staff_forms")).content.decode()
    assert f"/portal/form/{form.key}/" in html
    assert "<img src=x" not in html
    assert "&lt;iframe src=" in html

"""The call-centre screen: lookup as you type, log the call and open a ticket in one step."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.customers.factories import make_customer
from tests.service.conftest import HOSTILE
from vefa.customers.models import ContactPoint
from vefa.interactions.models import Interaction
from vefa.service.models import Ticket
from vefa.service.services import callcentre
from vefa.service.services.callcentre import call_log

pytestmark = pytest.mark.django_db

E164 = "+905321234567"
URL = "/service/call-centre/"


@pytest.fixture
def caller(agent, team):
    customer = make_customer(
        owner=agent, team=team, first_name="Mehmet", last_name="Arayan", primary_phone=E164
    )
    ContactPoint.objects.create(customer=customer, kind="mobile", value=E164, normalized=E164)
    return customer


@pytest.fixture
def signed_in(client, agent):
    client.force_login(agent)
    return client


def test_page_and_lookup_partial(signed_in, caller):
    assert reverse("service:call_centre") == URL
    page = signed_in.get(URL)
    assert page.status_code == 200
    assert 'hx-get="/service/call-centre/lookup/"' in page.content.decode()
    partial = signed_in.get(reverse("service:call_centre_lookup"), {"phone": "(0532) 123-45-67"})
    body = partial.content.decode()
    assert "Mehmet Arayan" in body and f'value="{caller.pk}"' in body
    assert "<html" not in body
    # A full page with the number in the address (no JavaScript).
    assert "Mehmet Arayan" in signed_in.get(URL, {"phone": "0532 123 4567"}).content.decode()


def test_unknown_number_offers_to_create_the_customer(signed_in):
    body = signed_in.get(
        reverse("service:call_centre_lookup"), {"phone": "0212 555 00 00"}
    ).content.decode()
    assert 'id="no-match"' in body
    assert "/customers/new/?kind=person&amp;phone=0212+555+00+00" in body
    form = signed_in.get("/customers/new/?kind=person&phone=0212+555+00+00").content.decode()
    assert 'value="0212 555 00 00"' in form


def test_hostile_lookup_text_is_escaped(signed_in, agent, team):
    make_customer(owner=agent, team=team, first_name=HOSTILE[0], primary_phone=E164)
    body = signed_in.get(reverse("service:call_centre_lookup"), {"phone": E164}).content.decode()
    assert HOSTILE[0] not in body and "&lt;script&gt;" in body
    body = signed_in.get(URL, {"phone": HOSTILE[0]}).content.decode()
    assert "<script>alert(1)</script>" not in body


def test_log_a_call(signed_in, caller, agent):
    response = signed_in.post(
        URL,
        {
            "phone": "0532 123 45 67",
            "customer": caller.pk,
            "notes": "Asked about delivery",
            "duration_minutes": "4",
        },
    )
    assert response.status_code == 302
    call = Interaction.objects.get(kind="call")
    assert call.customer == caller and call.channel == "call_centre"
    assert call.direction == "inbound" and call.duration_minutes == 4
    assert call.body == "Asked about delivery" and call.user == agent
    assert not Ticket.objects.exists()


def test_log_a_call_and_open_a_ticket_in_one_step(signed_in, caller, queue):
    response = signed_in.post(
        URL,
        {
            "phone": E164,
            "customer": caller.pk,
            "notes": "The coffee machine leaks",
            "duration_minutes": "7",
            "open_ticket": "on",
            "ticket_subject": "Leaking machine",
            "ticket_type": "complaint",
            "ticket_priority": "high",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket = Ticket.objects.get()
    assert ticket.channel == "call_centre" and ticket.customer == caller
    assert ticket.type == "complaint" and ticket.priority == "high"
    assert ticket.description == "The coffee machine leaks"
    call = Interaction.objects.get(kind="call")
    assert call.related_model == "service.ticket" and call.related_id == ticket.pk


def test_unknown_caller_gets_a_ticket_with_name_and_number(signed_in, queue):
    response = signed_in.post(
        URL,
        {
            "phone": "0212 555 00 00",
            "customer": "",
            "notes": "Wants a catalogue",
            "open_ticket": "on",
            "ticket_subject": "Catalogue request",
            "ticket_type": "request",
            "ticket_priority": "normal",
            "requester_name": "Ali Veli",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket = Ticket.objects.get()
    assert ticket.customer is None and ticket.requester_name == "Ali Veli"
    assert "0212 555 00 00" in ticket.description
    assert not Interaction.objects.filter(kind="call").exists()


def test_a_call_without_customer_or_ticket_is_refused(signed_in):
    response = signed_in.post(URL, {"phone": "0212 555 00 00", "notes": "?"})
    assert response.status_code == 422
    assert "open a ticket" in response.content.decode()


def test_a_failing_ticket_leaves_no_interaction(signed_in, caller, queue):
    # No subject: the ticket is refused, and the call logged before it is rolled back.
    response = signed_in.post(
        URL,
        {
            "phone": E164,
            "customer": caller.pk,
            "notes": "Something",
            "open_ticket": "on",
            "ticket_subject": "",
            "ticket_type": "complaint",
            "ticket_priority": "normal",
        },
    )
    assert response.status_code == 422
    assert not Interaction.objects.exists()
    assert not Ticket.objects.exists()


def test_any_failure_after_the_call_rolls_it_back(agent, caller, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the ticket service failed")

    monkeypatch.setattr(callcentre, "_open_ticket", broken)
    with pytest.raises(RuntimeError):
        call_log(actor=agent, customer=caller.pk, notes="x", ticket={"subject": "S"})
    assert not Interaction.objects.exists()
    # Without a ticket the same call is logged.
    call_log(actor=agent, customer=caller.pk, notes="x")
    assert Interaction.objects.filter(kind="call").count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"customer": "abc"}, "customer"),
        ({"customer": True}, "customer"),
        ({"duration_minutes": "-1"}, "duration_minutes"),
        ({"duration_minutes": "99999"}, "duration_minutes"),
        ({"duration_minutes": 1.5}, "duration_minutes"),
        ({"notes": "x" * 20_001}, "notes"),
        ({"notes": 12}, "notes"),
        ({"ticket": "nope"}, "ticket"),
        ({"ticket": {"subject": "S", "owner": 1}}, "ticket.owner"),
        ({"ticket": {"subject": "S", "priority": "asap"}}, "ticket.priority"),
        ({"customer": None, "ticket": {"subject": "S"}}, "ticket.requester_name"),
    ],
)
def test_bad_input_names_the_field(agent, caller, queue, kwargs, field):
    values = {"customer": caller.pk, **kwargs}
    with pytest.raises(Exception) as exc:
        call_log(actor=agent, **values)
    assert field in getattr(exc.value, "fields", {}), exc.value
    assert not Interaction.objects.exists() and not Ticket.objects.exists()


def test_hidden_customer_cannot_be_logged_against(client, caller, team, other_team):
    from tests.factories import UserFactory

    rep = UserFactory(role="sales_rep", team=other_team)
    client.force_login(rep)
    response = client.post(URL, {"phone": E164, "customer": caller.pk, "notes": "x"})
    assert response.status_code == 422
    assert not Interaction.objects.exists()
    body = client.get(reverse("service:call_centre_lookup"), {"phone": E164}).content.decode()
    assert "Mehmet" not in body


def test_anonymous_is_sent_to_login(client):
    assert client.get(URL).status_code == 302

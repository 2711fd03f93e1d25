"""What a signed-in contact does: open complaints and reply (with files), request returns,
answer surveys, keep their details and consents, switch language; hostile text escaped;
lists read with a constant number of queries."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.portal.conftest import sign_in
from tests.service.conftest import HOSTILE
from vefa.customers.models import Address, Consent, ContactPoint
from vefa.platform.models import ChangeLogEntry
from vefa.service.choices import MessageKind, TicketStatus
from vefa.service.models import ReturnRequest, Ticket, TicketMessage

pytestmark = pytest.mark.django_db


def _open(client: Client, **fields):
    data = {"type": "complaint", "subject": "Late delivery", "description": "Two weeks late"}
    data.update(fields)
    return client.post(reverse("portal:ticket_new"), data)


def test_open_a_complaint_with_order_product_and_file(client_a, world_a, product):
    upload = SimpleUploadedFile("photo.txt", b"the box was wet", "text/plain")
    response = _open(
        client_a, order=str(world_a.order.pk), product=str(product.pk), attachments=[upload]
    )
    assert response.status_code == 302
    ticket = Ticket.objects.exclude(pk=world_a.ticket.pk).get(subject="Late delivery")
    assert response["Location"] == reverse("portal:ticket", args=[ticket.pk])
    assert (ticket.customer, ticket.contact, ticket.channel, ticket.type) == (
        world_a.customer,
        world_a.contact,
        "portal",
        "complaint",
    )
    assert (ticket.order_id, ticket.product_id) == (world_a.order.pk, product.pk)
    first = TicketMessage.objects.get(ticket=ticket)
    assert (first.kind, first.author_contact_id, first.author_id) == (
        MessageKind.CUSTOMER,
        world_a.contact.pk,
        None,
    )
    entry = ChangeLogEntry.objects.filter(model="service.ticket", object_id=ticket.pk).first()
    assert entry is not None and entry.actor_id is None
    page = client_a.get(response["Location"]).content.decode()
    assert "Two weeks late" in page and "photo.txt" in page


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"type": "internal"}, "type"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 301}, "subject"),
        ({"description": ""}, "description"),
        ({"description": "x" * 20_001}, "description"),
        ({"order": "abc"}, "order"),
        ({"product": "999999"}, "product"),
    ],
)
def test_open_refuses_bad_input_per_field(client_a, fields, bad):
    before = Ticket.objects.count()
    response = _open(client_a, **fields)
    assert response.status_code == 422
    assert bad in response.context["errors"]
    assert Ticket.objects.count() == before


def test_open_refuses_another_customers_order(client_a, world_b):
    response = _open(client_a, order=str(world_b.order.pk))
    assert response.status_code == 422
    assert "order" in response.context["errors"]
    assert world_b.order.number not in response.content.decode()


def test_open_refuses_a_disguised_file(client_a):
    fake = SimpleUploadedFile("invoice.pdf", b"<html><script>alert(1)</script>", "application/pdf")
    response = _open(client_a, attachments=[fake])
    assert response.status_code == 422
    assert not Ticket.objects.filter(subject="Late delivery").exists()


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_shown_escaped(client_a, text):
    response = _open(client_a, subject=text[:300], description=text)
    assert response.status_code == 302
    ticket_page = client_a.get(response["Location"]).content.decode()
    listing = client_a.get(reverse("portal:tickets")).content.decode()
    for html in (ticket_page, listing):
        assert "<script>alert(1)</script>" not in html
    if "<script>" in text:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in ticket_page


def test_reply_reopens_a_resolved_ticket_and_agent_note_stays_hidden(client_a, world_a, agent):
    from vefa.service.services.tickets import ticket_set_status

    ticket_set_status(actor=agent, ticket_id=world_a.ticket.pk, status=TicketStatus.RESOLVED)
    url = reverse("portal:ticket", args=[world_a.ticket.pk])
    response = client_a.post(url, {"body": "It broke again"})
    assert response.status_code == 302
    world_a.ticket.refresh_from_db()
    assert world_a.ticket.status == TicketStatus.OPEN
    assert world_a.ticket.reopen_count == 1
    html = client_a.get(url).content.decode()
    assert "It broke again" in html and world_a.note_text not in html
    empty = client_a.post(url, {"body": "   "})
    assert empty.status_code == 422 and "body" in empty.context["errors"]


def test_reply_to_a_merged_ticket_lands_on_the_target(client_a, world_a, agent):
    from vefa.service.services.tickets import ticket_create, ticket_merge

    dup = ticket_create(
        actor=agent,
        data={"subject": "dup", "customer": world_a.customer.pk, "description": "same"},
    )
    ticket_merge(actor=agent, source_id=dup.pk, target_id=world_a.ticket.pk)
    response = client_a.get(reverse("portal:ticket", args=[dup.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:ticket", args=[world_a.ticket.pk])


def test_request_a_return(client_a, world_a):
    line = world_a.order.lines.first()
    url = reverse("portal:return_new", args=[world_a.order.pk])
    assert client_a.get(url).status_code == 200
    response = client_a.post(url, {"reason": "defective", f"qty_{line.pk}": "1"})
    assert response.status_code == 302
    record = (
        ReturnRequest.objects.filter(order=world_a.order)
        .exclude(pk=world_a.return_request.pk)
        .get()
    )
    assert (record.customer, record.contact, record.reason) == (
        world_a.customer,
        world_a.contact,
        "defective",
    )
    for data, field in (
        ({"reason": "nonsense", f"qty_{line.pk}": "1"}, "reason"),
        ({"reason": "damaged"}, "lines"),
        ({"reason": "damaged", f"qty_{line.pk}": "abc"}, "lines"),
        ({"reason": "damaged", f"qty_{line.pk}": "99"}, "lines"),
        ({"reason": "damaged", f"qty_{line.pk}": "-1"}, "lines"),
        ({"reason": "damaged", f"qty_{line.pk}": "NaN"}, "lines"),
    ):
        refused = client_a.post(url, data)
        assert refused.status_code == 422, data
        assert field in refused.context["errors"], data
    # Three ordered, one returned earlier, one now: two more is too many.
    too_many = client_a.post(url, {"reason": "damaged", f"qty_{line.pk}": "2"})
    assert too_many.status_code == 422
    assert ReturnRequest.objects.filter(order=world_a.order).count() == 2


def test_answer_a_survey(client_a, world_a):
    page = client_a.get(reverse("portal:surveys")).content.decode()
    assert f'value="{world_a.invitation.pk}"' in page
    bad = client_a.post(
        reverse("portal:surveys"), {"invitation": world_a.invitation.pk, "score": "11"}
    )
    assert bad.status_code == 422
    response = client_a.post(
        reverse("portal:surveys"),
        {"invitation": world_a.invitation.pk, "score": "9", "comment": "<b>good</b>"},
    )
    assert response.status_code == 302
    world_a.invitation.refresh_from_db()
    assert (world_a.invitation.score, world_a.invitation.comment) == (9, "<b>good</b>")
    again = client_a.post(
        reverse("portal:surveys"), {"invitation": world_a.invitation.pk, "score": "3"}
    )
    assert again.status_code == 404
    world_a.invitation.refresh_from_db()
    assert world_a.invitation.score == 9


def test_update_my_details(client_a, world_a):
    data = {
        "form": "details",
        "first_name": "Ayşe",
        "last_name": "Öztürk",
        "phone": "0532 123 45 67",
        "line1": "Bağdat Cad. 1",
        "city": "İstanbul",
        "country": "tr",
        "preferred_channel": "sms",
    }
    assert client_a.post(reverse("portal:details"), data).status_code == 302
    contact = world_a.contact
    contact.refresh_from_db()
    assert contact.display_name == "Ayşe Öztürk"
    assert contact.primary_phone == "+905321234567"
    assert contact.city == "İstanbul" and contact.country == "TR"
    assert Address.objects.get(customer=contact).is_primary
    assert contact.preferred_channel == "sms"
    assert ContactPoint.objects.filter(customer=contact, normalized="+905321234567").count() == 1
    # Saving the same again changes nothing.
    assert client_a.post(reverse("portal:details"), data).status_code == 302
    assert ContactPoint.objects.filter(customer=contact).count() == 1
    # The organisation is not touched.
    world_a.customer.refresh_from_db()
    assert world_a.customer.display_name == "A Gıda A.Ş."
    for bad, field in (
        ({"first_name": ""}, "first_name"),
        ({"phone": "not a phone"}, "phone"),
        ({"country": "XX"}, "country"),
        ({"line1": "", "city": "Ankara"}, "line1"),
        ({"last_name": "x" * 101}, "last_name"),
        ({"preferred_channel": "pigeon"}, "preferred_channel"),
    ):
        response = client_a.post(reverse("portal:details"), {**data, **bad})
        assert response.status_code == 422, bad
        assert field in response.context["errors"], bad


def test_consents_grant_and_withdraw(client_a, world_a):
    url = reverse("portal:details")
    response = client_a.post(url, {"form": "consents", "consent": ["email:newsletter"]})
    assert response.status_code == 302
    rows = Consent.objects.filter(customer=world_a.contact)
    assert [(c.channel, c.purpose, c.status, c.source) for c in rows] == [
        ("email", "newsletter", "granted", "portal")
    ]
    client_a.post(url, {"form": "consents", "consent": ["email:newsletter"]})
    assert rows.count() == 1
    client_a.post(url, {"form": "consents"})
    latest = Consent.objects.filter(customer=world_a.contact).order_by("-recorded_at", "-id")[0]
    assert latest.status == "withdrawn"
    bad = client_a.post(url, {"form": "consents", "consent": ["post:profiling"]})
    assert bad.status_code == 422


def test_language_switch_and_persian_is_right_to_left(client_a, world_a):
    response = client_a.post(
        reverse("portal:set_language"), {"language": "fa", "next": "/portal/orders/"}
    )
    assert response.status_code == 302 and response["Location"] == "/portal/orders/"
    world_a.account.refresh_from_db()
    assert world_a.account.language == "fa"
    html = client_a.get(reverse("portal:home")).content.decode()
    assert 'dir="rtl"' in html and 'lang="fa"' in html and "bootstrap.rtl" in html
    escape = client_a.post(
        reverse("portal:set_language"), {"language": "tr", "next": "https://evil.example/"}
    )
    assert escape["Location"] == reverse("portal:home")


@pytest.mark.parametrize("url_name", ["portal:tickets", "portal:orders", "portal:home"])
def test_lists_read_a_constant_number_of_queries(world_a, agent, queue, url_name):
    from tests.service.returns_helpers import make_order
    from vefa.service.services.tickets import ticket_create

    client = sign_in(Client(), world_a.account)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(url_name)).status_code == 200
        return len(ctx)

    first = count()
    for i in range(8):
        ticket_create(actor=agent, data={"subject": f"more {i}", "customer": world_a.customer.pk})
        make_order(world_a.customer, [(None, "1", "10")])
    assert count() == first


def test_ticket_page_reads_a_constant_number_of_queries(client_a, world_a, agent):
    from vefa.service.services.tickets import ticket_message_add

    url = reverse("portal:ticket", args=[world_a.ticket.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client_a.get(url).status_code == 200
        return len(ctx)

    first = count()
    for i in range(5):
        ticket_message_add(
            actor=agent,
            ticket_id=world_a.ticket.pk,
            kind=MessageKind.REPLY,
            body=f"reply {i}",
            attachments=[SimpleUploadedFile(f"r{i}.txt", b"text", "text/plain")],
            send_email=False,
        )
    assert count() == first

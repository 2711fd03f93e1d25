"""Inbound e-mail end to end: real .eml files open tickets or thread into them by Message-ID,
References or the ticket reference; senders are matched to customers; attachments follow the
upload rules; duplicates, automatic mail and our own mail open nothing."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.customers.factories import make_customer
from vefa.customers.models import ContactPoint, CustomerRelationship
from vefa.interactions.models import Attachment, Interaction
from vefa.service.choices import MessageKind, TicketChannel, TicketStatus
from vefa.service.inbound import MessageTooLarge
from vefa.service.models import Queue, Ticket, TicketMessage
from vefa.service.services.email import (
    customer_for_address,
    inbound_process,
    inbound_receive,
)
from vefa.service.services.tickets import ticket_message_add, ticket_set_status

EML = Path(__file__).parent / "eml"

pytestmark = pytest.mark.django_db


def eml(name: str, **replace: str) -> bytes:
    raw = (EML / name).read_bytes()
    for old, new in replace.items():
        raw = raw.replace(old.encode(), new.encode())
    return raw


def mail(
    *,
    sender: str = "ayse@example.com",
    to: str = "support@vefa.example",
    subject: str = "Merhaba",
    body: str = "Bir sorum var.",
    message_id: str | None = "<m-1@mail.example.com>",
    in_reply_to: str = "",
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content(body)
    for name, data, kind in attachments:
        maintype, subtype = kind.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


@pytest.fixture
def routed(queue, agent):
    """The default queue with one agent to route to."""
    return queue


def test_a_new_mail_opens_a_ticket_for_the_known_customer(routed, customer):
    message = inbound_receive(raw=eml("tr_new_ticket.eml"))
    assert message is not None and message.kind == MessageKind.CUSTOMER
    ticket = message.ticket
    assert ticket.subject == "Siparişim hâlâ gelmedi — İĞÜŞÖÇ ığüşöç"
    assert ticket.channel == TicketChannel.EMAIL
    assert ticket.queue_id == routed.pk
    assert ticket.customer_id == customer.pk
    assert ticket.requester_email == "ayse@example.com"
    assert ticket.requester_name == "Ayşe Yılmaz"
    assert ticket.message_id == "<CAK7x9Ayse-0001@mail.example.com>"
    assert message.message_id == "<CAK7x9Ayse-0001@mail.example.com>"
    assert message.author_contact_id == customer.pk
    assert message.author_email == "ayse@example.com"
    assert message.body.startswith("Merhaba,\n\n12 Ekim'de verdiğim sipariş")
    # In the customer's contact history.
    logged = Interaction.objects.get(related_model="service.ticket", related_id=ticket.pk)
    assert logged.customer_id == customer.pk and logged.direction == "inbound"


def test_the_same_message_twice_is_taken_once(routed, customer):
    assert inbound_receive(raw=eml("tr_new_ticket.eml")) is not None
    again = inbound_process(raw=eml("tr_new_ticket.eml"))
    assert (again.status, again.message) == ("duplicate", None)
    assert Ticket.objects.count() == 1 and TicketMessage.objects.count() == 1


def test_a_message_without_message_id_is_deduplicated_by_its_content(routed):
    raw = mail(message_id=None, sender="yeni@example.com")
    assert inbound_receive(raw=raw) is not None
    assert inbound_receive(raw=raw) is None
    assert Ticket.objects.count() == 1


def test_a_reply_threads_by_references_and_the_quote_is_trimmed(routed, customer, agent):
    first = inbound_receive(raw=eml("tr_new_ticket.eml"))
    assert first is not None
    reply = ticket_message_add(
        actor=agent, ticket_id=first.ticket_id, kind=MessageKind.REPLY, body="Yarın gelecek."
    )
    reply.refresh_from_db()
    assert reply.message_id.endswith("@vefa.example>")
    raw = eml(
        "tr_reply_references.eml", **{"<REPLY-ID-PLACEHOLDER@vefa.example>": reply.message_id}
    )
    result = inbound_process(raw=raw)
    assert result.status == "threaded" and result.threaded
    assert result.ticket is not None and result.ticket.pk == first.ticket_id
    answer = result.message
    assert answer is not None and answer.kind == MessageKind.CUSTOMER
    assert answer.in_reply_to == reply.message_id
    assert answer.references.split() == ["<CAK7x9Ayse-0001@mail.example.com>", reply.message_id]
    assert answer.body == (
        "Kargo bugün geldi ama kutu ezilmiş. Ürün çalışıyor, yine de bilginize.\n\nAyşe"
    )
    assert Ticket.objects.count() == 1
    kinds = list(
        TicketMessage.objects.filter(ticket_id=first.ticket_id).values_list("kind", flat=True)
    )
    assert kinds == ["customer", "reply", "customer"]


def test_a_reply_threads_by_in_reply_to_alone_and_by_the_first_message(routed, customer):
    first = inbound_receive(raw=mail(message_id="<first@mail.example.com>"))
    assert first is not None
    second = inbound_receive(
        raw=mail(
            message_id="<second@mail.example.com>",
            in_reply_to="<first@mail.example.com>",
            subject="Ek bilgi",
        )
    )
    assert second is not None and second.ticket_id == first.ticket_id


def test_a_reply_to_a_resolved_ticket_reopens_it(routed, customer, agent):
    first = inbound_receive(raw=mail(message_id="<first@mail.example.com>"))
    assert first is not None
    ticket_set_status(actor=agent, ticket_id=first.ticket_id, status=TicketStatus.RESOLVED)
    inbound_receive(
        raw=mail(message_id="<again@mail.example.com>", in_reply_to="<first@mail.example.com>")
    )
    ticket = Ticket.objects.get(pk=first.ticket_id)
    assert ticket.status == TicketStatus.OPEN and ticket.reopen_count == 1


def test_the_ticket_reference_in_the_subject_threads_for_the_sender(routed, customer):
    first = inbound_receive(raw=mail(message_id="<first@mail.example.com>"))
    assert first is not None
    number = first.ticket.number
    again = inbound_process(
        raw=mail(message_id="<new-thread@mail.example.com>", subject=f"Yine ben [{number}]")
    )
    assert again.status == "threaded" and again.ticket.pk == first.ticket_id


def test_a_stranger_quoting_a_ticket_reference_gets_a_ticket_of_their_own(routed, customer):
    first = inbound_receive(raw=mail(message_id="<first@mail.example.com>"))
    assert first is not None
    result = inbound_process(
        raw=mail(
            sender="mallory@evil.example",
            message_id="<evil@evil.example>",
            subject=f"Re: [{first.ticket.number}] change my address",
        )
    )
    assert result.status == "created"
    assert result.ticket.pk != first.ticket_id
    assert TicketMessage.objects.filter(ticket_id=first.ticket_id).count() == 1


@pytest.mark.parametrize("name", ["auto_reply.eml", "bounce_dsn.eml"])
def test_automatic_mail_opens_nothing(routed, customer, name):
    result = inbound_process(raw=eml(name))
    assert result.status == "ignored" and result.message is None
    assert not Ticket.objects.exists()


def test_our_own_address_never_opens_a_ticket(routed):
    result = inbound_process(raw=mail(sender="Support <SUPPORT@vefa.example>"))
    assert (result.status, result.reason) == ("ignored", "own-address")
    assert not Ticket.objects.exists()


def test_the_queue_follows_the_address_written_to(routed, other_queue, agent_other_team):
    Queue.objects.filter(pk=other_queue.pk).update(email_address="Destek.BG@vefa.example")
    to_other = inbound_receive(raw=mail(to="destek.bg@VEFA.example", message_id="<a@x.example>"))
    assert to_other is not None and to_other.ticket.queue_id == other_queue.pk
    elsewhere = inbound_receive(raw=mail(to="info@elsewhere.example", message_id="<b@x.example>"))
    assert elsewhere is not None and elsewhere.ticket.queue_id == routed.pk


def test_the_mailbox_address_is_used_when_the_headers_do_not_name_a_queue(
    routed, other_queue, agent_other_team
):
    Queue.objects.filter(pk=other_queue.pk).update(email_address="bg@vefa.example")
    raw = mail(to="undisclosed-recipients:;", message_id="<c@x.example>")
    message = inbound_receive(raw=raw, mailbox="bg@vefa.example")
    assert message is not None and message.ticket.queue_id == other_queue.pk


def test_a_person_working_at_an_organisation_writes_for_it(routed, agent, team):
    company = make_customer(owner=agent, team=team, kind="organisation", trade_name="Kahve A.Ş.")
    person = make_customer(owner=agent, team=team, first_name="Emre", last_name="Kaya")
    ContactPoint.objects.create(
        customer=person, kind="email", value="Emre@Kahve.example", normalized="emre@kahve.example"
    )
    CustomerRelationship.objects.create(from_customer=person, to_customer=company, kind="works_at")
    assert customer_for_address("emre@kahve.example") == (company, person)
    message = inbound_receive(raw=mail(sender="Emre Kaya <EMRE@kahve.example>"))
    assert message is not None
    assert (message.ticket.customer_id, message.ticket.contact_id) == (company.pk, person.pk)
    assert message.author_contact_id == person.pk


def test_a_former_employer_does_not_count(routed, agent, team):
    import datetime

    company = make_customer(owner=agent, team=team, kind="organisation", trade_name="Eski A.Ş.")
    person = make_customer(owner=agent, team=team, first_name="Can", primary_email="can@x.example")
    CustomerRelationship.objects.create(
        from_customer=person,
        to_customer=company,
        kind="works_at",
        end_date=datetime.date(2020, 1, 1),
    )
    assert customer_for_address("can@x.example") == (person, person)


def test_an_unknown_sender_gets_a_ticket_without_customer(routed):
    message = inbound_receive(raw=eml("sr_windows1250.eml"))
    assert message is not None
    ticket = message.ticket
    assert ticket.customer_id is None
    assert ticket.requester_email == "djordje@example.rs"
    assert ticket.subject == "Reklamacija: oštećen paket — Đorđe Čolić, Šabac"


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("fa_persian.eml", "شکایت درباره سفارش ۱۲۳"),
        ("sr_cyrillic_1251.eml", "Рекламација — још увек чекам"),
        ("tr_windows1254.eml", "Fatura adresi düzeltme - Eskişehir"),
    ],
)
def test_non_ascii_subjects_are_stored_as_written(routed, name, subject):
    message = inbound_receive(raw=eml(name))
    assert message is not None
    assert Ticket.objects.get().subject == subject


def test_attachments_are_kept_under_the_upload_rules(routed, customer):
    message = inbound_receive(raw=eml("attachments_pdf_png.eml"))
    assert message is not None and message.interaction_id is not None
    kept = Attachment.objects.filter(interaction_id=message.interaction_id).order_by("id")
    assert [(a.original_name, a.content_type) for a in kept] == [
        ("fatura_şubat.pdf", "application/pdf"),
        ("hasar.png", "image/png"),
    ]
    assert message.body.startswith("Faturayı ve hasarlı ürünün fotoğrafını ekledim.")
    assert "Attachments not kept:" in message.body
    assert "- setup.exe: this type of file is not allowed." in message.body


def test_a_file_whose_content_lies_about_its_type_is_refused_and_named(routed, customer):
    raw = mail(
        attachments=(
            ("fatura.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),
            ("ok.txt", "düz metin".encode(), "text/plain"),
        )
    )
    message = inbound_receive(raw=raw)
    assert message is not None
    names = list(
        Attachment.objects.filter(interaction_id=message.interaction_id).values_list(
            "original_name", flat=True
        )
    )
    assert names == ["ok.txt"]
    assert "fatura.pdf" in message.body.split("Attachments not kept:")[1]


def test_without_a_customer_files_cannot_be_kept_but_the_message_is(routed):
    raw = mail(
        sender="stranger@example.org",
        attachments=(("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),),
    )
    message = inbound_receive(raw=raw)
    assert message is not None and message.ticket.customer_id is None
    assert "Attachments not kept:" in message.body and "a.pdf" in message.body
    assert not Attachment.objects.exists()


def test_hostile_html_is_stored_as_inert_text(routed):
    message = inbound_receive(raw=eml("hostile_html_only.eml"))
    assert message is not None
    assert "onerror" not in message.body and "<iframe" not in message.body
    assert "document.cookie" not in message.body
    assert message.ticket.subject == "<script>alert('subject')</script> Invoice"


def test_malformed_headers_still_make_a_ticket(routed):
    message = inbound_receive(raw=eml("malformed_headers.eml"))
    assert message is not None
    ticket = message.ticket
    assert ticket.requester_email == "real.person@example.org"
    assert message.author_email == "second@forged.example"
    assert message.message_id.endswith("@no-message-id.invalid>")


def test_an_invalid_sender_address_is_left_blank(routed):
    message = inbound_receive(raw=mail(sender="a..b@example.com"))
    assert message is not None
    assert message.ticket.requester_email == "" and message.author_email == ""


def test_an_empty_message_gets_a_placeholder_text(routed):
    message = inbound_receive(raw=mail(body="", subject=""))
    assert message is not None
    assert message.ticket.subject == "(no subject)"
    assert message.body == "(The e-mail had no text.)"


def test_a_huge_body_is_cut_not_refused(routed, customer):
    message = inbound_receive(raw=mail(body="Çok uzun bir şikâyet. " * 20_000))
    assert message is not None
    assert len(message.body.encode()) <= 100 * 1024
    assert message.body.endswith("[The rest of this message was cut off.]")


def test_a_message_over_the_limit_is_refused(routed, settings):
    settings.VEFA_SERVICE_INBOUND_MAX_BYTES = 500
    with pytest.raises(MessageTooLarge):
        inbound_receive(raw=mail(body="x" * 1000))
    assert not Ticket.objects.exists()


def test_a_hostile_subject_is_escaped_on_the_ticket_page(routed, client, agent):
    from django.urls import NoReverseMatch, reverse

    message = inbound_receive(raw=eml("hostile_html_only.eml"))
    assert message is not None
    try:
        url = reverse("service:ticket_detail", args=[message.ticket_id])
    except NoReverseMatch:
        pytest.skip("the ticket page is not mounted")
    client.force_login(agent)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert('subject')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;subject&#x27;)&lt;/script&gt;" in html
    assert "<script>alert(2)</script>" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "<img src=x onerror" not in html


def test_an_organisations_address_and_merged_customers(routed, agent, team):
    from vefa.customers.models import Customer

    company = make_customer(
        owner=agent, team=team, kind="organisation", trade_name="Çay Ltd.",
        primary_email="info@cay.example",
    )  # fmt: skip
    assert customer_for_address("info@cay.example") == (company, None)
    old = make_customer(owner=agent, team=team, first_name="Eski", primary_email="x@y.example")
    new = make_customer(owner=agent, team=team, first_name="Yeni", primary_email="x@y.example")
    Customer.objects.filter(pk=old.pk).update(merged_into=new)
    assert customer_for_address("x@y.example") == (new, new)
    assert customer_for_address("nobody@y.example") == (None, None)
    assert customer_for_address("") == (None, None)

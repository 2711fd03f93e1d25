# ruff: noqa: F811 (fixtures imported from the helpers module)
"""Ticket pages: queue, list (filters, paging, constant query count), new ticket, the ticket
page with its htmx actions; hostile text escaped; other teams' tickets 404."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.customers.factories import make_customer
from tests.service.conftest import HOSTILE
from tests.service.test_tickets_helpers import (  # noqa: F401 (fixtures)
    csat_requests,
    open_ticket,
    sent_replies,
    side_effects,
    sla_calls,
)
from vefa.service.models import Ticket, TicketMessage
from vefa.service.services.tickets import ticket_message_add

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _effects(side_effects):
    return side_effects


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_queue_shows_mine_and_team_unassigned(agent, agent_same_team, queue, other_queue):
    mine = open_ticket(agent, subject="Benim biletim", owner=agent.pk)
    open_ticket(agent, subject="Başkasının", owner=agent_same_team.pk)
    queue.assignment = "manual"
    queue.save()
    loose = open_ticket(agent, subject="Sahipsiz")
    assert loose.owner_id is None
    response = login(agent).get(reverse("service:ticket_queue"))
    assert response.status_code == 200
    page = response.content.decode()
    assert mine.number in page and loose.number in page
    assert "Başkasının" not in page


def test_list_filters_and_paging(agent, queue, customer):
    for i in range(3):
        open_ticket(agent, subject=f"Konu {i}", owner=agent.pk, priority="urgent")
    open_ticket(agent, subject="Diğer", customer=customer.pk, owner=agent.pk)
    client = login(agent)
    url = reverse("service:ticket_list")
    page = client.get(url, {"priority": "urgent"}).content.decode()
    assert "Konu 0" in page and "Diğer" not in page
    page = client.get(url, {"q": "DIĞER"}).content.decode()
    assert "Diğer" in page and "Konu 0" not in page
    bad = client.get(url, {"priority": "loud", "queue": "x"})
    assert bad.status_code == 200
    assert "priority" in bad.content.decode()
    rows = client.get(url, {"customer": customer.pk}, headers=HTMX).content.decode()
    assert "<html" not in rows and "Diğer" in rows


def _count_list_queries(client, n_tickets) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("service:ticket_list"))
    assert response.status_code == 200
    assert response.content.decode().count('href="/service/tickets/') >= min(n_tickets, 50)
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_the_page(agent, queue, team):
    client = login(agent)
    for i in range(3):
        customer = make_customer(owner=agent, team=team, first_name=f"K{i}")
        open_ticket(agent, customer=customer.pk, owner=agent.pk)
    few = _count_list_queries(client, 3)
    for i in range(20):
        customer = make_customer(owner=agent, team=team, first_name=f"M{i}")
        open_ticket(agent, customer=customer.pk, owner=agent.pk)
    many = _count_list_queries(client, 23)
    assert many == few


def test_rep_list_query_count_is_constant(rep, agent, queue, team):
    for _ in range(3):
        open_ticket(agent, owner=agent.pk)
    client = login(rep)
    few = _count_list_queries(client, 3)
    for _ in range(10):
        open_ticket(agent, owner=agent.pk)
    assert _count_list_queries(client, 13) == few


def test_detail_shows_conversation_with_kinds_and_escapes(agent, queue, customer):
    hostile = HOSTILE[0]
    ticket = open_ticket(
        agent, subject=hostile, description=hostile, customer=customer.pk, owner=agent.pk
    )
    ticket_message_add(actor=agent, ticket_id=ticket.pk, kind="note", body=HOSTILE[3])
    ticket_message_add(actor=agent, ticket_id=ticket.pk, kind="reply", body=HOSTILE[2])
    response = login(agent).get(reverse("service:ticket_detail", args=[ticket.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'data-kind="customer"' in page and 'data-kind="note"' in page
    assert 'data-kind="reply"' in page
    assert reverse("customers:detail", args=[customer.pk]) in page


def test_list_escapes_hostile_subjects(agent, queue):
    for text in HOSTILE:
        open_ticket(agent, subject=text, requester_name=text, owner=agent.pk)
    page = login(agent).get(reverse("service:ticket_list")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_reply_note_and_status_through_htmx(agent, queue, customer, sent_replies):
    ticket = open_ticket(agent, customer=customer.pk, owner=agent.pk, description="Yardım")
    client = login(agent)
    reply = client.post(
        reverse("service:ticket_reply", args=[ticket.pk]),
        {"reply-body": "Merhaba, inceliyoruz.", "reply-send_email": "on"},
        headers=HTMX,
    )
    assert reply.status_code == 200
    assert "Merhaba, inceliyoruz." in reply.content.decode()
    assert 'id="ticket-work"' in reply.content.decode()
    assert len(sent_replies) == 1  # handed to the e-mail service, which sends on commit
    note = client.post(
        reverse("service:ticket_note", args=[ticket.pk]), {"note-body": "Depoya sor"}, headers=HTMX
    )
    assert note.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == "open"
    resolved = client.post(
        reverse("service:ticket_status", args=[ticket.pk]),
        {"status": "resolved", "version": ticket.version},
        headers=HTMX,
    )
    assert resolved.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    stale = client.post(
        reverse("service:ticket_status", args=[ticket.pk]),
        {"status": "closed", "version": ticket.version - 1},
        headers=HTMX,
    )
    assert stale.status_code == 412
    refused = client.post(
        reverse("service:ticket_status", args=[ticket.pk]), {"status": "waiting"}, headers=HTMX
    )
    assert refused.status_code == 422
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_empty_reply_shows_the_error(agent, queue):
    ticket = open_ticket(agent, owner=agent.pk)
    response = login(agent).post(
        reverse("service:ticket_reply", args=[ticket.pk]), {"reply-body": ""}, headers=HTMX
    )
    assert response.status_code == 422
    assert not TicketMessage.objects.filter(kind="reply").exists()


def test_plain_post_redirects_to_the_ticket(agent, queue):
    ticket = open_ticket(agent, owner=agent.pk)
    response = login(agent).post(
        reverse("service:ticket_note", args=[ticket.pk]), {"note-body": "not"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("service:ticket_detail", args=[ticket.pk])


def test_assign_and_merge(agent, agent_same_team, queue):
    a = open_ticket(agent, owner=agent.pk)
    b = open_ticket(agent, owner=agent.pk)
    client = login(agent)
    assigned = client.post(
        reverse("service:ticket_assign", args=[a.pk]),
        {"owner": agent_same_team.pk, "version": a.version},
        headers=HTMX,
    )
    assert assigned.status_code == 200
    assert Ticket.objects.get(pk=a.pk).owner_id == agent_same_team.pk
    unknown = client.post(
        reverse("service:ticket_merge", args=[b.pk]), {"target": "T-1999-000001"}, headers=HTMX
    )
    assert unknown.status_code == 422
    merged = client.post(
        reverse("service:ticket_merge", args=[b.pk]), {"target": a.number.lower()}, headers=HTMX
    )
    assert merged.status_code == 204
    assert merged["HX-Redirect"] == reverse("service:ticket_detail", args=[a.pk])
    assert Ticket.objects.get(pk=b.pk).merged_into_id == a.pk


def test_create_page_opens_a_ticket(agent, queue, customer):
    client = login(agent)
    url = reverse("service:ticket_create")
    assert client.get(url, {"customer": customer.pk}).status_code == 200
    response = client.post(
        url,
        {
            "customer": customer.pk,
            "subject": "Telefonla gelen şikâyet",
            "description": "Kurye kaba davrandı",
            "type": "complaint",
            "channel": "phone",
            "priority": "high",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.customer_id == customer.pk and ticket.type == "complaint"
    assert response["Location"] == reverse("service:ticket_detail", args=[ticket.pk])
    missing = client.post(url, {"subject": "", "type": "request", "channel": "phone"})
    assert missing.status_code == 422
    assert Ticket.objects.count() == 1


def test_access(agent, agent_other_team, rep_other_team, read_only, queue):
    ticket = open_ticket(agent, owner=agent.pk)
    detail = reverse("service:ticket_detail", args=[ticket.pk])
    other = login(agent_other_team)
    page = other.get(detail)
    assert page.status_code == 200  # agents read every ticket …
    assert 'id="reply-form"' not in page.content.decode()
    for name, data in (
        ("service:ticket_reply", {"reply-body": "x"}),
        ("service:ticket_note", {"note-body": "x"}),
        ("service:ticket_status", {"status": "open"}),
        ("service:ticket_assign", {"owner": agent_other_team.pk}),
        ("service:ticket_merge", {"target": ticket.number}),
        (
            "service:ticket_edit",
            {"subject": "x", "type": "request", "channel": "phone", "priority": "low"},
        ),
    ):
        assert other.post(reverse(name, args=[ticket.pk]), data).status_code == 404  # … not write
    assert login(rep_other_team).get(detail).status_code == 404
    assert login(read_only).get(reverse("service:ticket_create")).status_code == 404
    assert Client().get(detail).status_code == 302
    assert TicketMessage.objects.filter(ticket=ticket).count() == 0
    assert Ticket.objects.get(pk=ticket.pk).priority == "normal"


def test_edit_details(agent, queue):
    ticket = open_ticket(agent, owner=agent.pk)
    client = login(agent)
    url = reverse("service:ticket_edit", args=[ticket.pk])
    data = {
        "subject": "Düzeltilmiş konu",
        "type": "complaint",
        "channel": "email",
        "priority": "high",
        "version": ticket.version,
    }
    response = client.post(url, data, headers=HTMX)
    assert response.status_code == 200
    assert "Düzeltilmiş konu" in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.type, ticket.priority) == (
        "Düzeltilmiş konu",
        "complaint",
        "high",
    )
    stale = client.post(url, {**data, "subject": "Eski"}, headers=HTMX)
    assert stale.status_code == 422
    assert "Someone else changed this ticket" in stale.content.decode()
    bad = client.post(url, {**data, "priority": "loud", "version": ticket.version}, headers=HTMX)
    assert bad.status_code == 422
    ticket.refresh_from_db()
    assert ticket.subject == "Düzeltilmiş konu" and ticket.priority == "high"


def test_suggested_articles_panel(agent, queue):
    from vefa.service.services.knowledge import article_create

    article = article_create(
        actor=agent,
        data={
            "slug": "kargo-gecikmesi",
            "status": "published",
            "translations": {
                "en": {"title": "Kargo gecikmesi <b>ne yapmalı</b>", "body": "Kargo gecikirse …"}
            },
        },
    )
    ticket = open_ticket(agent, subject="Kargo gecikmesi yaşadım", owner=agent.pk)
    page = login(agent).get(reverse("service:ticket_detail", args=[ticket.pk])).content.decode()
    assert 'id="suggested-articles"' in page
    assert reverse("service:article_detail", args=[article.pk]) in page
    assert "&lt;b&gt;ne yapmalı&lt;/b&gt;" in page


def test_create_page_takes_the_customer_picker_choice(agent, queue, customer):
    client = login(agent)
    page = client.get(reverse("service:ticket_create")).content.decode()
    assert reverse("customers:picker") in page
    response = client.post(
        reverse("service:ticket_create"),
        {
            "to_customer": customer.pk,
            "subject": "Seçilen müşteri",
            "type": "question",
            "channel": "walk_in",
            "priority": "low",
        },
    )
    assert response.status_code == 302
    assert Ticket.objects.get().customer_id == customer.pk


def _count_queue_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("service:ticket_queue"))
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_queue_query_count_does_not_grow_with_the_tickets(agent, queue, team):
    from vefa.service.models import SlaPolicy

    SlaPolicy.objects.create(name="Normal", first_response_minutes=120, resolution_minutes=960)
    queue.assignment = "manual"
    queue.save()
    client = login(agent)
    for i in range(2):
        buyer = make_customer(owner=agent, team=team, first_name=f"Alıcı{i}")
        open_ticket(agent, subject=f"Benim {i}", customer=buyer.pk, owner=agent.pk)
        open_ticket(agent, subject=f"Sahipsiz {i}")
    few, page = _count_queue_queries(client)
    assert "Alıcı1" in page and "Sahipsiz 1" in page and "Support" in page
    for i in range(12):
        buyer = make_customer(owner=agent, team=team, first_name=f"Müşteri{i}")
        ticket = open_ticket(agent, subject=f"Çok {i}", customer=buyer.pk, owner=agent.pk)
        if i % 2:
            ticket_message_add(
                actor=agent, ticket_id=ticket.pk, kind="reply", body="Tamam", send_email=False
            )
        open_ticket(agent, subject=f"Boşta {i}")
    many, page = _count_queue_queries(client)
    assert many == few
    # Each row shows its customer, priority and the SLA target due next (no query per row).
    assert "Müşteri11" in page and "Boşta 11" in page
    # The status badge is shown on the agent's own tickets (the unassigned show the queue).
    assert page.count('data-status="new"') + page.count('data-status="open"') == 14
    assert "reply by" in page and "resolve by" in page


def test_queue_escapes_hostile_names(agent, queue, team):
    buyer = make_customer(owner=agent, team=team, first_name=HOSTILE[0], last_name="X")
    open_ticket(agent, subject=HOSTILE[0], customer=buyer.pk, owner=agent.pk)
    page = login(agent).get(reverse("service:ticket_queue")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2


def test_list_rows_show_owner_customer_labels_and_sla(agent, queue, customer):
    from vefa.service.models import SlaPolicy

    SlaPolicy.objects.create(name="Normal", first_response_minutes=120, resolution_minutes=960)
    ticket = open_ticket(
        agent, subject="Fatura hatalı", customer=customer.pk, owner=agent.pk, priority="urgent"
    )
    page = login(agent).get(reverse("service:ticket_list")).content.decode()
    assert f'href="/service/tickets/{ticket.pk}/"' in page
    assert customer.display_name in page and "Zeynep Agent" in page
    assert ">Urgent<" in page and 'data-status="new"' in page and 'data-sla="running"' in page
    assert "reply by" in page


def test_list_labels_follow_the_language(agent, queue):
    from django.utils import translation

    from vefa.service.choices import TicketPriority, TicketStatus

    open_ticket(agent, subject="Dil", owner=agent.pk, priority="urgent")
    agent.language = "tr"
    agent.save(update_fields=["language"])
    client = login(agent)
    page = client.get(reverse("service:ticket_list")).content.decode()
    with translation.override("tr"):
        urgent, new = str(TicketPriority.URGENT.label), str(TicketStatus.NEW.label)
    assert f">{urgent}<" in page and f">{new}</span>" in page


def test_list_customer_filter_includes_tickets_as_contact_person(agent, queue, customer, team):
    company = make_customer(kind="organisation", trade_name="Acme A.Ş.", owner=agent, team=team)
    as_contact = open_ticket(agent, subject="Kişi adına", customer=company.pk, contact=customer.pk)
    own = open_ticket(agent, subject="Kendi adına", customer=customer.pk)
    open_ticket(agent, subject="Başka", customer=company.pk)
    page = login(agent).get(reverse("service:ticket_list"), {"customer": customer.pk})
    text = page.content.decode()
    assert as_contact.number in text and own.number in text and "Başka" not in text


def test_htmx_rows_leave_out_the_filter_form(agent, queue):
    for i in range(3):
        open_ticket(agent, subject=f"Satır {i}", owner=agent.pk)
    client = login(agent)
    url = reverse("service:ticket_list")
    with CaptureQueriesContext(connection) as full:
        page = client.get(url, {"status": "active"}).content.decode()
    with CaptureQueriesContext(connection) as partial:
        rows = client.get(url, {"status": "active"}, headers=HTMX).content.decode()
    assert "<form" in page and "<form" not in rows and "<html" not in rows
    assert all(f"Satır {i}" in rows for i in range(3))
    assert len(partial.captured_queries) < len(full.captured_queries)


def test_ticket_page_lists_the_tickets_merged_into_it(agent, queue):
    from vefa.service.services.tickets import ticket_merge

    target = open_ticket(agent, subject="Asıl", owner=agent.pk)
    source = open_ticket(agent, subject="Kopya", owner=agent.pk)
    ticket_merge(actor=agent, source_id=source.pk, target_id=target.pk)
    page = login(agent).get(reverse("service:ticket_detail", args=[target.pk]))
    assert page.status_code == 200 and source.number in page.content.decode()

# ruff: noqa: F401, F811 (fixtures imported from the service tests)
"""Two customers, A and B, each with a contact person holding a portal account and records
of every kind the portal shows: orders with shipments, quotes (sent and draft), contracts,
tickets with a public reply carrying a file and an internal note, returns, a survey."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.service.conftest import agent, calendar, queue
from tests.service.returns_helpers import make_order, make_product
from vefa.customers.models import CustomerRelationship
from vefa.interactions.models import Attachment
from vefa.portal import services
from vefa.portal.choices import TokenPurpose
from vefa.portal.models import PortalAccount
from vefa.sales.models import Contract, Quote, Shipment
from vefa.service.choices import MessageKind
from vefa.service.models import ReturnRequest, SurveyInvitation, Ticket


@dataclass
class World:
    """One customer's records, by kind."""

    customer: Any
    contact: Any
    account: PortalAccount
    order: Any
    draft_order: Any
    shipment: Shipment
    quote: Quote
    draft_quote: Quote
    contract: Contract
    ticket: Ticket
    note_text: str
    attachment: Attachment
    note_attachment_free: bool
    return_request: ReturnRequest
    invitation: SurveyInvitation | None


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _build(tag: str, agent: Any, queue: Any, product: Any) -> World:
    org = make_customer(
        kind="organisation",
        trade_name=f"{tag} Gıda A.Ş.",
        owner=agent,
        team=agent.team,
    )
    person = make_customer(
        first_name=f"{tag}-Ayşe",
        last_name="Kaya",
        primary_email=f"{tag.lower()}@example.com",
        owner=agent,
        team=agent.team,
    )
    CustomerRelationship.objects.create(
        from_customer=person, to_customer=org, kind="works_at", job_title="Buyer"
    )
    account = PortalAccount.objects.create(
        contact=person, customer=org, email=f"{tag.lower()}@example.com", language="en"
    )
    order = make_order(org, [(product, "3", "100")], status="delivered")
    draft = make_order(org, [(product, "1", "50")], status="draft")
    shipment = Shipment.objects.create(
        order=order, carrier=f"{tag}-Kargo", tracking_number=f"TRK-{tag}-1", status="delivered"
    )
    quote = Quote.objects.create(number=f"Q-{tag}-1", customer=org, status="sent", owner=agent)
    draft_quote = Quote.objects.create(
        number=f"Q-{tag}-2", customer=org, status="draft", owner=agent
    )
    today = timezone.localdate()
    contract = Contract.objects.create(
        number=f"C-{tag}-1",
        title=f"{tag} service contract",
        customer=org,
        status="active",
        start_date=today,
        end_date=today + datetime.timedelta(days=365),
        owner=agent,
    )
    from vefa.service.services.tickets import ticket_create, ticket_message_add

    ticket = ticket_create(
        actor=agent,
        data={
            "subject": f"{tag} broken grinder",
            "description": f"{tag} the grinder arrived broken",
            "customer": org.pk,
            "contact": person.pk,
            "type": "complaint",
            "queue": queue.pk,
        },
    )
    reply = ticket_message_add(
        actor=agent,
        ticket_id=ticket.pk,
        kind=MessageKind.REPLY,
        body=f"{tag} we are sending a new one",
        attachments=[SimpleUploadedFile(f"{tag}-label.txt", f"label {tag}".encode(), "text/plain")],
        send_email=False,
    )
    note_text = f"INTERNAL-{tag}-customer is difficult"
    ticket_message_add(actor=agent, ticket_id=ticket.pk, kind=MessageKind.NOTE, body=note_text)
    attachment = Attachment.objects.get(interaction__ticket_message=reply)
    return_request = services.return_open(
        account=account,
        order_id=order.pk,
        reason="damaged",
        reason_detail=f"{tag} box crushed",
        quantities={str(order.lines.first().pk): "1"},
    )
    invitation = SurveyInvitation.objects.create(
        kind="nps",
        customer=org,
        contact=person,
        email=account.email,
        token_hash=f"{tag}".ljust(64, "0"),
        expires_at=timezone.now() + datetime.timedelta(days=10),
        sent_at=timezone.now(),
    )
    return World(
        customer=org,
        contact=person,
        account=account,
        order=order,
        draft_order=draft,
        shipment=shipment,
        quote=quote,
        draft_quote=draft_quote,
        contract=contract,
        ticket=ticket,
        note_text=note_text,
        attachment=attachment,
        note_attachment_free=True,
        return_request=return_request,
        invitation=invitation,
    )


@pytest.fixture
def product(db):
    return make_product()


@pytest.fixture
def world_a(agent, queue, product) -> World:
    return _build("A", agent, queue, product)


@pytest.fixture
def world_b(agent, queue, product) -> World:
    return _build("B", agent, queue, product)


def sign_in(client: Client, account: PortalAccount) -> Client:
    """Sign in through a real single-use link, as a contact would."""
    token = services._issue_token(account, TokenPurpose.LOGIN, datetime.timedelta(minutes=15))
    response = client.post(f"/portal/login/link/{token}/")
    assert response.status_code == 302, response.status_code
    return client


@pytest.fixture
def client_a(world_a, world_b) -> Client:
    return sign_in(Client(), world_a.account)


@pytest.fixture
def money() -> Decimal:
    return Decimal("100")

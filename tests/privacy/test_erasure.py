"""Erasure leaves no trace of the person anywhere, keeps orders and logs what it did."""

from __future__ import annotations

import pytest

from tests.privacy.scan import database_hits, file_hits
from vefa.common.errors import NotFound, ValidationFailed
from vefa.privacy import services
from vefa.privacy.models import DeletionLog

pytestmark = pytest.mark.django_db


def test_world_is_found_by_the_scan_before_erasure(world):
    hits = database_hits(world.needles())
    tables = {h[0] for h in hits}
    # The scan sees every place the person was put (so its silence afterwards means something).
    for table in (
        "customers_customer",
        "customers_contactpoint",
        "interactions_interaction",
        "service_ticket",
        "service_ticketmessage",
        "marketing_campaignrecipient",
        "marketing_messageevent",
        "marketing_suppression",
        "platform_changelogentry",
        "platform_notification",
        "platform_job",
        "platform_searchentry",
        "portal_portalaccount",
        "analytics_customerscore",
        "sales_order",
    ):
        assert table in tables, table
    assert len(file_hits(world.needles())) >= 3


def test_erasure_leaves_zero_hits(world, admin_user):
    log = services.erase_subject(
        actor=admin_user, subject_kind="customer", subject_id=world.customer.pk
    )
    assert database_hits(world.needles()) == []
    assert file_hits(world.needles()) == []
    # The deletion log holds counts and hashes, never the values.
    assert log.counts["customers.customer"] >= 1
    assert log.counts.get("customers.contactpoint") == 2
    assert log.files_removed >= 3
    assert len(log.identifiers_hash) == 64
    assert world.email not in str(log.identifier_hashes)


def test_erasure_keeps_orders_and_other_people(world, admin_user):
    from vefa.customers.models import Customer
    from vefa.platform.models import SearchEntry
    from vefa.sales.models import Order

    services.erase_subject(actor=admin_user, subject_kind="customer", subject_id=world.customer.pk)
    customer = Customer.objects.get(pk=world.customer.pk)
    assert customer.display_name == f"Erased customer #{customer.pk}"
    assert customer.primary_email == "" and customer.primary_phone == ""
    assert customer.first_name == "" and customer.notes == ""
    order = Order.objects.get(number="O-2026-990001")
    assert order.customer_id == customer.pk
    assert order.shipping_address == ""
    other = Customer.objects.get(pk=world.other.pk)
    assert other.display_name == "Mehmet Demir"
    assert SearchEntry.objects.filter(model="customer", object_id=other.pk).exists() or (
        SearchEntry.objects.filter(object_id=other.pk, title__contains="Mehmet").exists()
    )
    # The unrelated export file stays.
    from pathlib import Path

    from django.conf import settings

    assert (Path(settings.MEDIA_ROOT) / "exports" / "customers-2.csv").exists()


def test_suppression_keeps_only_a_hash(world, admin_user):
    from vefa.marketing.models import Suppression
    from vefa.privacy.selectors import address_was_erased

    services.erase_subject(actor=admin_user, subject_kind="customer", subject_id=world.customer.pk)
    rows = list(Suppression.objects.values_list("address", flat=True))
    assert len(rows) == 2
    assert all(a.startswith("erased:") for a in rows)
    assert address_was_erased(world.email.upper())
    assert address_was_erased(world.phone)
    assert not address_was_erased("someone.else@example.com")


def test_erasure_is_idempotent(world, admin_user):
    first = services.erase_subject(
        actor=admin_user, subject_kind="customer", subject_id=world.customer.pk
    )
    second = services.erase_subject(
        actor=admin_user, subject_kind="customer", subject_id=world.customer.pk
    )
    assert first.pk == second.pk
    assert DeletionLog.objects.count() == 1


def test_legal_hold_refuses_erasure(world, admin_user):
    hold = services.legal_hold_place(
        actor=admin_user, subject_kind="customer", subject_id=world.customer.pk, reason="Lawsuit"
    )
    with pytest.raises(ValidationFailed) as exc:
        services.erase_subject(
            actor=admin_user, subject_kind="customer", subject_id=world.customer.pk
        )
    assert "subject_id" in exc.value.fields
    assert database_hits([world.email]) != []
    services.legal_hold_release(actor=admin_user, hold_id=hold.pk)
    services.erase_subject(actor=admin_user, subject_kind="customer", subject_id=world.customer.pk)
    assert database_hits([world.email]) == []


def test_non_admin_cannot_erase(world, rep, manager):
    for actor in (rep, manager):
        with pytest.raises(NotFound):
            services.erase_subject(
                actor=actor, subject_kind="customer", subject_id=world.customer.pk
            )
    assert database_hits([world.email]) != []


@pytest.mark.parametrize("subject_id", [0, -1, "abc", None, "1; DROP TABLE x", 10**30])
def test_erasure_of_a_missing_subject_is_not_found(admin_user, subject_id):
    with pytest.raises(NotFound):
        services.erase_subject(actor=admin_user, subject_kind="customer", subject_id=subject_id)
    with pytest.raises(NotFound):
        services.erase_subject(actor=admin_user, subject_kind="<script>", subject_id=1)


def test_lead_erasure_deletes_the_lead(admin_user):
    from vefa.customers.models import Lead

    lead = Lead.objects.create(
        first_name="Parisa",
        last_name="Rahimzadeh",
        email="parisa.r@example.org",
        notes="پریسا Rahimzadeh wants a demo",
    )
    log = services.erase_subject(actor=admin_user, subject_kind="lead", subject_id=lead.pk)
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert log.counts["customers.lead"] == 1
    assert database_hits(["parisa.r@example.org", "Parisa Rahimzadeh"]) == []


def test_portal_account_erasure(world, admin_user):
    from vefa.portal.models import PortalAccount

    account = PortalAccount.objects.get(email=world.email)
    services.erase_subject(actor=admin_user, subject_kind="portal_account", subject_id=account.pk)
    assert not PortalAccount.objects.filter(pk=account.pk).exists()
    assert database_hits([world.email]) == []


def test_analytics_store_is_rewritten_not_deleted(world, admin_user):
    import pyarrow.parquet as pq
    from django.conf import settings

    path = settings.ANALYTICS_DIR / "customers" / "part-0.parquet"
    services.erase_subject(actor=admin_user, subject_kind="customer", subject_id=world.customer.pk)
    table = pq.read_table(path).to_pydict()
    assert table["customer_id"] == [world.customer.pk, world.other.pk]
    assert table["display_name"] == ["[erased]", "Mehmet Demir"]


def test_namesake_keeps_their_name_but_notes_lose_the_erased_person(world, admin_user):
    from tests.factories import CustomerFactory
    from vefa.customers.models import Customer

    namesake = CustomerFactory(
        first_name=world.customer.first_name,
        last_name=world.customer.last_name,
        display_name=world.name,
        notes="",
    )
    colleague = CustomerFactory(notes=f"Works with {world.name} ({world.email})")
    services.erase_subject(actor=admin_user, subject_kind="customer", subject_id=world.customer.pk)
    assert Customer.objects.get(pk=namesake.pk).display_name == world.name
    notes = Customer.objects.get(pk=colleague.pk).notes
    assert world.name not in notes and world.email not in notes
    assert notes == "Works with [erased] ([erased])"


def test_other_people_on_the_same_records_keep_their_data(world, admin_user):
    from vefa.interactions.models import Activity, ActivityAttendee
    from vefa.service.models import Ticket, TicketMessage

    activity = Activity.objects.create(
        kind="meeting", subject="Kick-off", customer=world.customer, owner=admin_user
    )
    mine = ActivityAttendee.objects.create(activity=activity, customer=world.customer)
    theirs = ActivityAttendee.objects.create(
        activity=activity, customer=world.other, email="mehmet@example.com"
    )
    ticket = Ticket.objects.get(number="T-2026-990001")
    reply = TicketMessage.objects.create(
        ticket=ticket,
        kind="reply",
        body=f"Dear {world.name}, fixed.",
        author=admin_user,
        author_email="agent@example.com",
        author_name="Agent Smith",
    )
    services.erase_subject(actor=admin_user, subject_kind="customer", subject_id=world.customer.pk)
    assert not ActivityAttendee.objects.filter(pk=mine.pk).exists()
    assert ActivityAttendee.objects.get(pk=theirs.pk).email == "mehmet@example.com"
    reply.refresh_from_db()
    assert reply.author_email == "agent@example.com" and reply.author_name == "Agent Smith"
    assert reply.body == "Dear [erased], fixed."

"""A person with something attached in every app, for the export and erasure tests."""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from tests.factories import CustomerFactory
from vefa.common.text import fold

EMAIL = "ayse.erasable@example.com"
PHONE_E164 = "+905321234567"


def phone_national() -> str:
    number = phonenumbers.parse(PHONE_E164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


@dataclass
class World:
    customer: Any
    other: Any
    name: str
    email: str = EMAIL
    phone: str = PHONE_E164
    rows: dict[str, list[Any]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def needles(self) -> list[str]:
        national = phone_national()
        forms = {
            self.email,
            self.phone,
            national,
            national.replace(" ", ""),
            self.name,
            fold(self.name),
        }
        return sorted(forms)

    def add(self, row: Any) -> Any:
        self.rows.setdefault(row._meta.label_lower, []).append(row)
        return row


def build_world(admin: Any, *, first_name: str = "Zeynepnur") -> World:
    """A customer whose e-mail, phone and name appear in every kind of record."""
    from vefa.analytics.models import CustomerScore, Refresh
    from vefa.customers.models import Address, Consent, ContactPoint, CustomerRelationship, Lead
    from vefa.interactions.models import Activity, Attachment, Interaction
    from vefa.marketing.models import (
        Campaign,
        CampaignRecipient,
        MessageEvent,
        Segment,
        SegmentMember,
        Suppression,
    )
    from vefa.platform.audit import log_change, snapshot
    from vefa.platform.jobs import job_handler
    from vefa.platform.models import Job, Notification
    from vefa.platform.search import indexer
    from vefa.portal.models import PortalAccount
    from vefa.sales.models import Order, OrderLine, Quote
    from vefa.service.models import Ticket, TicketMessage

    del job_handler
    name = f"{first_name} Karadağlıoğlu"
    customer = CustomerFactory(
        first_name=first_name,
        last_name="Karadağlıoğlu",
        display_name=name,
        name_key=fold(name),
        primary_email=EMAIL,
        primary_phone=PHONE_E164,
        notes=f"Prefers calls on {phone_national()}",
        owner=admin,
    )
    other = CustomerFactory(first_name="Mehmet", last_name="Demir", owner=admin)
    org = CustomerFactory(kind="organisation", first_name="", last_name="", display_name="Acme AŞ")
    world = World(customer=customer, other=other, name=name)
    add = world.add
    add(customer)
    add(ContactPoint.objects.create(customer=customer, kind="email", value=EMAIL, normalized=EMAIL))
    add(
        ContactPoint.objects.create(
            customer=customer, kind="mobile", value=phone_national(), normalized=PHONE_E164
        )
    )
    add(
        Address.objects.create(
            customer=customer, kind="home", line1="Bağdat Cd. 12", city="İstanbul", country="TR"
        )
    )
    add(
        Consent.objects.create(
            customer=customer,
            channel="email",
            purpose="marketing",
            status="granted",
            source="web",
            text_version="v1",
        )
    )
    add(
        CustomerRelationship.objects.create(
            from_customer=org, to_customer=customer, kind="employee"
        )
    )
    add(
        Lead.objects.create(
            first_name=first_name,
            last_name="Karadağlıoğlu",
            email=EMAIL,
            phone=PHONE_E164,
            converted_customer=customer,
        )
    )
    interaction = add(
        Interaction.objects.create(
            customer=customer,
            kind="email",
            subject=f"Mail from {name}",
            body=f"From: {name} <{EMAIL}>\nCall me at {phone_national()}.",
        )
    )
    attachment = Attachment(
        interaction=interaction,
        original_name="cv.txt",
        content_type="text/plain",
        size=40,
        sha256=hashlib.sha256(b"x").hexdigest(),
    )
    attachment.file.save("cv.txt", ContentFile(f"CV of {name}, {EMAIL}".encode()), save=False)
    attachment.save()
    add(attachment)
    world.files.append(Path(attachment.file.path))
    add(
        Activity.objects.create(
            kind="call",
            subject=f"Call {name}",
            description=f"Number {PHONE_E164}",
            customer=customer,
            owner=admin,
        )
    )
    order = add(
        Order.objects.create(
            number="O-2026-990001",
            customer=customer,
            shipping_address=f"{name}\nBağdat Cd. 12, İstanbul",
            notes=f"Call {phone_national()} before delivery",
        )
    )
    add(OrderLine.objects.create(order=order, description="Kahve", unit_price=Decimal("10")))
    add(Quote.objects.create(number="Q-2026-990001", customer=customer, notes=f"For {name}"))
    ticket = add(
        Ticket.objects.create(
            number="T-2026-990001",
            subject=f"Broken machine ({name})",
            description=f"Reply to {EMAIL}",
            customer=customer,
            requester_email=EMAIL,
            requester_name=name,
            search_text=fold(f"{name} {EMAIL}"),
        )
    )
    add(
        TicketMessage.objects.create(
            ticket=ticket,
            kind="customer",
            body=f"Hello, this is {name}. Phone: {PHONE_E164}",
            author_email=EMAIL,
            author_name=name,
            author_contact=customer,
            references=f"<abc@mail> {EMAIL}",
        )
    )
    segment = Segment.objects.create(name="Static list", kind="static", owner=admin)
    add(SegmentMember.objects.create(segment=segment, customer=customer))
    campaign = Campaign.objects.create(name="Spring", objective="retention", owner=admin)
    recipient = add(
        CampaignRecipient.objects.create(
            campaign=campaign, customer=customer, token="tok-1", address=EMAIL
        )
    )
    add(
        MessageEvent.objects.create(
            recipient=recipient,
            kind="delivered",
            occurred_at=timezone.now(),
            detail=f"250 OK {EMAIL}",
        )
    )
    add(
        Suppression.objects.create(
            channel="email", address=EMAIL, reason="unsubscribed", customer=customer
        )
    )
    add(
        Suppression.objects.create(
            channel="sms", address=PHONE_E164, reason="unsubscribed", note=f"asked by {name}"
        )
    )
    add(PortalAccount.objects.create(contact=customer, customer=org, email=EMAIL))
    refresh = Refresh.objects.create(as_of=datetime.date.today())
    add(
        CustomerScore.objects.create(
            customer=customer,
            refresh=refresh,
            computed_at=timezone.now(),
            currency="TRY",
            reasons={"note": f"{name} bought a lot"},
        )
    )
    # The change log, a notification, a job and a generated file mention the person.
    log_change(
        actor=admin,
        instance=customer,
        action="create",
        before=None,
        after=snapshot(customer),
    )
    log_change(
        actor=admin,
        instance=ticket,
        action="update",
        before={"requester_email": "old@example.com"},
        after={"requester_email": EMAIL, "subject": ticket.subject},
    )
    Notification.objects.create(
        recipient=admin,
        verb="assigned",
        text=f"Ticket of {name}",
        model="service.ticket",
        object_id=ticket.pk,
    )
    Notification.objects.create(recipient=admin, verb="note", text=f"Call {phone_national()}")
    Job.objects.create(
        kind="exports.customers",
        title="Customer export",
        params={"query": EMAIL, "name": name},
        result={"preview": [name, PHONE_E164]},
        user=admin,
    )
    export = Path(settings.MEDIA_ROOT) / "exports" / "customers-1.csv"
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_text(f"id,name,email\n{customer.pk},{name},{EMAIL}\n", encoding="utf-8")
    world.files.append(export)
    other_file = Path(settings.MEDIA_ROOT) / "exports" / "customers-2.csv"
    other_file.write_text(f"id,name\n{other.pk},Mehmet Demir\n", encoding="utf-8")
    (Path(settings.MEDIA_ROOT) / "exports" / "meta.json").write_text(
        json.dumps({"who": name}), encoding="utf-8"
    )
    # The analytics store (Parquet) holds every customer's name.
    import pyarrow as pa
    import pyarrow.parquet as pq

    store = Path(settings.ANALYTICS_DIR) / "customers"
    store.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.table({"customer_id": [customer.pk, other.pk], "display_name": [name, "Mehmet Demir"]}),
        store / "part-0.parquet",
        compression="none",
    )
    world.files.append(store / "part-0.parquet")
    # The search index.
    indexer.index_record("customers.customer", customer.pk)
    indexer.index_record("customers.customer", other.pk)
    indexer.index_record("service.ticket", ticket.pk)
    indexer.index_record("interactions.interaction", interaction.pk)
    indexer.index_record("customers.lead", world.rows["customers.lead"][0].pk)
    return world

"""The data-subject export holds every record about the person, found generically."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.apps import apps
from django.db import models

from vefa.privacy import discovery, services
from vefa.privacy.export import write_export

pytestmark = pytest.mark.django_db


def _zip(world) -> zipfile.ZipFile:
    found, _ids = services.subject_found("customer", world.customer.pk)
    out = io.BytesIO()
    write_export(out, found, subject={"kind": "customer", "id": world.customer.pk})
    return zipfile.ZipFile(io.BytesIO(out.getvalue()))


def test_every_model_pointing_at_a_customer_or_lead_is_reached():
    """A model added with a foreign key to Customer or Lead (or to anything reached from
    them) is covered without editing the privacy app; this fails if the walk misses one."""
    reached = discovery.reachable_models("customers.Customer")
    reached |= discovery.reachable_models("customers.Lead")
    missing = []
    for model in apps.get_models():
        label = model._meta.label_lower
        for f in model._meta.concrete_fields:
            if not isinstance(f, models.ForeignKey):
                continue
            target = f.related_model._meta.label_lower
            if target in ("customers.customer", "customers.lead") and label not in reached:
                missing.append(f"{label}.{f.name}")
    assert missing == []
    for label in (
        "customers.contactpoint",
        "interactions.interaction",
        "interactions.attachment",
        "sales.order",
        "sales.orderline",
        "service.ticketmessage",
        "marketing.messageevent",
        "marketing.suppression",
        "portal.portalaccount",
        "analytics.customerscore",
    ):
        assert label in reached, label


def test_export_contains_every_related_record(world):
    archive = _zip(world)
    names = set(archive.namelist())
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["subject"]["id"] == world.customer.pk
    for label, rows in world.rows.items():
        member = f"data/{label}.json"
        assert member in names, member
        key = rows[0]._meta.pk.attname
        exported = {r[key] for r in json.loads(archive.read(member))}
        assert {r.pk for r in rows} <= exported, label
    # Indirect links: the change log about the person, the notification about their ticket.
    changes = json.loads(archive.read("data/platform.changelogentry.json"))
    assert len(changes) == 2
    assert "data/platform.notification.json" in names
    # The other customer is not in it.
    customers = json.loads(archive.read("data/customers.customer.json"))
    assert [c["id"] for c in customers] == [world.customer.pk]
    # The attached file is in the archive, and secrets are not.
    attachment = [n for n in names if n.startswith("files/interactions.attachment/")]
    assert len(attachment) == 1 and attachment[0].endswith("cv.txt")
    assert world.email.encode() in archive.read(attachment[0])
    accounts = json.loads(archive.read("data/portal.portalaccount.json"))
    assert "password" not in accounts[0]
    recipients = json.loads(archive.read("data/marketing.campaignrecipient.json"))
    assert "token" not in recipients[0]


def test_export_is_valid_json_with_hostile_text(world):
    from vefa.interactions.models import Interaction

    hostile = '<script>alert(1)</script> =cmd|" /C calc"!A0 \'; DROP TABLE x; -- مرحبا \u202e'
    Interaction.objects.create(customer=world.customer, kind="note", subject=hostile, body=hostile)
    archive = _zip(world)
    rows = json.loads(archive.read("data/interactions.interaction.json"))
    assert hostile in {r["subject"] for r in rows}


def test_export_job_writes_a_downloadable_zip(
    world, admin_user, django_capture_on_commit_callbacks
):
    from vefa.platform.models import Job

    row = services.request_create(
        actor=admin_user, kind="export", subject_kind="customer", subject_id=world.customer.pk
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = services.export_prepare(actor=admin_user, request_id=row.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    row.refresh_from_db()
    assert row.status == "done"
    path = services.export_file_path(row)
    assert path is not None
    with zipfile.ZipFile(path) as archive:
        assert "data/customers.customer.json" in archive.namelist()
    assert job.result["rows"] > 10

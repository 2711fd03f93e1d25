"""Attachments (limits, allow-list, sniffing, hostile names) and time entries."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.interactions.conftest import PDF_BYTES, PNG_BYTES, pdf_file
from vefa.common.errors import NotFound, ValidationFailed
from vefa.interactions.models import Attachment, TimeEntry
from vefa.interactions.services import (
    activity_create,
    attachment_add,
    attachment_delete,
    interaction_create,
    time_entry_create,
    time_entry_delete,
)
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def interaction(rep, own_customer):
    return interaction_create(actor=rep, customer_id=own_customer.pk, kind="email", subject="Offer")


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_pdf_is_stored_under_its_hash_outside_the_web_root(rep, interaction, settings):
    attachment = attachment_add(actor=rep, interaction_id=interaction.pk, file=pdf_file())
    digest = hashlib.sha256(PDF_BYTES).hexdigest()
    assert (attachment.original_name, attachment.content_type) == ("offer.pdf", "application/pdf")
    assert (attachment.size, attachment.sha256) == (len(PDF_BYTES), digest)
    assert attachment.file.name.endswith(digest)
    assert "offer" not in attachment.file.name
    with default_storage.open(attachment.file.name, "rb") as stored:
        assert stored.read() == PDF_BYTES
    assert str(settings.STATIC_ROOT) not in default_storage.path(attachment.file.name)
    assert ChangeLogEntry.objects.filter(model="interactions.attachment").count() == 1


def test_uploaded_file_objects_are_accepted(rep, interaction):
    upload = SimpleUploadedFile("minutes.docx", _docx(), content_type="application/zip")
    attachment = attachment_add(actor=rep, interaction_id=interaction.pk, file=upload)
    assert attachment.content_type.endswith("wordprocessingml.document")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("../../etc/passwd", b"root:x:0:0", "This type of file is not allowed"),
        ("run.exe", b"MZ\x90\x00", "This type of file is not allowed"),
        ("page.html", b"<html></html>", "This type of file is not allowed"),
        ("logo.svg", b"<svg/>", "This type of file is not allowed"),
        ("invoice.pdf", b"MZ\x90\x00 not a pdf", "does not match"),
        ("photo.png", PDF_BYTES, "does not match"),
        ("notes.txt", b"<!DOCTYPE html><script>alert(1)</script>", "does not match"),
        ("notes.txt", b"\x00\x01\x02binary", "does not match"),
        ("fake.docx", b"PK\x03\x04garbage", "does not match"),
        ("empty.pdf", b"", "empty"),
        ("", PDF_BYTES, "This type of file is not allowed"),
        (".pdf", PDF_BYTES, "This type of file is not allowed"),
    ],
)
def test_forbidden_files_are_refused_and_nothing_is_stored(
    rep, interaction, name, content, message
):
    with pytest.raises(ValidationFailed) as exc:
        attachment_add(
            actor=rep, interaction_id=interaction.pk, file=io.BytesIO(content), name=name
        )
    assert list(exc.value.fields) == ["file"]
    assert message in exc.value.fields["file"][0]
    assert Attachment.objects.count() == 0


def test_oversized_file_is_refused(rep, interaction, settings):
    settings.VEFA_ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(ValidationFailed) as exc:
        attachment_add(
            actor=rep, interaction_id=interaction.pk, file=pdf_file(content=PDF_BYTES + b" " * 100)
        )
    assert "larger than" in exc.value.fields["file"][0]
    assert Attachment.objects.count() == 0


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("<img src=x onerror=alert(1)>.pdf", "<img src=x onerror=alert(1)>.pdf"),
        ("..\\..\\windows\\report.pdf", "report.pdf"),
        ("/etc/../offer.pdf", "offer.pdf"),
        ("gnp\u202e.pdf", "gnp.pdf"),
        ("قرارداد.pdf", "قرارداد.pdf"),
        ("a" * 300 + ".pdf", "a" * 190 + ".pdf"),
    ],
)
def test_hostile_names_are_cleaned_for_display_only(rep, interaction, given, shown):
    attachment = attachment_add(
        actor=rep, interaction_id=interaction.pk, file=pdf_file(), name=given
    )
    assert attachment.original_name == shown
    assert "/" not in attachment.original_name
    assert attachment.file.name.startswith("attachments/")


def test_png_image_is_accepted(rep, interaction):
    attachment = attachment_add(
        actor=rep, interaction_id=interaction.pk, file=io.BytesIO(PNG_BYTES), name="scan.PNG"
    )
    assert attachment.content_type == "image/png"


def test_attachment_on_hidden_interaction_is_not_found(rep_other_team, interaction):
    with pytest.raises(NotFound):
        attachment_add(actor=rep_other_team, interaction_id=interaction.pk, file=pdf_file())
    assert Attachment.objects.count() == 0


def test_delete_removes_row_and_file_after_commit(
    rep, interaction, django_capture_on_commit_callbacks
):
    attachment = attachment_add(actor=rep, interaction_id=interaction.pk, file=pdf_file())
    stored = attachment.file.name
    with django_capture_on_commit_callbacks(execute=True):
        attachment_delete(actor=rep, attachment_id=attachment.pk)
    assert Attachment.objects.count() == 0
    assert not default_storage.exists(stored)


def test_others_cannot_delete_attachment(rep, rep_other_team, rep_same_team, interaction):
    attachment = attachment_add(actor=rep, interaction_id=interaction.pk, file=pdf_file())
    for intruder in (rep_other_team, rep_same_team):
        with pytest.raises(NotFound):
            attachment_delete(actor=intruder, attachment_id=attachment.pk)
    assert Attachment.objects.filter(pk=attachment.pk).exists()
    assert default_storage.exists(attachment.file.name)


# --- time entries -------------------------------------------------------------------------


def test_time_entry_on_customer_is_the_actors_own(rep, own_customer):
    entry = time_entry_create(actor=rep, customer_id=own_customer.pk, minutes=45, note="Prep")
    assert (entry.user_id, entry.customer_id, entry.minutes) == (rep.pk, own_customer.pk, 45)
    assert ChangeLogEntry.objects.filter(model="interactions.timeentry").count() == 1


def test_time_entry_on_activity_takes_its_customer(rep, own_customer, soon):
    activity = activity_create(
        actor=rep, kind="task", subject="x", due_at=soon, customer_id=own_customer.pk
    )
    entry = time_entry_create(actor=rep, activity_id=activity.pk, minutes="30")
    assert (entry.activity_id, entry.customer_id, entry.minutes) == (
        activity.pk,
        own_customer.pk,
        30,
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"minutes": 0}, "minutes"),
        ({"minutes": -10}, "minutes"),
        ({"minutes": 24 * 60 + 1}, "minutes"),
        ({"minutes": "lots"}, "minutes"),
        ({"minutes": 1.5}, "minutes"),
        ({"minutes": True}, "minutes"),
        ({"minutes": None}, "minutes"),
        ({"minutes": 10, "note": "x" * 10_000}, "note"),
        ({"minutes": 10, "note": ["list"]}, "note"),
        ({"minutes": 10, "started_at": "soon"}, "started_at"),
        ({"minutes": 10, "billable": "maybe"}, "billable"),
    ],
)
def test_invalid_time_entries_are_refused(rep, own_customer, kwargs, field):
    with pytest.raises(ValidationFailed) as exc:
        time_entry_create(actor=rep, customer_id=own_customer.pk, **kwargs)
    assert field in exc.value.fields
    assert TimeEntry.objects.count() == 0


def test_time_entry_needs_a_visible_customer_or_activity(rep, other_customer):
    with pytest.raises(ValidationFailed) as exc:
        time_entry_create(actor=rep, minutes=10)
    assert set(exc.value.fields) == {"customer_id"}
    with pytest.raises(ValidationFailed) as exc:
        time_entry_create(actor=rep, minutes=10, customer_id=other_customer.pk)
    assert set(exc.value.fields) == {"customer"}
    assert TimeEntry.objects.count() == 0


def test_only_owner_deletes_time_entry(rep, rep_same_team, own_customer):
    entry = time_entry_create(actor=rep, customer_id=own_customer.pk, minutes=10)
    with pytest.raises(NotFound):
        time_entry_delete(actor=rep_same_team, time_entry_id=entry.pk)
    time_entry_delete(actor=rep, time_entry_id=entry.pk)
    assert TimeEntry.objects.count() == 0

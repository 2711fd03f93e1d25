# ruff: noqa: F811 (fixtures imported from the helpers module)
"""Files through the ticket API: a message with files as multipart under the upload rules
(size, type sniffing, hostile names, count), listed with the conversation and on their own,
downloaded only by people who may see the ticket, idempotent retries, and merged tickets'
files and CSAT answers found on the survivor."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tests.service.test_tickets_helpers import (  # noqa: F401 (fixtures)
    csat_requests,
    open_ticket,
    sent_replies,
    side_effects,
    sla_calls,
)
from vefa.accounts.services import api_token_create
from vefa.interactions.models import Attachment
from vefa.service.models import SurveyInvitation, TicketMessage
from vefa.service.services.surveys import _new_token
from vefa.service.services.tickets import ticket_merge

pytestmark = pytest.mark.django_db

BASE = "/api/v1/service/tickets"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
NOTE = "Sipariş notu\n".encode()


@pytest.fixture(autouse=True)
def _effects(side_effects):
    return side_effects


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def upload(client, ticket_id, files, *, kind="reply", body="ekte", send_email="false", **headers):
    data = {"kind": kind, "body": body, "send_email": send_email, "attachments": files}
    return client.post(f"{BASE}/{ticket_id}/messages/upload", data=data, headers=headers)


def pdf(name="fatura.pdf", content=PDF):
    return SimpleUploadedFile(name, content, "application/pdf")


def text(name="not.txt", content=NOTE):
    return SimpleUploadedFile(name, content, "text/plain")


@pytest.fixture
def ticket(agent, queue, customer):
    return open_ticket(agent, customer=customer.pk, owner=agent.pk, description="ilk mesaj")


def test_a_reply_with_files_is_stored_listed_and_downloaded(agent, ticket, sent_replies):
    client = client_for(agent)
    response = upload(client, ticket.pk, [pdf(), text()], send_email="true")
    assert response.status_code == 201, response.content
    message = response.json()
    assert message["kind"] == "reply" and message["body"] == "ekte"
    files = message["attachments"]
    assert [(f["original_name"], f["content_type"]) for f in files] == [
        ("fatura.pdf", "application/pdf"),
        ("not.txt", "text/plain"),
    ]
    assert files[0]["size"] == len(PDF) and len(files[0]["sha256"]) == 64
    assert all(f["message_id"] == message["id"] for f in files)
    # The reply with its files is e-mailed once, after commit.
    assert sent_replies == [message["id"]]

    conversation = client.get(f"{BASE}/{ticket.pk}/messages").json()["items"]
    listed = next(m for m in conversation if m["id"] == message["id"])["attachments"]
    assert [f["id"] for f in listed] == [f["id"] for f in files]
    assert client.get(f"{BASE}/{ticket.pk}/attachments").json()["items"] == files
    detail = client.get(f"{BASE}/{ticket.pk}/attachments/{files[0]['id']}")
    assert detail.status_code == 200 and detail.json() == files[0] and detail["ETag"]

    download = client.get(files[0]["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "fatura.pdf" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]


def test_a_customer_message_taken_by_phone_may_carry_only_files(agent, ticket):
    response = upload(client_for(agent), ticket.pk, [pdf()], kind="customer", body="")
    assert response.status_code == 201, response.content
    assert response.json()["body"] == "" and len(response.json()["attachments"]) == 1


def test_hostile_names_are_cleaned(agent, ticket):
    client = client_for(agent)
    response = upload(
        client, ticket.pk, [text("../../etc/pass\u200fwd.txt"), pdf("C:\\Users\\x\\\x00a.pdf")]
    )
    assert response.status_code == 201, response.content
    names = [f["original_name"] for f in response.json()["attachments"]]
    assert names == ["passwd.txt", "a.pdf"]
    stored = Attachment.objects.order_by("id").values_list("file", flat=True)
    assert all("passwd" not in s and ".." not in s for s in stored)


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        ([SimpleUploadedFile("\u202efdp.exe", b"MZ\x90\x00", "application/pdf")], "not allowed"),
        (
            [SimpleUploadedFile("rapor.pdf", b"<html><script>x</script>", "application/pdf")],
            "match",
        ),
        ([SimpleUploadedFile("sayfa.txt", b"<!DOCTYPE html><p>x", "text/plain")], "match"),
        ([SimpleUploadedFile("resim.svg", b"<svg onload=alert(1)>", "image/svg+xml")], "allowed"),
        ([SimpleUploadedFile("bos.pdf", b"", "application/pdf")], "empty"),
        ([SimpleUploadedFile("adsiz", b"%PDF-1.4", "application/pdf")], "allowed"),
        ([pdf(), SimpleUploadedFile("x.exe", b"MZ", "application/octet-stream")], "x.exe"),
    ],
)
def test_refused_files_refuse_the_whole_message(agent, ticket, files, fragment):
    before = TicketMessage.objects.count()
    response = upload(client_for(agent), ticket.pk, files)
    assert response.status_code == 422, response.content
    error = response.json()
    assert error["code"] and "attachments" in error["fields"]
    assert fragment in " ".join(error["fields"]["attachments"])
    # Nothing is kept: no message, no file, no record of either.
    assert TicketMessage.objects.count() == before
    assert not Attachment.objects.exists()


def test_too_large_and_too_many_files(agent, ticket, settings):
    client = client_for(agent)
    settings.VEFA_ATTACHMENT_MAX_BYTES = 10
    big = upload(client, ticket.pk, [pdf()])
    assert big.status_code == 422 and "larger" in " ".join(big.json()["fields"]["attachments"])
    settings.VEFA_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    many = upload(client, ticket.pk, [text(f"n{i}.txt") for i in range(21)])
    assert many.status_code == 422 and "20" in " ".join(many.json()["fields"]["attachments"])
    assert not Attachment.objects.exists()


def test_notes_tickets_without_customer_and_missing_files_are_refused(agent, queue, ticket):
    client = client_for(agent)
    note = upload(client, ticket.pk, [pdf()], kind="note", body="iç")
    assert note.status_code == 422 and "attachments" in note.json()["fields"]
    system = upload(client, ticket.pk, [pdf()], kind="system")
    assert system.status_code == 422 and "kind" in system.json()["fields"]
    bogus = upload(client, ticket.pk, [pdf()], kind="<script>")
    assert bogus.status_code == 422
    anonymous = open_ticket(agent, owner=agent.pk, requester_email="x@example.com")
    nobody = upload(client, anonymous.pk, [pdf()])
    assert nobody.status_code == 422 and "customer" in " ".join(
        nobody.json()["fields"]["attachments"]
    )
    empty = client.post(f"{BASE}/{ticket.pk}/messages/upload", data={"kind": "reply", "body": "x"})
    assert empty.status_code == 422 and "file.attachments" in empty.json()["fields"]
    huge = upload(client, ticket.pk, [pdf()], body="ş" * 60_000)
    assert huge.status_code == 422 and "body" in huge.json()["fields"]
    assert not Attachment.objects.exists()


def test_access_to_upload_list_and_download(
    agent, agent_other_team, rep_other_team, ticket, other_queue, client
):
    files = upload(client_for(agent), ticket.pk, [pdf()]).json()["attachments"]
    url = files[0]["download_url"]
    # Agents of another team read every ticket and its files, but work only their team's.
    other = client_for(agent_other_team)
    assert other.get(url).status_code == 200
    assert upload(other, ticket.pk, [pdf()]).status_code == 404
    # A sales rep of another team does not see the ticket: 404 everywhere, like a missing one.
    rep = client_for(rep_other_team)
    for path in (url, f"{BASE}/{ticket.pk}/attachments", f"{BASE}/{ticket.pk}/messages"):
        assert rep.get(path).status_code == 404
    assert upload(rep, ticket.pk, [pdf()]).status_code == 404
    # A file is reached only through its own ticket.
    elsewhere = open_ticket(agent_other_team, queue=other_queue.pk)
    wrong = f"{BASE}/{elsewhere.pk}/attachments/{files[0]['id']}/download"
    assert client_for(agent).get(wrong).status_code == 404
    assert (
        client_for(agent).get(f"{BASE}/{ticket.pk}/attachments/999999/download").status_code == 404
    )
    assert client.get(url).status_code == 401
    assert Attachment.objects.count() == 1


def test_a_retried_upload_with_the_same_key_is_stored_once(agent, ticket):
    client = client_for(agent)
    first = upload(client, ticket.pk, [pdf()], **{"Idempotency-Key": "yukle-1"})
    again = upload(client, ticket.pk, [pdf()], **{"Idempotency-Key": "yukle-1"})
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Attachment.objects.count() == 1
    other = upload(client, ticket.pk, [pdf(content=PDF + b"\n")], **{"Idempotency-Key": "yukle-1"})
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["fields"]
    long_key = upload(client, ticket.pk, [pdf()], **{"Idempotency-Key": "k" * 201})
    assert long_key.status_code == 422
    assert Attachment.objects.count() == 1


def test_a_merged_tickets_files_and_csat_are_found_on_the_survivor(agent, queue, customer):
    client = client_for(agent)
    target = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    source = open_ticket(agent, customer=customer.pk, owner=agent.pk)
    files = upload(client, source.pk, [pdf()]).json()["attachments"]
    now = timezone.now()
    for ticket, score in ((source, 5), (target, 2)):
        SurveyInvitation.objects.create(
            kind="csat",
            ticket=ticket,
            customer=customer,
            token_hash=_new_token()[1],
            expires_at=now + datetime.timedelta(days=30),
            responded_at=now,
            score=score,
        )
    ticket_merge(actor=agent, source_id=source.pk, target_id=target.pk)
    listed = client.get(f"{BASE}/{target.pk}/attachments").json()["items"]
    assert [f["id"] for f in listed] == [files[0]["id"]]
    assert client.get(listed[0]["download_url"]).status_code == 200
    assert client.get(files[0]["download_url"]).status_code == 404
    csat = client.get(f"{BASE}/{target.pk}/csat").json()["items"]
    assert sorted((c["ticket_number"], c["score"]) for c in csat) == sorted(
        [(source.number, 5), (target.number, 2)]
    )

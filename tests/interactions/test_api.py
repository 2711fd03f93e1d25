"""The API: CRUD, access as 404, ETag/If-Match, Idempotency-Key, pages, uploads."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.interactions.conftest import PDF_BYTES
from vefa.accounts.services import api_token_create
from vefa.interactions.models import Activity, Attachment, Interaction, TimeEntry
from vefa.interactions.services import activity_create, interaction_create
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db

BASE = "/api/v1"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client: Client, url: str, data: dict, **headers) -> object:
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def patch(client: Client, url: str, data: dict, **headers) -> object:
    return client.patch(
        url, data=json.dumps(data), content_type="application/json", headers=headers
    )


def test_create_interaction_returns_201_location_and_etag(rep, own_customer):
    client = client_for(rep)
    response = post(
        client,
        f"{BASE}/interactions",
        {"customer_id": own_customer.pk, "kind": "call", "subject": "<b>Hi</b> سلام"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["subject"] == "<b>Hi</b> سلام"
    assert body["user_id"] == rep.pk
    assert response["Location"] == f"{BASE}/interactions/{body['id']}"
    assert response["ETag"] == f'"{body["id"]}-1"'
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert detail["ETag"] == f'"{body["id"]}-1"'


def test_idempotent_create_replays_and_writes_once(rep, own_customer):
    client = client_for(rep)
    payload = {"customer_id": own_customer.pk, "kind": "email", "subject": "Offer"}
    first = post(client, f"{BASE}/interactions", payload, **{"Idempotency-Key": "abc-1"})
    again = post(client, f"{BASE}/interactions", payload, **{"Idempotency-Key": "abc-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Interaction.objects.count() == 1
    other = post(
        client, f"{BASE}/interactions", payload | {"subject": "x"}, **{"Idempotency-Key": "abc-1"}
    )
    assert other.status_code == 422
    assert Interaction.objects.count() == 1


def test_stale_if_match_is_412_and_changes_nothing(rep, own_customer):
    client = client_for(rep)
    created = post(
        client,
        f"{BASE}/interactions",
        {"customer_id": own_customer.pk, "kind": "note", "subject": "a"},
    ).json()
    url = f"{BASE}/interactions/{created['id']}"
    ok = patch(client, url, {"subject": "b"}, **{"If-Match": f'"{created["id"]}-1"'})
    assert ok.status_code == 200
    assert ok["ETag"] == f'"{created["id"]}-2"'
    stale = patch(client, url, {"subject": "c"}, **{"If-Match": f'"{created["id"]}-1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "conflict"
    assert Interaction.objects.get().subject == "b"


def test_validation_errors_have_one_shape(rep, own_customer):
    client = client_for(rep)
    response = post(
        client,
        f"{BASE}/interactions",
        {"customer_id": own_customer.pk, "kind": "x", "subject": "y" * 10_000},
    )
    assert response.status_code == 422
    assert set(response.json()) == {"code", "message", "fields"}
    assert "kind" in response.json()["fields"]
    response = post(
        client,
        f"{BASE}/interactions",
        {"customer_id": own_customer.pk, "kind": "call", "subject": "y" * 10_000},
    )
    assert response.status_code == 422
    assert "subject" in response.json()["fields"]
    assert Interaction.objects.count() == 0


def test_hidden_records_are_404_on_every_verb(rep, rep_other_team, other_customer, soon):
    theirs = interaction_create(
        actor=rep_other_team, customer_id=other_customer.pk, kind="note", subject="secret"
    )
    activity = activity_create(actor=rep_other_team, kind="task", subject="secret", due_at=soon)
    client = client_for(rep)
    logs = ChangeLogEntry.objects.count()
    responses = [
        client.get(f"{BASE}/interactions/{theirs.pk}"),
        patch(client, f"{BASE}/interactions/{theirs.pk}", {"subject": "x"}),
        client.delete(f"{BASE}/interactions/{theirs.pk}"),
        client.post(
            f"{BASE}/interactions/{theirs.pk}/attachments",
            {"file": SimpleUploadedFile("a.pdf", PDF_BYTES)},
        ),
        client.get(f"{BASE}/activities/{activity.pk}"),
        patch(client, f"{BASE}/activities/{activity.pk}", {"subject": "x"}),
        post(client, f"{BASE}/activities/{activity.pk}/complete", {}),
        client.delete(f"{BASE}/activities/{activity.pk}"),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert {r.json()["code"] for r in responses} == {"not_found"}
    assert ChangeLogEntry.objects.count() == logs
    assert client.get(f"{BASE}/interactions").json()["items"] == []


def test_list_pages_are_bounded_and_filtered(rep, own_customer):
    for n in range(5):
        interaction_create(
            actor=rep,
            customer_id=own_customer.pk,
            kind="call" if n % 2 else "email",
            subject=f"s{n}",
        )
    client = client_for(rep)
    page = client.get(f"{BASE}/interactions", {"limit": 2, "kind": "email"}).json()
    assert [i["subject"] for i in page["items"]] == ["s4", "s2"]
    rest = client.get(
        f"{BASE}/interactions", {"limit": 2, "kind": "email", "cursor": page["next_cursor"]}
    )
    assert [i["subject"] for i in rest.json()["items"]] == ["s0"]
    too_big = client.get(f"{BASE}/interactions", {"limit": 1000}).json()
    assert len(too_big["items"]) == 5
    assert client.get(f"{BASE}/interactions", {"kind": "nonsense"}).status_code == 422


def test_attachment_upload_and_download_with_permission(rep, rep_other_team, own_customer):
    interaction = interaction_create(
        actor=rep, customer_id=own_customer.pk, kind="email", subject="x"
    )
    client = client_for(rep)
    upload = client.post(
        f"{BASE}/interactions/{interaction.pk}/attachments",
        {"file": SimpleUploadedFile("<img src=x onerror=alert(1)>.pdf", PDF_BYTES)},
    )
    assert upload.status_code == 201
    attachment = upload.json()
    assert attachment["original_name"] == "<img src=x onerror=alert(1)>.pdf"
    download = client.get(attachment["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    outsider = client_for(rep_other_team)
    assert outsider.get(attachment["download_url"]).status_code == 404
    assert outsider.delete(f"{BASE}/attachments/{attachment['id']}").status_code == 404
    bad = client.post(
        f"{BASE}/interactions/{interaction.pk}/attachments",
        {"file": SimpleUploadedFile("evil.html", b"<script>alert(1)</script>")},
    )
    assert bad.status_code == 422
    assert list(bad.json()["fields"]) == ["file"]
    assert Attachment.objects.count() == 1


def test_activity_lifecycle_over_the_api(rep, own_customer, soon):
    client = client_for(rep)
    created = post(
        client,
        f"{BASE}/activities",
        {
            "kind": "call",
            "subject": "Call Ayşe",
            "due_at": soon.isoformat(),
            "customer_id": own_customer.pk,
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["reminder_minutes"] == [1440, 60]
    url = created["Location"]
    moved = patch(
        client,
        url,
        {"due_at": (soon + datetime.timedelta(hours=1)).isoformat(), "reminder_minutes": [5]},
    )
    assert moved.status_code == 200
    assert moved.json()["reminder_minutes"] == [5]
    done = post(client, f"{url}/complete", {"outcome": "Reached", "duration_minutes": 7})
    assert done.status_code == 200
    assert done.json()["status"] == "done"
    interaction = Interaction.objects.get(pk=done.json()["interaction_id"])
    assert (interaction.kind, interaction.duration_minutes) == ("call", 7)
    twice = post(client, f"{url}/complete", {})
    assert twice.status_code == 422
    listing = client.get(f"{BASE}/activities", {"status": "done"}).json()
    assert [a["id"] for a in listing["items"]] == [body["id"]]


def test_activity_with_end_before_start_is_422(rep, soon):
    client = client_for(rep)
    response = post(
        client,
        f"{BASE}/activities",
        {
            "kind": "meeting",
            "subject": "x",
            "start_at": soon.isoformat(),
            "end_at": (soon - datetime.timedelta(hours=1)).isoformat(),
        },
    )
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["end_at"]
    assert Activity.objects.count() == 0


def test_time_entries_over_the_api(rep, rep_same_team, own_customer):
    client = client_for(rep)
    created = post(client, f"{BASE}/time-entries", {"minutes": 30, "customer_id": own_customer.pk})
    assert created.status_code == 201
    assert (
        client.get(f"{BASE}/time-entries", {"customer": own_customer.pk}).json()["items"][0][
            "minutes"
        ]
        == 30
    )
    too_long = post(
        client, f"{BASE}/time-entries", {"minutes": 2000, "customer_id": own_customer.pk}
    )
    assert too_long.status_code == 422
    colleague = client_for(rep_same_team)
    assert colleague.delete(created["Location"]).status_code == 404
    assert client.delete(created["Location"]).status_code == 204
    assert TimeEntry.objects.count() == 0


def test_unauthenticated_is_401(own_customer):
    response = Client().get(f"{BASE}/interactions")
    assert response.status_code == 401


def test_upload_with_idempotency_key_is_stored_once(rep, own_customer):
    interaction = interaction_create(
        actor=rep, customer_id=own_customer.pk, kind="email", subject="x"
    )
    client = client_for(rep)
    url = f"{BASE}/interactions/{interaction.pk}/attachments"
    first = client.post(
        url, {"file": SimpleUploadedFile("a.pdf", PDF_BYTES)}, headers={"Idempotency-Key": "up-1"}
    )
    again = client.post(
        url, {"file": SimpleUploadedFile("a.pdf", PDF_BYTES)}, headers={"Idempotency-Key": "up-1"}
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    other = client.post(
        url,
        {"file": SimpleUploadedFile("b.pdf", PDF_BYTES + b"%")},
        headers={"Idempotency-Key": "up-1"},
    )
    assert other.status_code == 422
    assert Attachment.objects.count() == 1

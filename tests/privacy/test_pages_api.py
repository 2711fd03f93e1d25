"""The privacy pages and API: administrators only, the request workflow end to end."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.privacy.scan import database_hits
from vefa.accounts.services import api_token_create
from vefa.privacy import services
from vefa.privacy.models import PrivacyRequest

pytestmark = pytest.mark.django_db

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "1; DROP TABLE privacy_privacyrequest; --",
    "\u202eغير",
]


def api(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_non_admins_get_404_everywhere(world, admin_user, rep, manager, read_only):
    row = services.request_create(
        actor=admin_user, kind="erasure", subject_kind="customer", subject_id=world.customer.pk
    )
    for user in (rep, manager, read_only):
        client = page(user)
        assert client.get(reverse("privacy:request_list")).status_code == 404
        assert client.get(reverse("privacy:request_detail", args=[row.pk])).status_code == 404
        response = client.post(
            reverse("privacy:request_erase", args=[row.pk]),
            {"confirmation": services.confirmation_phrase(row)},
        )
        assert response.status_code == 404
        client = api(user)
        assert client.get("/api/v1/privacy/requests").status_code == 404
        assert client.get(f"/api/v1/privacy/requests/{row.pk}").status_code == 404
        response = client.post(
            f"/api/v1/privacy/requests/{row.pk}/erase",
            json.dumps({"confirmation": services.confirmation_phrase(row)}),
            content_type="application/json",
        )
        assert response.status_code == 404
        response = client.post(
            "/api/v1/privacy/requests",
            json.dumps({"kind": "export", "subject_kind": "customer", "subject_id": 1}),
            content_type="application/json",
        )
        assert response.status_code == 404
    assert database_hits([world.email]) != []
    assert PrivacyRequest.objects.count() == 1


def test_pages_record_and_erase(world, admin_user, django_capture_on_commit_callbacks):
    client = page(admin_user)
    response = client.get(reverse("privacy:request_list"))
    assert response.status_code == 200
    response = client.post(
        reverse("privacy:request_list"),
        {"kind": "erasure", "subject_kind": "customer", "subject_id": world.customer.pk},
    )
    assert response.status_code == 302
    row = PrivacyRequest.objects.get()
    assert (row.due_at - row.received_at).days == 30
    detail = client.get(reverse("privacy:request_detail", args=[row.pk]))
    assert detail.status_code == 200
    assert services.confirmation_phrase(row) in detail.content.decode()
    wrong = client.post(reverse("privacy:request_erase", args=[row.pk]), {"confirmation": "yes"})
    assert wrong.status_code == 422
    assert database_hits([world.email]) != []
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("privacy:request_erase", args=[row.pk]),
            {"confirmation": services.confirmation_phrase(row)},
        )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "done" and row.deletion_log is not None
    assert database_hits(world.needles()) == []
    detail = client.get(reverse("privacy:request_detail", args=[row.pk]))
    assert "deletion-counts" in detail.content.decode()


@pytest.mark.parametrize("bad", HOSTILE)
def test_hostile_input_is_refused_and_escaped(world, admin_user, bad):
    client = page(admin_user)
    response = client.post(
        reverse("privacy:request_list"),
        {"kind": bad, "subject_kind": bad, "subject_id": bad, "note": bad},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert PrivacyRequest.objects.count() == 0
    # A valid request with a hostile note is stored as typed and shown escaped.
    response = client.post(
        reverse("privacy:request_list"),
        {
            "kind": "export",
            "subject_kind": "customer",
            "subject_id": world.customer.pk,
            "note": bad,
        },
    )
    row = PrivacyRequest.objects.get()
    assert row.note == bad.strip()
    body = client.get(reverse("privacy:request_detail", args=[row.pk])).content.decode()
    assert "<script>alert(1)</script>" not in body


def test_api_validation(admin_user):
    client = api(admin_user)
    for body in (
        {},
        {"kind": "export", "subject_kind": "customer", "subject_id": "abc"},
        {"kind": "export", "subject_kind": "customer", "subject_id": 999999},
        {"kind": "steal", "subject_kind": "customer", "subject_id": 1},
        {"kind": "export", "subject_kind": "customer", "subject_id": 1, "note": "x" * 5000},
    ):
        response = client.post(
            "/api/v1/privacy/requests", json.dumps(body), content_type="application/json"
        )
        assert response.status_code in (400, 422), body
        assert "fields" in response.json()
    assert client.get("/api/v1/privacy/requests/999999").status_code == 404


def test_api_export_and_erase(world, admin_user, django_capture_on_commit_callbacks):
    client = api(admin_user)
    response = client.post(
        "/api/v1/privacy/requests",
        json.dumps({"kind": "export", "subject_kind": "customer", "subject_id": world.customer.pk}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    export_id = response.json()["id"]
    assert client.get(f"/api/v1/privacy/requests/{export_id}/export.zip").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/privacy/requests/{export_id}/export")
    assert response.status_code == 202
    download = client.get(f"/api/v1/privacy/requests/{export_id}/export.zip")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    response = client.post(
        "/api/v1/privacy/requests",
        json.dumps(
            {"kind": "erasure", "subject_kind": "customer", "subject_id": world.customer.pk}
        ),
        content_type="application/json",
    )
    erase_id = response.json()["id"]
    bad = client.post(
        f"/api/v1/privacy/requests/{erase_id}/erase",
        json.dumps({"confirmation": "ERASE 0"}),
        content_type="application/json",
    )
    assert bad.status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/privacy/requests/{erase_id}/erase",
            json.dumps({"confirmation": f"ERASE {world.customer.pk}"}),
            content_type="application/json",
        )
    assert response.status_code == 202
    data = client.get(f"/api/v1/privacy/requests/{erase_id}").json()
    assert data["status"] == "done"
    assert data["deletion_log"]["counts"]["customers.customer"] >= 1
    # The earlier export of the erased person is gone with them.
    assert client.get(f"/api/v1/privacy/requests/{export_id}/export.zip").status_code == 404
    assert database_hits(world.needles()) == []


def test_customer_page_links_to_privacy_for_admins_only(admin_user, rep):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(owner=rep)
    url = reverse("customers:detail", args=[customer.pk])
    link = f"{reverse('privacy:request_list')}?subject_kind=customer&amp;subject_id={customer.pk}"
    assert link in page(admin_user).get(url).content.decode()
    assert link not in page(rep).get(url).content.decode()
    form = page(admin_user).get(
        reverse("privacy:request_list"), {"subject_kind": "customer", "subject_id": customer.pk}
    )
    assert f'value="{customer.pk}"' in form.content.decode()


def test_non_admins_cannot_export_or_download(
    world, admin_user, rep, django_capture_on_commit_callbacks
):
    row = services.request_create(
        actor=admin_user, kind="export", subject_kind="customer", subject_id=world.customer.pk
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.export_prepare(actor=admin_user, request_id=row.pk)
    assert (
        page(admin_user).get(reverse("privacy:request_download", args=[row.pk])).status_code == 200
    )
    client = page(rep)
    assert client.post(reverse("privacy:request_export", args=[row.pk])).status_code == 404
    assert client.get(reverse("privacy:request_download", args=[row.pk])).status_code == 404
    client = api(rep)
    assert client.post(f"/api/v1/privacy/requests/{row.pk}/export").status_code == 404
    assert client.get(f"/api/v1/privacy/requests/{row.pk}/export.zip").status_code == 404


@pytest.mark.parametrize("bad", [*HOSTILE, "", "erase " + "9" * 5000, "ERASE 1 OR 1=1"])
def test_wrong_confirmations_erase_nothing(world, admin_user, bad):
    row = services.request_create(
        actor=admin_user, kind="erasure", subject_kind="customer", subject_id=world.customer.pk
    )
    response = page(admin_user).post(
        reverse("privacy:request_erase", args=[row.pk]), {"confirmation": bad}
    )
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert database_hits([world.email]) != []
    row.refresh_from_db()
    assert row.status == "open" and row.erase_job is None


def test_legal_hold_on_the_page_blocks_the_erasure(world, admin_user):
    row = services.request_create(
        actor=admin_user, kind="erasure", subject_kind="customer", subject_id=world.customer.pk
    )
    client = page(admin_user)
    empty = client.post(reverse("privacy:hold_place", args=[row.pk]), {"reason": "  "})
    assert empty.status_code == 422
    client.post(reverse("privacy:hold_place", args=[row.pk]), {"reason": "<b>Court order</b>"})
    detail = client.get(reverse("privacy:request_detail", args=[row.pk])).content.decode()
    assert "&lt;b&gt;Court order&lt;/b&gt;" in detail
    response = client.post(
        reverse("privacy:request_erase", args=[row.pk]),
        {"confirmation": services.confirmation_phrase(row)},
    )
    assert response.status_code == 422
    assert database_hits([world.email]) != []

"""Exports of lists: the list's filters and access, streaming, files, downloads, the API."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from openpyxl import load_workbook

from tests.customers.factories import make_customer
from tests.exports.conftest import HOSTILE
from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.common.errors import NotFound, ValidationFailed
from vefa.exports import selectors, services
from vefa.exports.entities import ENTITIES, plan_for
from vefa.exports.models import Export, ExportStatus
from vefa.exports.writers import DANGEROUS, read_csv

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def names(rows: list[list[str]]) -> list[str]:
    return [row[1] for row in rows[1:]]


def test_a_reps_export_holds_only_the_customers_the_rep_may_see(
    rep, own, teammate_customer, hidden
):
    response = logged_in(rep).post("/exports/start/", {"entity": "customers", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    rows = read_csv(streamed(response))
    assert rows[0][:3] == ["ID", "Name", "Kind"]
    assert sorted(names(rows)) == sorted([own.display_name, teammate_customer.display_name])
    export = Export.objects.get()
    assert export.owner == rep and export.status == ExportStatus.DONE and export.rows == 2


def test_the_export_applies_the_list_filters_and_order(rep, own, teammate_customer, hidden):
    response = logged_in(rep).post(
        "/exports/start/?city=Ankara&sort=-name&cursor=xyz", {"entity": "customers"}
    )
    rows = read_csv(streamed(response))
    assert names(rows) == [own.display_name]
    make_customer(owner=rep, team=own.team, first_name="Zeynep", last_name="Ak", city="Ankara")
    plan = plan_for(rep, "customers", {"city": "Ankara", "sort": "-name"})
    assert [r[1] for r in plan.values()] == ["Zeynep Ak", own.display_name]


def test_a_bad_filter_is_an_error_naming_it(rep, own):
    with pytest.raises(ValidationFailed) as caught:
        services.export_create(actor=rep, entity="customers", filters={"country": "XX1"})
    assert "country" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        services.export_create(actor=rep, entity="nope")
    assert "entity" in caught.value.fields
    with pytest.raises(ValidationFailed):
        services.export_create(actor=rep, entity="customers", format="pdf")
    with pytest.raises(ValidationFailed):
        services.export_create(actor=rep, entity="orders", filters={"date_from": "yesterday"})
    with pytest.raises(ValidationFailed):
        services.export_create(actor=rep, entity="customers", filters={"q": "x" * 9000})
    # The page goes back to the list with the message.
    response = logged_in(rep).post("/exports/start/?country=XX1", {"entity": "customers"})
    assert response.status_code == 302
    assert not Export.objects.exists()


def test_hostile_values_survive_the_csv_and_are_formula_safe(rep, team):
    for value in HOSTILE:
        make_customer(owner=rep, team=team, first_name=value, last_name="", city=value)
    response = logged_in(rep).post("/exports/start/", {"entity": "customers"})
    rows = read_csv(streamed(response))
    got = sorted(row[1] for row in rows[1:])
    expected = sorted(
        ("'" + v if v.strip()[:1] and v[0] in DANGEROUS else v).strip() for v in HOSTILE
    )
    assert len(got) == len(HOSTILE)
    for cell in got:
        assert cell[:1] not in DANGEROUS
    assert {c.replace("\r", "") for c in got} >= {e.replace("\r", "") for e in expected} - {""}


def test_xlsx_export_is_written_to_a_private_file_and_downloaded(rep, own, hidden):
    client = logged_in(rep)
    response = client.post("/exports/start/", {"entity": "customers", "format": "xlsx"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(body)).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][1] == "Name"
    assert [r[1] for r in values[1:]] == [own.display_name]
    export = Export.objects.get()
    assert export.file.startswith(f"exports/{rep.pk}/")
    assert default_storage.exists(export.file)
    again = client.get(f"/exports/{export.pk}/download/")
    assert again.status_code == 200
    assert b"".join(again.streaming_content) == body


def test_another_users_export_file_is_not_found(rep, rep_same_team, admin_user, own):
    export = services.export_create(actor=rep, entity="customers", background=False)
    assert export.status == ExportStatus.DONE
    url = f"/exports/{export.pk}/download/"
    assert logged_in(rep_same_team).get(url).status_code == 404
    assert logged_in(rep_same_team).post(f"/exports/{export.pk}/delete/").status_code == 404
    with pytest.raises(NotFound):
        selectors.export_get(actor=rep_same_team, pk=export.pk)
    assert logged_in(admin_user).get(url).status_code == 200
    assert logged_in(rep).get(url).status_code == 200
    assert logged_in(rep).get("/exports/999999/download/").status_code == 404
    # Never reachable as a static file.
    assert Client().get(f"/files/{export.file}").status_code in (302, 404)
    assert logged_in(rep).post(f"/exports/{export.pk}/delete/").status_code == 302
    assert not default_storage.exists(export.file) or not Export.objects.filter(pk=export.pk)


def test_a_large_export_runs_as_a_background_job(
    rep, team, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "STREAM_LIMIT", 3)
    for i in range(5):
        make_customer(owner=rep, team=team, first_name=f"P{i}", last_name="Q")
    client = logged_in(rep)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/exports/start/", {"entity": "customers"})
    assert response.status_code == 302
    export = Export.objects.get()
    assert export.job is not None and not export.streamed
    assert export.status == ExportStatus.DONE and export.rows == 5
    export.job.refresh_from_db()
    assert export.job.status == "succeeded"
    page = client.get("/exports/")
    assert page.status_code == 200
    assert f"/exports/{export.pk}/download/".encode() in page.content
    with default_storage.open(export.file, "rb") as handle:
        assert len(read_csv(handle.read())) == 6


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_every_list_exports_with_headers(entity, admin_user):
    export = services.export_create(actor=admin_user, entity=entity, background=False)
    assert export.status == ExportStatus.DONE
    with default_storage.open(export.file, "rb") as handle:
        rows = read_csv(handle.read())
    assert rows[0][0] == "ID"


def test_exports_of_other_lists_follow_their_access(rep, rep_other_team, own, hidden):
    from tests.customers.factories import make_lead

    make_lead(first_name="Lena", last_name="Own", owner=rep, team=own.team)
    make_lead(first_name="Other", last_name="Lead", owner=rep_other_team, team=hidden.team)
    plan = plan_for(rep, "leads", {})
    assert [row[1] for row in plan.values()] == ["Lena"]


def test_headers_follow_the_language(rep, own):
    from django.utils import translation

    with translation.override("tr"):
        plan = plan_for(rep, "customers", {})
        headers = plan.headers
    assert headers[1] != "Name"


def test_the_page_escapes_and_lists_only_own_exports(rep, rep_same_team, own):
    services.export_create(actor=rep, entity="customers", background=False)
    services.export_create(actor=rep_same_team, entity="customers", background=False)
    page = logged_in(rep).get("/exports/")
    assert page.status_code == 200
    assert page.content.count(b"/download/") == 1


def test_the_api_starts_and_reads_an_export(rep, own, django_capture_on_commit_callbacks):
    from vefa.accounts.services import api_token_create

    _, key = api_token_create(actor=rep, user=rep, name="tests")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/v1/exports",
            data=json.dumps({"entity": "customers", "format": "csv", "filters": {"city": "X"}}),
            content_type="application/json",
        )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    got = api.get(f"/api/v1/exports/{pk}").json()
    assert got["status"] == "done" and got["rows"] == 0
    file = api.get(f"/api/v1/exports/{pk}/file")
    assert file.status_code == 200
    bad = api.post(
        "/api/v1/exports",
        data=json.dumps({"entity": "customers", "filters": {"country": "<b>"}}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and "country" in bad.json()["fields"]
    other = UserFactory(role=Role.SALES_REP)
    _, other_key = api_token_create(actor=other, user=other, name="t")
    foreign = Client(HTTP_AUTHORIZATION=f"Bearer {other_key}").get(f"/api/v1/exports/{pk}/file")
    assert foreign.status_code == 404


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tehran", "America/New_York"])
def test_the_fast_csv_path_gives_the_same_cells_as_the_orm_path(rep, team, zone):
    import datetime
    import zoneinfo

    from vefa.customers.models import Customer
    from vefa.exports.entities import _raw_ok
    from vefa.exports.writers import csv_cell

    for i, value in enumerate(HOSTILE):
        customer = make_customer(owner=rep, team=team, first_name=value, last_name=str(i))
        when = datetime.datetime(2026, 3, 21 + i % 5, i, 59, 30, 123456, tzinfo=datetime.UTC)
        Customer.objects.filter(pk=customer.pk).update(last_interaction_at=when)
    plan = plan_for(rep, "customers", {"sort": "-last_contact"})
    assert _raw_ok(plan)
    tz = zoneinfo.ZoneInfo(zone)
    slow = [[csv_cell(v) for v in row] for row in plan.rows(tz)]
    fast = list(plan.csv_rows(tz))
    assert len(fast) == len(HOSTILE)
    assert [[("" if v is None else str(v)) for v in r] for r in fast] == [
        [("" if v is None else str(v)) for v in r] for r in slow
    ]


@pytest.mark.parametrize(
    "url,entity",
    [
        ("/customers/?city=%3Cb%3E", "customers"),
        ("/customers/leads/", "leads"),
        ("/interactions/activities/", "activities"),
        ("/sales/orders/", "orders"),
        ("/service/tickets/", "tickets"),
        ("/sales/products/", "products"),
    ],
)
def test_list_pages_have_the_export_button(admin_user, url, entity):
    from django.urls import reverse

    from vefa.exports.entities import ENTITIES

    assert reverse(ENTITIES[entity].list_url).split("?")[0] == url.split("?")[0]
    page = logged_in(admin_user).get(url)
    assert page.status_code in (200, 422)
    assert b'action="/exports/start/?' in page.content
    assert f'name="entity" value="{entity}"'.encode() in page.content
    assert b"<b>" not in page.content.split(b"/exports/start/")[1][:200]

"""The API under /api/v1/imports/, the vefa import command and who may do what."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tests.imports.conftest import HOSTILE, csv_bytes, run_file, upload
from vefa.accounts.services import api_token_create
from vefa.common.errors import NotFound, PermissionDenied
from vefa.customers.models import Customer, Lead
from vefa.imports import services
from vefa.imports.models import ImportRun, RunStatus
from vefa.platform.models import Job

pytestmark = pytest.mark.django_db
BASE = "/api/v1/imports"
HEADER = ["Ad Soyad", "E-posta", "Şehir"]


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post_file(client: Client, data: bytes, *, entity="customers", name="x.csv", **extra):
    handle = io.BytesIO(data)
    handle.name = name
    return client.post(f"{BASE}/uploads", {"entity": entity, "file": handle, **extra})


def post_json(client: Client, url: str, data: dict) -> object:
    return client.post(url, data=json.dumps(data), content_type="application/json")


def test_api_upload_preview_start_status_errors_undo(manager, django_capture_on_commit_callbacks):
    client = client_for(manager)
    rows = [["Ali Veli", "ali@example.com", "Sivas"], ["Kötü Satır", "=cmd|' /C calc'!A0", "x"]]
    response = post_file(client, csv_bytes(rows, HEADER), source="Web")
    assert response.status_code == 201, response.content
    run = response.json()
    assert run["columns"] == {"Ad Soyad": "full_name", "E-posta": "email", "Şehir": "city"}
    preview = post_json(client, f"{BASE}/runs/{run['id']}/preview", {"match_key": "email"})
    assert preview.status_code == 200
    assert [r["action"] for r in preview.json()["rows"]] == ["create", "error"]
    assert Customer.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        started = post_json(client, f"{BASE}/runs/{run['id']}/start", {})
    assert started.status_code == 202, started.content
    job = Job.objects.get(pk=started.json()["job_id"])
    from vefa.platform.jobs import job_run

    with django_capture_on_commit_callbacks(execute=True):
        job_run(job.pk)
    status = client.get(f"{BASE}/runs/{run['id']}").json()
    assert (status["status"], status["created"], status["error_rows"]) == ("done", 1, 1)
    assert status["has_errors_file"] is True
    errors = client.get(f"{BASE}/runs/{run['id']}/errors")
    assert errors.status_code == 200
    text = b"".join(errors.streaming_content).decode("utf-8-sig")
    assert "'=cmd" in text
    assert "\n=" not in text and ",=" not in text
    listed = client.get(f"{BASE}/runs").json()["items"]
    assert [r["id"] for r in listed] == [run["id"]]
    undone = client.post(f"{BASE}/runs/{run['id']}/undo")
    assert undone.status_code == 200 and undone.json()["deleted"] == 1
    assert Customer.objects.count() == 0


def test_api_refuses_bad_input(manager):
    client = client_for(manager)
    assert post_file(client, b"a,b\n1,2\n", entity="spaceships").status_code == 422
    assert post_file(client, b"a,b\n1,2\n", name="x.exe").status_code == 422
    assert post_file(client, b"", name="x.csv").status_code in (400, 422)
    assert client.get(f"{BASE}/runs/999999").status_code == 404
    run = upload(manager, csv_bytes([["Ali", "a@b.co", ""]], HEADER))
    bad = post_json(client, f"{BASE}/runs/{run.pk}/preview", {"columns": {"Ad Soyad": 5}})
    assert bad.status_code == 422
    bad = post_json(client, f"{BASE}/runs/{run.pk}/start", {"columns": {"Ad Soyad": "nope"}})
    assert bad.status_code == 422
    assert client.get(f"{BASE}/runs/{run.pk}/errors").status_code == 404
    assert client.post(f"{BASE}/runs/{run.pk}/undo").status_code == 422


def test_api_entities(manager):
    body = client_for(manager).get(f"{BASE}/entities").json()
    names = {e["entity"] for e in body}
    assert {"customers", "contacts", "leads"} <= names


def test_rep_cannot_import_and_marketer_sees_only_own_runs(rep, marketer, other_marketer, manager):
    with pytest.raises(PermissionDenied):
        upload(rep, csv_bytes([["Ali", "a@b.co", ""]], HEADER))
    assert post_file(client_for(rep), csv_bytes([["Ali", "a@b.co", ""]], HEADER)).status_code == 403
    mine = run_file(marketer, csv_bytes([["Ali Veli", "a@b.co", ""]], HEADER), entity="leads")
    assert Lead.objects.count() == 1
    other = client_for(other_marketer)
    assert other.get(f"{BASE}/runs/{mine.pk}").status_code == 404
    assert other.post(f"{BASE}/runs/{mine.pk}/undo").status_code == 404
    assert other.get(f"{BASE}/runs").json()["items"] == []
    with pytest.raises(NotFound):
        services.preview(actor=other_marketer, run_id=mine.pk)
    assert client_for(manager).get(f"{BASE}/runs/{mine.pk}").status_code == 200
    # A marketer may not create customers, so may not import them either.
    with pytest.raises(PermissionDenied):
        upload(marketer, csv_bytes([["Ali", "a@b.co", ""]], HEADER))


def test_cli_imports_dry_run_and_errors(admin_user, tmp_path, capsys):
    path = tmp_path / "people.csv"
    rows = [["Ali Veli", "ali@example.com", "Sivas"], ["", "bad", ""]] + [
        [f"Ad {v}", f"h{i}@example.com", v[:100]] for i, v in enumerate(HOSTILE)
    ]
    path.write_bytes(csv_bytes(rows, HEADER, delimiter=";", encoding="utf-8-sig"))
    call_command("import", "--entity", "customers", "--file", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "create=" in out and "error=1" in out
    assert Customer.objects.count() == 0 and ImportRun.objects.count() == 0
    call_command("import", "--entity", "customers", "--file", str(path), "--match", "email")
    out = capsys.readouterr().out
    assert "done" in out and "errors:" in out
    assert Customer.objects.count() == 1 + len(HOSTILE)
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"E-posta": "email", "Şehir": "city"}))
    call_command(
        "import", "--entity", "customers", "--file", str(path), "--mapping", str(mapping),
        "--on-match", "skip",
    )  # fmt: skip
    run = ImportRun.objects.order_by("-pk").first()
    assert run.status == RunStatus.DONE and run.created == 0
    with pytest.raises(CommandError):
        call_command("import", "--entity", "customers", "--file", str(tmp_path / "none.csv"))
    with pytest.raises(CommandError):
        call_command("import", "--entity", "customers", "--file", str(path), "--mapping", "{bad")
    with pytest.raises(CommandError):
        call_command("import", "--entity", "rockets", "--file", str(path))

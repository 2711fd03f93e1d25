"""Scheduled exports: validation, the periodic run as the owner, e-mail, the pages."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from vefa.common.errors import NotFound, ValidationFailed
from vefa.exports import services
from vefa.exports.jobs import run_scheduled_exports
from vefa.exports.models import Export, ScheduledExport
from vefa.exports.writers import read_csv
from vefa.platform.periodic import jobs

pytestmark = pytest.mark.django_db


def make(actor, **data):
    values = {"name": "Weekly Ankara", "entity": "customers", "frequency": "weekly"}
    values.update(data)
    return services.schedule_create(actor=actor, data=values)


def test_schedule_is_validated(rep):
    with pytest.raises(ValidationFailed) as caught:
        make(
            rep,
            name="",
            entity="nope",
            format="pdf",
            frequency="hourly",
            recipients="a@example.com, <script>",
        )
    assert set(caught.value.fields) == {"name", "entity", "format", "frequency", "recipients"}
    with pytest.raises(ValidationFailed) as caught:
        make(rep, filters={"country": "ZZZ"})
    assert any("country" in key for key in caught.value.fields)
    with pytest.raises(ValidationFailed):
        make(rep, recipients="\n".join(f"u{i}@example.com" for i in range(30)))


def test_a_due_schedule_runs_as_its_owner_and_mails_the_file(rep, own, hidden):
    schedule = make(
        rep, recipients="boss@example.com\nboss@example.com", filters={"city": "ANKARA"}
    )
    assert schedule.recipient_list == ["boss@example.com"]
    assert schedule.next_run_at > timezone.now() + datetime.timedelta(days=6)
    assert services.schedules_run_due() == []
    ScheduledExport.objects.filter(pk=schedule.pk).update(
        next_run_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert "exports.run_scheduled" in jobs()
    run_scheduled_exports()
    export = Export.objects.get(schedule=schedule)
    assert export.owner == rep and export.rows == 1
    assert len(mail.outbox) == 1
    _name, content, _type = mail.outbox[0].attachments[0]
    rows = read_csv(content)
    # Only what the owner may see: the other team's Ankara customer is left out.
    assert [r[1] for r in rows[1:]] == [own.display_name]
    schedule.refresh_from_db()
    assert schedule.next_run_at > timezone.now() + datetime.timedelta(days=6)
    assert schedule.last_run_at is not None
    run_scheduled_exports()
    assert Export.objects.count() == 1


def test_a_schedule_without_recipients_keeps_the_file(rep, own):
    schedule = make(rep, frequency="monthly", format="xlsx")
    past = timezone.now() - datetime.timedelta(days=70)
    ScheduledExport.objects.filter(pk=schedule.pk).update(next_run_at=past)
    services.schedules_run_due()
    export = Export.objects.get()
    assert export.file and export.format == "xlsx"
    assert mail.outbox == []
    schedule.refresh_from_db()
    assert schedule.next_run_at > timezone.now()


def test_next_run_by_calendar_month():
    start = datetime.datetime(2026, 1, 31, 8, tzinfo=datetime.UTC)
    assert services.next_run("monthly", start).date() == datetime.date(2026, 2, 28)
    assert services.next_run("daily", start).date() == datetime.date(2026, 2, 1)
    december = datetime.datetime(2026, 12, 15, tzinfo=datetime.UTC)
    assert services.next_run("monthly", december).date() == datetime.date(2027, 1, 15)


def test_schedules_of_others_are_not_found(rep, rep_same_team):
    schedule = make(rep)
    with pytest.raises(NotFound):
        services.schedule_update(actor=rep_same_team, pk=schedule.pk, data={})
    with pytest.raises(NotFound):
        services.schedule_delete(actor=rep_same_team, pk=schedule.pk)
    client = Client()
    client.force_login(rep_same_team)
    assert client.get(f"/exports/scheduled/{schedule.pk}/").status_code == 404
    assert client.post(f"/exports/scheduled/{schedule.pk}/delete/").status_code == 404


def test_the_pages_create_edit_and_delete(rep):
    client = Client()
    client.force_login(rep)
    assert client.get("/exports/scheduled/").status_code == 200
    bad = client.post(
        "/exports/scheduled/", {"name": "<b>x</b>", "entity": "customers", "recipients": "nope"}
    )
    assert bad.status_code == 422
    assert b"<b>x</b>" not in bad.content and b"&lt;b&gt;x&lt;/b&gt;" in bad.content
    ok = client.post(
        "/exports/scheduled/",
        {
            "name": "<b>x</b>",
            "entity": "customers",
            "format": "csv",
            "frequency": "daily",
            "filters": "city=Ankara&stage=customer",
            "is_active": "on",
        },
    )
    assert ok.status_code == 302
    schedule = ScheduledExport.objects.get()
    assert schedule.filters == {"city": "Ankara", "stage": "customer"}
    page = client.get(f"/exports/scheduled/{schedule.pk}/")
    assert page.status_code == 200 and b"city=Ankara" in page.content
    changed = client.post(
        f"/exports/scheduled/{schedule.pk}/",
        {"name": "Daily", "entity": "leads", "format": "xlsx", "frequency": "weekly"},
    )
    assert changed.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.name, schedule.entity, schedule.is_active) == ("Daily", "leads", False)
    assert client.post(f"/exports/scheduled/{schedule.pk}/delete/").status_code == 302
    assert not ScheduledExport.objects.exists()

"""The private calendar feed: RFC 5545 text, escaping, folding, alarms, access by token."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from vefa.interactions.ics import escape_text, fold
from vefa.interactions.services import activity_cancel, activity_create, ics_token_reset

pytestmark = pytest.mark.django_db

START = datetime.datetime(2030, 1, 15, 9, 30, tzinfo=datetime.UTC)


def unfold(text: str) -> str:
    return text.replace("\r\n ", "")


def feed(user) -> tuple[int, str]:
    response = Client().get(reverse("interactions:ics_feed", args=[user.ics_token]))
    return response.status_code, response.content.decode(
        "utf-8"
    ) if response.status_code == 200 else ""


def test_escape_text_escapes_backslash_semicolon_comma_and_newlines():
    assert escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"


@pytest.mark.parametrize("text", ["x" * 200, "ş" * 100, "سلام " * 40, "a" + "😀" * 60])
def test_fold_keeps_lines_within_75_octets_and_characters_whole(text):
    folded = fold("SUMMARY:" + text)
    lines = folded.split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])
    assert unfold(folded) == "SUMMARY:" + text


def test_feed_lists_own_activities_in_utc_with_alarms(rep, own_customer):
    activity_create(
        actor=rep,
        kind="meeting",
        subject="Demo; pricing, Q&A",
        start_at=START,
        end_at=START + datetime.timedelta(hours=1),
        location="Ofis\nKat 2",
        customer_id=own_customer.pk,
        reminder_minutes=[60, 1440],
    )
    status, body = feed(rep)
    assert status == 200
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")
    text = unfold(body)
    assert "DTSTART:20300115T093000Z" in text
    assert "DTEND:20300115T103000Z" in text
    assert f"SUMMARY:Demo\\; pricing\\, Q&A · {own_customer.display_name}" in text
    assert "LOCATION:Ofis\\nKat 2" in text
    assert text.count("BEGIN:VALARM") == 2
    assert "TRIGGER:-PT60M" in text and "TRIGGER:-PT1440M" in text
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


def test_feed_task_gets_a_short_event_and_hostile_text_stays_text(rep):
    activity_create(
        actor=rep,
        kind="task",
        subject="<script>alert(1)</script>\r\nBEGIN:VEVENT",
        due_at=START,
        reminder_minutes=[],
    )
    _, body = feed(rep)
    text = unfold(body)
    assert "DTSTART:20300115T093000Z\r\nDTEND:20300115T094500Z" in text
    assert "SUMMARY:<script>alert(1)</script>\\nBEGIN:VEVENT" in text
    assert text.count("BEGIN:VEVENT") == 1 + text.count("\\nBEGIN:VEVENT")
    assert "BEGIN:VALARM" not in text


def test_feed_shows_only_the_users_own_and_skips_cancelled(rep, rep_same_team):
    mine = activity_create(actor=rep, kind="call", subject="Mine", due_at=START)
    activity_create(actor=rep_same_team, kind="call", subject="Colleague's", due_at=START)
    dropped = activity_create(actor=rep, kind="call", subject="Dropped", due_at=START)
    activity_cancel(actor=rep, activity_id=dropped.pk)
    _, body = feed(rep)
    assert f"UID:activity-{mine.pk}@vefa" in body
    assert "Colleague" not in body
    assert "Dropped" not in body


def test_bad_reset_or_deactivated_token_is_404(rep):
    assert Client().get(reverse("interactions:ics_feed", args=["not-a-token"])).status_code == 404
    old = rep.ics_token
    ics_token_reset(actor=rep)
    assert Client().get(reverse("interactions:ics_feed", args=[old])).status_code == 404
    rep.refresh_from_db()
    assert feed(rep)[0] == 200
    rep.is_active = False
    rep.save()
    assert feed(rep)[0] == 404


def test_all_day_event_uses_dates(rep):
    activity_create(
        actor=rep,
        kind="appointment",
        subject="Fair",
        start_at=datetime.datetime(2030, 3, 1, tzinfo=datetime.UTC),
        end_at=datetime.datetime(2030, 3, 3, tzinfo=datetime.UTC),
        all_day=True,
    )
    _, body = feed(rep)
    assert "DTSTART;VALUE=DATE:20300301" in body
    assert "DTEND;VALUE=DATE:20300303" in body

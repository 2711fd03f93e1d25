"""Notifications: idempotent sending, validation, e-mail through a real SMTP server."""

from __future__ import annotations

import time

import pytest

from tests.platform.conftest import HOSTILE
from tests.smtp import free_port
from vefa.common.errors import NotFound, ValidationFailed
from vefa.platform.models import Notification
from vefa.platform.notifications import (
    notification_list,
    notification_mark_all_read,
    notification_mark_read,
    notification_send,
    notification_unread_count,
)

pytestmark = pytest.mark.django_db


def test_sending_creates_one_notice_for_the_recipient(rep):
    notice = notification_send(
        recipient=rep, verb="record_assigned", text="You got  a customer", url="/customers/1/"
    )
    assert Notification.objects.filter(recipient=rep).count() == 1
    assert notice.text == "You got a customer"
    assert notice.read_at is None
    assert notice.emailed_at is None


def test_the_same_dedupe_key_notifies_once(rep, rep_same_team):
    first = notification_send(recipient=rep, verb="reminder", text="Call Ayşe", dedupe_key="r:1")
    again = notification_send(recipient=rep, verb="reminder", text="Call Ayşe", dedupe_key="r:1")
    other = notification_send(
        recipient=rep_same_team, verb="reminder", text="Call Ayşe", dedupe_key="r:1"
    )
    assert again.pk == first.pk
    assert other.pk != first.pk
    assert Notification.objects.count() == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"verb": "", "text": "x"}, "verb"),
        ({"verb": "v" * 51, "text": "x"}, "verb"),
        ({"verb": "v", "text": "   "}, "text"),
        ({"verb": "v", "text": "x", "url": "https://evil.example/"}, "url"),
        ({"verb": "v", "text": "x", "url": "//evil.example/"}, "url"),
        ({"verb": "v", "text": "x", "url": "javascript:alert(1)"}, "url"),
        ({"verb": "v", "text": "x", "dedupe_key": "k" * 151}, "dedupe_key"),
    ],
)
def test_bad_notifications_are_refused_and_nothing_is_stored(rep, kwargs, field):
    with pytest.raises(ValidationFailed) as error:
        notification_send(recipient=rep, **kwargs)
    assert field in error.value.fields
    assert Notification.objects.count() == 0


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_and_long_texts_are_stored_within_bounds(rep, text):
    notice = notification_send(recipient=rep, verb="test", text=text)
    assert len(notice.text) <= 300
    assert notice.text.startswith(" ".join(text.split())[:50])


def test_reads_and_marks_are_the_actors_own(rep, rep_same_team):
    mine = notification_send(recipient=rep, verb="t", text="Mine")
    theirs = notification_send(recipient=rep_same_team, verb="t", text="Theirs")

    assert [n.pk for n in notification_list(actor=rep).items] == [mine.pk]
    with pytest.raises(NotFound):
        notification_mark_read(actor=rep, pk=theirs.pk)
    assert notification_mark_all_read(actor=rep) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert notification_unread_count(actor=rep) == 0
    assert notification_unread_count(actor=rep_same_team) == 1


def test_no_email_without_an_email_server(rep, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_HOST = ""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification_send(recipient=rep, verb="t", text="Quiet")
    assert callbacks == []
    assert Notification.objects.get().emailed_at is None


@pytest.mark.smtp
def test_a_notice_is_emailed_after_commit_through_a_real_smtp_server(
    rep, smtp_server, django_capture_on_commit_callbacks
):
    rep.language = "tr"
    rep.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notice = notification_send(
            recipient=rep, verb="reminder", text="Ayşe Yılmaz'ı ara", url="/customers/7/"
        )
    # Nothing is sent before the transaction commits
    assert smtp_server.messages == []
    for callback in callbacks:
        callback()
    smtp_server.wait_for(1)

    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == [rep.email]
    assert envelope.mail_from == "vefa@example.com"
    content = envelope.content.decode()
    assert "/customers/7/" in content
    notice.refresh_from_db()
    assert notice.emailed_at is not None


@pytest.mark.smtp
def test_a_deduplicated_notice_is_emailed_once(
    rep, smtp_server, django_capture_on_commit_callbacks
):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            notification_send(recipient=rep, verb="reminder", text="Once", dedupe_key="once")
    smtp_server.wait_for(1)
    time.sleep(0.2)
    assert len(smtp_server.messages) == 1


@pytest.mark.smtp
def test_inactive_recipients_get_no_email(rep, smtp_server, django_capture_on_commit_callbacks):
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(recipient=rep, verb="t", text="Nobody reads this")
    time.sleep(0.2)
    assert smtp_server.messages == []


@pytest.mark.smtp
def test_a_dead_mail_server_never_fails_the_caller(
    rep, settings, django_capture_on_commit_callbacks
):
    # Given an e-mail server that is configured but not listening
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 2
    # When a notice is sent
    with django_capture_on_commit_callbacks(execute=True):
        notice = notification_send(recipient=rep, verb="t", text="Still here")
    # Then the notice exists and is simply not marked e-mailed
    notice.refresh_from_db()
    assert notice.emailed_at is None
    assert Notification.objects.count() == 1

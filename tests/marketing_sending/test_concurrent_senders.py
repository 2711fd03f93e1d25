"""Several processes sending one campaign: every recipient gets the message exactly once.

Two senders run at the same time against a real SMTP server (aiosmtpd on loopback): two
independent processes over the same rows (the claim decides who sends each), and the
sending job's own way, one process with a helper each taking half of the rows. Needs a
database several processes can open (PostgreSQL); the in-memory SQLite test database
cannot be shared.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from tests.marketing_sending.conftest import customer_with_consent, sending_campaign
from tests.smtp import Inbox, running
from vefa.interactions.models import Interaction
from vefa.marketing.choices import CampaignStatus, RecipientStatus
from vefa.marketing.models import Campaign, CampaignRecipient
from vefa.marketing.services import sending

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 60
SMTP = "django.core.mail.backends.smtp.EmailBackend"

SCRIPT = """
import django, sys
django.setup()
from vefa.marketing.services.sending import send_campaign
send_campaign(int(sys.argv[1]), limit=5)
"""

needs_postgresql = pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="a second process cannot open the in-memory SQLite test database",
)


def _env(port: int) -> dict[str, str]:
    db = connection.settings_dict
    url = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
        USER=db["USER"] or "postgres",
        HOST=db["HOST"] or "127.0.0.1",
        PORT=db["PORT"] or 5432,
        NAME=db["NAME"],
    )
    return {
        "DJANGO_SETTINGS_MODULE": "vefa.config.settings",
        "DATABASE_URL": url,
        "VEFA_EMAIL_HOST": "127.0.0.1",
        "VEFA_EMAIL_PORT": str(port),
        "VEFA_SECRET_KEY": settings.SECRET_KEY,
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }


def _campaign(owner, template) -> Campaign:
    customers = [customer_with_consent(i) for i in range(RECIPIENTS)]
    return sending_campaign(owner, template, customers, name="Two senders")


def _check_exactly_once(inbox: Inbox, campaign: Campaign) -> None:
    expected = {f"c{i}@example.com" for i in range(RECIPIENTS)}
    assert set(inbox.received) == expected
    assert all(count == 1 for count in inbox.received.values()), inbox.received
    rows = CampaignRecipient.objects.filter(campaign=campaign)
    assert rows.filter(status=RecipientStatus.SENT).count() == RECIPIENTS
    assert all(row.sent_at is not None and row.sent_at == row.claimed_at for row in rows)
    history = Interaction.objects.filter(related_model="marketing.campaign", related_id=campaign.pk)
    assert history.count() == RECIPIENTS


@needs_postgresql
def test_two_independent_senders_on_the_same_rows_send_each_once(
    transactional_db, marketer, template, rules
):
    campaign = _campaign(marketer, template)
    inbox = Inbox()
    with running(inbox) as port:
        env = {**os.environ, **_env(port)}
        processes = [
            subprocess.Popen([sys.executable, "-c", SCRIPT, str(campaign.pk)], env=env, cwd=ROOT)
            for _ in range(2)
        ]
        assert [process.wait(timeout=120) for process in processes] == [0, 0]
    _check_exactly_once(inbox, campaign)


@needs_postgresql
def test_the_job_sends_with_helper_processes_each_once(
    transactional_db, marketer, template, rules, monkeypatch
):
    campaign = _campaign(marketer, template)
    inbox = Inbox()
    monkeypatch.setenv(sending.SENDERS_SETTING, "2")
    started: list[tuple[int, int]] = []
    real_start = sending._start_sender

    def start(campaign_id, part, parts):
        started.append((part, parts))
        return real_start(campaign_id, part, parts)

    monkeypatch.setattr(sending, "_start_sender", start)
    reports: list[tuple[int, int]] = []
    with running(inbox) as port:
        for name, value in _env(port).items():
            monkeypatch.setenv(name, value)
        with override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1", EMAIL_PORT=port):
            job = type("JobStub", (), {"params": {"campaign_id": campaign.pk}})()
            totals = sending.send_job(job, lambda done, total: reports.append((done, total)))
    assert started == [(1, 2)]
    assert totals["sent"] == RECIPIENTS
    assert reports[-1] == (RECIPIENTS, RECIPIENTS)
    _check_exactly_once(inbox, campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    # Each process sent a share (the helper the odd ids, this process the even ones).
    ids = list(CampaignRecipient.objects.filter(campaign=campaign).values_list("pk", flat=True))
    assert {pk % 2 for pk in ids} == {0, 1}


@needs_postgresql
def test_a_helper_that_dies_leaves_its_rows_to_the_job(
    transactional_db, marketer, template, rules, monkeypatch
):
    campaign = _campaign(marketer, template)
    inbox = Inbox()

    def broken_helper(campaign_id, part, parts):
        return subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])

    monkeypatch.setattr(sending, "_start_sender", broken_helper)
    with (
        running(inbox) as port,
        override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1", EMAIL_PORT=port),
    ):
        totals = sending.send_with_processes(campaign.pk, senders=3)
    assert totals["sent"] == RECIPIENTS
    _check_exactly_once(inbox, campaign)


def test_number_of_senders_from_the_setting(monkeypatch):
    monkeypatch.delenv(sending.SENDERS_SETTING, raising=False)
    with override_settings(VEFA_MARKETING_SENDERS=None):
        if connection.vendor == "sqlite":
            assert sending.sender_count() == 1
        else:
            assert sending.sender_count() == max(1, min(4, os.cpu_count() or 1))
    for value, expected in [("3", 3), ("0", 1), ("-2", 1), ("999", sending.MAX_SENDERS)]:
        with override_settings(VEFA_MARKETING_SENDERS=value):
            assert sending.sender_count() == expected
    with override_settings(VEFA_MARKETING_SENDERS="many; rm -rf /"):
        assert sending.sender_count() == 1


@pytest.mark.django_db
def test_no_helpers_when_they_could_not_see_the_data(marketer, template, rules, monkeypatch):
    """Inside a transaction (and on the in-memory SQLite database) the job sends alone."""
    monkeypatch.setenv(sending.SENDERS_SETTING, "4")

    def no_helpers(*args):
        raise AssertionError("no helper process may start")

    monkeypatch.setattr(sending, "_start_sender", no_helpers)
    campaign = _campaign(marketer, template)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        job = type("JobStub", (), {"params": {"campaign_id": campaign.pk}})()
        totals = sending.send_job(job, lambda done, total: None)
    assert totals["sent"] == RECIPIENTS

"""Kill the sender mid-campaign, start it again: every recipient gets the message once.

The sender runs in a separate process against a real SMTP server (aiosmtpd on loopback)
and is killed with SIGKILL by the server itself at chosen points: while it waits for the
answer to a message's end (the message was accepted and its row claimed), and before a
message's body (nothing handed over, nothing claimed). The restarted sender must send the
rest, and the server must count exactly one message per address. Needs a database both
processes can open (PostgreSQL); the in-memory SQLite test database cannot be shared.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.marketing_sending.conftest import customer_with_consent, sending_campaign
from tests.smtp import Inbox, running
from vefa.marketing.choices import CampaignStatus, RecipientStatus
from vefa.marketing.models import CampaignRecipient

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 30

SCRIPT = """
import django, sys
django.setup()
from vefa.marketing.services.sending import send_campaign
send_campaign(int(sys.argv[1]), limit=7)
"""


class KillingInbox(Inbox):
    """The shared inbox that also kills the sender at the n-th ``RCPT`` or ``DATA``."""

    def __init__(self, *, kill_at_data: int | None = None, kill_at_rcpt: int | None = None):
        super().__init__()
        self.data_seen = 0
        self.rcpt_seen = 0
        self.kill_at_data, self.kill_at_rcpt = kill_at_data, kill_at_rcpt
        self.process: subprocess.Popen[bytes] | None = None

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpt_seen += 1
            if self.kill_at_rcpt is not None and self.rcpt_seen == self.kill_at_rcpt:
                self._kill()
                self.kill_at_rcpt = None
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)  # counts the message
        with self.lock:
            self.data_seen += 1
            if self.kill_at_data is not None and self.data_seen == self.kill_at_data:
                # Accepted by the server, not yet answered: the sender dies waiting.
                self._kill()
                self.kill_at_data = None
        return answer


def _run(inbox: KillingInbox, port: int, campaign_id: int) -> int:
    settings = connection.settings_dict
    url = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
        USER=settings["USER"] or "postgres",
        HOST=settings["HOST"] or "127.0.0.1",
        PORT=settings["PORT"] or 5432,
        NAME=settings["NAME"],
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vefa.config.settings",
        "DATABASE_URL": url,
        "VEFA_EMAIL_HOST": "127.0.0.1",
        "VEFA_EMAIL_PORT": str(port),
        "VEFA_SECRET_KEY": "exactly-once-test-" + "x" * 40,
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, str(campaign_id)], env=env, cwd=ROOT)
    inbox.process = process
    return process.wait(timeout=120)


@pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="a second process cannot open the in-memory SQLite test database",
)
@pytest.mark.parametrize(
    "kill", [{"kill_at_data": 5}, {"kill_at_data": 16}, {"kill_at_rcpt": 9}, {"kill_at_rcpt": 1}]
)
def test_killed_sender_restarted_sends_each_recipient_exactly_once(
    transactional_db, marketer, template, rules, kill
):
    customers = [customer_with_consent(i) for i in range(RECIPIENTS)]
    campaign = sending_campaign(marketer, template, customers, name="Kill test")
    inbox = KillingInbox(**kill)
    with running(inbox) as port:
        first = _run(inbox, port, campaign.pk)
        assert first == -signal.SIGKILL
        assert sum(inbox.received.values()) < RECIPIENTS
        second = _run(inbox, port, campaign.pk)
        assert second == 0
    expected = {f"c{i}@example.com" for i in range(RECIPIENTS)}
    assert set(inbox.received) == expected
    assert all(count == 1 for count in inbox.received.values()), inbox.received
    rows = CampaignRecipient.objects.filter(campaign=campaign)
    assert rows.filter(status=RecipientStatus.SENT).count() == RECIPIENTS
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED

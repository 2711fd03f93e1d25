"""A real SMTP server on loopback for the tests (aiosmtpd): a handler that keeps what it
receives, a context manager that runs a handler at a free port, and Django's mail settings
pointed at that port. The ``smtp_server`` fixture in ``tests/conftest.py`` puts them together."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from aiosmtpd.smtp import SMTP, Envelope, Session

# Whether the tests run in CI, where a missing server fails instead of skipping.
IN_CI = os.environ.get("CI", "").lower() == "true"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """An aiosmtpd handler that keeps every envelope and counts the messages per address."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.messages.append(envelope)
            self.received.update(envelope.rcpt_tos)
        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float = 5) -> bool:
        """Wait until ``count`` messages have arrived or ``timeout`` seconds have passed; True
        when they have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True


@contextmanager
def running(handler: object) -> Iterator[int]:
    """Run ``handler`` in an aiosmtpd server on 127.0.0.1 and yield its port; the server is
    stopped on the way out. Without aiosmtpd the test is skipped (in CI it fails)."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:  # pragma: no cover - the test extras install it
        if IN_CI:
            raise
        pytest.skip("aiosmtpd is not installed (the test extras install it)")
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def point_settings_at(settings: Any, port: int) -> None:
    """Send Django's mail to the SMTP server at ``port`` on loopback, without login or TLS
    (``settings`` is pytest-django's fixture, restored after the test)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "vefa@example.com"

"""Fixtures of the integrations tests: a real HTTP receiver on loopback, API clients."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from vefa.accounts.services import api_token_create

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "علی رضایی‎ — «ویژه»",
    "\u202egnp.exe",
    "'; DROP TABLE customers_customer; --",
]


@pytest.fixture(autouse=True)
def _allow_loopback(settings):
    """Webhook receivers in these tests listen on 127.0.0.1."""
    settings.VEFA_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture(autouse=True)
def _fresh_watched_events():
    """Each test starts and ends with no cached set of watched events."""
    from vefa.integrations.services.delivery import forget_watched_events

    forget_watched_events()
    yield
    forget_watched_events()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver: records each POST and answers with the next planned status."""

    url: str
    requests: list[Received] = field(default_factory=list)
    plan: list[int] = field(default_factory=list)
    default_status: int = 200
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.plan.pop(0) if self.plan else self.default_status


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            rec = state["r"]
            rec.requests.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            if rec.delay:
                import time

                time.sleep(rec.delay)
            status = rec.next_status()
            reply = b'{"ok": true}' if status < 300 else b"<html>boom " + b"x" * 5000 + b"</html>"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    state["r"] = Receiver(url=f"http://127.0.0.1:{port}/hook?src=vefa")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["r"]
    finally:
        server.shutdown()
        server.server_close()


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")

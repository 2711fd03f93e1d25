"""Helpers of the ticket tests: the SLA, e-mail and survey calls recorded, tickets made
through the service."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

import pytest

from vefa.service.services.tickets import ticket_create

SLA_FUNCTIONS = (
    "sla_start",
    "sla_first_response",
    "sla_pause",
    "sla_resume",
    "sla_stop",
    "sla_reopen",
)


def _module(name: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """The module ``name``; an empty stand-in while it does not exist yet."""
    if importlib.util.find_spec(name) is not None:
        return importlib.import_module(name)
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    return module


@pytest.fixture
def sla_calls(monkeypatch) -> list[tuple[str, int | None]]:
    """Every SLA call as (function, ticket id); the real functions still run when present."""
    module = _module("vefa.service.services.sla", monkeypatch)
    calls: list[tuple[str, int | None]] = []
    for name in SLA_FUNCTIONS:
        original = getattr(module, name, None)

        def recorder(ticket: Any, *, now: Any = None, _n: str = name, _o: Any = original) -> None:
            calls.append((_n, ticket.pk))
            if _o is not None:
                _o(ticket, now=now)

        monkeypatch.setattr(module, name, recorder, raising=False)
    return calls


@pytest.fixture
def sent_replies(monkeypatch) -> list[int]:
    """The ids of the messages handed to ``email.reply_enqueue``."""
    module = _module("vefa.service.services.email", monkeypatch)
    sent: list[int] = []
    monkeypatch.setattr(module, "reply_enqueue", lambda m: sent.append(m.pk), raising=False)
    return sent


@pytest.fixture
def csat_requests(monkeypatch) -> list[int]:
    """The ticket ids handed to ``surveys.csat_request`` (after commit)."""
    module = _module("vefa.service.services.surveys", monkeypatch)
    asked: list[int] = []

    def request(*, ticket_id: int) -> None:
        asked.append(ticket_id)

    monkeypatch.setattr(module, "csat_request", request, raising=False)
    return asked


@pytest.fixture
def side_effects(sla_calls, sent_replies, csat_requests):
    return {"sla": sla_calls, "email": sent_replies, "csat": csat_requests}


def open_ticket(actor: Any, **data: Any) -> Any:
    data.setdefault("subject", "Kargo gecikti")
    return ticket_create(actor=actor, data=data)

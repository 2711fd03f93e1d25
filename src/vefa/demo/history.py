"""What an interaction of each kind looks like: direction, channel, subject, outcome, amount.

Shared by the demo (one interaction at a time) and the benchmark data (a table of templates
the database expands into millions of rows), so both read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from vefa.demo.pools import Texts

# Share of each kind in a buying customer's history (per mille) …
BUYER_KINDS: tuple[tuple[str, int], ...] = (
    ("purchase", 240), ("pos", 60), ("call", 150), ("email", 170), ("sms", 50), ("offer", 80),
    ("meeting", 40), ("visit", 40), ("complaint", 30), ("return", 20), ("web", 40),
    ("social", 20), ("letter", 20), ("comment", 10), ("note", 20), ("fax", 10),
)  # fmt: skip
# … and in the history of someone who has not bought yet.
PROSPECT_KINDS: tuple[tuple[str, int], ...] = (
    ("call", 250), ("email", 250), ("offer", 150), ("web", 100), ("meeting", 80), ("visit", 60),
    ("sms", 40), ("social", 30), ("letter", 20), ("note", 20),
)  # fmt: skip

# Who records each kind: the customer's owner, a service agent, a marketer, or nobody (an
# inbound message that arrived by itself).
OWNER, SERVICE, MARKETING, NOBODY = 0, 1, 2, 3
RECORDED_BY = {
    "complaint": SERVICE, "return": SERVICE, "offer": MARKETING, "letter": MARKETING,
    "web": NOBODY, "social": NOBODY, "fax": NOBODY, "comment": NOBODY,
}  # fmt: skip

_CHANNELS = {
    "purchase": ("web", "web", "phone", "email", "face_to_face"),
    "call": ("phone", "phone", "call_centre"),
    "email": ("email",),
    "sms": ("sms",),
    "letter": ("post",),
    "visit": ("face_to_face",),
    "meeting": ("face_to_face", "face_to_face", "other"),
    "comment": ("web", "social"),
    "complaint": ("phone", "email", "call_centre", "web"),
    "return": ("point_of_sale", "post"),
    "offer": ("email", "sms", "post"),
    "social": ("social",),
    "web": ("web",),
    "fax": ("fax",),
    "pos": ("point_of_sale",),
    "note": ("",),
}
_INBOUND = frozenset(
    {"purchase", "visit", "comment", "complaint", "return", "social", "web", "fax", "pos"}
)
_OUTBOUND = frozenset({"sms", "letter", "meeting", "offer"})
# Typical value of one purchase, in pence/cents of GBP; other currencies scale it.
_PRICE_CENTS = {"purchase": (15_000, 350_000), "pos": (2_000, 60_000), "return": (5_000, 120_000)}
# How many units of each currency one GBP is worth, roughly (for believable amounts).
CURRENCY_SCALE = {"GBP": 1, "USD": 1, "EUR": 1, "TRY": 40, "RSD": 117, "IRR": 50_000}


@dataclass(frozen=True)
class Shape:
    """An interaction apart from its customer, time and user."""

    kind: str
    direction: str
    initiated_by: str
    channel: str
    subject: str  # may contain "{ref}" where an order or receipt number belongs
    body: str
    outcome: str
    status: str
    duration_minutes: int | None
    price_cents: int  # 0 when the kind carries no amount
    recorded_by: int
    product: str = ""


def shape(rng: Random, texts: Texts, kind: str, product: str | None = None) -> Shape:
    """A believable interaction of ``kind`` written in ``texts``' language (about
    ``product`` when given, e.g. the complaint about what was bought)."""
    if kind in _INBOUND:
        direction, initiated = "inbound", "customer"
    elif kind in _OUTBOUND:
        direction, initiated = "outbound", "company"
    elif kind == "note":
        direction, initiated = "internal", "company"
    elif rng.random() < 0.6:
        direction, initiated = "outbound", "company"
    else:
        direction, initiated = "inbound", "customer"
    product = product or rng.choice(texts.products)
    subject = rng.choice(texts.subjects[kind]).replace("{product}", product)
    outcomes = texts.outcomes.get(kind, ())
    outcome = rng.choice(outcomes) if outcomes and rng.random() < 0.8 else ""
    bodies = texts.bodies.get(kind, ())
    body = rng.choice(bodies) if bodies and rng.random() < 0.5 else ""
    status = "done"
    if kind == "complaint" and rng.random() < 0.2:
        status = rng.choice(("open", "in_progress"))
    duration = None
    if kind == "call":
        duration = rng.randrange(2, 26)
    elif kind == "meeting":
        duration = rng.choice((30, 45, 60, 90, 120))
    elif kind == "visit":
        duration = rng.choice((15, 20, 30, 45, 60))
    low, high = _PRICE_CENTS.get(kind, (0, 0))
    price = rng.randrange(low, high) // 100 * 100 if high else 0
    return Shape(
        kind=kind,
        direction=direction,
        initiated_by=initiated,
        channel=rng.choice(_CHANNELS[kind]),
        subject=subject,
        body=body,
        outcome=outcome,
        status=status,
        duration_minutes=duration,
        price_cents=price,
        recorded_by=RECORDED_BY.get(kind, OWNER),
        product=product,
    )


def kind_slots(kinds: tuple[tuple[str, int], ...], slots: int) -> list[str]:
    """``slots`` kinds laid out in proportion to their shares (per mille)."""
    total = sum(share for _, share in kinds)
    layout: list[str] = []
    for kind, share in kinds:
        layout.extend([kind] * round(share * slots / total))
    while len(layout) < slots:
        layout.append(kinds[0][0])
    return layout[:slots]

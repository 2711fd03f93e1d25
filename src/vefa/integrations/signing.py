"""HMAC-SHA256 signatures of webhook and inbound-order bodies.

Both directions use one scheme: ``X-Vefa-Timestamp: <unix seconds>`` and
``X-Vefa-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``. Signing the
timestamp with the body lets a receiver refuse an old request replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_PREFIX = "sha256="
# How far a signed timestamp may lie from the receiver's clock.
TOLERANCE_SECONDS = 300


def new_secret(prefix: str = "whsec_") -> str:
    """A fresh random signing secret (256 bits)."""
    return prefix + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Vefa-Signature`` header value for ``body`` sent at ``timestamp``."""
    message = timestamp.encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify(
    secret: str,
    timestamp: str | None,
    body: bytes,
    header: str | None,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """Whether ``header`` signs ``body`` at ``timestamp`` with ``secret``, within the
    tolerance of the clock. Compared in constant time."""
    if not secret or not timestamp or not header:
        return False
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("utf-8", "replace"))

"""The outbound POST of a webhook, guarded against server-side request forgery.

A webhook URL is typed by a person, so Vefa must not become a way to reach its own network:
the host name is resolved once, every address it resolves to must be public (no loopback,
private, link-local, multicast, reserved or unspecified address, also not as an IPv4-mapped
IPv6 address), and the connection goes to exactly that checked address, so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot slip through. Redirects
are not followed. ``VEFA_WEBHOOKS_ALLOW_PRIVATE`` lifts the address check (tests, or an
installation whose receivers live on its own network).
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
SNIPPET_CHARS = 500
USER_AGENT = "Vefa-Webhooks/1"


def private_refused() -> str:
    return _("The URL leads to a private or local network address, which webhooks may not call.")


class UnsafeURL(ValueError):
    """The URL may not be called (scheme, host or address refused)."""


@dataclass(frozen=True)
class Response:
    status: int | None
    snippet: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def allow_private() -> bool:
    value = getattr(settings, "VEFA_WEBHOOKS_ALLOW_PRIVATE", None)
    if value is None:
        value = os.environ.get("VEFA_WEBHOOKS_ALLOW_PRIVATE", "").lower() in ("1", "true", "yes")
    return bool(value)


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url_syntax(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an acceptable URL; ``UnsafeURL`` otherwise."""
    if not isinstance(url, str) or len(url) > 500 or any(ch in url for ch in "\r\n\t "):
        raise UnsafeURL(_("Enter a valid http or https URL."))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL(_("Enter a valid http or https URL."))
    if parts.username or parts.password:
        raise UnsafeURL(
            _("Put no user name or password in the URL; the signature proves who sends.")
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL(_("Enter a valid http or https URL.")) from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def resolve(host: str, port: int) -> str:
    """The address to connect to: the first one the host resolves to, after checking all."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(_("The host name could not be resolved.")) from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise UnsafeURL(_("The host name could not be resolved."))
    if not allow_private() and not all(is_public(a) for a in addresses):
        raise UnsafeURL(private_refused())
    return addresses[0]


def check_url(url: str) -> None:
    """Refuse a URL that may not be called (used when a webhook is saved)."""
    _scheme, host, port, _path = check_url_syntax(url)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # A name: checked again, with its current addresses, at every delivery.
        if host.lower() in ("localhost", "localhost.localdomain") and not allow_private():
            raise UnsafeURL(private_refused()) from None
        return
    resolve(host, port)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        self.sock.settimeout(self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        raw.settimeout(self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str]) -> Response:
    """POST ``body`` to ``url``; never raises for network trouble (it is in ``error``)."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        scheme, host, port, path = check_url_syntax(url)
        address = resolve(host, port)
    except UnsafeURL as exc:
        return Response(None, "", str(exc)[:300], elapsed())
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = cls(host, port, address, READ_TIMEOUT)
    all_headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Content-Length": str(len(body)),
        **headers,
    }
    try:
        connection.request("POST", path, body=body, headers=all_headers)
        reply = connection.getresponse()
        raw = reply.read(MAX_RESPONSE_BYTES)
        snippet = raw.decode("utf-8", "replace")[:SNIPPET_CHARS]
        return Response(reply.status, snippet, "", elapsed())
    except (OSError, http.client.HTTPException) as exc:
        message = f"{type(exc).__name__}: {exc}"[:300]
        return Response(None, "", message, elapsed())
    finally:
        connection.close()

"""How a message leaves Vefa on each channel.

* E-mail: ``SmtpSession`` speaks SMTP itself (``MAIL``/``RCPT``/``DATA``) so the sender can
  claim a recipient between sending the body and sending the final ``.``: the exactly-once
  hand-over (docs/adr/0011). Other Django e-mail backends (console, file, the test outbox)
  go through ``BackendSession``, which claims first and then hands the message over.
* SMS: an ``SmsProvider`` (``VEFA_SMS_PROVIDER``): ``log`` writes the message to the log
  (development), ``http`` posts JSON to ``VEFA_SMS_URL`` with ``VEFA_SMS_TOKEN``.
* Letters and catalogues: a print/mail-merge file (CSV or XLSX) of the recipients' postal
  addresses, formula-safe.
* Phone: call tasks for the customers' owners (made by the sender through the activities
  service).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import re
import secrets
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.utils import formataddr, formatdate
from typing import Any

from django.conf import settings
from django.core import mail
from django.utils.translation import gettext as _

from vefa.common.text import formula_safe
from vefa.marketing.rendering import RenderedMessage, setting_text

logger = logging.getLogger(__name__)

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"

# --- e-mail ---------------------------------------------------------------------------------------


_ENCODED_WORD_BYTES = 42  # "=?utf-8?b?" + 56 base64 characters + "?=": 68 characters
_LINE_LIMIT = 900  # a header longer than this is folded as encoded words (RFC 5322: 998)


def _clean_header(value: str) -> str:
    """A header value on one line (no header can be injected through a value)."""
    return value.replace("\r", " ").replace("\n", " ")


def _header(value: str) -> str:
    """A header value, encoded (RFC 2047, UTF-8 base64 words of whole characters, folded)
    when it is not plain ASCII or too long for one line."""
    value = _clean_header(value)
    if value.isascii() and len(value) <= _LINE_LIMIT:
        return value
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in value:
        width = len(char.encode("utf-8"))
        if size + width > _ENCODED_WORD_BYTES and chunk:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    if chunk:
        words.append("".join(chunk))
    return "\r\n ".join(
        "=?utf-8?b?" + base64.b64encode(word.encode("utf-8")).decode("ascii") + "?="
        for word in words
    )


def _body(text: str, subtype: str) -> bytes:
    """One text part: its headers and its UTF-8 body in base64 lines of 76 characters."""
    encoded = base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode("ascii") + encoded


def build_email(
    *,
    rendered: RenderedMessage,
    sender: str,
    sender_name: str,
    to: str,
    message_id: str,
    reply_to: str = "",
    organisation: str = "",
) -> bytes:
    """The message as sent (CRLF line ends): a plain-text part, an HTML part when there is
    HTML, the headers.

    Written directly rather than through ``email.message`` and its generator, which folds
    and encodes every header again: several times slower, and that matters at hundreds of
    messages a second. The parts are base64 (safe for 7-bit servers); the boundary contains
    ``=_``, which base64 never does."""
    headers = [
        "From: "
        + (_clean_header(formataddr((sender_name, sender))) if sender_name else _header(sender)),
        "To: " + _header(to),
        "Subject: " + _header(rendered.subject),
        "Date: " + formatdate(localtime=False, usegmt=True),
        "Message-ID: " + _clean_header(message_id),
    ]
    if reply_to:
        headers.append("Reply-To: " + _header(reply_to))
    if organisation:
        headers.append("Organization: " + _header(organisation))
    for name, value in rendered.headers.items():
        headers.append(f"{name}: {_header(value)}")
    headers.append("MIME-Version: 1.0")
    text = _body(rendered.text or " ", "plain")
    if not rendered.html:
        head = "\r\n".join(headers).encode("utf-8") + b"\r\n"
        return head + text
    boundary = "=_" + secrets.token_hex(12)
    headers.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    mark = f"--{boundary}\r\n".encode("ascii")
    return b"".join(
        [
            "\r\n".join(headers).encode("utf-8"),
            b"\r\n\r\n",
            mark,
            text,
            mark,
            _body(rendered.html, "html"),
            f"--{boundary}--\r\n".encode("ascii"),
        ]
    )


@dataclass
class Outcome:
    """What became of one hand-over: ``sent``, ``refused`` (permanent), ``deferred`` (try
    again later) or ``skipped`` (someone else claimed the recipient first)."""

    result: str
    detail: str = ""


Claim = Callable[[], bool]
_LEADING_DOT = re.compile(rb"(?m)^\.")


class SmtpSession:
    """One SMTP connection for a batch, with a claim before each message's final ``.``."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str = "",
        password: str = "",
        use_tls: bool = False,
        use_ssl: bool = False,
        timeout: float = 30,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.use_tls, self.use_ssl, self.timeout = use_tls, use_ssl, timeout
        self.connection: smtplib.SMTP | None = None

    @classmethod
    def from_settings(cls) -> SmtpSession:
        return cls(
            host=str(settings.EMAIL_HOST or "localhost"),
            port=int(settings.EMAIL_PORT or 25),
            username=str(settings.EMAIL_HOST_USER or ""),
            password=str(settings.EMAIL_HOST_PASSWORD or ""),
            use_tls=bool(getattr(settings, "EMAIL_USE_TLS", False)),
            use_ssl=bool(getattr(settings, "EMAIL_USE_SSL", False)),
            timeout=float(getattr(settings, "EMAIL_TIMEOUT", None) or 30),
        )

    def open(self) -> None:
        if self.connection is not None:
            return
        if self.use_ssl:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if connection.sock is not None:
            # Commands and the message's end are small writes answered at once: without
            # this, each final "." waits for the server's delayed acknowledgement.
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.ehlo()
        if self.use_tls and not self.use_ssl:
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
        if self.username:
            connection.login(self.username, self.password)
        self.connection = connection

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def abort(self) -> None:
        """Drop the connection without ending the message: the server discards it."""
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()

    def deliver(self, *, sender: str, recipient: str, data: bytes, claim: Claim) -> Outcome:
        self.open()
        connection = self.connection
        assert connection is not None
        refused = self._envelope(connection, sender, recipient)
        if refused is not None:
            return refused
        body = _LEADING_DOT.sub(b"..", data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        connection.send(body)
        # The server holds the whole body but has not accepted it: without the final "." it
        # discards it. Claim the recipient now; a claimed recipient is never sent again.
        if not claim():
            self.abort()
            return Outcome("skipped")
        connection.send(b".\r\n")
        code, reply = connection.getreply()
        if code == 250:
            return Outcome("sent", _reply(code, reply))
        return Outcome("refused" if code >= 500 else "deferred", _reply(code, reply))

    def _envelope(self, connection: smtplib.SMTP, sender: str, recipient: str) -> Outcome | None:
        """``MAIL``, ``RCPT`` and ``DATA``; ``None`` when the server waits for the message.

        A server that offers PIPELINING (RFC 2920) gets the three commands at once and one
        round trip instead of three."""
        if not (connection.has_extn("pipelining") and sender.isascii() and recipient.isascii()):
            code, reply = connection.mail(sender)
            if code != 250:
                connection.rset()
                return _failed(code, reply)
            code, reply = connection.rcpt(recipient)
            if code not in (250, 251):
                connection.rset()
                return _failed(code, reply)
            code, reply = connection.docmd("data")
            if code != 354:
                connection.rset()
                return _failed(code, reply)
            return None
        commands = (
            f"MAIL FROM:{smtplib.quoteaddr(sender)}\r\n"
            f"RCPT TO:{smtplib.quoteaddr(recipient)}\r\nDATA\r\n"
        )
        connection.send(commands.encode("ascii"))
        replies = [connection.getreply() for _ in range(3)]
        (mail_code, _m), (rcpt_code, _r), (data_code, _d) = replies
        if mail_code == 250 and rcpt_code in (250, 251) and data_code == 354:
            return None
        code, reply = next(
            (code, reply)
            for (code, reply), wanted in zip(replies, ((250,), (250, 251), (354,)), strict=True)
            if code not in wanted
        )
        if data_code == 354:
            # The server waits for a message it must not get: end the connection, which
            # discards it, and start a new one for the next message.
            self.abort()
        else:
            connection.rset()
        return _failed(code, reply)


def _failed(code: int, reply: bytes | str) -> Outcome:
    return Outcome("refused" if code >= 500 else "deferred", _reply(code, reply))


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}"[:300]


class BackendSession:
    """Any other Django e-mail backend: claim, then hand over (at most once)."""

    def __init__(self) -> None:
        self.connection: Any = None

    def open(self) -> None:
        if self.connection is None:
            self.connection = mail.get_connection(fail_silently=False)
            self.connection.open()

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()

    def abort(self) -> None:
        self.close()

    def deliver(self, *, sender: str, recipient: str, data: bytes, claim: Claim) -> Outcome:
        self.open()
        if not claim():
            return Outcome("skipped")
        message = mail.EmailMessage(from_email=sender, to=[recipient])
        message.message = lambda: _Raw(data)  # type: ignore[method-assign]
        sent = self.connection.send_messages([message])
        return Outcome("sent" if sent else "refused")


class _Raw:
    """A finished message handed to a Django backend as it is."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def as_bytes(self, linesep: str = "\n") -> bytes:
        return self.data

    def as_string(self, unixfrom: bool = False, linesep: str = "\n") -> str:
        return self.data.decode("utf-8", "replace")

    def get_charset(self) -> None:
        return None

    def __str__(self) -> str:
        return self.as_string()


def email_session() -> SmtpSession | BackendSession:
    if settings.EMAIL_BACKEND == SMTP_BACKEND:
        return SmtpSession.from_settings()
    return BackendSession()


# --- SMS --------------------------------------------------------------------------------------


class SmsError(Exception):
    """The provider refused the message; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class SmsProvider:
    """Sends one text message; returns the provider's id for it."""

    name = "base"

    def send(self, *, to: str, text: str, reference: str) -> str:
        raise NotImplementedError


class LogSmsProvider(SmsProvider):
    """Development: the message is written to the log and kept in ``outbox``."""

    name = "log"
    outbox: list[dict[str, str]] = []

    def send(self, *, to: str, text: str, reference: str) -> str:
        logger.info("SMS to %s (%s): %s", to, reference, text)
        self.outbox.append({"to": to, "text": text, "reference": reference})
        return f"log-{reference}"


class HttpSmsProvider(SmsProvider):
    """A provider with an HTTP API: ``POST VEFA_SMS_URL`` with JSON ``{"to", "text",
    "sender", "reference"}`` and ``Authorization: Bearer VEFA_SMS_TOKEN``; a 2xx answer is
    accepted (its JSON ``id`` is kept), 4xx is permanent, anything else is tried again."""

    name = "http"

    def __init__(self, *, url: str, token: str = "", sender: str = "", timeout: float = 10):
        if not url.startswith(("https://", "http://")):
            raise SmsError(_("The SMS provider address must start with https://."), permanent=True)
        self.url, self.token, self.sender, self.timeout = url, token, sender, timeout

    def send(self, *, to: str, text: str, reference: str) -> str:
        body = json.dumps(
            {"to": to, "text": text, "sender": self.sender, "reference": reference}
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": reference},
        )
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read(65536)
        except urllib.error.HTTPError as exc:
            raise SmsError(f"HTTP {exc.code}", permanent=400 <= exc.code < 500) from None
        except (urllib.error.URLError, OSError) as exc:
            raise SmsError(str(exc)) from None
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {}
        return str(answer.get("id", "") if isinstance(answer, dict) else "")[:255]


def sms_provider() -> SmsProvider:
    """The configured provider (``VEFA_SMS_PROVIDER``: ``log``, the default, or ``http``)."""
    kind = setting_text("VEFA_SMS_PROVIDER", "log").lower()
    if kind == "http":
        return HttpSmsProvider(
            url=setting_text("VEFA_SMS_URL"),
            token=setting_text("VEFA_SMS_TOKEN"),
            sender=setting_text("VEFA_SMS_SENDER"),
            timeout=float(setting_text("VEFA_SMS_TIMEOUT", "10") or 10),
        )
    return LogSmsProvider()


SMS_MAX_CHARACTERS = 918  # six concatenated parts


def sms_text(rendered: RenderedMessage) -> str:
    text = " ".join((rendered.text or rendered.subject).split())
    return text[:SMS_MAX_CHARACTERS]


# --- letters and catalogues ------------------------------------------------------------------

LETTER_COLUMNS = (
    ("name", _("name")),
    ("line1", _("address")),
    ("line2", _("address line 2")),
    ("district", _("district")),
    ("postal_code", _("postal code")),
    ("city", _("city")),
    ("region", _("region")),
    ("country", _("country")),
    ("language", _("language")),
    ("variant", _("variant")),
    ("reference", _("reference")),
)


def cell_safe(value: Any) -> str:
    """Text a spreadsheet never runs as a formula (a leading ' before = + - @ tab CR)."""
    return formula_safe("" if value is None else str(value))


def letters_file(rows: Iterable[dict[str, Any]], *, file_format: str) -> bytes:
    """The mail-merge file: CSV (UTF-8 with a byte-order mark) or XLSX."""
    header = [str(label) for _key, label in LETTER_COLUMNS]
    keys = [key for key, _label in LETTER_COLUMNS]
    if file_format == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=str(_("Recipients"))[:31])
        sheet.append(header)
        for row in rows:
            sheet.append([cell_safe(row.get(key, "")) for key in keys])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell_safe(row.get(key, "")) for key in keys])
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def letter_rows(recipient_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The postal address of each recipient (its ``address`` holds the address's id)."""
    from vefa.customers.models import Address
    from vefa.marketing.models import CampaignRecipient

    recipients = list(
        CampaignRecipient.objects.filter(pk__in=list(recipient_ids))
        .select_related("customer", "variant")
        .order_by("id")
    )
    address_ids = [int(r.address) for r in recipients if r.address.isdigit()]
    addresses = {a.pk: a for a in Address.objects.filter(pk__in=address_ids)}
    rows = []
    for recipient in recipients:
        address = addresses.get(int(recipient.address)) if recipient.address.isdigit() else None
        if address is None:
            continue
        rows.append(
            {
                "name": recipient.customer.display_name,
                "line1": address.line1,
                "line2": address.line2,
                "district": address.district,
                "postal_code": address.postal_code,
                "city": address.city,
                "region": address.region,
                "country": address.country,
                "language": recipient.language,
                "variant": recipient.variant.code if recipient.variant else "",
                "reference": recipient.token,
            }
        )
    return rows

"""Reading an inbound e-mail: headers, the best plain-text body, attachments, auto-replies.

Pure functions over the raw RFC 5322 bytes (stdlib ``email`` with ``policy.default``); no
database. ``vefa.service.services.email.inbound_receive`` turns the result into a ticket or a
message on one.

- The subject and names are decoded from RFC 2047 encoded words in any charset Python knows
  (UTF-8, windows-1250/1251/1254/1256, ISO-8859-9, KOI8-R …); control characters are removed.
- The body is the text/plain part when there is one; an HTML-only message is converted to
  plain text here (tags, scripts and styles dropped, line breaks kept). HTML is never stored.
- The quoted previous message ("On … wrote:" in English, Turkish, Serbian and Persian, an
  Outlook header block, the trailing ``>`` block) can be trimmed off.
- Automatic mail (``Auto-Submitted``, ``Precedence: bulk|junk|list``, ``X-Autoreply``,
  delivery reports, mailer-daemon) is recognised so it never opens a ticket.
"""

from __future__ import annotations

import datetime
import email
import email.utils
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from html.parser import HTMLParser

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from vefa.common.errors import ValidationFailed

# Limits. The whole message (attachments included) and what is kept of it.
DEFAULT_MAX_MESSAGE_BYTES = 30 * 1024 * 1024
MAX_SUBJECT = 300
MAX_NAME = 200
MAX_BODY_CHARS = 50_000
MAX_ATTACHMENTS = 20
MAX_REFERENCES = 20
MAX_MESSAGE_ID = 300

_MSGID = re.compile(r"<[^<>\s]{1,250}>")
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+")
_FOLD = re.compile(r"\r?\n[ \t]*")


def max_message_bytes() -> int:
    return int(getattr(settings, "VEFA_SERVICE_INBOUND_MAX_BYTES", DEFAULT_MAX_MESSAGE_BYTES))


class MessageTooLarge(ValidationFailed):
    """The raw message is larger than the inbound limit (HTTP 413 at the endpoint)."""

    status_code = 413
    code = "too_large"


@dataclass(frozen=True)
class InboundAttachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class ParsedEmail:
    message_id: str
    in_reply_to: str
    references: list[str]
    subject: str
    from_email: str
    from_name: str
    reply_to: str
    # Every address the message was sent to (Delivered-To, X-Original-To, To, Cc), lower case.
    recipients: list[str]
    date: datetime.datetime | None
    body: str
    attachments: list[InboundAttachment] = field(default_factory=list)
    auto_reason: str = ""
    # True when the Message-ID was missing and one was made from the content.
    synthetic_id: bool = False

    @property
    def is_automatic(self) -> bool:
        return bool(self.auto_reason)

    @property
    def sender(self) -> str:
        """Where an answer goes: Reply-To when given, else From."""
        return self.reply_to or self.from_email


# --- text helpers --------------------------------------------------------------------------


def clean_line(value: str, limit: int) -> str:
    """One line of text: no control or format characters that reorder text, single spaces."""
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in value
        if ch not in _BIDI_CONTROLS
    )
    text = " ".join(text.split())
    return text[:limit]


# Bidirectional overrides and isolates can make a name read backwards ("gnp.exe").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(value: str, limit: int = MAX_BODY_CHARS) -> str:
    """Multi-line text: normalised line ends, no control characters but tab and newline,
    at most two blank lines in a row, cut at ``limit`` characters with a note."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        ch
        for ch in text
        if ch in "\n\t" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI_CONTROLS)
    )
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    blank = 0
    for line in lines:
        blank = blank + 1 if not line.strip() else 0
        if blank <= 2:
            out.append(line)
    text = "\n".join(out).strip("\n")
    if len(text) > limit:
        text = text[:limit].rstrip() + "\n\n" + _("[The rest of this message was cut off.]")
    return text


def _decode_words(value: str) -> str:
    """A raw header value with its RFC 2047 words decoded (fallback for odd headers)."""
    try:
        return str(make_header(decode_header(value)))
    except (UnicodeError, LookupError, ValueError, email.errors.HeaderParseError):
        return value


def _header(msg: Message, name: str) -> str:
    """A header decoded, or its raw value decoded word by word when the parser trips on it."""
    try:
        value = msg.get(name)
        return "" if value is None else str(value)
    except Exception:
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                return _decode_words(str(raw))
        return ""


def _headers(msg: Message, name: str) -> list[str]:
    try:
        return [str(v) for v in (msg.get_all(name) or [])]
    except Exception:
        return [_decode_words(str(v)) for k, v in msg.raw_items() if k.lower() == name.lower()]


def _raw_values(msg: Message, name: str) -> list[str] | None:
    """The header's raw values unfolded, or ``None`` when one is not plain ASCII (RFC 5322
    wants encoded words for anything else; such a header goes through the header registry)."""
    wanted = name.lower()
    values = [str(v) for k, v in msg.raw_items() if k.lower() == wanted]
    if not all(v.isascii() for v in values):
        return None
    return [_FOLD.sub(" ", v).strip() for v in values]


def _plain_header(msg: Message, name: str) -> str:
    """A header whose value is ASCII by definition (Message-ID, References, Date), read raw:
    the header registry's structured parse costs more than all the rest of the message."""
    values = _raw_values(msg, name)
    if values is None:
        return _header(msg, name)
    return values[0] if values else ""


def _address_pairs(msg: Message, name: str) -> list[tuple[str, str]]:
    """(name, address) pairs of an address header. An ASCII header is split by
    ``email.utils`` and its names decoded word by word, which is what the header registry
    gives at a fraction of its cost; anything else goes through the registry."""
    values = _raw_values(msg, name)
    if values is None:
        return _addresses(_headers(msg, name))
    pairs: list[tuple[str, str]] = []
    for value in values:  # one at a time: a broken header must not swallow the next
        for display, address in email.utils.getaddresses([value]):
            normalised = _normalise_address(address)
            if normalised:
                text = _decode_words(display) if "=?" in display else display
                pairs.append((clean_line(text, MAX_NAME), normalised))
    return pairs


def _normalise_address(value: str) -> str:
    value = value.strip().strip("<>").strip().lower()
    if not _ADDRESS.fullmatch(value) or len(value) > 254:
        return ""
    return value


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """(name, address) pairs of header values; unparseable entries are skipped."""
    pairs: list[tuple[str, str]] = []
    for name, address in email.utils.getaddresses(values):
        normalised = _normalise_address(address)
        if normalised:
            pairs.append((clean_line(name, MAX_NAME), normalised))
    return pairs


def message_ids(value: str, limit: int = MAX_REFERENCES) -> list[str]:
    """The ``<id>`` tokens of a Message-ID, In-Reply-To or References value (the last few)."""
    found = _MSGID.findall(value or "")
    return found[-limit:] if limit else found


# --- HTML to text --------------------------------------------------------------------------

_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "object"})
_BLOCK = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "table",
        "tr",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "hr",
        "address",
        "form",
    }
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in _BLOCK:
            self.parts.append("\n")
            if tag == "pre":
                self.pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n" if tag == "p" else "\n")
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.parts.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body: the words and line breaks, no tags, scripts or styles."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # pragma: no cover - HTMLParser is lenient
        pass
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return clean_text(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)))


# --- quoted replies ------------------------------------------------------------------------

_ATTRIBUTION = [
    # English (Gmail, Apple Mail, Thunderbird): "On Mon, 2 Nov 2026 at 10:00, Ayşe <a@b> wrote:"
    re.compile(r"^\s*on\b.{0,300}\bwrote:\s*$", re.I),
    # Turkish: "… tarihinde şunu yazdı:" / "… yazdı:"
    re.compile(r"^.{0,300}\b(tarihinde|şunu)\b.{0,300}yazdı:\s*$", re.I),
    re.compile(r"^.{0,300}\byazdı:\s*$", re.I),
    # Serbian, Latin and Cyrillic: "… je napisao/la:", "… је написао:"
    re.compile(r"^.{0,300}\b(je\s+)?napisa(o|la|o/la)\b.{0,5}:\s*$", re.I),
    re.compile(r"^.{0,300}(је\s+)?написа(о|ла|о/ла).{0,5}:\s*$", re.I),
    # Persian: "در تاریخ … نوشت:"
    re.compile(r"^.{0,300}نوشت\s*:?\s*$"),
]
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(original message|orijinal ileti|özgün ileti|originalna poruka|"
    r"изворна порука|оригинална порука|پیام اصلی)\s*-{2,}\s*$",
    re.I,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(from|kimden|od|од|از)\s*:\*?\s+\S", re.I)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?(sent|date|to|subject|gönderildi|tarih|kime|konu|poslato|datum|za|tema|"
    r"послато|датум|ارسال شده|تاریخ|به|موضوع)\s*:",
    re.I,
)


def _strip_marks(line: str) -> str:
    # Persian clients wrap lines in directional marks (U+200E/F, U+202A–E).
    return line.strip("\u200e\u200f\u202a\u202b\u202c\u202d\u202e \t")


def trim_quoted(text: str) -> str:
    """The new part of a reply: cut at the quoted previous message's attribution line or
    header block, and drop a trailing ``>`` block. Never returns an empty text when the
    input had words (then the whole text is kept)."""
    lines = text.split("\n")
    cut = len(lines)
    for i, raw in enumerate(lines):
        line = _strip_marks(raw)
        joined = line + " " + _strip_marks(lines[i + 1]) if i + 1 < len(lines) else line
        if line.startswith(">"):
            continue
        if _SEPARATOR.match(line):
            cut = i
            break
        if _OUTLOOK_FROM.match(line) and i + 1 < len(lines) and _OUTLOOK_NEXT.match(lines[i + 1]):
            cut = i
            break
        if any(p.match(line) for p in _ATTRIBUTION):
            cut = i
            break
        # An attribution wrapped over two lines, followed by the quote.
        if (
            i + 2 < len(lines)
            and lines[i + 2].lstrip().startswith(">")
            and any(p.match(joined) for p in _ATTRIBUTION)
        ):
            cut = i
            break
    kept = lines[:cut]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    result = "\n".join(kept).strip("\n")
    return result if result.strip() else text


# --- automatic mail ------------------------------------------------------------------------

_DAEMONS = ("mailer-daemon@", "postmaster@", "noreply-dmarc-support@")


def automatic_reason(msg: Message, from_email: str) -> str:
    """Why the message is automatic ("" when a person wrote it)."""
    auto_submitted = _header(msg, "Auto-Submitted").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "auto-submitted"
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return "precedence"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Autogenerated"):
        if _header(msg, name).strip():
            return "autoreply"
    if msg.get_content_type() == "multipart/report":
        return "report"
    if from_email.startswith(_DAEMONS) or from_email.startswith("mailer-daemon"):
        return "mailer-daemon"
    return_path = _header(msg, "Return-Path").strip()
    if return_path == "<>":
        return "bounce"
    return ""


# --- parts ---------------------------------------------------------------------------------


def _part_text(part: Message) -> str:
    """A text part decoded with its charset (an unknown or wrong charset still gives text)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload() or "")
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("windows-1252", errors="replace")


def _is_attachment(part: Message) -> bool:
    if part.is_multipart():
        return False
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment":
        return True
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    if filename:
        return True
    return part.get_content_maintype() not in ("text", "multipart")


def _leaves(msg: Message) -> list[tuple[Message, bool]]:
    """Every non-multipart part, and whether it is an attachment (classified once)."""
    return [(part, _is_attachment(part)) for part in msg.walk() if not part.is_multipart()]


def _body(leaves: list[tuple[Message, bool]]) -> str:
    plain: Message | None = None
    html: Message | None = None
    for part, attached in leaves:
        if attached:
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = part
        elif kind == "text/html" and html is None:
            html = part
    if plain is not None:
        return clean_text(_part_text(plain))
    if html is not None:
        return html_to_text(_part_text(html))
    return ""


def _attachment_name(part: Message, index: int) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = _decode_words(name) if "=?" in name else name
    name = clean_line(name.replace("\\", "/").split("/")[-1], MAX_NAME)
    if not name:
        subtype = part.get_content_subtype() or "bin"
        name = f"attachment-{index}.{subtype[:10]}"
    return name


def _attachments(leaves: list[tuple[Message, bool]]) -> list[InboundAttachment]:
    found: list[InboundAttachment] = []
    for part, attached in leaves:
        if not attached:
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        found.append(
            InboundAttachment(
                name=_attachment_name(part, len(found) + 1),
                content_type=part.get_content_type(),
                data=data,
            )
        )
    return found


# --- the whole message ---------------------------------------------------------------------


def parse_message(raw: bytes, *, trim_quotes: bool = True) -> ParsedEmail:
    """Read a raw RFC 5322 message. Raises ``MessageTooLarge`` above the inbound limit."""
    limit = max_message_bytes()
    if len(raw) > limit:
        raise MessageTooLarge(
            _("The message is larger than %(limit)s.") % {"limit": filesizeformat(limit)},
            fields={"message": [_("Too large.")]},
        )
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)

    senders = _address_pairs(msg, "From") or _address_pairs(msg, "Sender")
    from_name, from_email = senders[0] if senders else ("", "")
    reply_to_pairs = _address_pairs(msg, "Reply-To")
    reply_to = reply_to_pairs[0][1] if reply_to_pairs else ""

    recipients: list[str] = []
    for name in ("Delivered-To", "X-Original-To", "To", "Cc"):
        for _name, address in _address_pairs(msg, name):
            if address not in recipients:
                recipients.append(address)

    ids = message_ids(_plain_header(msg, "Message-ID"), limit=1)
    synthetic = not ids
    message_id = (
        ids[0] if ids else f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.invalid>"
    )
    in_reply_to = message_ids(_plain_header(msg, "In-Reply-To"), limit=1)
    references = message_ids(_plain_header(msg, "References"))

    date: datetime.datetime | None
    try:
        date = email.utils.parsedate_to_datetime(_plain_header(msg, "Date"))
        if date is not None and date.tzinfo is None:
            date = date.replace(tzinfo=datetime.UTC)
    except (TypeError, ValueError, IndexError):
        date = None

    leaves = _leaves(msg)
    body = _body(leaves)
    if trim_quotes and body:
        body = trim_quoted(body)

    return ParsedEmail(
        message_id=message_id[:MAX_MESSAGE_ID],
        in_reply_to=in_reply_to[0][:MAX_MESSAGE_ID] if in_reply_to else "",
        references=references,
        subject=clean_line(_header(msg, "Subject"), MAX_SUBJECT),
        from_email=from_email,
        from_name=from_name,
        reply_to=reply_to,
        recipients=recipients,
        date=date,
        body=body,
        attachments=_attachments(leaves),
        auto_reason=automatic_reason(msg, from_email),
        synthetic_id=synthetic,
    )


__all__ = [
    "InboundAttachment",
    "MessageTooLarge",
    "ParsedEmail",
    "clean_line",
    "clean_text",
    "html_to_text",
    "message_ids",
    "parse_message",
    "trim_quoted",
]

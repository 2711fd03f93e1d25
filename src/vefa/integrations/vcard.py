"""vCard 4.0 (RFC 6350) reading and writing, for the contacts of people.

Writing: each content line is ``NAME;PARAM=VALUE:value`` ending in CRLF, folded so that no
physical line exceeds 75 octets (a fold never splits a UTF-8 character); text values escape
backslash, comma, semicolon and newline (``\\\\``, ``\\,``, ``\\;``, ``\\n``); structured
values (N, ADR, ORG) join their components with an unescaped ``;``.

Reading accepts vCard 4.0 and 3.0 (the version most address books still export): lines are
unfolded (CRLF or LF followed by a space or tab), a ``group.`` prefix is dropped, parameters
may be quoted, and values are unescaped. A card that cannot be read becomes a
``CardError`` naming the card and line; the other cards of the file are still read. Only the
properties Vefa keeps are returned (FN, N, EMAIL, TEL, ADR, ORG, TITLE, NOTE, UID, REV).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

MAX_LINE_OCTETS = 75
MAX_VALUE_CHARS = 20_000
MAX_PROPERTIES = 500
KEPT = frozenset({"FN", "N", "EMAIL", "TEL", "ADR", "ORG", "TITLE", "NOTE", "UID", "REV", "KIND"})


# --- writing ------------------------------------------------------------------------------


def escape(value: str) -> str:
    """A text value with ``\\``, ``,``, ``;`` and newlines escaped (RFC 6350 §3.4)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def structured(*components: str) -> str:
    """A structured value (N, ADR): escaped components joined by ``;``."""
    return ";".join(escape(c or "") for c in components)


def fold(line: str) -> str:
    """``line`` folded at 75 octets with CRLF + space, never inside a UTF-8 character."""
    data = line.encode("utf-8")
    if len(data) <= MAX_LINE_OCTETS:
        return line + "\r\n"
    parts: list[str] = []
    limit = MAX_LINE_OCTETS
    current = bytearray()
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > limit:
            parts.append(current.decode("utf-8"))
            current = bytearray()
            limit = MAX_LINE_OCTETS - 1  # the leading space counts
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts) + "\r\n"


def _param_value(value: str) -> str:
    cleaned = value.replace('"', "'").replace("\r", " ").replace("\n", " ")
    if any(ch in cleaned for ch in ":;,"):
        return f'"{cleaned}"'
    return cleaned


@dataclass
class Property:
    name: str
    value: str
    params: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        head = self.name
        for key, val in self.params.items():
            head += f";{key}={_param_value(val)}"
        return fold(f"{head}:{self.value}")


def card(properties: list[Property]) -> str:
    """One vCard 4.0 from ``properties`` (FN must be among them)."""
    out = ["BEGIN:VCARD\r\n", "VERSION:4.0\r\n"]
    out += [p.line() for p in properties]
    out.append("END:VCARD\r\n")
    return "".join(out)


# --- reading ------------------------------------------------------------------------------


class CardError(ValueError):
    def __init__(self, index: int, line: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.line = line
        self.message = message


@dataclass
class ParsedProperty:
    name: str
    params: dict[str, list[str]]
    value: str  # raw (still escaped)

    def types(self) -> set[str]:
        found: set[str] = set()
        for item in self.params.get("TYPE", []):
            found |= {t.strip().lower() for t in item.split(",") if t.strip()}
        return found

    @property
    def preferred(self) -> bool:
        pref = self.params.get("PREF", [])
        return bool(pref) or "pref" in self.types()

    def text(self) -> str:
        return unescape(self.value)

    def components(self) -> list[str]:
        return [unescape(p) for p in split_unescaped(self.value, ";")]


@dataclass
class Card:
    index: int  # 1-based position in the file
    line: int  # line of BEGIN:VCARD
    version: str = ""
    properties: list[ParsedProperty] = field(default_factory=list)

    def all(self, name: str) -> list[ParsedProperty]:
        return [p for p in self.properties if p.name == name]

    def first(self, name: str) -> ParsedProperty | None:
        found = self.all(name)
        return found[0] if found else None


def unescape(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def split_unescaped(value: str, sep: str) -> list[str]:
    """Split at ``sep`` not preceded by a backslash escape (components stay escaped)."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            current.append(value[i : i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def unfold(text: str) -> Iterator[tuple[int, str]]:
    """Logical lines with the physical line number each starts on."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    current: str | None = None
    start = 0
    for number, raw in enumerate(lines, start=1):
        if raw[:1] in (" ", "\t") and current is not None:
            current += raw[1:]
            continue
        if current is not None:
            yield start, current
        current, start = raw, number
    if current is not None:
        yield start, current


def _parse_line(line: str) -> tuple[str, dict[str, list[str]], str] | None:
    """(name, params, value) of a content line; ``None`` when it is not one."""
    i = 0
    in_quotes = False
    colon = -1
    while i < len(line):
        ch = line[i]
        if ch == '"':
            in_quotes = not in_quotes
        elif ch == ":" and not in_quotes:
            colon = i
            break
        i += 1
    if colon <= 0:
        return None
    head, value = line[:colon], line[colon + 1 :]
    pieces: list[str] = []
    current: list[str] = []
    in_quotes = False
    for ch in head:
        if ch == '"':
            in_quotes = not in_quotes
            continue
        if ch == ";" and not in_quotes:
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current))
    name = pieces[0].rpartition(".")[2].strip().upper()
    if not name or not all(c.isalnum() or c == "-" for c in name):
        return None
    params: dict[str, list[str]] = {}
    for piece in pieces[1:]:
        key, eq, val = piece.partition("=")
        key = key.strip().upper()
        if not eq:  # vCard 2.1/3.0 bare type: "TEL;CELL:…"
            params.setdefault("TYPE", []).append(key.lower())
            continue
        params.setdefault(key, []).append(val)
    return name, params, value


def parse(text: str) -> Iterator[Card | CardError]:
    """The cards of a .vcf text in order; a broken card yields a ``CardError`` instead."""
    current: Card | None = None
    broken: CardError | None = None  # the current card's first error; its rest is skipped
    stray = False  # inside a run of text outside any card (reported once)
    index = 0
    for number, line in unfold(text):
        if not line.strip():
            continue
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            if current is not None:
                yield broken or CardError(
                    current.index, current.line, _("The card has no END:VCARD.")
                )
            index += 1
            current, broken, stray = Card(index=index, line=number), None, False
            continue
        if current is None:
            if not stray:
                stray = True
                yield CardError(index, number, _("Text outside a card (no BEGIN:VCARD)."))
            continue
        if upper == "END:VCARD":
            yield broken or _finished(current)
            current, broken = None, None
            continue
        if broken is not None:
            continue
        broken = _add(current, number, line)
    if current is not None:
        yield broken or CardError(current.index, current.line, _("The card has no END:VCARD."))


def _finished(current: Card) -> Card | CardError:
    if current.version not in ("4.0", "3.0"):
        return CardError(
            current.index,
            current.line,
            _("Only vCard 4.0 and 3.0 are read (this card says “%(v)s”).")
            % {"v": current.version[:10] or "—"},
        )
    if current.first("FN") is None and current.first("N") is None:
        return CardError(current.index, current.line, _("The card has no name (FN)."))
    return current


def _add(current: Card, number: int, line: str) -> CardError | None:
    """Add one content line to the card; the error that breaks the card, if any."""
    parsed = _parse_line(line)
    if parsed is None:
        return CardError(
            current.index,
            number,
            _("Line %(line)d is not a vCard property (NAME:value).") % {"line": number},
        )
    name, params, value = parsed
    if name == "VERSION":
        current.version = value.strip()
        return None
    if len(value) > MAX_VALUE_CHARS:
        return CardError(
            current.index,
            number,
            _("%(name)s on line %(line)d is longer than %(n)d characters.")
            % {"name": name, "line": number, "n": MAX_VALUE_CHARS},
        )
    if len(current.properties) >= MAX_PROPERTIES:
        return CardError(current.index, number, _("The card has too many properties."))
    encodings = {v.upper() for v in params.get("ENCODING", [])}
    if encodings & {"QUOTED-PRINTABLE", "B", "BASE64"}:
        if name in KEPT:
            return CardError(
                current.index,
                number,
                _("Encoded values (vCard 2.1) are not read; export the card as vCard 4.0."),
            )
        return None  # a photo or key: not kept
    if name in KEPT:
        current.properties.append(ParsedProperty(name=name, params=params, value=value))
    return None

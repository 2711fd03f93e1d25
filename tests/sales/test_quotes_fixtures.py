"""Fixtures and helpers shared by the quote tests (imported by the other ``test_quotes_*``
modules), and the tests of the helpers themselves: quote builders and a reader of the PDF's
glyphs in the order they stand on the page. (The real SMTP server on loopback the e-mail
tests use, ``smtp_server``, is a fixture of ``tests/conftest.py``.)"""

from __future__ import annotations

import io
import re
import unicodedata
from decimal import Decimal
from typing import Any

import pytest

from vefa.sales.services.quotes import quote_create, quote_mark_sent

pytestmark = pytest.mark.django_db


def line(description: str, price: str, quantity: str = "1", **extra: Any) -> dict[str, Any]:
    return {"description": description, "unit_price": price, "quantity": quantity, **extra}


def make_quote(actor: Any, customer: Any, *, lines: list[dict[str, Any]] | None = None,
               sent: bool = False, **kwargs: Any) -> Any:  # fmt: skip
    kwargs.setdefault("currency", "TRY")
    quote = quote_create(
        actor=actor,
        customer=customer,
        lines=lines if lines is not None else [line("Danışmanlık", "1500.00", "2")],
        **kwargs,
    )
    if sent:
        quote = quote_mark_sent(actor=actor, quote_id=quote.pk)
    return quote


# --- reading a PDF as it stands on the page -------------------------------------------------------


def _to_unicode(font: Any) -> dict[int, str]:
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    mapping: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for a, b, dst in re.findall(
            r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            base = int(dst, 16)
            for k in range(int(a, 16), int(b, 16) + 1):
                mapping[k] = chr(base + k - int(a, 16))
    return mapping


def glyph_segments(data: bytes) -> list[list[tuple[int, str]]]:
    """Each text block of each page as its glyphs (code, text) from left to right.

    fpdf2 writes every cell and every wrapped line as its own text block and places each
    shaped glyph with its own matrix, so sorting a block by x gives the glyphs in the order
    the eye meets them on the page (the visual order), whatever the text direction.
    """
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(data))
    segments: list[list[tuple[int, str]]] = []
    for page in reader.pages:
        fonts = {
            name: _to_unicode(f.get_object()) for name, f in page["/Resources"]["/Font"].items()
        }
        cmap: dict[int, str] = {}
        x = y = 0.0
        current: list[tuple[float, float, int, str]] = []

        def flush(block: list[tuple[float, float, int, str]]) -> None:
            rows: dict[float, list[tuple[float, int, str]]] = {}
            for gx, gy, code, text in block:
                rows.setdefault(round(gy, 1), []).append((gx, code, text))
            for gy in sorted(rows, reverse=True):
                segments.append([(c, t) for _, c, t in sorted(rows[gy], key=lambda r: r[0])])
            block.clear()

        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                cmap = fonts[operands[0]]
            elif operator == b"BT":
                flush(current)
            elif operator == b"Td":
                x, y = float(operands[0]), float(operands[1])
            elif operator == b"Tm":
                x, y = float(operands[4]), float(operands[5])
            elif operator in (b"Tj", b"TJ"):
                items = operands[0] if operator == b"TJ" else [operands[0]]
                step = 0.0
                for item in items:
                    if not hasattr(item, "get_original_bytes"):
                        continue
                    raw = item.get_original_bytes()
                    if raw[:2] == b"\xfe\xff":  # pypdf hands back a byte-order mark first
                        raw = raw[2:]
                    for i in range(0, len(raw) - 1, 2):
                        code = int.from_bytes(raw[i : i + 2], "big")
                        current.append((x + step, y, code, cmap.get(code, "")))
                        step += 0.001
        flush(current)
    return [s for s in segments if s]


def _kind(text: str) -> str:
    for ch in text:
        cls = unicodedata.bidirectional(ch)
        if cls in ("R", "AL"):
            return "R"
        if cls == "L":
            return "L"
        if cls in ("EN", "AN"):
            return "D"
    return "N"


def read_rtl(units: list[str]) -> str:
    """What a reader reads in a right-to-left block, given its glyphs from left to right.

    Persian letters are read from right to left; a run of digits (with its separators) or
    of Latin letters is read from left to right where it stands. Glyph texts stay whole, so
    a lam-alef ligature (one glyph, two letters) keeps its letters in their order.
    """
    kinds = [_kind(u) for u in units]
    # Separators and signs between two digits belong to the number (W4/W5 of the Unicode
    # bidirectional algorithm); a neutral between two Latin letters belongs to the Latin run.
    resolved = kinds[:]
    for i, kind in enumerate(kinds):
        if kind != "N":
            continue
        left = next((kinds[j] for j in range(i - 1, -1, -1) if kinds[j] != "N"), "R")
        right = next((kinds[j] for j in range(i + 1, len(kinds)) if kinds[j] != "N"), "R")
        text = units[i]
        adjacent_digit = (i > 0 and kinds[i - 1] == "D") or (
            i + 1 < len(kinds) and kinds[i + 1] == "D"
        )
        if (left == right == "D" and text.strip()) or (
            adjacent_digit and text and unicodedata.bidirectional(text[0]) == "ET"
        ):
            resolved[i] = "D"
        elif left == right == "L":
            resolved[i] = "L"
        else:
            resolved[i] = "R"
    runs: list[tuple[bool, list[str]]] = []
    for unit, kind in zip(units, resolved, strict=True):
        ltr = kind in ("L", "D")
        if runs and runs[-1][0] == ltr:
            runs[-1][1].append(unit)
        else:
            runs.append((ltr, [unit]))
    text = ""
    for ltr, run in reversed(runs):
        text += "".join(run if ltr else reversed(run))
    return text


def read_ltr(units: list[str]) -> str:
    return "".join(units)


def rtl_texts(data: bytes) -> list[str]:
    return [read_rtl([t for _, t in seg]) for seg in glyph_segments(data)]


# --- the helpers' own tests ---------------------------------------------------------------


def test_read_rtl_reads_persian_right_to_left_and_numbers_left_to_right():
    # "علی ۱۲٬۵۰۰" as it stands on the page: digits left, name right, letters reversed.
    visual = ["۱", "۲", "٬", "۵", "۰", "۰", " ", "ی", "ل", "ع"]
    assert read_rtl(visual) == "علی ۱۲٬۵۰۰"
    # A ligature glyph keeps its two letters in order.
    assert read_rtl(["س", "لا", "ک"]) == "کلاس"


def test_quote_builder_makes_a_draft(rep, own_customer):
    quote = make_quote(rep, own_customer)
    assert quote.total == Decimal("3000.00")

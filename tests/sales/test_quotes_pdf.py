"""The quote PDF: Persian reads right to left and joined, Turkish and Serbian letters come out
as written, amounts are written for the language, hostile text cannot break the document."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader

from tests.customers.factories import make_customer
from tests.sales.conftest import HOSTILE
from tests.sales.test_quotes_fixtures import glyph_segments, line, make_quote, read_ltr, rtl_texts
from vefa.sales.services.quotes_pdf import money_text, render_quote_pdf

pytestmark = pytest.mark.django_db


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def persian_quote(rep, team):
    customer = make_customer(
        owner=rep, team=team, first_name="علی", last_name="رضایی", primary_email="ali@example.ir"
    )
    return make_quote(
        rep,
        customer,
        currency="IRR",
        language="fa",
        lines=[
            line("قهوه ترک ۲۵۰ گرمی", "1250000", "3"),
            line("بسته طلایی", "990000", "1", discount_percent="10", tax_rate="9"),
        ],
        notes="تحویل در تهران",
    )


def test_the_persian_pdf_reads_in_the_right_order(persian_quote):
    data = render_quote_pdf(persian_quote)
    texts = rtl_texts(data)
    # The customer's name, a label, a line and the notes read as a Persian reader reads them.
    assert "علی رضایی" in texts
    with translation.override("fa"):
        customer_label = gettext("Customer")
        description_label = gettext("Description")
    assert customer_label == "مشتری"
    assert customer_label in texts
    assert description_label in texts
    assert "قهوه ترک ۲۵۰ گرمی" in texts
    assert "بسته طلایی" in texts  # with a lam-alef ligature
    assert "تحویل در تهران" in texts
    # The total, with Persian digits in their own left-to-right order.
    total = money_text(persian_quote.total, "IRR", "fa")
    # 3 × 1,250,000 + (990,000 − 10 %) + 9 % tax = 3,750,000 + 891,000 + 80,190
    assert "۴٬۷۲۱٬۱۹۰" in total
    assert total in texts
    # A general-purpose text extractor reads the words in logical order too.
    extracted = _text(data)
    assert "علی رضایی" in extracted
    assert "یی‌اضر" not in extracted and "ییاضر یلع" not in extracted


def test_persian_letters_are_joined(persian_quote):
    """Shaped text uses the letters' joined forms: the same letter is drawn with different
    glyphs at the start, in the middle and at the end of a word."""
    segments = glyph_segments(render_quote_pdf(persian_quote))
    forms: dict[str, set[int]] = {}
    for segment in segments:
        for code, text in segment:
            forms.setdefault(text, set()).add(code)
    assert len(forms["ی"]) >= 2
    assert len(forms["ه"]) >= 2
    # And the name stands right to left on the page: its first letter is the rightmost glyph.
    name = next(s for s in segments if "".join(t for _, t in s).replace(" ", "") == "ییاضریلع")
    assert name[-1][1] == "ع"


def test_the_persian_pdf_is_laid_out_from_the_right(persian_quote):
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    data = render_quote_pdf(persian_quote)
    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    width = float(page.mediabox.width)
    # The customer's name starts in the right half of the page.
    segments = glyph_segments(data)
    assert segments
    ops = ContentStream(page.get_contents(), reader).operations
    xs = [float(o[0][0]) for o in ops if o[1] == b"Td"]
    assert max(xs) > width / 2


@pytest.mark.parametrize(
    ("language", "name", "description"),
    [
        ("tr", "İsmail Işık Şahin Ağaoğlu", "Çift kişilik oda ışıklı, ğ ü ö ç ş İ ı"),
        ("sr-latn", "Đorđe Čolić Šćekić Žižić", "Usluga čćđšž ČĆĐŠŽ"),
        ("en", "Ayşe Yılmaz", "Çay ve kahve"),
    ],
)
def test_turkish_and_serbian_letters_come_out_as_written(rep, team, language, name, description):
    first, _, last = name.partition(" ")
    customer = make_customer(owner=rep, team=team, first_name=first, last_name=last)
    quote = make_quote(
        rep, customer, language=language, lines=[line(description, "100")], terms=description
    )
    data = render_quote_pdf(quote)
    text = _text(data)
    assert name in text
    assert description in text
    ltr = [read_ltr([t for _, t in seg]) for seg in glyph_segments(data)]
    assert name in ltr


def test_amounts_are_written_for_the_language(rep, own_customer):
    quote = make_quote(rep, own_customer, language="tr", lines=[line("Hizmet", "1234.5", "2")])
    text = _text(render_quote_pdf(quote))
    assert "₺1.234,50" in text
    assert "₺2.469,00" in text


def test_rial_amounts_have_no_decimals(persian_quote):
    texts = [t.replace("\xa0", " ") for t in rtl_texts(render_quote_pdf(persian_quote))]
    assert "٫" not in money_text(persian_quote.total, "IRR", "fa")
    line_total = money_text(Decimal("1250000") * 3, "IRR", "fa").replace("\xa0", " ")
    assert line_total == "ریال ۳٬۷۵۰٬۰۰۰"
    assert line_total in texts


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_is_printed_as_text(rep, team, hostile):
    customer = make_customer(owner=rep, team=team, first_name=hostile[:100], last_name="X")
    quote = make_quote(
        rep,
        customer,
        lines=[line(hostile[:300], "10")],
        notes=hostile + "\x07\x1b",
        terms=hostile * 50,
    )
    data = render_quote_pdf(quote)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 1
    if hostile.isascii():
        assert hostile in _text(data)


def test_a_long_quote_breaks_over_pages_with_the_headings_repeated(rep, own_customer):
    lines = [line(f"Kalem {i} " + "uzun açıklama " * 8, "10") for i in range(80)]
    lines.append(line("x" * 300, "1"))
    quote = make_quote(rep, own_customer, lines=lines, notes="Not " * 5000)
    reader = PdfReader(io.BytesIO(render_quote_pdf(quote)))
    assert len(reader.pages) >= 3
    assert all("Description" in p.extract_text() for p in reader.pages[:2])

"""The quote as a PDF, in the quote's language: English, Turkish, Serbian (Latin) or Persian.

Text goes through HarfBuzz (fpdf2's text shaping) so Persian letters join and read right to
left, and Turkish and Serbian letters (İ ı ş ğ, č ć đ š ž) come out as written; the font is
the DejaVu Sans shipped in ``vefa/sales/fonts``. A Persian quote is laid out from the right:
the columns run right to left and text is right-aligned. Amounts, quantities and dates are
formatted with Babel for the quote's language; Persian uses Persian digits.
"""

from __future__ import annotations

import datetime
import logging
import re
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.core import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent, parse_pattern
from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, XPos, YPos

from vefa.sales.choices import Unit
from vefa.sales.money import minor_digits, round_money

if TYPE_CHECKING:
    from vefa.sales.models import Quote, QuoteLine

# fontTools reports every table it subsets at INFO; one PDF would fill the log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
FONT = "dejavu"
RTL_LANGUAGES = frozenset({"fa"})
BABEL_LOCALES = {"en": "en", "tr": "tr", "sr-latn": "sr_Latn", "fa": "fa"}
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# Bidi marks Babel puts around amounts: the layout engine orders the text itself.
_BIDI_MARKS = str.maketrans("", "", "\u200e\u200f\u061c")
# C0/C1 control characters other than tab and newline print as boxes or nothing; dropped.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

GREY = (110, 110, 110)
LINE_GREY = (200, 200, 200)
HEAD_FILL = (238, 241, 245)


def babel_locale(language: str) -> str:
    return BABEL_LOCALES.get(language, "en")


def _digits(text: str, language: str) -> str:
    text = text.translate(_BIDI_MARKS)
    return text.translate(_PERSIAN_DIGITS) if language == "fa" else text


def money_text(amount: Decimal, currency: str, language: str) -> str:
    """``amount`` rounded to the currency and written the way the language writes money."""
    locale = Locale.parse(babel_locale(language))
    value = round_money(amount, currency)
    digits = minor_digits(currency)
    pattern = parse_pattern(locale.currency_formats["standard"].pattern)
    # The currency's own minor unit (TRY 2, IRR 0, KWD 3), not CLDR's cash digits.
    pattern.frac_prec = (digits, digits)
    text = pattern.apply(value, locale, currency=currency, numbering_system="default")
    return _digits(text, language)


def number_text(value: Decimal, language: str) -> str:
    text = format_decimal(
        value, format="#,##0.###", locale=babel_locale(language), numbering_system="default"
    )
    return _digits(text, language)


def percent_text(value: Decimal, language: str) -> str:
    text = format_percent(
        Decimal(value) / 100,
        format="#,##0.###%",
        locale=babel_locale(language),
        numbering_system="default",
    )
    return _digits(text, language)


def date_text(day: datetime.date | None, language: str) -> str:
    if day is None:
        return ""
    return _digits(format_date(day, format="medium", locale=babel_locale(language)), language)


def clean(text: Any) -> str:
    """User text as printable text (control characters dropped, never ``None``)."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", str(text or "")))


def pdf_filename(quote: Quote) -> str:
    return f"{quote.number}-{quote.revision}.pdf"


class _QuoteDocument(FPDF):
    """An A4 page with the page number at the foot, set up for one language."""

    def __init__(self, *, rtl: bool, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.rtl = rtl
        self.footer_text = footer_text
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        if rtl:
            self.set_text_shaping(True, direction="rtl", script="arab", language="fas")
        else:
            self.set_text_shaping(True, direction="ltr")
        self.alias_nb_pages("{nb}")

    @property
    def start(self) -> str:
        return "R" if self.rtl else "L"

    @property
    def end(self) -> str:
        return "L" if self.rtl else "R"

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        self.cell(0, 5, self.footer_text % {"page": self.page_no(), "pages": "{nb}"}, align="C")
        self.set_text_color(0, 0, 0)


def _line_cells(line: QuoteLine, quote: Quote, index: int) -> list[str]:
    lang = quote.language
    description = clean(line.description)
    if line.sku:
        description = f"{description}\n{clean(line.sku)}"
    unit = Unit(line.unit).label if line.unit in Unit.values else line.unit
    return [
        number_text(Decimal(index), lang),
        description,
        f"{number_text(line.quantity, lang)} {unit}",
        money_text(line.unit_price, quote.currency, lang),
        percent_text(line.discount_percent, lang) if line.discount_percent else "",
        percent_text(line.tax_rate, lang),
        money_text(line.total, quote.currency, lang),
    ]


def render_quote_pdf(quote: Quote, *, company: str | None = None) -> bytes:
    """The quote (with its lines, customer and contact) as PDF bytes, in its language."""
    from vefa.sales.services.quotes import company_name

    language = quote.language if quote.language in BABEL_LOCALES else "en"
    with translation.override(language):
        return _render(quote, language, clean(company or company_name()))


def _render(quote: Quote, lang: str, company: str) -> bytes:
    rtl = lang in RTL_LANGUAGES
    pdf = _QuoteDocument(rtl=rtl, footer_text=_("Page %(page)s of %(pages)s"))
    pdf.set_title(f"{quote.number}/{quote.revision}")
    pdf.set_author(company)
    pdf.set_creator("Vefa")
    pdf.add_page()
    width = pdf.epw
    currency = quote.currency

    # Heading: company on the start side, the document's name and number on the end side.
    pdf.set_font(FONT, "B", 16)
    pdf.set_x(pdf.l_margin + width * 0.4 if rtl else pdf.l_margin)
    pdf.multi_cell(width * 0.6, 8, company, align=pdf.start, new_x=XPos.LMARGIN, new_y=YPos.TOP)
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 8, _("Quote"), align=pdf.end, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), pdf.t_margin + 10))
    pdf.ln(4)

    # Facts of the quote, as label/value rows on the end side.
    facts = [
        (_("Number"), f"{quote.number}/{quote.revision}"),
        (_("Date"), date_text(quote.issued_on, lang)),
        (_("Valid until"), date_text(quote.valid_until, lang)),
        (_("Currency"), currency),
    ]
    if quote.owner_id and quote.owner is not None:
        facts.append((_("Prepared by"), clean(str(quote.owner))))
    top = pdf.get_y()
    box = width * 0.42
    label_w = box * 0.45
    x_box = pdf.l_margin if rtl else pdf.l_margin + width - box
    pdf.set_font(FONT, "", 9)
    for label, value in facts:
        pdf.set_x(x_box)
        if rtl:
            pdf.set_text_color(0, 0, 0)
            pdf.cell(box - label_w, 5.5, value, align="L", new_x=XPos.RIGHT)
            pdf.set_text_color(*GREY)
            pdf.cell(label_w, 5.5, label, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            pdf.set_text_color(*GREY)
            pdf.cell(label_w, 5.5, label, align="L", new_x=XPos.RIGHT)
            pdf.set_text_color(0, 0, 0)
            pdf.cell(box - label_w, 5.5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    facts_bottom = pdf.get_y()

    # The customer on the start side.
    pdf.set_xy(pdf.l_margin + (width - width * 0.55) if rtl else pdf.l_margin, top)
    customer_w = width * 0.55
    pdf.set_text_color(*GREY)
    pdf.set_font(FONT, "", 9)
    pdf.cell(customer_w, 5.5, _("Customer"), align=pdf.start, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "B", 11)
    customer = quote.customer
    pdf.multi_cell(
        customer_w,
        6,
        clean(customer.display_name),
        align=pdf.start,
        new_x=XPos.LEFT,
        new_y=YPos.NEXT,
    )
    pdf.set_font(FONT, "", 9)
    details: list[str] = []
    if getattr(customer, "legal_name", "") and customer.legal_name != customer.display_name:
        details.append(clean(customer.legal_name))
    if getattr(customer, "tax_number", ""):
        details.append(f"{_('Tax number')}: {clean(customer.tax_number)}")
    if quote.contact_id and quote.contact is not None:
        details.append(f"{_('Contact person')}: {clean(quote.contact.display_name)}")
    email = (quote.contact.primary_email if quote.contact else "") or customer.primary_email
    if email:
        details.append(clean(email))
    for text in details:
        pdf.multi_cell(
            customer_w,
            5,
            text,
            align=pdf.start,
            new_x=XPos.LEFT,
            new_y=YPos.NEXT,
        )
    pdf.set_y(max(pdf.get_y(), facts_bottom) + 6)
    pdf.set_x(pdf.l_margin)

    # The lines.
    headings = [
        "#",
        _("Description"),
        _("Quantity"),
        _("Unit price"),
        _("Discount"),
        _("Tax"),
        _("Amount"),
    ]
    widths = [7, 55, 20, 28, 18, 14, 38]
    aligns = ["C", pdf.start, pdf.end, pdf.end, pdf.end, pdf.end, pdf.end]
    rows = [
        _line_cells(line, quote, i)
        for i, line in enumerate(quote.lines.all().order_by("position", "id"), start=1)
    ]
    if rtl:
        headings, widths, aligns = headings[::-1], widths[::-1], aligns[::-1]
        rows = [row[::-1] for row in rows]
    pdf.set_font(FONT, "", 8.5)
    pdf.set_draw_color(*LINE_GREY)
    with pdf.table(
        col_widths=tuple(widths),
        width=width,
        text_align=tuple(aligns),
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
        line_height=4.6,
        padding=(1.2, 1.2),
        repeat_headings=1,
    ) as table:
        table.row(headings)
        for cells in rows:
            table.row(cells)
    pdf.ln(3)

    # Totals on the end side.
    totals = [
        (_("Subtotal"), quote.subtotal, False),
        (_("Discount"), -quote.discount_total if quote.discount_total else Decimal(0), False),
        (_("Net"), quote.subtotal - quote.discount_total, False),
        (_("Tax"), quote.tax_total, False),
        (_("Total"), quote.total, True),
    ]
    box = width * 0.45
    x_box = pdf.l_margin if rtl else pdf.l_margin + width - box
    for label, amount, strong in totals:
        if pdf.will_page_break(7):
            pdf.add_page()
        pdf.set_x(x_box)
        pdf.set_font(FONT, "B" if strong else "", 10.5 if strong else 9)
        value = money_text(amount, currency, lang)
        if rtl:
            pdf.cell(box * 0.55, 6, value, align="L", new_x=XPos.RIGHT)
            pdf.cell(box * 0.45, 6, label, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            pdf.cell(box * 0.45, 6, label, align="L", new_x=XPos.RIGHT)
            pdf.cell(box * 0.55, 6, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Notes and terms.
    for title, text in ((_("Notes"), quote.notes), (_("Terms"), quote.terms)):
        if not text:
            continue
        pdf.ln(4)
        pdf.set_x(pdf.l_margin)
        pdf.set_font(FONT, "B", 9.5)
        pdf.cell(0, 6, title, align=pdf.start, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(
            0,
            4.8,
            clean(text),
            align=pdf.start,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    return bytes(pdf.output())

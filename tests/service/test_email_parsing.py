"""Reading inbound e-mail from real .eml files: decoded subjects in Turkish, Serbian (Latin
and Cyrillic) and Persian charsets, the best text body, quoted replies, attachments, automatic
mail, malformed headers and hostile HTML."""

from __future__ import annotations

from email.header import Header
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vefa.service.inbound import (
    MessageTooLarge,
    clean_line,
    html_to_text,
    message_ids,
    parse_message,
    trim_quoted,
)

EML = Path(__file__).parent / "eml"


def parse(name: str, **kwargs):
    return parse_message((EML / name).read_bytes(), **kwargs)


def test_turkish_subject_in_utf8_base64_and_the_plain_part_is_preferred():
    mail = parse("tr_new_ticket.eml")
    assert mail.subject == "Siparişim hâlâ gelmedi — İĞÜŞÖÇ ığüşöç"
    assert (mail.from_name, mail.from_email) == ("Ayşe Yılmaz", "ayse@example.com")
    assert mail.message_id == "<CAK7x9Ayse-0001@mail.example.com>"
    assert mail.in_reply_to == "" and mail.references == []
    assert mail.recipients == ["support@vefa.example"]
    assert mail.date is not None and mail.date.utcoffset().total_seconds() == 3 * 3600
    # The text/plain alternative, not the HTML one (which has <b>).
    assert mail.body.startswith("Merhaba,\n\n12 Ekim'de verdiğim sipariş hâlâ gelmedi.")
    assert "<b>" not in mail.body and mail.body.endswith("Ayşe Yılmaz")
    assert mail.attachments == [] and not mail.is_automatic


def test_serbian_windows_1250_quoted_printable_and_the_serbian_quote_is_trimmed():
    mail = parse("sr_windows1250.eml")
    assert mail.subject == "Reklamacija: oštećen paket — Đorđe Čolić, Šabac"
    assert mail.from_name == "Đorđe Čolić"
    # Addresses are compared in lower case.
    assert mail.from_email == "djordje@example.rs"
    assert "Paket je stigao oštećen, a čaša je razbijena." in mail.body
    assert "je napisao/la" not in mail.body and "Hvala na porudžbini" not in mail.body
    assert mail.body.endswith("Đorđe Čolić")
    untrimmed = parse("sr_windows1250.eml", trim_quotes=False)
    assert "je napisao/la:" in untrimmed.body and "> Hvala na porudžbini." in untrimmed.body


def test_serbian_cyrillic_windows_1251_and_a_koi8_sender_name():
    mail = parse("sr_cyrillic_1251.eml")
    assert mail.subject == "Рекламација — још увек чекам"
    assert mail.from_name == "Марина Смирнова"
    assert "Још увек чекам одговор на рекламацију." in mail.body


def test_turkish_iso_8859_9_subject_and_windows_1254_body():
    mail = parse("tr_windows1254.eml")
    assert mail.subject == "Fatura adresi düzeltme - Eskişehir"
    assert mail.from_name == "Şükrü Öztürk"
    assert mail.body == "Fatura adresim yanlış: İzmir değil, Eskişehir olmalı."
    assert mail.message_id == "<000801d9aa$11223344$0a00a8c0@OFIS>"


def test_persian_subject_body_and_the_persian_quote_is_trimmed():
    mail = parse("fa_persian.eml")
    assert mail.subject == "شکایت درباره سفارش ۱۲۳"
    assert mail.from_name == "علی رضایی"
    assert "سفارش شماره ۱۲۳ من ناقص رسید." in mail.body
    assert "نوشت" not in mail.body and "سفارش شما ارسال شد" not in mail.body


def test_a_reply_carries_its_threading_headers_and_loses_the_turkish_quote():
    mail = parse("tr_reply_references.eml")
    assert mail.in_reply_to == "<REPLY-ID-PLACEHOLDER@vefa.example>"
    assert mail.references == [
        "<CAK7x9Ayse-0001@mail.example.com>",
        "<REPLY-ID-PLACEHOLDER@vefa.example>",
    ]
    assert mail.subject.startswith("Re: Siparişim")
    assert mail.body == (
        "Kargo bugün geldi ama kutu ezilmiş. Ürün çalışıyor, yine de bilginize.\n\nAyşe"
    )


def test_html_only_hostile_mail_becomes_inert_text():
    mail = parse("hostile_html_only.eml")
    body = mail.body
    for gone in ("<p", "<img", "onerror", "javascript:", "<iframe", "document.cookie"):
        assert gone not in body
    # Script and style contents are dropped, not shown as text.
    assert "alert('head')" not in body and "display:none" not in body
    assert "Hello & welcome," in body
    assert "Line one\nLine two" in body
    # Text that merely looks like markup stays text (it is escaped where it is shown).
    assert "- first <script>alert(2)</script>\n- second" in body
    assert mail.subject == "<script>alert('subject')</script> Invoice"
    assert mail.from_name == "<img src=x onerror=alert(1)>"


def test_attachments_with_encoded_names_and_their_bytes():
    mail = parse("attachments_pdf_png.eml")
    assert [(a.name, a.content_type) for a in mail.attachments] == [
        ("fatura_şubat.pdf", "application/pdf"),
        ("hasar.png", "image/png"),
        ("setup.exe", "application/octet-stream"),
    ]
    assert mail.attachments[0].data.startswith(b"%PDF-")
    assert mail.attachments[1].data.startswith(b"\x89PNG\r\n\x1a\n")
    assert mail.body == "Faturayı ve hasarlı ürünün fotoğrafını ekledim."


@pytest.mark.parametrize(
    ("name", "reason"),
    [("auto_reply.eml", "auto-submitted"), ("bounce_dsn.eml", "report")],
)
def test_automatic_mail_is_recognised(name, reason):
    assert parse(name).auto_reason == reason


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Auto-Submitted: auto-generated", "auto-submitted"),
        ("Precedence: junk", "precedence"),
        ("Precedence: list", "precedence"),
        ("X-Autoreply: yes", "autoreply"),
        ("Return-Path: <>", "bounce"),
    ],
)
def test_each_automatic_marker(header, reason):
    raw = (
        f"{header}\r\nFrom: a@example.com\r\nTo: support@vefa.example\r\nSubject: x\r\n"
        "Message-ID: <m1@example.com>\r\n\r\nHello\r\n"
    ).encode()
    assert parse_message(raw).auto_reason == reason


def test_a_person_and_auto_submitted_no_are_not_automatic():
    raw = (
        b"Auto-Submitted: no\r\nPrecedence: first-class\r\nFrom: a@example.com\r\n"
        b"Subject: x\r\n\r\nHello\r\n"
    )
    assert parse_message(raw).auto_reason == ""
    daemon = b"From: MAILER-DAEMON@mx.example.com\r\nSubject: x\r\n\r\nfailed\r\n"
    assert parse_message(daemon).auto_reason == "mailer-daemon"


def test_malformed_and_forged_headers_do_not_break_reading():
    mail = parse("malformed_headers.eml")
    # No valid Message-ID: one is made from the content (stable, so a re-delivery dedupes).
    assert mail.synthetic_id and mail.message_id.endswith("@no-message-id.invalid>")
    assert parse("malformed_headers.eml").message_id == mail.message_id
    # The unparseable first From is skipped; replies go to Reply-To.
    assert mail.from_email == "second@forged.example"
    assert mail.sender == "real.person@example.org"
    assert mail.recipients == ["support@vefa.example"]
    assert mail.date is None
    assert "plain" in mail.subject and "\n" not in mail.subject and "\r" not in mail.subject
    # An unknown charset still gives text.
    assert mail.body.startswith("Body with an unknown charset")
    assert "soft break" in mail.body


def test_the_size_limit(settings):
    settings.VEFA_SERVICE_INBOUND_MAX_BYTES = 1000
    raw = (EML / "attachments_pdf_png.eml").read_bytes()
    assert len(raw) > 1000
    with pytest.raises(MessageTooLarge) as error:
        parse_message(raw)
    assert error.value.status_code == 413


def test_huge_text_is_cut_with_a_note():
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["Subject"] = "x" * 1000
    message.set_content("ş" * 200_000)
    mail = parse_message(message.as_bytes())
    assert len(mail.subject) == 300
    assert len(mail.body) < 60_000
    assert mail.body.endswith("[The rest of this message was cut off.]")


def test_hostile_names_and_header_values_are_single_clean_lines():
    assert clean_line("\u202egnp.exe", 100) == "gnp.exe"
    assert clean_line("Hello\r\nBcc: victim@example.com", 100) == "Hello Bcc: victim@example.com"
    assert clean_line("a\x00b\x07c", 100) == "a b c"
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["Subject"] = "Fatura"
    message.set_content("x")
    message.add_attachment(
        b"%PDF-1.4\n", maintype="application", subtype="pdf", filename="../../etc/\u202efdp.exe"
    )
    mail = parse_message(message.as_bytes())
    assert mail.attachments[0].name == "fdp.exe"


def test_message_ids_keep_only_bracketed_tokens():
    assert message_ids("<a@b> junk <c@d>\r\n <e@f>") == ["<a@b>", "<c@d>", "<e@f>"]
    assert message_ids("no brackets") == []
    many = " ".join(f"<{i}@x>" for i in range(50))
    assert message_ids(many) == [f"<{i}@x>" for i in range(30, 50)]


@pytest.mark.parametrize(
    "text",
    [
        "Thanks!\n\nOn Mon, 2 Nov 2026 at 10:00, Vefa Support <support@vefa.example>\n"
        "wrote:\n> old text\n> more",
        "Thanks!\n\nOn 2 Nov 2026, at 10:00, Vefa <support@vefa.example> wrote:\n> old",
        "Thanks!\n\n-----Original Message-----\nFrom: Vefa\nSent: Monday\nold text",
        "Thanks!\n\nFrom: Vefa Support <support@vefa.example>\nSent: Monday, 2 Nov 2026\n"
        "To: me\nSubject: x\n\nold text",
        "Thanks!\n\nKimden: Vefa Destek\nGönderildi: 2 Kasım 2026 Pazartesi\nold",
        "Thanks!\n\n2 Kas 2026 Pzt 10:00 tarihinde Vefa <s@v.example> şunu yazdı:\n> old",
        "Thanks!\n\n> old text\n> more old text\n",
    ],
)
def test_trim_quoted_cuts_each_style(text):
    assert trim_quoted(text) == "Thanks!"


def test_trim_quoted_keeps_inline_answers_and_never_empties():
    inline = "> question one?\nAnswer one.\n> question two?\nAnswer two."
    assert trim_quoted(inline) == "> question one?\nAnswer one.\n> question two?\nAnswer two."
    only_quote = "> everything is quoted\n> here"
    assert trim_quoted(only_quote) == only_quote


def test_html_to_text_keeps_breaks_and_drops_active_content():
    text = html_to_text(
        "<style>p{color:red}</style><p>A&nbsp;&lt;b&gt;</p><p>B<br/>C</p>"
        "<script>x()</script><table><tr><td>1</td><td>2</td></tr></table>"
    )
    assert text == "A <b>\n\nB\nC\n\n1 2"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_can_be_read(raw):
    mail = parse_message(raw)
    assert mail.message_id.startswith("<")
    assert "\n" not in mail.subject


@settings(max_examples=150, deadline=None)
@given(
    st.text(max_size=200),
    st.sampled_from(["utf-8", "windows-1254", "windows-1250", "iso-8859-9", "koi8-r"]),
)
def test_any_header_text_survives_a_round_trip(subject, charset):
    try:
        subject.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
    encoded = Header(subject, charset).encode().replace("\n", "\r\n")
    raw = f"From: a@example.com\r\nSubject: {encoded}\r\n\r\nx\r\n".encode("ascii")
    assert parse_message(raw).subject == clean_line(subject, 300)

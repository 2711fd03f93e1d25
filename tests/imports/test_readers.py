"""Reading files: encodings, delimiters, XLSX checks (zip bombs), cells, dates and numbers."""

from __future__ import annotations

import datetime
import io
import zipfile
from decimal import Decimal

import pytest

from tests.imports.conftest import xlsx_bytes
from vefa.common.errors import ValidationFailed
from vefa.imports import readers
from vefa.imports.engine import auto_map, header_key, safe_cell
from vefa.imports.entities import adapter_for
from vefa.imports.entities.base import parse_date, parse_decimal, parse_int

TURKISH = "Ad;Soyad;Şehir\nAyşe;Çelik;İstanbul\nGüler;Işık;Muğla\nŞükrü;Öztürk;Çorum\n"
SERBIAN_LATIN = "Ime|Prezime\nĐorđe|Šćepanović\nČedomir|Žarić\nLjubica|Ćosić\n"
SERBIAN_CYRILLIC = "Име,Презиме\nЈован,Петровић\nМарија,Јовановић\nЂорђе,Шћекић\n"
PERSIAN = "نام\tايميل\tشهر\nعلي\ta@b.c\tتهران\nمريم\tm@b.c\tشيراز\nرضا\tr@b.c\tاصفهان\n"


@pytest.mark.parametrize(
    ("text", "encoding", "delimiter"),
    [
        (TURKISH, "cp1254", ";"),
        (SERBIAN_LATIN, "cp1250", "|"),
        (SERBIAN_CYRILLIC, "cp1251", ","),
        (PERSIAN, "cp1256", "\t"),
        (TURKISH, "utf-8", ";"),
    ],
)
def test_encoding_and_delimiter_detected(text, encoding, delimiter):
    layout = readers.detect_layout(io.BytesIO(text.encode(encoding)), "csv")
    assert (layout.encoding, layout.delimiter) == (encoding, delimiter)
    rows = list(readers.read_rows(io.BytesIO(text.encode(encoding)), layout))
    assert rows[1][0] == text.split("\n")[1].split(delimiter)[0]


def test_utf8_bom_is_detected_and_dropped():
    data = "\ufeffE-posta,Ad\nx@example.com,Ali\n".encode()
    layout = readers.detect_layout(io.BytesIO(data), "csv")
    assert layout.encoding == "utf-8-sig"
    assert next(readers.read_rows(io.BytesIO(data), layout))[0] == "E-posta"


def test_utf8_character_cut_at_the_sample_end_is_still_utf8():
    text = ("Ş" * (readers.SAMPLE_BYTES // 2 + 1)).encode()
    assert readers.detect_encoding(text[: readers.SAMPLE_BYTES - 1]) == "utf-8"


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 20,
        b"\x00\x01\x02binary\x00" * 100,
        "Ad,Soyad\n".encode("utf-16"),
    ],
)
def test_unreadable_files_are_refused_clearly(data):
    with pytest.raises(ValidationFailed) as caught:
        readers.detect_layout(io.BytesIO(data), "csv")
    assert caught.value.fields["file"]


def test_empty_file_refused():
    with pytest.raises(ValidationFailed):
        readers.detect_layout(io.BytesIO(b"   \n"), "csv")


def test_quoted_delimiters_do_not_fool_the_sniffer():
    text = 'name,notes\n"Yılmaz; Ali","a;b;c"\n"Kaya; Veli","d;e"\n'
    assert readers.detect_delimiter(text) == ","


def test_single_column_file():
    assert readers.detect_delimiter("email\na@b.c\nd@e.f\n") == ","


def test_file_kind():
    assert readers.file_kind("x.CSV") == "csv"
    assert readers.file_kind("x.xlsx") == "xlsx"
    for name in ("x.xls", "x.exe", "", "x.csv.exe"):
        with pytest.raises(ValidationFailed):
            readers.file_kind(name)


def test_zip_bomb_refused_before_openpyxl():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<x/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (50 * 1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    with pytest.raises(ValidationFailed) as caught:
        readers.detect_layout(io.BytesIO(out.getvalue()), "xlsx")
    assert "zip bomb" in caught.value.message


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really", b"plain text", b""])
def test_broken_xlsx_refused(data):
    with pytest.raises(ValidationFailed):
        readers.check_xlsx(io.BytesIO(data))


def test_zip_without_sheets_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ValidationFailed):
        readers.check_xlsx(io.BytesIO(out.getvalue()))


def test_xlsx_cells_as_text():
    data = xlsx_bytes(
        [[1.5, 42, 3.0, None, True, datetime.datetime(2026, 1, 2), "=A1*2"]],
        ["a", "b", "c", "d", "e", "f", "g"],
    )
    layout = readers.detect_layout(io.BytesIO(data), "xlsx")
    rows = list(readers.read_rows(io.BytesIO(data), layout))
    assert rows[1] == ["1.5", "42", "3", "", "TRUE", "2026-01-02", "=A1*2"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17.05.1985", datetime.date(1985, 5, 17)),
        ("1985-05-17", datetime.date(1985, 5, 17)),
        ("17/05/1985", datetime.date(1985, 5, 17)),
        ("05/05/1985", datetime.date(1985, 5, 5)),
        ("31134", datetime.date(1985, 3, 28)),
        ("۱۷.۰۵.۱۹۸۵", datetime.date(1985, 5, 17)),
        ("1985-05-17T10:00:00", datetime.date(1985, 5, 17)),
    ],
)
def test_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text", ["03/04/1990", "1990-02-30", "31.31.2000", "yesterday", "=TODAY()", "9" * 40, "-5"]
)
def test_bad_or_ambiguous_dates_are_errors(text):
    with pytest.raises(ValueError, match=r"."):
        parse_date(text)


def test_numbers():
    assert parse_decimal("1.234,50") == Decimal("1234.50")
    assert parse_decimal("1,234.50") == Decimal("1234.50")
    assert parse_decimal("۱۲٫۵") == Decimal("12.5")
    assert parse_int("7") == 7
    for bad in ("NaN", "Infinity", "1e999999", "abc", "1.5"):
        with pytest.raises(ValueError, match=r"."):
            parse_int(bad)


def test_header_keys_fold_languages():
    assert header_key("E-Posta") == header_key("eposta") == "eposta"
    assert header_key("VERGİ NO") == "vergino"
    mapping = auto_map(adapter_for("customers"), ["AD SOYAD", "e-mail", "Cep Telefonu", "Foo"])
    assert mapping == {
        "AD SOYAD": "full_name",
        "e-mail": "email",
        "Cep Telefonu": "phone",
        "Foo": "",
    }


def test_a_field_goes_to_its_first_column_only():
    mapping = auto_map(adapter_for("customers"), ["Email", "E-posta"])
    assert mapping == {"Email": "email", "E-posta": ""}


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@x", "\tx", "\rx"])
def test_safe_cell_defuses_formulas(value):
    assert safe_cell(value).startswith("'")
    assert safe_cell("Ayşe") == "Ayşe"

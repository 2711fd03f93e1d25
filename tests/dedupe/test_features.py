"""The comparison columns: folding, transliteration, skeletons, phones."""

from __future__ import annotations

import pytest

from vefa.dedupe import features


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Ђорђевић Милица", "Milica Đorđević"),  # Cyrillic, swapped
        ("Milica Djordjevic", "Milica Đorđević"),  # diacritics written out
        ("AYŞE YILMAZ", "Ayse Yilmaz"),  # Turkish capitals, dotless ı
        ("Yılmaz Ayşe", "Ayşe Yılmaz"),  # swapped
    ],
)
def test_same_sorted_name(a, b):
    assert features.name_keys(a) == features.name_keys(b)


@pytest.mark.parametrize(
    ("persian", "latin"),
    [
        ("محمد رضایی", "Mohammad Rezaei"),
        ("محمد رضایی", "Muhammad Rezaee"),
        ("حسین موسوی", "Hossein Mousavi"),
        ("داوود قاسمی", "Davood Ghasemi"),
        ("علی كريمي", "Ali Karimi"),  # Arabic kaf and yeh
    ],
)
def test_persian_and_latin_share_a_skeleton(persian, latin):
    assert features.name_keys(persian)[1] == features.name_keys(latin)[1]
    # The Persian name is in Latin letters in the extra column.
    assert features.latin(persian).isascii()


def test_different_people_do_not_share_a_skeleton():
    assert features.name_keys("Ayşe Akbulut")[1] != features.name_keys("Şerife Akbulut")[1]


@pytest.mark.parametrize(
    "written",
    ["+90 532 111 22 33", "0532 111 22 33", "0090 532 1112233", "5321112233", "+۹۰۵۳۲۱۱۱۲۲۳۳"],
)
def test_phone_key(written):
    assert features.phone_key(written) == "905321112233"


def test_prepare_blank_values_are_null():
    row = features.prepare({"id": 5, "kind": "person", "first_name": "", "last_name": ""})
    assert row["unique_id"] == 5
    assert row["name_sorted"] is None and row["email"] is None and row["phone"] is None


def test_prepare_organisation_drops_legal_form():
    a = features.prepare({"id": 1, "kind": "organisation", "display_name": "Kuzey Gıda A.Ş."})
    b = features.prepare({"id": 2, "kind": "organisation", "display_name": "KUZEY GIDA"})
    assert a["name_sorted"] == b["name_sorted"] == "gida kuzey"


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "=cmd|' /C calc'!A0",
        "'; DROP TABLE x; --",
        "\u202egnp.exe",
        "x" * 10_000,
        "\x00\x01",
    ],
)
def test_prepare_hostile_input(hostile):
    row = features.prepare(
        {"id": 1, "kind": "person", "first_name": hostile, "last_name": hostile,
         "email": hostile, "phone": hostile, "tax_number": hostile, "postcode": hostile}
    )  # fmt: skip
    assert row["unique_id"] == 1
    for key in ("name_sorted", "name_skel", "tax_number", "postcode"):
        assert row[key] is None or "<" not in row[key]


def test_prepare_rejects_a_row_without_id():
    with pytest.raises(KeyError):
        features.prepare({"kind": "person"})


def test_national_phone_read_in_the_customers_country():
    row = features.prepare({"id": 1, "kind": "person", "phone": "064 123 4567", "country": "RS"})
    assert row["phone"] == "381641234567"
    assert features.prepare({"id": 2, "phone": "0532 111 22 33"})["phone"] == "905321112233"

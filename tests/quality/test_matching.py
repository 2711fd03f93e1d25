"""Folding, transliteration, blocking keys and scores, without the database."""

from __future__ import annotations

import pytest

from vefa.quality.matching import (
    address_key,
    blocking_keys,
    email_parts,
    latin,
    name_similarity,
    name_tokens,
    phone_digits,
    profile_of,
    score,
    skeleton,
    tax_key,
)


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("İSMAİL IŞIK", "ismail isik"),
        ("Şükrü Çağrı Öztürk", "sukru cagri ozturk"),
        ("Ђорђе Петровић", "djordje petrovic"),
        ("Đorđe Petrović", "djordje petrovic"),
        ("Љубица Његовић", "ljubica njegovic"),
        ("Џонић", "dzonic"),
        # Arabic yeh and kaf as Persian letters, ZWNJ and diacritics gone, then Latin letters.
        ("علي", "aly"),
        ("كريم", "krym"),
        ("عَلی\u200cرضا", "alyrza"),
    ],
)
def test_latin_folds_turkish_serbian_and_persian(typed, folded):
    assert latin(typed) == folded


def test_arabic_and_persian_letters_fold_alike():
    assert latin("علي كريمي") == latin("علی کریمی")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Mohammad", "محمد"),
        ("Muhammad", "Mohammad"),
        ("Rezaei", "رضایی"),
        ("Fatemeh", "فاطمه"),
        ("Hosseini", "حسینی"),
        ("Ghasemi", "Qasemi"),
        ("Mehmet", "Mehmte"),
    ],
)
def test_skeleton_matches_spellings_and_scripts(a, b):
    assert skeleton(latin(a)) == skeleton(latin(b))


@pytest.mark.parametrize(
    ("a", "b", "low"),
    [
        ("Ayşe Yılmaz", "AYSE YILMAZ", 100),
        ("Ayşe Yılmaz", "Yılmaz Ayşe", 100),
        ("Ђорђе Петровић", "Djordje Petrovic", 100),
        ("Ayşe Yılmaz", "Ayse Yilmas", 90),
        ("Mehmet Öztürk", "Mehmte Ozturk", 90),
        ("Mohammad Rezaei", "محمد رضایی", 90),
        ("Fatemeh Hosseini", "فاطمه حسینی", 90),
    ],
)
def test_similar_names_score_high(a, b, low):
    assert name_similarity(a, b) >= low


def test_a_transliteration_is_never_the_same_name():
    assert name_similarity("Mohammad Rezaei", "محمد رضایی") < 100


@pytest.mark.parametrize(
    ("a", "b"),
    [("Ayşe Kaya", "Mehmet Yılmaz"), ("Jovana Petrović", "Ali Rezaei"), ("Acme", "Globex")],
)
def test_different_names_score_low(a, b):
    assert name_similarity(a, b) < 60


def test_legal_form_words_do_not_count_for_organisations():
    assert name_similarity("Acme Ticaret Ltd. Şti.", "ACME A.Ş.", organisation=True) == 100
    assert name_tokens("Acme Ltd. Şti.", organisation=True) == ["acme"]
    assert name_tokens("Dunav d.o.o.", organisation=True) == ["dunav"]
    # A name made only of such words keeps them rather than becoming empty.
    assert name_tokens("Limited", organisation=True) == ["limited"]


def test_email_parts_and_phone_digits():
    assert email_parts(" Ayse.Yilmaz+news@Example.COM ") == (
        "ayse.yilmaz+news@example.com",
        "ayseyilmaz",
    )
    assert email_parts("not an address") == ("", "")
    assert phone_digits("0532 111 22 33") == "905321112233"
    assert phone_digits("+90 532 111 22 33") == "905321112233"
    assert phone_digits("۰۵۳۲ ۱۱۱ ۲۲ ۳۳") == "905321112233"
    assert phone_digits("061 123 4567", "RS") == "381611234567"
    assert phone_digits("12") == ""
    assert phone_digits("") == ""


def test_tax_and_address_keys():
    assert tax_key("123 456-7890") == "1234567890"
    assert tax_key("12") == ""
    assert address_key("34 710", "Bağdat Caddesi No 5") == "34710:bagdat"
    assert address_key("", "Bağdat Caddesi") == ""
    assert address_key("34710", "No 5") == ""


def test_blocking_keys_of_a_full_profile():
    profile = profile_of(
        first_name="Ayşe",
        last_name="Yılmaz",
        emails=["Ayse.Yilmaz@example.com"],
        phones=["0532 111 22 33"],
        tax_number="1234567890",
        postal_code="34710",
        street="Bağdat Caddesi 5",
    )
    keys = blocking_keys(profile)
    assert keys[:3] == ["e:ayse.yilmaz@example.com", "p:905321112233", "x:1234567890"]
    assert {"l:ayseyilmaz", "a:34710:bagdat", "n:ayse yilmaz", "f:ays yil"} <= set(keys)
    assert len(keys) == len(set(keys))
    assert all(len(k) <= 120 for k in keys)


def test_generic_email_names_are_not_keys():
    keys = blocking_keys(profile_of(emails=["info@acme.com"]))
    assert keys == ["e:info@acme.com"]


def test_typos_share_at_least_one_key():
    for a, b in [
        ("Ayşe Yılmaz", "Ayse Yilmas"),
        ("Mehmet Öztürk", "Mehmte Ozturk"),
        ("Mohammad Rezaei", "محمد رضایی"),
        ("Ђорђе Петровић", "Djordje Petrovich"),
    ]:
        ka = set(blocking_keys(profile_of(names=[a])))
        kb = set(blocking_keys(profile_of(names=[b])))
        assert ka & kb, (a, b)


def test_empty_and_hostile_profiles_have_no_or_harmless_keys():
    assert blocking_keys(profile_of()) == []
    assert blocking_keys(profile_of(first_name="   ", emails=[""], phones=["abc"])) == []
    keys = blocking_keys(profile_of(first_name="<script>alert(1)</script>" * 50))
    assert all(len(k) <= 120 for k in keys)


def test_score_strong_identifiers_and_reasons():
    typed = profile_of(first_name="Ayse", last_name="Yilmas", phones=["0532 111 22 33"])
    stored = profile_of(first_name="Ayşe", last_name="Yılmaz", phones=["+905321112233"])
    result = score(typed, stored)
    assert result.score == 97
    codes = [r.code for r in result.reasons]
    assert codes[0] == "same_phone"
    assert "similar_name" in codes


def test_same_phone_different_name_is_a_weaker_match():
    typed = profile_of(first_name="Mehmet", last_name="Kaya", phones=["0212 555 00 00"])
    stored = profile_of(first_name="Zeynep", last_name="Demir", phones=["+902125550000"])
    result = score(typed, stored)
    assert result.score == 75
    assert [r.code for r in result.reasons] == ["same_phone"]


def test_name_only_and_address_help():
    typed = profile_of(first_name="Ayşe", last_name="Yılmaz", postal_code="34710", street="Bağdat")
    stored = profile_of(first_name="Ayse", last_name="Yilmaz", postal_code="34710", street="Bağdat")
    result = score(typed, stored)
    assert result.score == 95
    assert {r.code for r in result.reasons} == {"same_name", "same_address"}
    # The same name alone is worth a warning, not a likely duplicate.
    assert score(typed, profile_of(first_name="Ayse", last_name="Yilmaz")).score == 80
    other = score(typed, profile_of(first_name="Hasan", last_name="Çelik"))
    assert other.score < 50
    assert other.reasons == ()


def test_same_email_name_at_another_domain():
    typed = profile_of(
        first_name="Jovana", last_name="Petrović", emails=["jovana.petrovic@gmial.com"]
    )
    stored = profile_of(
        first_name="Jovana", last_name="Petrovic", emails=["jovanapetrovic@gmail.com"]
    )
    result = score(typed, stored)
    assert "same_email_name" in {r.code for r in result.reasons}
    assert result.score == 90


def test_a_typo_in_the_first_letters_of_one_word_still_shares_a_key():
    typed = set(blocking_keys(profile_of(first_name="Miica", last_name="PETRLU")))
    stored = set(blocking_keys(profile_of(first_name="Milica", last_name="Petrlu")))
    assert typed & stored == {"i:petrlu m"}

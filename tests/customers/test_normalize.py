"""Normalising contact points: e-mail, E.164 phone, URL, handle — valid, invalid, idempotent."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vefa.customers.normalize import (
    normalize_contact,
    normalize_email,
    normalize_handle,
    normalize_phone,
    normalize_url,
)

REGIONS = ["TR", "RS", "IR", "GB", "US", "DE"]


@pytest.mark.parametrize(
    ("value", "region", "expected", "country"),
    [
        ("0532 123 45 67", "TR", "+905321234567", "TR"),
        ("+90 (532) 123-45-67", None, "+905321234567", "TR"),
        ("0090 532 123 45 67", "TR", "+905321234567", "TR"),
        ("۰۹۱۲ ۳۴۵ ۶۷۸۹", "IR", "+989123456789", "IR"),
        ("060 1234567", "RS", "+381601234567", "RS"),
        ("+44 20 7946 0958", "TR", "+442079460958", "GB"),
    ],
)
def test_phone_numbers_become_e164_with_their_country(value, region, expected, country):
    result = normalize_phone(value, region)
    assert result.value == expected
    assert result.country == country


@pytest.mark.parametrize("value", ["123", "abc", "", "+90 532", "=cmd|' /C calc'!A0", "9" * 80])
def test_invalid_phone_numbers_are_refused_with_a_message(value):
    with pytest.raises(ValueError, match=r"\w"):
        normalize_phone(value, "TR")


def test_default_region_is_turkey():
    assert normalize_phone("0212 555 00 00").value == "+902125550000"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" Ayse@Example.COM ", "ayse@example.com"),
        ("a.b+tag@sub.example.org", "a.b+tag@sub.example.org"),
    ],
)
def test_email_is_trimmed_and_lower_cased(value, expected):
    assert normalize_email(value) == expected


@pytest.mark.parametrize(
    "value", ["not an email", "a@", "<script>@x.com", "a@b", "a" * 300 + "@x.com"]
)
def test_invalid_email_is_refused(value):
    with pytest.raises(ValueError):
        normalize_email(value)


def test_url_gets_a_scheme_and_lower_case_host():
    assert normalize_url("Example.COM/Path/") == "https://example.com/Path"
    assert normalize_url("http://Example.com") == "http://example.com"
    with pytest.raises(ValueError):
        normalize_url("javascript:alert(1)")


def test_handles_lose_the_at_sign():
    assert normalize_handle("@Vefa_CRM") == "vefa_crm"
    with pytest.raises(ValueError):
        normalize_handle("<script>")


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        normalize_contact("pigeon", "x")


@st.composite
def valid_numbers(draw):
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(
        region,
        draw(
            st.sampled_from(
                [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
            )
        ),
    )
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(
        example, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return region, draw(st.sampled_from([national, international]))


@settings(max_examples=60, deadline=None)
@given(valid_numbers(), st.sampled_from(REGIONS))
def test_phone_normalisation_is_idempotent(number, other_region):
    region, text = number
    once = normalize_phone(text, region)
    # the E.164 form carries its country, so any region reads it back the same
    assert normalize_phone(once.value, other_region) == once


@settings(max_examples=100, deadline=None)
@given(st.emails())
def test_email_normalisation_is_idempotent(email):
    try:
        once = normalize_email(email)
    except ValueError:
        return
    assert normalize_email(once) == once


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_any_text_is_normalised_or_refused_never_crashes(text):
    for kind in ("email", "phone", "website", "social"):
        try:
            once = normalize_contact(kind, text, "TR")
        except ValueError:
            continue
        assert normalize_contact(kind, once.value, "TR").value == once.value

"""Phone numbers valid to libphonenumber in each market, as E.164 and as people write them."""

from __future__ import annotations

from random import Random

import phonenumbers

from vefa.demo.pools import Locale, Place, digits

_MAX_TRIES = 50


def e164_digits(prefix: str, count: int, rng: Random) -> str:
    return "+" + prefix + digits(rng, count)


def valid_number(rng: Random, prefix: str, count: int) -> phonenumbers.PhoneNumber:
    """A random valid number starting with ``prefix`` (E.164 digits) and ``count`` more digits.

    Some subscriber ranges are not allocated (e.g. Serbian landlines starting with 1), so a
    number is drawn until libphonenumber accepts it.
    """
    for _ in range(_MAX_TRIES):
        number = phonenumbers.parse(e164_digits(prefix, count, rng))
        if phonenumbers.is_valid_number(number):
            return number
    raise ValueError(f"no valid number found under +{prefix}")


def mobile_range(rng: Random, locale: Locale, place: Place) -> tuple[str, int]:
    """The prefix and digit count of a mobile number of someone living in ``place``."""
    if not locale.mobile_prefixes:
        return place.landline, place.landline_digits
    return rng.choice(locale.mobile_prefixes), locale.mobile_digits


def mobile(rng: Random, locale: Locale, place: Place) -> tuple[str, str]:
    """(as written nationally, E.164) of a mobile number in ``locale``'s country."""
    return _pair(valid_number(rng, *mobile_range(rng, locale, place)))


def landline(rng: Random, place: Place) -> tuple[str, str]:
    """(as written nationally, E.164) of a landline in ``place``."""
    return _pair(valid_number(rng, place.landline, place.landline_digits))


def _pair(number: phonenumbers.PhoneNumber) -> tuple[str, str]:
    return (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
    )


def fast_mobile(rng: Random, locale: Locale, place: Place) -> str:
    """An E.164 mobile number without parsing (for bulk data).

    Every mobile range in the pools (and the UK and US fiction ranges used instead) is fully
    allocated, so no check is needed; the tests verify that a large sample is valid.
    """
    prefix, count = mobile_range(rng, locale, place)
    return e164_digits(prefix, count, rng)

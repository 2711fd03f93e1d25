"""Deterministic generators of customers: people and organisations with their contact data.

``CustomerMaker(rng).make(serial)`` returns one ``MadeCustomer``: the values of the customer's
own fields (as ``customer_create`` would store them: display name, folded ``name_key``,
denormalised primary e-mail, phone, city and country), one address and its contact points.
Dates, lifecycle, owner and team belong to the history and are decided by the caller.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from random import Random
from typing import Any, TypeVar

from vefa.common.text import fold
from vefa.demo import phones
from vefa.demo.pools import SECTORS, Locale, Place, Sector, locales
from vefa.demo.pools.sr import to_cyrillic

T = TypeVar("T")
_NOT_ASCII_LOCAL = re.compile(r"[^a-z0-9]+")

GENDERS = (("female", 48), ("male", 48), ("other", 1), ("undisclosed", 3))
INCOME_BANDS = (
    ("low", 15),
    ("lower_middle", 25),
    ("middle", 30),
    ("upper_middle", 20),
    ("high", 10),
)
HOME = (("owner", 50), ("tenant", 35), ("with_family", 12), ("other", 3))
CHANNELS = (("email", 45), ("phone", 30), ("sms", 15), ("post", 10))
SOURCES = (
    ("web", 25),
    ("referral", 15),
    ("campaign", 12),
    ("event", 8),
    ("cold_call", 6),
    ("social", 10),
    ("partner", 6),
    ("walk_in", 12),
    ("import", 4),
    ("other", 2),
)


class FastRandom(Random):
    """``random.Random`` with cheaper ``choice`` and ``randrange`` (one ``random()`` call each).

    Still fully determined by the seed; the generators call these millions of times.
    """

    def choice(self, seq: Sequence[T]) -> T:  # type: ignore[override]
        return seq[int(self.random() * len(seq))]

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))


Weighted = tuple[list[str], list[float]]


def weighted(choices: tuple[tuple[str, int], ...]) -> Weighted:
    """A table for ``pick``: the values and their cumulative shares (ending at 1)."""
    values = [value for value, _ in choices]
    total = sum(weight for _, weight in choices)
    cumulative: list[float] = []
    running = 0
    for _, weight in choices:
        running += weight
        cumulative.append(running / total)
    return values, cumulative


def pick(rng: Random, table: Weighted) -> str:
    values, cumulative = table
    return values[min(bisect.bisect(cumulative, rng.random()), len(values) - 1)]


@functools.lru_cache(maxsize=65536)
def folded(text: str) -> str:
    return fold(text)


@functools.lru_cache(maxsize=65536)
def ascii_local(text: str, romanized: tuple[tuple[str, str], ...] = ()) -> str:
    """A name as the ASCII letters of an e-mail local part (``Ayşe`` → ``ayse``)."""
    mapping = dict(romanized)
    words = [mapping.get(word, word) for word in text.split()]
    return _NOT_ASCII_LOCAL.sub("", folded(" ".join(words)).encode("ascii", "ignore").decode())


@dataclass
class MadeCustomer:
    """One generated customer and its contact data (field names as in the models)."""

    locale: Locale
    place: Place
    fields: dict[str, Any]
    address: dict[str, Any]
    contact_points: list[dict[str, Any]] = field(default_factory=list)
    sector: Sector | None = None


class CustomerMaker:
    """Makes customers from the pools; the same ``rng`` state always makes the same customer.

    ``fast`` skips phone-number parsing (for millions of rows): numbers come only from fully
    allocated mobile ranges and are written in E.164.
    """

    def __init__(
        self,
        rng: Random,
        *,
        today: datetime.date,
        fast: bool = False,
        organisation_share: float = 0.3,
    ) -> None:
        self.rng = rng
        self.today = today
        self.fast = fast
        self.organisation_share = organisation_share
        self.locales = locales()
        self._locale_weights = weighted(tuple((loc.key, loc.weight) for loc in self.locales))
        self._by_key = {loc.key: loc for loc in self.locales}
        self._genders = weighted(GENDERS)
        self._incomes = weighted(INCOME_BANDS)
        self._home = weighted(HOME)
        self._channels = weighted(CHANNELS)
        self._sources = weighted(SOURCES)
        self._romanized = {loc.key: tuple(sorted(loc.romanized.items())) for loc in self.locales}

    def locale(self) -> Locale:
        return self._by_key[pick(self.rng, self._locale_weights)]

    def make(self, serial: int | None = None, *, kind: str | None = None) -> MadeCustomer:
        """A new customer; ``serial`` (when given) makes its e-mail address unique."""
        rng = self.rng
        locale = self.locale()
        if kind is None:
            kind = "organisation" if rng.random() < self.organisation_share else "person"
        place = rng.choice(locale.places)
        if kind == "person":
            made = self._person(locale, place, serial)
        else:
            made = self._organisation(locale, place, serial)
        made.fields.update(
            kind=kind,
            language=locale.language,
            currency=locale.currency,
            source=pick(rng, self._sources),
            preferred_channel=pick(rng, self._channels) if rng.random() < 0.6 else "",
            contact_frequency_days=rng.choice((14, 30, 30, 60, 90)) if rng.random() < 0.3 else None,
            notes=rng.choice(locale.texts.customer_notes) if rng.random() < 0.15 else "",
            city=place.city,
            country=locale.country,
        )
        if rng.random() < 0.1:
            made.fields["quiet_hours_start"] = datetime.time(21, 0)
            made.fields["quiet_hours_end"] = datetime.time(8, 30)
        # As the contact-point service does: the first point of each kind is its primary, and
        # the customer's list columns copy the primaries (a person's mobile before a phone).
        primaries: dict[str, str] = {}
        for point in made.contact_points:
            point["is_primary"] = point["kind"] not in primaries
            primaries.setdefault(point["kind"], point["normalized"])
        order = ("mobile", "phone") if kind == "person" else ("phone", "mobile")
        made.fields["primary_email"] = primaries.get("email", "")
        made.fields["primary_phone"] = next((primaries[k] for k in order if k in primaries), "")
        return made

    # --- people -------------------------------------------------------------------------

    def _person(self, locale: Locale, place: Place, serial: int | None) -> MadeCustomer:
        rng = self.rng
        gender = pick(rng, self._genders)
        if gender == "female" or (gender not in ("male",) and rng.random() < 0.5):
            first = rng.choice(locale.female)
        else:
            first = rng.choice(locale.male)
        last = rng.choice(locale.surnames)
        local = self._email_local(locale, f"{first}.{last}", serial)
        if locale.cyrillic_share and rng.random() < locale.cyrillic_share:
            first, last = to_cyrillic(first), to_cyrillic(last)
        display = f"{first} {last}"
        age = min(90, max(18, int(rng.gauss(44, 14))))
        birth = self.today - datetime.timedelta(days=age * 365 + rng.randrange(365))
        married = age > 24 and rng.random() < min(0.75, (age - 20) / 30)
        marital = (
            "married" if married else rng.choice(("single", "single", "partnered", "divorced"))
        )
        if age > 70 and rng.random() < 0.3:
            marital = "widowed"
        texts = locale.texts
        fields: dict[str, Any] = {
            "display_name": display,
            "name_key": f"{folded(first)} {folded(last)}",
            "first_name": first,
            "last_name": last,
            "birth_date": birth if rng.random() < 0.8 else None,
            "gender": gender if rng.random() < 0.9 else "",
            "income_band": pick(rng, self._incomes) if rng.random() < 0.65 else "",
            "marital_status": marital if rng.random() < 0.8 else "",
            "children_count": (rng.choice((0, 1, 1, 2, 2, 2, 3, 4)) if age > 25 else 0)
            if rng.random() < 0.7
            else None,
            "home_ownership": pick(rng, self._home) if rng.random() < 0.6 else "",
            "pets": rng.choice(texts.pets) if rng.random() < 0.35 else "",
            "hobbies": ", ".join(rng.sample(texts.hobbies, rng.randrange(1, 4)))
            if rng.random() < 0.7
            else "",
            "sports_interests": ", ".join(rng.sample(texts.sports, rng.randrange(1, 3)))
            if rng.random() < 0.55
            else "",
        }
        made = MadeCustomer(locale, place, fields, self._address(locale, place, "home"))
        domain = rng.choice(locale.email_domains)
        made.contact_points.append(self._email(f"{local}@{domain}", locale, "personal", True))
        made.contact_points.append(self._mobile(locale, place, True))
        if rng.random() < 0.15:
            made.contact_points.append(self._landline(locale, place, "home", False))
        if rng.random() < 0.1:
            handle = f"@{local.replace('.', '_')}"
            made.contact_points.append(
                {
                    "kind": "social",
                    "value": handle,
                    "normalized": handle.lstrip("@").lower(),
                    "country": "",
                    "label": "",
                    "network": rng.choice(("instagram", "linkedin", "x")),
                    "is_primary": False,
                }
            )
        return made

    # --- organisations --------------------------------------------------------------------

    def _organisation(self, locale: Locale, place: Place, serial: int | None) -> MadeCustomer:
        rng = self.rng
        stem = rng.choice(locale.company_stems)
        sector = rng.choice(SECTORS)
        lang = locale.language.split("-")[0]
        trade = f"{stem} {sector.names[lang]}"
        legal = rng.choice(locale.legal_forms).format(name=trade)
        employees = max(1, int(rng.lognormvariate(2.8, 1.3)))
        per_head = {
            "TRY": 2_400_000,
            "GBP": 95_000,
            "USD": 120_000,
            "RSD": 6_500_000,
            "IRR": 3_000_000_000,
        }
        # Whole thousands, as a firm reports it.
        revenue = Decimal(
            int(employees * per_head[locale.currency] * rng.uniform(0.5, 1.8)) // 1000 * 1000
        )
        fields: dict[str, Any] = {
            "display_name": trade,
            "name_key": folded(trade),
            "legal_name": legal,
            "trade_name": trade,
            "employee_count": employees if rng.random() < 0.85 else None,
            "annual_revenue": revenue if rng.random() < 0.7 else None,
            "nace_code": sector.nace,
            "sic_code": sector.sic,
            "tax_number": locale.tax_number(rng),
        }
        made = MadeCustomer(
            locale, place, fields, self._address(locale, place, "office"), sector=sector
        )
        romanized = self._romanized[locale.key]
        sector_word = sector.names["en" if lang == "fa" else lang]
        slug = ascii_local(stem, romanized) + ascii_local(sector_word)
        if serial is not None:
            slug = f"{slug}{serial}"
        made.contact_points.append(self._email(f"info@{slug}.example", locale, "office", True))
        made.contact_points.append(self._landline(locale, place, "office", True))
        if rng.random() < 0.6:
            site = f"https://www.{slug}.example"
            made.contact_points.append(
                {
                    "kind": "website",
                    "value": site,
                    "normalized": site,
                    "country": "",
                    "label": "",
                    "network": "",
                    "is_primary": False,
                }
            )
        if rng.random() < 0.2:
            made.contact_points.append(self._mobile(locale, place, False))
        return made

    # --- contact data -------------------------------------------------------------------

    def _email_local(self, locale: Locale, name: str, serial: int | None) -> str:
        first, _, last = name.partition(".")
        romanized = self._romanized[locale.key]
        local = f"{ascii_local(first, romanized)}.{ascii_local(last, romanized)}"
        return local if serial is None else f"{local}.{serial}"

    def _email(self, address: str, locale: Locale, label: str, primary: bool) -> dict[str, Any]:
        return {
            "kind": "email",
            "value": address,
            "normalized": address.lower(),
            "country": "",
            "label": label,
            "network": "",
            "is_primary": primary,
        }

    def _mobile(self, locale: Locale, place: Place, primary: bool) -> dict[str, Any]:
        if self.fast:
            e164 = phones.fast_mobile(self.rng, locale, place)
            value = e164
        else:
            value, e164 = phones.mobile(self.rng, locale, place)
        # UK numbers come from the drama ranges, which are landlines.
        kind = "phone" if locale.country == "GB" else "mobile"
        return {
            "kind": kind,
            "value": value,
            "normalized": e164,
            "country": locale.country,
            "label": "mobile",
            "network": "",
            "is_primary": primary,
        }

    def _landline(self, locale: Locale, place: Place, label: str, primary: bool) -> dict[str, Any]:
        if self.fast:
            # Landline ranges have gaps; bulk data uses the always-valid mobile ranges.
            e164 = phones.fast_mobile(self.rng, locale, place)
            value = e164
            kind = "phone" if locale.country == "GB" else "mobile"
        else:
            value, e164 = phones.landline(self.rng, place)
            kind = "phone"
        return {
            "kind": kind,
            "value": value,
            "normalized": e164,
            "country": locale.country,
            "label": label,
            "network": "",
            "is_primary": primary,
        }

    def _address(self, locale: Locale, place: Place, kind: str) -> dict[str, Any]:
        rng = self.rng
        return {
            "kind": kind,
            "line1": locale.address_line(rng, rng.choice(locale.streets)),
            "line2": "",
            "district": rng.choice(place.districts) if place.districts else "",
            "city": place.city,
            "region": place.region,
            "postal_code": locale.postal_code(rng, place),
            "country": locale.country,
            "is_primary": True,
        }

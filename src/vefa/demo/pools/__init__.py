# ruff: noqa: E501
"""Pools of names, places and phrases that are believable in each supported locale.

One ``Locale`` per market the demo company serves: the United Kingdom and the United States
(English), Türkiye (Turkish), Serbia (Serbian, Latin and some Cyrillic) and Iran (Persian).
Phrases that staff write (interaction subjects, outcomes, activity titles …) live in one
``Texts`` per language and are shared by the locales that speak it.

Every e-mail domain is under ``example.com``/``.example`` and every UK and US phone number is in
a range reserved for fiction, so demo data never reaches a real person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from random import Random


@dataclass(frozen=True)
class Place:
    """A city with what a believable address and landline there need."""

    city: str
    region: str
    postal: str  # postal-code prefix (or the whole code where a city has one)
    landline: str  # E.164 digits (without "+") before the random subscriber part
    landline_digits: int
    districts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sector:
    """An industry: its NACE Rev. 2 and US SIC codes and the word firms put in their names."""

    nace: str
    sic: str
    names: dict[str, str]


@dataclass(frozen=True)
class Texts:
    """What staff of the demo company write, in one language."""

    language: str
    products: tuple[str, ...]
    # interaction kind → subject templates; ``{product}`` and ``{ref}`` are filled in
    subjects: dict[str, tuple[str, ...]]
    outcomes: dict[str, tuple[str, ...]]
    bodies: dict[str, tuple[str, ...]]
    # activity kind → subject templates
    activities: dict[str, tuple[str, ...]]
    job_titles: tuple[str, ...]
    hobbies: tuple[str, ...]
    sports: tuple[str, ...]
    pets: tuple[str, ...]
    consent_sources: tuple[str, ...]
    customer_notes: tuple[str, ...]
    lead_notes: tuple[str, ...]
    meeting_places: tuple[str, ...]


@dataclass(frozen=True)
class Locale:
    """A market: its people's names, its places, phone numbers and formats."""

    key: str  # e.g. "tr-TR"
    language: str  # a Vefa interface language code
    country: str  # ISO 3166-1 alpha-2
    currency: str  # ISO 4217
    weight: int  # share of customers from this market
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]
    places: tuple[Place, ...]
    streets: tuple[str, ...]
    mobile_prefixes: tuple[str, ...]  # E.164 digits; each is followed by ``mobile_digits``
    mobile_digits: int
    company_stems: tuple[str, ...]
    legal_forms: tuple[str, ...]  # templates with ``{name}``
    email_domains: tuple[str, ...]
    texts: Texts
    address_line: Callable[[Random, str], str]
    postal_code: Callable[[Random, Place], str]
    tax_number: Callable[[Random], str]
    # Latin spelling of names in another script (for e-mail addresses)
    romanized: dict[str, str] = field(default_factory=dict)
    # Share of people whose names are written in Cyrillic (Serbian only)
    cyrillic_share: float = 0.0


SECTORS: tuple[Sector, ...] = (
    Sector("49.41", "4213", {"en": "Logistics", "tr": "Lojistik", "sr": "Logistika", "fa": "حمل و نقل"}),
    Sector("10.71", "2051", {"en": "Bakeries", "tr": "Gıda", "sr": "Pekara", "fa": "صنایع غذایی"}),
    Sector("13.20", "2211", {"en": "Textiles", "tr": "Tekstil", "sr": "Tekstil", "fa": "نساجی"}),
    Sector("41.20", "1522", {"en": "Construction", "tr": "İnşaat", "sr": "Gradnja", "fa": "ساختمانی"}),
    Sector("31.01", "2521", {"en": "Office Furniture", "tr": "Ofis Mobilyaları", "sr": "Kancelarijski nameštaj", "fa": "مبلمان اداری"}),
    Sector("55.10", "7011", {"en": "Hotels", "tr": "Otelcilik", "sr": "Hoteli", "fa": "هتلداری"}),
    Sector("62.01", "7372", {"en": "Software", "tr": "Yazılım", "sr": "Softver", "fa": "نرم‌افزار"}),
    Sector("86.21", "8011", {"en": "Medical Centre", "tr": "Sağlık Hizmetleri", "sr": "Medicinski centar", "fa": "خدمات پزشکی"}),
    Sector("47.59", "5712", {"en": "Home Store", "tr": "Ev Dekorasyon", "sr": "Salon nameštaja", "fa": "لوازم خانگی"}),
    Sector("56.10", "5812", {"en": "Restaurants", "tr": "Restoran", "sr": "Restorani", "fa": "رستوران"}),
    Sector("85.59", "8299", {"en": "Academy", "tr": "Eğitim", "sr": "Akademija", "fa": "آموزشگاه"}),
    Sector("68.20", "6512", {"en": "Properties", "tr": "Gayrimenkul", "sr": "Nekretnine", "fa": "املاک"}),
    Sector("46.47", "5021", {"en": "Trading", "tr": "Dış Ticaret", "sr": "Trgovina", "fa": "بازرگانی"}),
    Sector("43.32", "1751", {"en": "Interiors", "tr": "Dekorasyon", "sr": "Enterijeri", "fa": "دکوراسیون داخلی"}),
)  # fmt: skip


def digits(rng: Random, count: int) -> str:
    """``count`` random decimal digits."""
    return str(rng.randrange(10**count)).zfill(count)


def locales() -> tuple[Locale, ...]:
    """Every market, in a fixed order (the generators depend on the order)."""
    from vefa.demo.pools.en import GB, US
    from vefa.demo.pools.fa import IR
    from vefa.demo.pools.sr import RS
    from vefa.demo.pools.tr import TR

    return (TR, GB, US, RS, IR)


def texts_for(language: str) -> Texts:
    return next(loc.texts for loc in locales() if loc.language == language)

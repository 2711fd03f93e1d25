"""The comparison columns of a customer for record linkage.

Every name goes through ``vefa.common.text.fold`` (Turkish İ/I/ı/i, Serbian Latin
diacritics, Serbian Cyrillic transliterated to Latin, Persian letter variants and digits),
then Persian letters are transliterated to Latin (``latin``), so "Мирковић", "Mirković",
"Mirkovic" and "محمد"/"Mohammad" land in one alphabet. Two extra columns make the
cross-script and typo cases comparable:

- ``name_sorted``: the Latin name with its words sorted, so "Yılmaz Ayşe" and "Ayşe Yılmaz"
  agree (first and last names swapped);
- ``name_a``, ``name_b`` (and ``skel_a``, ``skel_b``): the first sorted word and the rest,
  compared on their own so that a shared last name does not make "Ayşe Akbulut" and
  "Şerife Akbulut" look alike;
- ``name_skel``: a consonant skeleton of ``name_sorted`` (vowels, ``y``, ``w`` and ``v``
  dropped, digraphs such as ``kh``, ``sh``, ``dj`` reduced, doubled letters collapsed).
  Persian script writes no short vowels, so "محمد" (``mhmd``) and "Mohammad",
  "Muhammad", "Mohamad" all give ``mhmd``; "Đorđević", "Djordjevic" and "Dordevic" all give
  ``drdc``.

E-mails are lower-cased, phones reduced to their E.164 digits (a national number is read as
Turkish, the default region of ``vefa.customers.normalize``), tax numbers to their digits
and letters, postcodes to their digits and letters.

Words repeat (a million customers have a few thousand distinct first and last names), so
each word is folded once (``functools.lru_cache``): preparing a million rows costs seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from vefa.common.text import fold

# Persian letters (after ``fold`` unified their variants) to a plain Latin transliteration.
_PERSIAN = {
    "ا": "a", "ب": "b", "پ": "p", "ت": "t", "ث": "s", "ج": "j", "چ": "ch", "ح": "h",
    "خ": "kh", "د": "d", "ذ": "z", "ر": "r", "ز": "z", "ژ": "zh", "س": "s", "ش": "sh",
    "ص": "s", "ض": "z", "ط": "t", "ظ": "z", "ع": "", "غ": "gh", "ف": "f", "ق": "gh",
    "ک": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n", "و": "v", "ه": "h", "ی": "i",
    "ء": "", "\u200c": "",
}  # fmt: skip
_PERSIAN_TABLE = str.maketrans(_PERSIAN)
_DIGRAPHS = (
    ("kh", "h"),
    ("gh", "g"),
    ("sh", "s"),
    ("ch", "c"),
    ("zh", "z"),
    ("dj", "d"),
    ("dz", "d"),
    ("ph", "f"),
    ("q", "g"),
    ("x", "ks"),
)
_SKIP = frozenset("aeiouyvw'-. ")
_WORD = re.compile(r"[^\w]+")
_DIGITS_TABLE = str.maketrans(
    {c: str(i) for digits in ("۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩") for i, c in enumerate(digits)}
)
_NOT_DIGIT = re.compile(r"\D+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
# Legal forms that say nothing about which organisation it is (on folded text).
_LEGAL_FORMS = re.compile(
    r"(?:^|\s)(?:a\.?\s?s\.?|ltd\.?\s?sti\.?|ltd\.?|sti\.?|d\.?\s?o\.?\s?o\.?|a\.?\s?d\.?"
    r"|inc\.?|llc|gmbh|co\.|sirketi|شرکت|سهامی|خاص)(?=\s|$)"
)

COLUMNS = (
    "unique_id",
    "kind",
    "first_name",
    "last_name",
    "name_sorted",
    "name_skel",
    "name_a",
    "name_b",
    "skel_a",
    "skel_b",
    "email",
    "email_user",
    "phone",
    "tax_number",
    "birth_date",
    "city",
    "postcode",
)


@lru_cache(maxsize=200_000)
def latin_word(word: str) -> str:
    """One folded word in Latin letters (Persian transliterated)."""
    return word.translate(_PERSIAN_TABLE)


@lru_cache(maxsize=200_000)
def skeleton_word(word: str) -> str:
    """The consonant skeleton of one Latin word (see the module's description)."""
    text = word
    for pair, single in _DIGRAPHS:
        text = text.replace(pair, single)
    out: list[str] = []
    for ch in text:
        if ch in _SKIP or (out and out[-1] == ch):
            continue
        out.append(ch)
    return "".join(out)


@lru_cache(maxsize=200_000)
def _latin_words(text: str) -> tuple[str, ...]:
    return tuple(latin_word(w) for w in _WORD.split(fold(text)) if w)


def latin(text: str | None) -> str:
    """``text`` folded and in Latin letters, words separated by one space."""
    if not text:
        return ""
    return " ".join(_latin_words(text))


@lru_cache(maxsize=200_000)
def name_keys(text: str, *, organisation: bool = False) -> tuple[str, str]:
    """``(name_sorted, name_skel)`` of a whole name."""
    if organisation and text:
        text = _LEGAL_FORMS.sub(" ", fold(text)).strip() or text
    words = sorted(w for w in _latin_words(text) if w) if text else []
    # Sorted on their own: a word may sort elsewhere once its vowels are gone ("ali" and
    # the Persian "علی", whose first letter has no Latin sound, give "l" either way).
    skeletons = sorted(s for s in (skeleton_word(w) for w in words) if s)
    return " ".join(words), " ".join(skeletons)


def phone_key(value: str | None, default_country: str = "90") -> str:
    """The E.164 digits of a phone number ("+90 (532) 111-22-33" → "905321112233")."""
    if not value:
        return ""
    text = value.strip().translate(_DIGITS_TABLE)
    digits = _NOT_DIGIT.sub("", text)
    if not digits:
        return ""
    if text.startswith("+"):
        return digits
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0"):
        return default_country + digits[1:]
    if len(digits) == 10:  # a national number written without its leading 0
        return default_country + digits
    return digits


@lru_cache(maxsize=400)
def calling_code(country: str | None) -> str:
    """The calling code of a country ("RS" → "381"), Turkey's when unknown."""
    import phonenumbers

    code = phonenumbers.country_code_for_region((country or "TR").upper())
    return str(code or 90)


def email_key(value: str | None) -> str:
    return (value or "").strip().lower()


def code_key(value: str | None) -> str:
    """Tax numbers and postcodes: digits and letters only, folded."""
    if not value:
        return ""
    text = value.translate(_DIGITS_TABLE)
    return _NOT_ALNUM.sub("", text.lower() if text.isascii() else fold(text))


def _blank(value: str) -> str | None:
    return value or None


def prepare(row: Mapping[str, Any]) -> dict[str, Any]:
    """The comparison columns of one customer row.

    ``row`` has ``id``, ``kind`` ("person" or "organisation"), ``first_name``,
    ``last_name``, ``display_name``, ``email``, ``phone`` (a national number is read in
    ``country``, Turkey when empty), ``tax_number``, ``birth_date`` (ISO text or empty),
    ``city`` and ``postcode``. Empty values become nulls, which the
    model treats as "unknown" rather than "different".
    """
    kind = str(row.get("kind") or "person")
    organisation = kind == "organisation"
    first = latin(row.get("first_name"))
    last = latin(row.get("last_name"))
    if organisation or not (first or last):
        whole = str(row.get("display_name") or "")
    else:
        whole = f"{row.get('first_name') or ''} {row.get('last_name') or ''}"
    name_sorted, name_skel = name_keys(whole, organisation=organisation)
    name_a, _, name_b = name_sorted.partition(" ")
    skel_a, _, skel_b = name_skel.partition(" ")
    email = email_key(row.get("email"))
    birth = row.get("birth_date")
    return {
        "unique_id": int(row["id"]),
        "kind": kind,
        "first_name": _blank(first),
        "last_name": _blank(last),
        "name_sorted": _blank(name_sorted),
        "name_skel": _blank(name_skel),
        "name_a": _blank(name_a),
        "name_b": _blank(name_b),
        "skel_a": _blank(skel_a),
        "skel_b": _blank(skel_b),
        "email": _blank(email),
        "email_user": _blank(email.partition("@")[0]),
        "phone": _blank(phone_key(row.get("phone"), calling_code(row.get("country")))),
        "tax_number": _blank(code_key(row.get("tax_number"))),
        "birth_date": _blank(str(birth)[:10] if birth else ""),
        "city": _blank(latin(row.get("city"))),
        "postcode": _blank(code_key(row.get("postcode"))),
    }


def prepare_columns(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """``prepare`` over many rows, as columns (ready for ``pyarrow.table``)."""
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    appenders = [(name, columns[name].append) for name in COLUMNS]
    for row in rows:
        prepared = prepare(row)
        for name, append in appenders:
            append(prepared[name])
    return columns

"""Text folding for search and duplicate keys, aware of Turkish, Serbian and Persian.

``fold`` maps the many ways a user may type the same word onto one form:
- case, including Turkish İ/I/ı/i (all become ``i``) and ş ğ ç ö ü;
- Serbian Latin č ć đ š ž and Serbian Cyrillic (transliterated to Latin first);
- Persian/Arabic letter variants (ي/ی, ك/ک, ى, ة, أ إ آ), diacritics, tatweel, ZWNJ;
- Persian (۰–۹) and Arabic-Indic (٠–٩) digits to ASCII digits.
The function is idempotent: ``fold(fold(s)) == fold(s)``.
"""

from __future__ import annotations

import re
import unicodedata

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "đ", "е": "e", "ж": "ž",
    "з": "z", "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n",
    "њ": "nj", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "ć", "у": "u",
    "ф": "f", "х": "h", "ц": "c", "ч": "č", "џ": "dž", "ш": "š",
}  # fmt: skip

_SINGLE = {
    # Persian / Arabic letter variants
    "ي": "ی", "ى": "ی", "ئ": "ی", "ك": "ک", "ة": "ه", "ۀ": "ه", "أ": "ا", "إ": "ا",
    "آ": "ا", "ٱ": "ا", "ؤ": "و",
    # Latin letters that do not decompose
    "đ": "dj", "ı": "i", "ø": "o", "ł": "l", "ß": "ss", "æ": "ae", "œ": "oe",
}  # fmt: skip

_DIGITS: dict[int, str] = {ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")}
_DIGITS.update({ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")})

# Arabic harakat, superscript alef, tatweel, zero-width (non-)joiners, bidi marks.
_DROP = re.compile("[\u064b-\u065f\u0670\u0640\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"\s+")
_TRANSLATE = str.maketrans({**{ord(k): v for k, v in _SINGLE.items()}, **_DIGITS})
_CYRILLIC_TABLE = str.maketrans({ord(k): v for k, v in _CYRILLIC.items()})


def fold(value: str | None) -> str:
    """Fold ``value`` for matching: lower case, no diacritics, unified script variants."""
    if not value:
        return ""
    if value.isascii():
        # Every rule below concerns letters, digits and marks outside ASCII, so plain ASCII
        # (e-mail addresses, phone numbers, most codes) only needs lower case and spaces.
        return _SPACES.sub(" ", value.lower()).strip()
    return _fold_any(value)


def _fold_any(value: str) -> str:
    """``fold`` of any text, ASCII or not (``fold`` takes a short cut for ASCII)."""
    # Turkish capitals first: "İ".lower() would leave a combining dot behind.
    text = value.replace("İ", "i").replace("I", "i")
    text = text.lower()
    text = text.translate(_CYRILLIC_TABLE)
    text = _DROP.sub("", text)
    text = text.translate(_TRANSLATE)
    text = unicodedata.normalize("NFKD", text)
    # Drop Latin combining marks (č→c, ş→s …) but keep Arabic-script letters intact.
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text).casefold()
    text = text.translate(_TRANSLATE)
    return _SPACES.sub(" ", text).strip()


def tokens(value: str | None) -> list[str]:
    """The folded words of ``value`` (letters and digits), for prefix search."""
    return [t for t in re.split(r"[^\w@.+-]+", fold(value)) if t]


# A spreadsheet reads a cell beginning with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str) -> str:
    """``text`` as a spreadsheet shows it, never runs it: a leading apostrophe before a first
    character that starts a formula. Every file Vefa writes for spreadsheets (exports, error
    reports, print files, analytics tables) passes its text cells through this."""
    if text.startswith(FORMULA_START):
        return "'" + text
    return text

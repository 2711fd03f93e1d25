"""Duplicate matching without the database: the comparable forms of names, e-mails, phones,
tax numbers and addresses, the blocking keys built from them, and the similarity score.

Names are folded with ``vefa.common.text.fold`` (Turkish İ/ı/ş/ğ/ç/ö/ü, Serbian Cyrillic →
Latin with đ → dj, Persian/Arabic letter variants, ZWNJ and diacritics) and then written in
Latin letters (``latin``): a Persian name becomes a consonant-heavy Latin spelling, because
Persian script does not write short vowels. The *skeleton* of a word (``skeleton``) drops
the vowels and merges letters that transliterations spell differently (q/gh → g, kh → h, w →
v, doubled letters), so "Mohammad Rezaei", "Muhamad Rezayi" and "محمد رضایی" share one.

Blocking keys are short strings stored per record (``vefa.quality.models.MatchKey``); a
record typed in finds its candidates by looking its own keys up, so only a few dozen
records are scored however large the database grows. Each key has a prefix naming its kind:

==========  =========================================================================
``n:``      the folded, Latin name tokens in sorted order (word order does not matter)
``k:``      the skeletons of the name tokens, sorted (vowel typos, transliteration)
``f:``      the first three letters of each name token, sorted (typos after the third)
``i:``      one name token whole and the initials of the others (a typo in the others)
``e:``      the normalised e-mail address
``l:``      the e-mail's local part without ``+tag`` and dots (the domain mistyped)
``p:``      the phone number's E.164 digits
``x:``      the tax number's letters and digits
``a:``      the postal code and the longest word of the street line
==========  =========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from vefa.common.text import fold
from vefa.customers.normalize import normalize_email, normalize_phone

MAX_KEY = 120
# Persian letters (after ``fold``) in Latin letters. ع is written as a vowel or not at all in
# Latin spellings (skeletons drop it either way), ء not at all; ق and غ are both gh or q.
_PERSIAN_LATIN = {
    "ا": "a", "ب": "b", "پ": "p", "ت": "t", "ث": "s", "ج": "j", "چ": "ch", "ح": "h",
    "خ": "kh", "د": "d", "ذ": "z", "ر": "r", "ز": "z", "ژ": "zh", "س": "s", "ش": "sh",
    "ص": "s", "ض": "z", "ط": "t", "ظ": "z", "ع": "a", "غ": "gh", "ف": "f", "ق": "gh",
    "ک": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n", "و": "v", "ه": "h", "ی": "y",
    "ء": "", "ّ": "",
}  # fmt: skip
_PERSIAN_TABLE = str.maketrans(_PERSIAN_LATIN)
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")
_WORD = re.compile(r"[^\w]+")
# Spellings that transliterations (and Turkish/Serbian folding) write differently.
_SKELETON_PAIRS = (
    ("sh", "s"), ("ch", "c"), ("zh", "j"), ("kh", "h"), ("gh", "g"), ("ph", "f"),
    ("dj", "j"), ("q", "g"), ("w", "v"), ("x", "ks"),
)  # fmt: skip
_VOWELS = re.compile("[aeiouy]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_REPEATS = re.compile(r"(.)\1+")
# Words of company names that say nothing about which company it is.
LEGAL_WORDS = frozenset({
    "ltd", "sti", "as", "anonim", "limited", "sirketi", "sirket", "ticaret", "sanayi", "ve",
    "tic", "san", "inc", "llc", "gmbh", "doo", "ad", "co", "company", "corp", "corporation",
    "plc", "srl", "sa", "sas", "bv", "ag", "kg", "the", "and", "sherkat", "sherkate",
})  # fmt: skip
# Words of street lines that many unrelated addresses share.
STREET_WORDS = frozenset({
    "caddesi", "cadde", "cad", "sokak", "sokagi", "sok", "mahallesi", "mahalle", "mah",
    "bulvari", "bulvar", "apartmani", "apt", "street", "road", "avenue", "lane", "ulica",
    "ul", "bulevar", "trg", "khyaban", "kvchh", "kvche", "kuche", "khiaban",
})  # fmt: skip
# Local parts of e-mail addresses that many unrelated records share.
GENERIC_LOCAL = frozenset({
    "info", "contact", "office", "sales", "admin", "mail", "email", "iletisim", "bilgi",
    "satis", "muhasebe", "kontakt", "prodaja", "support", "destek", "hello", "noreply",
    "no-reply",
})  # fmt: skip


def latin(value: str | None) -> str:
    """``value`` folded and written in Latin letters (Persian transliterated)."""
    text = fold(value)
    if _ARABIC_SCRIPT.search(text):
        text = text.translate(_PERSIAN_TABLE)
    return text


def has_arabic_script(value: str | None) -> bool:
    return bool(value and _ARABIC_SCRIPT.search(value))


def name_tokens(value: str | None, *, organisation: bool = False) -> list[str]:
    """The Latin words of a name; for an organisation without its legal-form words."""
    text = latin(value).replace("_", " ")
    if organisation:
        text = text.replace(".", "")  # "A.Ş.", "Ltd." and "d.o.o." as one word each
    words = [w for w in _WORD.split(text) if w]
    if organisation:
        kept = [w for w in words if w not in LEGAL_WORDS]
        words = kept or words
    return words


def skeleton(word: str) -> str:
    """The consonants of a Latin word, with spelling variants merged and repeats collapsed."""
    text = word
    for a, b in _SKELETON_PAIRS:
        text = text.replace(a, b)
    # A Persian name ends in ه where Latin writes "e" or "eh": a final h is dropped.
    if len(text) > 2:
        text = re.sub(r"h$", "", text)
    text = _VOWELS.sub("", text)
    return _REPEATS.sub(r"\1", text)


def email_parts(value: str | None) -> tuple[str, str]:
    """The comparable e-mail address and its local part without ``+tag`` and dots."""
    text = (value or "").strip().lower()
    if not text or "@" not in text:
        return "", ""
    try:
        text = normalize_email(text)
    except ValueError:
        text = text[:254]
    local, _, domain = text.rpartition("@")
    if not local or not domain:
        return "", ""
    return text, local.split("+", 1)[0].replace(".", "")


def phone_digits(value: str | None, region: str | None = None) -> str:
    """The E.164 digits of a phone number; the bare digits when it is not valid."""
    text = (value or "").strip()
    if not text:
        return ""
    if _E164.match(text):
        # Stored numbers are E.164 already: parsing them again is the slowest part of a check.
        return text[1:]
    try:
        return normalize_phone(text, region or None).value.lstrip("+")
    except ValueError:
        digits = "".join(ch for ch in fold(text) if ch.isdigit())
        return digits if len(digits) >= 7 else ""


def tax_key(value: str | None) -> str:
    text = "".join(ch for ch in fold(value) if ch.isalnum()).upper()
    return text if len(text) >= 5 else ""


def address_key(postal_code: str | None, street: str | None) -> str:
    """Postal code and the longest word of the street line (house numbers left out)."""
    code = "".join(ch for ch in fold(postal_code) if ch.isalnum())
    words = [
        w
        for w in name_tokens(street)
        if len(w) >= 3 and not any(c.isdigit() for c in w) and w not in STREET_WORDS
    ]
    if not code or not words:
        return ""
    return f"{code}:{max(words, key=lambda w: (len(w), w))}"


@dataclass
class Profile:
    """What one record (stored, or being typed in) offers for matching."""

    names: list[str] = field(default_factory=list)  # full names as typed
    organisation_names: list[str] = field(default_factory=list)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)  # E.164 digits
    tax: str = ""
    address: str = ""

    def all_names(self) -> list[tuple[str, bool]]:
        return [(n, False) for n in self.names if n.strip()] + [
            (n, True) for n in self.organisation_names if n.strip()
        ]

    @property
    def locals(self) -> set[str]:
        return {email_parts(e)[1] for e in self.emails} - {""}


def profile_of(
    *,
    first_name: str = "",
    last_name: str = "",
    names: Sequence[str] = (),
    organisation_names: Sequence[str] = (),
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    tax_number: str = "",
    postal_code: str = "",
    street: str = "",
    region: str | None = None,
) -> Profile:
    """A profile from raw field values (e-mails and phones are normalised here)."""
    person = " ".join(p for p in (first_name.strip(), last_name.strip()) if p)
    all_names = [n for n in [person, *names] if n and n.strip()]
    return Profile(
        names=list(dict.fromkeys(all_names)),
        organisation_names=[n for n in dict.fromkeys(organisation_names) if n and n.strip()],
        emails={email_parts(e)[0] for e in emails} - {""},
        phones={phone_digits(p, region) for p in phones} - {""},
        tax=tax_key(tax_number),
        address=address_key(postal_code, street),
    )


def _cut(key: str) -> str:
    return key[:MAX_KEY]


def blocking_keys(profile: Profile) -> list[str]:
    """The blocking keys of a profile, the most selective first, without repeats."""
    keys: list[str] = []
    keys += [f"e:{e}" for e in sorted(profile.emails)]
    keys += [f"p:{p}" for p in sorted(profile.phones)]
    if profile.tax:
        keys.append(f"x:{profile.tax}")
    keys += [
        f"l:{local}"
        for local in sorted(profile.locals)
        if len(local) >= 4 and local not in GENERIC_LOCAL
    ]
    if profile.address:
        keys.append(f"a:{profile.address}")
    for name, organisation in profile.all_names():
        words = [w for w in name_tokens(name, organisation=organisation) if len(w) >= 2]
        if not words:
            continue
        keys.append("n:" + " ".join(sorted(words)))
        skeletons = sorted(s for s in (skeleton(w) for w in words) if s)
        if skeletons:
            keys.append("k:" + " ".join(skeletons))
        if len(words) >= 2:
            keys.append("f:" + " ".join(sorted(w[:3] for w in words)))
        if 2 <= len(words) <= 3:
            # One word whole and the others' initials: a typo anywhere in the other words.
            for k, word in enumerate(words):
                initials = "".join(sorted(w[0] for n, w in enumerate(words) if n != k))
                keys.append(f"i:{word} {initials}")
    return list(dict.fromkeys(_cut(k) for k in keys))


# --- scoring -----------------------------------------------------------------------------


def _token_jaro(a: list[str], b: list[str]) -> float:
    """For each word of the shorter name, its best Jaro-Winkler match in the other; the mean."""
    if not a or not b:
        return 0.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    best = [max(JaroWinkler.normalized_similarity(w, v) for v in long_) for w in short]
    # Words of the longer name that found no partner lower the figure.
    return sum(best) / len(long_)


def _similarity(a: list[str], b: list[str]) -> float:
    if not a or not b:
        return 0.0
    ratio = fuzz.token_sort_ratio(" ".join(a), " ".join(b))
    jaro = _token_jaro(a, b) * 100
    return max(ratio, (ratio + jaro) / 2)


def name_similarity(a: str, b: str, *, organisation: bool = False) -> int:
    """0–100: how alike two names are, across scripts, word order and small typos."""
    ta = name_tokens(a, organisation=organisation)
    tb = name_tokens(b, organisation=organisation)
    if not ta or not tb:
        return 0
    best = _similarity(ta, tb)
    # Across scripts the vowels are missing on one side: compare the skeletons, and never
    # call a transliteration "the same name".
    sa = [s for s in (skeleton(w) for w in ta) if s]
    sb = [s for s in (skeleton(w) for w in tb) if s]
    if sa and sb and has_arabic_script(a) != has_arabic_script(b):
        best = max(best, min(_similarity(sa, sb), 95.0))
    elif sa and sb and sorted(sa) == sorted(sb):
        best = max(best, min(best + 10, 95.0))
    return round(best)


@dataclass(frozen=True)
class Reason:
    code: str  # same_email, same_phone, same_tax_number, same_address, same_email_name,
    #            same_name, similar_name
    value: int | None = None  # the percentage of a similar name


@dataclass(frozen=True)
class Score:
    score: int
    reasons: tuple[Reason, ...]


def score(typed: Profile, stored: Profile) -> Score:
    """How likely ``stored`` is the record being typed in as ``typed``, 0–100, and why.

    A shared e-mail, phone or tax number is strong evidence (75 and up, up to 100 the more
    alike the names are: family members share a landline, so it alone is not enough for a
    likely duplicate); without one, the name decides, up to 80 (two people may share a
    name), helped by the same address or the same e-mail name at another domain.
    """
    reasons: list[Reason] = []
    if typed.emails & stored.emails:
        reasons.append(Reason("same_email"))
    if typed.phones & stored.phones:
        reasons.append(Reason("same_phone"))
    if typed.tax and typed.tax == stored.tax:
        reasons.append(Reason("same_tax_number"))
    strong = bool(reasons)
    similar = 0
    for name, organisation in typed.all_names():
        for other, other_org in stored.all_names():
            similar = max(
                similar, name_similarity(name, other, organisation=organisation or other_org)
            )
    if similar >= 100:
        reasons.append(Reason("same_name"))
    elif similar >= 70:
        reasons.append(Reason("similar_name", similar))
    same_address = bool(typed.address) and typed.address == stored.address
    if same_address:
        reasons.append(Reason("same_address"))
    same_local = not strong and bool(
        {x for x in typed.locals if len(x) >= 4 and x not in GENERIC_LOCAL} & stored.locals
    )
    if same_local:
        reasons.append(Reason("same_email_name"))
    if strong:
        value = 75 + max(0, similar - 50) / 2 + (5 if len(reasons) > 2 else 0)
    else:
        value = similar * 0.8 + (15 if same_address else 0) + (10 if same_local else 0)
    return Score(min(100, round(value)), tuple(reasons))

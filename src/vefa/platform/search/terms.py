"""The terms the search index stores and the terms a query looks for.

Both sides go through ``vefa.common.text.fold`` so "istanbul" finds "İSTANBUL", "djordje" finds
"Ђорђе" and "علی" finds "علي". A term is a run of letters, digits and ``@ . + - _``; a
compound term such as an e-mail address is stored whole *and* as its parts, so
``ayse.kaya@example.com`` is found by "ayse.kaya@", "kaya" and "example".

Access terms start with ``~``, a character no text term can contain, so a word typed into a
note can never pose as an access term.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from vefa.common.text import fold

ACCESS_MARK = "~"
# Characters inside a term besides letters and digits; every backend's tokenizer keeps them.
TERM_CHARS = "@.+-_"
MAX_TERM_LENGTH = 60
MAX_TERMS = 300
MAX_QUERY_TERMS = 8
MAX_QUERY_LENGTH = 200

# Words folded and split into terms, remembered per process: enough for the names, cities and
# phrases that repeat, small enough that a bulk import of unique e-mails and phone numbers
# keeps its memory flat (each entry is a few hundred bytes).
WORD_CACHE = 32_768

_SPLIT = re.compile(r"[^\w@.+\-]+")
_PARTS = re.compile(r"[@.+\-_]+")


@lru_cache(maxsize=WORD_CACHE)
def _fold_word(word: str) -> str:
    return fold(word)


def fold_text(text: str) -> str:
    """``fold(text)``, word by word through a cache (names and phrases repeat a lot).

    Folding never joins or reorders words, so folding each whitespace-separated word and
    joining them gives exactly ``fold(text)``; the cache makes bulk indexing several times
    faster.
    """
    folded = (_fold_word(w) if len(w) <= 64 else fold(w) for w in text.split())
    return " ".join(f for f in folded if f)


def _split(folded: str) -> list[str]:
    return [t for t in _SPLIT.split(folded) if t]


def _terms_of_word(word: str) -> tuple[str, ...]:
    """The terms one whitespace-separated word gives: its folded tokens, each followed by
    its parts when it is a compound (``ali.veli@x.com`` → itself, ali, veli, x, com)."""
    out: list[str] = []
    for token in _split(_fold_word(word) if len(word) <= 64 else fold(word)):
        token = token[:MAX_TERM_LENGTH]
        out.append(token)
        if not token.isalnum():
            out.extend(part for part in _PARTS.split(token) if part)
    return tuple(out)


# Words repeat a lot (names, cities, phrases), so their terms are cached.
_cached_terms_of_word = lru_cache(maxsize=WORD_CACHE)(_terms_of_word)


def index_terms(*texts: str) -> list[str]:
    """The distinct folded terms of ``texts``, in order, bounded in number and length."""
    seen: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        for word in text.split():
            terms = _cached_terms_of_word(word) if len(word) <= 64 else _terms_of_word(word)
            seen.update(dict.fromkeys(terms))
            if len(seen) >= MAX_TERMS:
                return list(seen)[:MAX_TERMS]
    return list(seen)


def query_terms(query: str | None) -> list[str]:
    """The folded terms of what the user typed; each is matched as a prefix.

    Punctuation at the ends of a word (``"ali."``, ``"-veli"``) is dropped, a leading ``+`` of
    a phone number is kept.
    """
    seen: dict[str, None] = {}
    for token in _split(fold((query or "")[:MAX_QUERY_LENGTH])):
        leading_plus = token.startswith("+")
        token = token.strip("@.+-_")
        if leading_plus and token:
            token = "+" + token
        token = token[:MAX_TERM_LENGTH]
        if token:
            seen.setdefault(token, None)
    return list(seen)[:MAX_QUERY_TERMS]


def access_terms(model_key: str, owner_ids: Iterable[int], team_ids: Iterable[int]) -> list[str]:
    """Who may find a record of ``model_key``: its owners and its teams.

    The index puts the model's code in front of every term (see ``backends``), so the same
    owner term of two models never mixes.
    """
    terms = [f"{ACCESS_MARK}o{int(pk)}" for pk in sorted(set(owner_ids))]
    terms += [f"{ACCESS_MARK}t{int(pk)}" for pk in sorted(set(team_ids))]
    return terms


def owner_term(user_id: int) -> str:
    return f"{ACCESS_MARK}o{int(user_id)}"


def team_term(team_id: int) -> str:
    return f"{ACCESS_MARK}t{int(team_id)}"

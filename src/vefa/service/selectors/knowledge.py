"""Reads of the knowledge base: search, suggestions for a ticket, the public article.

Every translation keeps ``search_text``: its folded title on the first line and its folded
text after it (``vefa.common.text.fold``), so "istanbul" finds "İSTANBUL", "cevapcici" finds
"ćevapčići" and a Persian word typed with Arabic letter variants finds the Persian one.

A search matches translations containing every folded word of the query, in any language;
each article appears once, in the asked language when that text matches. Results are ranked
by matches in the title, then in the text, then by the asked language and by popularity.
Suggestions for a ticket match *any* word of the ticket (subject, category path, first
message) and rank by how many distinct words matched.

Agents (any role: ``POLICIES["service.article"]`` lets everyone read) see internal and public
published articles; the portal and the public pages (``public_only``) see public published
ones only. The article list page reads drafts and archived ones too, through ``restrict``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from vefa.accounts.access import restrict
from vefa.common.errors import NotFound
from vefa.common.paging import Page, keyset_page
from vefa.common.text import tokens
from vefa.service.choices import ArticleStatus, ArticleVisibility
from vefa.service.models import Article, ArticleTranslation, TicketMessage

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.service.models import Ticket

# Words shorter than this are ignored (they match almost every text).
MIN_WORD = 2
# Suggestions look at most at this many distinct words of a ticket.
MAX_SUGGESTION_WORDS = 16
# How many matching translations are ranked in Python for one search.
CANDIDATES = 300
MAX_LIMIT = 50
MAX_QUERY = 200

# Common words of the four languages that say nothing about a ticket's topic.
_STOP = """
    the and for with that this from have not are was but you your our can any
    bir ve ile icin bu da de mi ne ama cok gibi daha olan var yok
    je da se na za od sa ili ali kao sto nije bi su
    از به با در که این را برای تا یا هم ان
"""
STOP_WORDS = frozenset(_STOP.split())


def _words(text: str, *, limit: int | None = None) -> list[str]:
    seen: dict[str, None] = {}
    for word in tokens(text[: MAX_QUERY * 10]):
        word = word.strip(".+-@")
        if len(word) >= MIN_WORD and word not in seen:
            seen[word] = None
        if limit is not None and len(seen) >= limit:
            break
    return list(seen)


def _visible(*, public_only: bool) -> QuerySet[ArticleTranslation]:
    qs = ArticleTranslation.objects.filter(article__status=ArticleStatus.PUBLISHED)
    if public_only:
        qs = qs.filter(article__visibility=ArticleVisibility.PUBLIC)
    return qs.select_related("article")


@dataclass
class _Hit:
    translation: ArticleTranslation
    title: int
    body: int
    language: bool


def _split(search_text: str) -> tuple[str, str]:
    title, _sep, body = search_text.partition("\n")
    return title, body


def _rank(
    candidates: list[ArticleTranslation], words: list[str], language: str, limit: int
) -> list[ArticleTranslation]:
    best: dict[int, _Hit] = {}
    for translation in candidates:
        title, body = _split(translation.search_text)
        hit = _Hit(
            translation,
            title=sum(1 for w in words if w in title),
            body=sum(1 for w in words if w in body),
            language=translation.language == language,
        )
        current = best.get(translation.article_id)
        if current is None or _key(hit) > _key(current):
            best[translation.article_id] = hit
    ordered = sorted(
        best.values(),
        key=lambda h: (*_key(h), h.translation.article.helpful_count, -h.translation.article_id),
        reverse=True,
    )
    return [h.translation for h in ordered[:limit]]


def _key(hit: _Hit) -> tuple[int, int, int]:
    # The asked language wins over another only when both match equally well.
    return (hit.title, hit.body, 1 if hit.language else 0)


def _limit(value: Any, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(1, min(number, MAX_LIMIT))


def article_search(
    *, query: str, language: str, public_only: bool, limit: int = 10
) -> list[ArticleTranslation]:
    """Published translations containing every word of ``query``, best first, one per article."""
    words = _words(query or "")
    if not words:
        return []
    qs = _visible(public_only=public_only)
    for word in words:
        qs = qs.filter(search_text__contains=word)
    candidates = list(qs.order_by("-article_id", "id")[:CANDIDATES])
    return _rank(candidates, words, language or "", _limit(limit, 10))


def _ticket_text(ticket: Ticket) -> str:
    parts = [ticket.subject or ""]
    if ticket.category_id is not None and ticket.category is not None:
        parts.append(ticket.category.path or ticket.category.name)
    first = TicketMessage.objects.filter(ticket_id=ticket.pk).order_by("id").values("body").first()
    if first is not None:
        parts.append(first["body"] or "")
    elif ticket.description:
        parts.append(ticket.description)
    return "\n".join(parts)


def article_suggestions(
    *, ticket: Ticket, language: str, limit: int = 5
) -> list[ArticleTranslation]:
    """Published articles (internal and public) that share words with the ticket."""
    words = [
        w
        for w in _words(_ticket_text(ticket), limit=MAX_SUGGESTION_WORDS * 3)
        if w not in STOP_WORDS and len(w) >= 3 and not w.isdigit()
    ][:MAX_SUGGESTION_WORDS]
    if not words:
        return []
    condition = Q()
    for word in words:
        condition |= Q(search_text__contains=word)
    qs = _visible(public_only=False).filter(condition)
    candidates = list(qs.order_by("-article_id", "id")[:CANDIDATES])
    ranked = _rank(candidates, words, language or "", len(candidates))
    # Distinct words matched anywhere first, then the title and text counts of ``_rank``.
    scored = sorted(
        ranked,
        key=lambda t: sum(1 for w in words if w in t.search_text),
        reverse=True,
    )
    return scored[: _limit(limit, 5)]


def public_article_get(*, slug: str, language: str) -> ArticleTranslation:
    """A public, published article's text in ``language`` (else English, else any)."""
    if not isinstance(slug, str) or not re.fullmatch(r"[-a-zA-Z0-9_]{1,120}", slug):
        raise NotFound(_("Not found."))
    translations = list(_visible(public_only=True).filter(article__slug=slug).order_by("language"))
    if not translations:
        raise NotFound(_("Not found."))
    return _pick_language(translations, language)


def _pick_language(translations: list[ArticleTranslation], language: str) -> ArticleTranslation:
    by_language = {t.language: t for t in translations}
    for code in (language, (language or "").split("-")[0], "en"):
        if code in by_language:
            return by_language[code]
    return translations[0]


# --- the staff pages ----------------------------------------------------------------------


def article_list(
    *,
    actor: User,
    query: str = "",
    status: str = "",
    visibility: str = "",
    cursor: str | None = None,
    limit: int = 25,
) -> Page[Article]:
    """The article list page: newest changes first, optionally narrowed by status,
    visibility and words of any translation (drafts and archived ones included)."""
    qs = restrict(Article.objects.all(), actor, "view")
    if status in ArticleStatus.values:
        qs = qs.filter(status=status)
    if visibility in ArticleVisibility.values:
        qs = qs.filter(visibility=visibility)
    words = _words(query or "")
    for word in words:
        qs = qs.filter(
            pk__in=ArticleTranslation.objects.filter(search_text__contains=word).values(
                "article_id"
            )
        )
    return keyset_page(
        qs.prefetch_related("translations"),
        ordering="-updated_at",
        cursor=cursor,
        size=_limit(limit, 25),
    )


def article_get(*, actor: User, pk: Any) -> Article:
    """One article with its translations, if ``actor`` may see the knowledge base."""
    from vefa.customers.services._common import get_visible

    return get_visible(
        Article.objects.select_related("category").prefetch_related("translations"),
        actor=actor,
        pk=pk,
    )


def article_text(article: Article, language: str) -> ArticleTranslation | None:
    """The translation to show on a page: the asked language, else English, else any."""
    translations = list(article.translations.all())
    if not translations:
        return None
    translations.sort(key=lambda t: t.language)
    return _pick_language(translations, language)

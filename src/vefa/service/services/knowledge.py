"""Writes of the knowledge base: articles with one text per language, views and votes.

An article has an address (``slug``), a visibility (internal: agents only; public: also the
portal and the public pages), a status (draft, published, archived) and up to one text per
language of ``settings.LANGUAGES``. The article text is plain text with paragraphs and line
breaks ("Markdown-lite"); ``render_article_body`` shows it escaped, never as HTML.

The reads (``article_search``, ``article_suggestions``, ``public_article_get``) live in
``vefa.service.selectors.knowledge`` and are importable from here as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create
from vefa.common.errors import Conflict
from vefa.common.text import fold
from vefa.customers.services._common import (
    as_pk,
    as_text,
    denied,
    get_for,
    invalid,
    not_found,
)
from vefa.platform.records import record_create, record_delete, record_update
from vefa.service.choices import ArticleStatus, ArticleVisibility
from vefa.service.models import Article, ArticleTranslation, Category
from vefa.service.selectors.knowledge import (
    article_search,
    article_suggestions,
    public_article_get,
)

if TYPE_CHECKING:
    from vefa.accounts.models import User

__all__ = [
    "LANGUAGE_CODES",
    "article_create",
    "article_helpful",
    "article_search",
    "article_suggestions",
    "article_update",
    "article_viewed",
    "public_article_get",
    "render_article_body",
    "translation_search_text",
]

LANGUAGE_CODES: tuple[str, ...] = tuple(code for code, _name in settings.LANGUAGES)
MAX_BODY = 100_000
MAX_TITLE = 300
MAX_TAGS = 20
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FIELDS = frozenset({"slug", "visibility", "status", "category", "tags", "translations"})


def translation_search_text(title: str, body: str) -> str:
    """The folded title on the first line, the folded text after it (what search reads)."""
    return f"{fold(title)}\n{fold(body)}"


def render_article_body(body: str) -> SafeString:
    """The article text as HTML: escaped, blank lines make paragraphs, line breaks ``<br>``."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", (body or "").replace("\r", ""))]
    html = "".join(
        "<p>" + "<br>".join(escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p.strip()
    )
    return mark_safe(html)  # noqa: S308 (every piece of user text above is escaped)


# --- input ----------------------------------------------------------------------------------


def _slug(value: Any) -> str:
    text = as_text(value, field="slug", max_length=120).lower()
    if not text:
        raise invalid({"slug": [_("This field is required.")]})
    if not _SLUG.match(text):
        raise invalid(
            {"slug": [_("Use lower-case letters, digits and hyphens, e.g. reset-password.")]}
        )
    return text


def _choice(value: Any, field: str, choices: list[str], default: str) -> str:
    if value is None or value == "":
        return default
    if not isinstance(value, str) or value not in choices:
        raise invalid({field: [_("Choose a valid option.")]})
    return value


def _category(value: Any) -> Category | None:
    if value is None or value == "":
        return None
    try:
        key = as_pk(value)
    except Exception:
        raise invalid({"category": [_("Choose a valid category.")]}) from None
    category = Category.objects.filter(pk=key).first()
    if category is None:
        raise invalid({"category": [_("Choose a valid category.")]})
    return category


def _tags(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise invalid({"tags": [_("Enter a list of tags.")]})
    tags = [t.strip() for t in value if t.strip()]
    if len(tags) > MAX_TAGS:
        raise invalid({"tags": [_("At most %(n)d tags.") % {"n": MAX_TAGS}]})
    return tags


def _translations(value: Any, *, required: bool) -> dict[str, tuple[str, str]]:
    """``{language: (title, body)}``; a language with neither title nor text is left out
    (on an edit: its text is removed)."""
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise invalid({"translations": [_("Expected one title and text per language.")]})
    errors: dict[str, list[str]] = {}
    result: dict[str, tuple[str, str]] = {}
    for language, item in value.items():
        if language not in LANGUAGE_CODES:
            errors[f"translations.{language}"] = [_("Unknown language.")]
            continue
        if not isinstance(item, Mapping):
            errors[f"translations.{language}"] = [_("Expected a title and a text.")]
            continue
        try:
            title = as_text(item.get("title"), field=f"title_{language}", max_length=MAX_TITLE)
            body = as_text(item.get("body"), field=f"body_{language}", max_length=MAX_BODY)
        except Exception as exc:
            errors.update(getattr(exc, "fields", {}))
            continue
        if title and not body:
            errors[f"body_{language}"] = [_("Enter the text of the article.")]
        elif body and not title:
            errors[f"title_{language}"] = [_("Enter a title.")]
        result[language] = (title, body)
    if errors:
        raise invalid(errors)
    if required and not any(title for title, _body in result.values()):
        raise invalid({"translations": [_("Write the article in at least one language.")]})
    return result


def _check_fields(data: Any) -> None:
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = [str(k) for k in data if k not in _FIELDS]
    if unknown:
        raise invalid({key: [_("Unknown field.")] for key in unknown})


def _save_translations(article: Article, texts: dict[str, tuple[str, str]], *, actor: User) -> bool:
    """Write the texts that changed; whether any did."""
    changed = False
    existing = {t.language: t for t in article.translations.all()}
    for language, (title, body) in texts.items():
        current = existing.get(language)
        if not title and not body:
            if current is not None:
                record_delete(current, actor=actor)
                changed = True
            continue
        search_text = translation_search_text(title, body)
        if current is None:
            record_create(
                ArticleTranslation(
                    article=article,
                    language=language,
                    title=title,
                    body=body,
                    search_text=search_text,
                ),
                actor=actor,
            )
            changed = True
        elif (current.title, current.body) != (title, body):
            record_update(
                current,
                actor=actor,
                data={"title": title, "body": body, "search_text": search_text},
            )
            changed = True
    return changed


# --- create and update ------------------------------------------------------------------------


def article_create(*, actor: User, data: Mapping[str, Any]) -> Article:
    """A new article with its texts. ``data``: slug, visibility, status, category (id),
    tags (list), translations ``{language: {"title": …, "body": …}}``."""
    if not can_create(actor, Article):
        raise denied()
    _check_fields(data)
    slug = _slug(data.get("slug"))
    visibility = _choice(
        data.get("visibility"),
        "visibility",
        ArticleVisibility.values,
        ArticleVisibility.INTERNAL,
    )
    status = _choice(data.get("status"), "status", ArticleStatus.values, ArticleStatus.DRAFT)
    category = _category(data.get("category"))
    tags = _tags(data.get("tags"))
    texts = _translations(data.get("translations"), required=True)
    with transaction.atomic():
        if Article.objects.filter(slug=slug).exists():
            raise invalid({"slug": [_("Another article already has this address.")]})
        article = record_create(
            Article(
                slug=slug,
                visibility=visibility,
                status=status,
                category=category,
                published_at=timezone.now() if status == ArticleStatus.PUBLISHED else None,
            ),
            actor=actor,
            tags=tags,
        )
        _save_translations(article, texts, actor=actor)
    return article


def article_update(
    *,
    actor: User,
    article_id: Any,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Article:
    """Change an article and its texts; only the keys given change."""
    _check_fields(data)
    with transaction.atomic():
        article = get_for(Article.objects.all(), actor=actor, pk=article_id, action="change")
        changes: dict[str, Any] = {}
        if "slug" in data:
            slug = _slug(data["slug"])
            if Article.objects.filter(slug=slug).exclude(pk=article.pk).exists():
                raise invalid({"slug": [_("Another article already has this address.")]})
            changes["slug"] = slug
        if "visibility" in data:
            changes["visibility"] = _choice(
                data["visibility"], "visibility", ArticleVisibility.values, article.visibility
            )
        if "status" in data:
            status = _choice(data["status"], "status", ArticleStatus.values, article.status)
            changes["status"] = status
            if status == ArticleStatus.PUBLISHED and article.published_at is None:
                changes["published_at"] = timezone.now()
        if "category" in data:
            changes["category"] = _category(data["category"])
        tags = _tags(data.get("tags"))
        texts = None
        if "translations" in data:
            texts = _translations(data["translations"], required=False)
            remaining = {t.language for t in article.translations.all()}
            for language, (title, _body) in texts.items():
                if title:
                    remaining.add(language)
                else:
                    remaining.discard(language)
            if not remaining:
                raise invalid({"translations": [_("Write the article in at least one language.")]})
        if expected_version is not None and article.version != expected_version:
            raise Conflict(
                _("This record was changed by someone else. Reload it and try again."),
                current_version=article.version,
            )
        before = article.version
        article = record_update(article, actor=actor, data=changes, tags=tags)
        texts_changed = texts is not None and _save_translations(article, texts, actor=actor)
        if texts_changed and article.version == before:
            # A change of text alone is still a new version of the article.
            Article.objects.filter(pk=article.pk).update(
                version=F("version") + 1, updated_at=timezone.now(), updated_by=actor
            )
            article.refresh_from_db()
    return article


def _public_published(article_id: Any) -> Any:
    try:
        key = as_pk(article_id)
    except Exception:
        raise not_found() from None
    return Article.objects.filter(
        pk=key, status=ArticleStatus.PUBLISHED, visibility=ArticleVisibility.PUBLIC
    )


def article_viewed(*, article_id: Any) -> None:
    """Count one view of a published article (a single UPDATE, safe under concurrency)."""
    try:
        key = as_pk(article_id)
    except Exception:
        raise not_found() from None
    Article.objects.filter(pk=key, status=ArticleStatus.PUBLISHED).update(
        view_count=F("view_count") + 1
    )


def article_helpful(*, article_id: Any) -> int:
    """Count one "this was helpful" vote for a public, published article; the new count."""
    qs = _public_published(article_id)
    if qs.update(helpful_count=F("helpful_count") + 1) == 0:
        raise not_found()
    return int(qs.values_list("helpful_count", flat=True).first() or 0)

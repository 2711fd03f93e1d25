"""API of the knowledge base under /api/v1/service/articles (conventions in
``vefa.common.api``).

Everyone with a role reads articles; agents and administrators write them
(``POLICIES["service.article"]``). Search folds the query like the pages do; ``public_only``
returns what the portal shows.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Schema
from pydantic import Field

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import (
    actor_of,
    clamp_limit,
    create_response,
    dump,
    hidden_if_denied,
    if_match_version,
    json_response,
    page_json,
    page_out,
)
from vefa.service.choices import ArticleStatus, ArticleVisibility
from vefa.service.selectors import knowledge as selectors
from vefa.service.services import knowledge as services

router = Router(tags=["service"])


class TextIn(Schema):
    title: str = Field(default="", max_length=services.MAX_TITLE)
    body: str = Field(default="", max_length=services.MAX_BODY)


class ArticleIn(Schema):
    slug: str = Field(max_length=120)
    visibility: ArticleVisibility = ArticleVisibility.INTERNAL
    status: ArticleStatus = ArticleStatus.DRAFT
    category: int | None = None
    tags: list[str] | None = None
    translations: dict[str, TextIn]


class ArticlePatch(Schema):
    slug: str | None = Field(default=None, max_length=120)
    visibility: ArticleVisibility | None = None
    status: ArticleStatus | None = None
    category: int | None = None
    tags: list[str] | None = None
    translations: dict[str, TextIn] | None = None


class TranslationOut(Schema):
    language: str
    title: str
    body: str


class ArticleOut(Schema):
    id: int
    slug: str
    visibility: str
    status: str
    category_id: int | None
    published_at: datetime.datetime | None
    view_count: int
    helpful_count: int
    translations: list[TranslationOut]
    version: int
    updated_at: datetime.datetime

    @staticmethod
    def resolve_translations(obj: Any) -> list[dict[str, str]]:
        return [
            {"language": t.language, "title": t.title, "body": t.body}
            for t in sorted(obj.translations.all(), key=lambda t: t.language)
        ]


class ArticlePageOut(Schema):
    items: list[ArticleOut]
    next_cursor: str | None
    previous_cursor: str | None


class SearchHitOut(Schema):
    article_id: int
    slug: str
    visibility: str
    language: str
    title: str
    body: str

    @staticmethod
    def resolve_slug(obj: Any) -> str:
        return str(obj.article.slug)

    @staticmethod
    def resolve_visibility(obj: Any) -> str:
        return str(obj.article.visibility)


class HelpfulOut(Schema):
    helpful_count: int


def _data(payload: Schema, *, partial: bool) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=partial)
    for key in ("visibility", "status"):
        if data.get(key) is not None:
            data[key] = str(data[key])
        elif partial:
            data.pop(key, None)
    if partial and data.get("slug") is None:
        data.pop("slug", None)
    if data.get("tags") is None:
        data.pop("tags", None)
    if data.get("translations") is None:
        data.pop("translations", None)
    return data


@router.get("/articles", response={200: ArticlePageOut, **ERRORS}, url_name="service_articles")
def article_list(
    request: HttpRequest,
    q: str = Query("", max_length=200),
    status: ArticleStatus | None = None,
    visibility: ArticleVisibility | None = None,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Articles (drafts and archived ones included), most recently changed first."""
    page = selectors.article_list(
        actor=actor_of(request),
        query=q,
        status=str(status or ""),
        visibility=str(visibility or ""),
        cursor=cursor,
        limit=clamp_limit(limit),
    )
    return json_response(page_json(page_out(page, ArticleOut)))


@router.get(
    "/articles/search",
    response={200: list[SearchHitOut], **ERRORS},
    url_name="service_article_search",
)
def article_search(
    request: HttpRequest,
    q: str = Query(..., max_length=200),
    language: str = Query("", max_length=10),
    public_only: bool = False,
    limit: int = Query(10, ge=1, le=50),
) -> HttpResponse:
    """Published articles matching every word of ``q`` (folded), best first."""
    actor_of(request)
    hits = services.article_search(query=q, language=language, public_only=public_only, limit=limit)
    return json_response([dump(SearchHitOut, hit) for hit in hits])


@router.post("/articles", response={201: ArticleOut, **ERRORS}, url_name="service_article_create")
def article_create(request: HttpRequest, payload: ArticleIn) -> HttpResponse:
    """A new article with one title and text per language (en, tr, sr-latn, fa)."""
    actor = actor_of(request)
    data = _data(payload, partial=False)

    def create() -> Any:
        with hidden_if_denied():
            created = services.article_create(actor=actor, data=data)
        return selectors.article_get(actor=actor, pk=created.pk)

    return create_response(
        request,
        create=create,
        schema=ArticleOut,
        location=lambda obj: reverse("api:service_article_detail", args=[obj.pk]),
    )


@router.get(
    "/articles/{article_id}",
    response={200: ArticleOut, **ERRORS},
    url_name="service_article_detail",
)
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_get(actor=actor_of(request), pk=article_id)
    return json_response(dump(ArticleOut, article), instance=article)


@router.patch(
    "/articles/{article_id}",
    response={200: ArticleOut, **ERRORS},
    url_name="service_article_update",
)
def article_update(request: HttpRequest, article_id: int, payload: ArticlePatch) -> HttpResponse:
    """Change an article; a language whose title and text are both empty loses its text.
    Send ``If-Match`` with the ETag you read (412 when stale)."""
    actor = actor_of(request)
    current = selectors.article_get(actor=actor, pk=article_id)
    with hidden_if_denied():
        services.article_update(
            actor=actor,
            article_id=current.pk,
            data=_data(payload, partial=True),
            expected_version=if_match_version(request, current),
        )
    fresh = selectors.article_get(actor=actor, pk=current.pk)
    return json_response(dump(ArticleOut, fresh), instance=fresh)


@router.post(
    "/articles/{article_id}/helpful",
    response={200: HelpfulOut, **ERRORS},
    url_name="service_article_helpful",
)
def article_helpful(request: HttpRequest, article_id: int) -> HttpResponse:
    """Count a "this was helpful" vote for a public, published article."""
    article = selectors.article_get(actor=actor_of(request), pk=article_id)
    return json_response({"helpful_count": services.article_helpful(article_id=article.pk)})

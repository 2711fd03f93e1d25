"""Knowledge-base pages: the list with search, one article (in the reader's language, with
the other languages one click away), the form with one text per language, and the
"was this helpful" vote of public articles."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.service.choices import ArticleStatus, ArticleVisibility
from vefa.service.forms.knowledge import ArticleForm
from vefa.service.models import Article, Category
from vefa.service.selectors import knowledge as selectors
from vefa.service.services import knowledge as services

PAGE_SIZE = 25


def _language(request: HttpRequest) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    asked = request.GET.get("lang", "")
    if asked in codes:
        return asked
    return translation.get_language() or settings.LANGUAGE_CODE


def _categories() -> list[tuple[int, str]]:
    return [
        (pk, path or name)
        for pk, path, name in Category.objects.filter(is_active=True)
        .order_by("path")
        .values_list("pk", "path", "name")[:500]
    ]


@login_required
@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    query = request.GET.get("q", "")[:200]
    status = request.GET.get("status", "")
    visibility = request.GET.get("visibility", "")
    page = selectors.article_list(
        actor=actor,
        query=query,
        status=status,
        visibility=visibility,
        cursor=request.GET.get("cursor"),
        limit=PAGE_SIZE,
    )
    language = _language(request)
    rows = [(article, selectors.article_text(article, language)) for article in page.items]
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "page": page,
        "rows": rows,
        "query": query,
        "status": status,
        "visibility": visibility,
        "statuses": ArticleStatus.choices,
        "visibilities": ArticleVisibility.choices,
        "base_query": params.urlencode(),
        "can_create": can_create(actor, Article),
        "article_base": reverse("service:article_list"),
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "service/knowledge/article_list.html#article-rows", context)
    return render(request, "service/knowledge/article_list.html", context)


@login_required
@require_GET
@hidden_as_404
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    article = selectors.article_get(actor=actor, pk=pk)
    text = selectors.article_text(article, _language(request))
    if article.status == ArticleStatus.PUBLISHED:
        services.article_viewed(article_id=article.pk)
    return render(
        request,
        "service/knowledge/article_detail.html",
        {
            "article": article,
            "text": text,
            "body": services.render_article_body(text.body) if text is not None else "",
            "translations": sorted(article.translations.all(), key=lambda t: t.language),
            "can_change": can(actor, "change", article),
            "can_vote": article.status == ArticleStatus.PUBLISHED
            and article.visibility == ArticleVisibility.PUBLIC,
        },
    )


def _render_form(request: HttpRequest, form: ArticleForm, article: Article | None) -> HttpResponse:
    return render(
        request,
        "service/knowledge/article_form.html",
        {"form": form, "article": article},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def article_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not can_create(actor, Article):
        raise NotFound(_("Not found."))
    form = ArticleForm(request.POST if request.method == "POST" else None, categories=_categories())
    if request.method == "POST" and form.is_valid():
        try:
            article = services.article_create(actor=actor, data=form.service_data())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The article was saved."))
            return HttpResponseRedirect(reverse("service:article_detail", args=[article.pk]))
    return _render_form(request, form, None)


def _initial(article: Article) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "slug": article.slug,
        "visibility": article.visibility,
        "status": article.status,
        "category": article.category_id or "",
        "version": article.version,
    }
    for text in article.translations.all():
        initial[f"title_{text.language}"] = text.title
        initial[f"body_{text.language}"] = text.body
    return initial


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    article = selectors.article_get(actor=actor, pk=pk)
    if not can(actor, "change", article):
        raise NotFound(_("Not found."))
    if request.method != "POST":
        return _render_form(
            request, ArticleForm(initial=_initial(article), categories=_categories()), article
        )
    form = ArticleForm(request.POST, categories=_categories())
    if form.is_valid():
        try:
            services.article_update(
                actor=actor,
                article_id=article.pk,
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
            )
        except Conflict as exc:
            form.add_error(None, str(exc.message))
        except PermissionDenied:
            raise NotFound(_("Not found.")) from None
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The article was saved."))
            return HttpResponseRedirect(reverse("service:article_detail", args=[article.pk]))
    return _render_form(request, form, article)


@login_required
@require_POST
@hidden_as_404
def article_helpful(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    article = selectors.article_get(actor=actor, pk=pk)
    count = services.article_helpful(article_id=article.pk)
    if is_htmx(request):
        return render(
            request,
            "service/knowledge/article_detail.html#helpful",
            {"article": article, "voted": True, "helpful_count": count, "can_vote": True},
        )
    messages.success(request, _("Thank you for your feedback."))
    return HttpResponseRedirect(reverse("service:article_detail", args=[article.pk]))


urlpatterns = [
    path("kb/", article_list, name="article_list"),
    path("kb/new/", article_create, name="article_create"),
    path("kb/<int:pk>/", article_detail, name="article_detail"),
    path("kb/<int:pk>/edit/", article_edit, name="article_edit"),
    path("kb/<int:pk>/helpful/", article_helpful, name="article_helpful"),
]

"""Pages of the platform: home, search, notifications, jobs, saved views, the change log."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vefa.accounts.models import User
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.platform import jobs, notifications, selectors, services
from vefa.platform.models import ChangeLogEntry
from vefa.platform.search import search as global_search

V = TypeVar("V", bound=Callable[..., HttpResponseBase])

SEARCH_DROPDOWN_LIMIT = 5
SEARCH_PAGE_LIMIT = 20


def actor_of(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def hidden_as_404(view: V) -> V:
    """Not found and not allowed look the same, on pages and partials alike."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except (NotFound, PermissionDenied) as exc:
            raise Http404(str(exc.message)) from exc

    return wrapper  # type: ignore[return-value]


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` address when it stays on this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- home -----------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Home: the actor's activities (overdue, today, next days) and recent customers."""
    from vefa.customers.selectors import customer_recent
    from vefa.interactions.selectors import activity_agenda

    actor = actor_of(request)
    agenda = activity_agenda(actor=actor)
    context = {
        "agenda": agenda,
        "agenda_sections": [
            ("overdue", _("Overdue"), agenda.get("overdue", [])),
            ("today", _("Today"), agenda.get("today", [])),
            ("upcoming", _("Next days"), agenda.get("upcoming", [])),
        ],
        "recent_customers": customer_recent(actor=actor, limit=10),
        "jobs": jobs.job_list(actor=actor, limit=5),
    }
    return render(request, "platform/dashboard.html", context)


# --- search ---------------------------------------------------------------------------------


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Global search: a full page, or for the navbar box (htmx) the dropdown of results."""
    query = request.GET.get("q", "")[:200]
    dropdown = is_htmx(request) and request.headers.get("HX-Target") == "global-search-results"
    if dropdown:
        # The dropdown shows no counts: only "is there more" is needed.
        results = global_search(
            actor=actor_of(request),
            query=query,
            limit_per_group=SEARCH_DROPDOWN_LIMIT,
            count_limit=SEARCH_DROPDOWN_LIMIT,
        )
    else:
        results = global_search(
            actor=actor_of(request),
            query=query,
            limit_per_group=SEARCH_PAGE_LIMIT,
            count_limit=SEARCH_PAGE_LIMIT,
        )
    context = {"results": results, "query": query}
    if dropdown:
        return render(request, "platform/search.html#dropdown", context)
    return render(request, "platform/search.html", context)


# --- notifications ----------------------------------------------------------------------------


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The actor's notifications, newest first; ``?unread=1`` for the unread only."""
    actor = actor_of(request)
    unread_only = request.GET.get("unread") == "1"
    page = notifications.notification_list(
        actor=actor, cursor=request.GET.get("cursor"), size=25, unread_only=unread_only
    )
    context = {
        "page": page,
        "unread_only": unread_only,
        "unread_count": notifications.notification_unread_count(actor=actor),
    }
    template = "platform/notifications.html"
    if is_htmx(request) and request.headers.get("HX-Target") == "notification-list":
        template += "#list"
    return render(request, template, context)


@login_required
@require_GET
def notification_badge(request: HttpRequest) -> HttpResponse:
    """The navbar link's content: "Notifications" and the unread count."""
    count = notifications.notification_unread_count(actor=actor_of(request))
    return render(
        request,
        "platform/notification_badge.html",
        {"count": count, "more": count > notifications.UNREAD_BADGE_LIMIT},
    )


@login_required
@require_POST
@hidden_as_404
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read; follow its link when asked to (``open=1``)."""
    notification = notifications.notification_mark_read(actor=actor_of(request), pk=pk)
    if request.POST.get("open") == "1" and notification.url:
        return HttpResponseRedirect(notification.url)
    if is_htmx(request):
        return render(request, "platform/notifications.html#item", {"n": notification})
    return HttpResponseRedirect(safe_next(request, reverse("platform:notifications")))


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications.notification_mark_all_read(actor=actor_of(request))
    if count:
        messages.success(request, _("All notifications are marked read."))
    return HttpResponseRedirect(safe_next(request, reverse("platform:notifications")))


# --- jobs -------------------------------------------------------------------------------------


@login_required
@require_GET
@hidden_as_404
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = jobs.job_get(actor=actor_of(request), pk=pk)
    return render(request, "platform/job_detail.html", {"job": job})


@login_required
@require_GET
@hidden_as_404
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar of a job; it polls itself every second until the job has finished."""
    job = jobs.job_get(actor=actor_of(request), pk=pk)
    return render(request, "platform/job_status.html", {"job": job})


# --- saved views ------------------------------------------------------------------------------


@login_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    """Save the list's current query string (``query``) under a name."""
    actor = actor_of(request)
    list_key = request.POST.get("list_key", "")
    fallback = reverse("platform:dashboard")
    query = request.POST.get("query", "")[:8000]
    pairs = parse_qsl(query, keep_blank_values=False)
    filters: dict[str, str] = {}
    for key, value in pairs:
        # A parameter given twice keeps its last value: views store flat filters.
        filters[key] = value
    sort = filters.get("sort", "")
    columns = [c for c in request.POST.get("columns", "").split(",") if c]
    try:
        view = services.saved_view_create(
            actor=actor,
            list_key=list_key,
            name=request.POST.get("name", ""),
            filters=filters,
            columns=columns,
            sort=sort,
            share_with_team=request.POST.get("share_with_team") in {"1", "on", "true"},
        )
    except ValidationFailed as exc:
        for field, problems in exc.fields.items():
            for problem in problems:
                messages.error(request, f"{field}: {problem}" if field != "__all__" else problem)
        return HttpResponseRedirect(safe_next(request, fallback))
    messages.success(request, _("The view “%(name)s” was saved.") % {"name": view.name})
    target = safe_next(request, fallback).split("?", 1)[0]
    return HttpResponseRedirect(f"{target}?view={view.pk}")


@login_required
@require_POST
@hidden_as_404
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.saved_view_delete(actor=actor_of(request), pk=pk)
    messages.success(request, _("The view was deleted."))
    target = safe_next(request, reverse("platform:dashboard")).split("?", 1)[0]
    return HttpResponseRedirect(target)


# --- change log -------------------------------------------------------------------------------


def _parse_date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@login_required
@require_GET
@hidden_as_404
def changelog(request: HttpRequest) -> HttpResponse:
    """Every change, newest first, for administrators; filters by type, actor, action, dates."""
    actor = actor_of(request)
    if not actor.is_admin:
        raise NotFound(_("Not found."))
    get = request.GET
    errors: dict[str, str] = {}
    model = get.get("model", "").strip()
    if model and model not in selectors.changelog_models():
        errors["model"] = _("Unknown record type.")
        model = ""
    action = get.get("action", "").strip()
    if action and action not in ChangeLogEntry.Action.values:
        errors["action"] = _("Unknown action.")
        action = ""
    actor_id: int | None = None
    if get.get("actor", "").strip():
        try:
            actor_id = int(get["actor"])
        except ValueError:
            errors["actor"] = _("Choose a person from the list.")
    object_id: int | None = None
    if get.get("object_id", "").strip():
        try:
            object_id = int(get["object_id"])
        except ValueError:
            errors["object_id"] = _("Enter a whole number.")
    date_from = _parse_date(get.get("date_from", ""))
    date_to = _parse_date(get.get("date_to", ""))
    if get.get("date_from") and date_from is None:
        errors["date_from"] = _("Enter a date as YYYY-MM-DD.")
    if get.get("date_to") and date_to is None:
        errors["date_to"] = _("Enter a date as YYYY-MM-DD.")
    filters = selectors.ChangeLogFilters(
        model=model,
        actor_id=actor_id,
        action=action,
        object_id=object_id,
        date_from=_day_start(date_from) if date_from else None,
        date_to=_day_start(date_to + datetime.timedelta(days=1)) if date_to else None,
    )
    page = selectors.changelog_list(actor=actor, filters=filters, cursor=get.get("cursor"))
    params = get.copy()
    params.pop("cursor", None)
    context = {
        "page": page,
        "errors": errors,
        "values": {
            k: get.get(k, "")
            for k in ("model", "action", "actor", "object_id", "date_from", "date_to")
        },
        "models": selectors.changelog_models(),
        "actions": ChangeLogEntry.Action.choices,
        "people": User.objects.order_by("full_name").only("pk", "full_name", "email")[:500],
        "query": params.urlencode(),
    }
    template = "platform/changelog.html"
    if is_htmx(request) and request.headers.get("HX-Target") == "changelog-results":
        template += "#results"
    return render(request, template, context, status=422 if errors else 200)


@login_required
@require_GET
@hidden_as_404
def record_changes(request: HttpRequest, label: str, pk: int) -> HttpResponse:
    """The history of one record, for whoever may view the record."""
    record, page = selectors.record_changes(
        actor=actor_of(request), label=label, pk=pk, cursor=request.GET.get("cursor")
    )
    url = getattr(record, "get_absolute_url", None)
    context = {
        "record": record,
        "record_type": record._meta.verbose_name,
        "record_url": url() if callable(url) else "",
        "page": page,
        "label": label,
    }
    template = "platform/record_changes.html"
    if is_htmx(request):
        template += "#results"
    return render(request, template, context)

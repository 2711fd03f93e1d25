"""The calendar (day, week, month) and the private ICS feed."""

from __future__ import annotations

import datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from vefa.common.errors import NotFound
from vefa.interactions import ics, selectors, services
from vefa.interactions.filters import day_start, user_zone
from vefa.interactions.models import Activity
from vefa.interactions.views._helpers import actor_of

VIEWS = ("day", "week", "month")
MAX_SPAN_DAYS = 42


def first_weekday(language: str | None = None) -> int:
    """The first day of the week for the language (0 = Monday … 6 = Sunday), from CLDR."""
    code = translation.to_locale(language or translation.get_language() or "en")
    try:
        locale = Locale.parse(code)
        if locale.territory is None:
            # "en" alone has no country; CLDR's likely subtags give the usual one (en → US).
            likely = get_global("likely_subtags").get(code) or get_global("likely_subtags").get(
                locale.language
            )
            if likely:
                locale = Locale.parse(likely)
        return int(locale.first_week_day)
    except (UnknownLocaleError, ValueError, TypeError):
        return 0


def calendar_range(
    view: str, anchor: datetime.date, week_start: int
) -> tuple[datetime.date, datetime.date]:
    """First and last day shown (inclusive) for ``view`` around ``anchor``."""
    if view == "day":
        return anchor, anchor
    start = anchor - datetime.timedelta(days=(anchor.weekday() - week_start) % 7)
    if view == "week":
        return start, start + datetime.timedelta(days=6)
    first = anchor.replace(day=1)
    next_month = (first + datetime.timedelta(days=32)).replace(day=1)
    last = next_month - datetime.timedelta(days=1)
    start = first - datetime.timedelta(days=(first.weekday() - week_start) % 7)
    end = last + datetime.timedelta(days=(week_start - last.weekday() - 1) % 7)
    return start, end


def _step(view: str, anchor: datetime.date, forward: bool) -> datetime.date:
    sign = 1 if forward else -1
    if view == "day":
        return anchor + datetime.timedelta(days=sign)
    if view == "week":
        return anchor + datetime.timedelta(days=7 * sign)
    month_index = anchor.year * 12 + anchor.month - 1 + sign
    return datetime.date(month_index // 12, month_index % 12 + 1, 1)


@login_required
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    """The user's own activities by day, week or month in their time zone."""
    actor = actor_of(request)
    zone = user_zone(actor)
    requested = request.GET.get("view", "")
    view = requested if requested in VIEWS else "week"
    today = timezone.now().astimezone(zone).date()
    try:
        anchor = datetime.date.fromisoformat(request.GET.get("date", "")[:10])
    except ValueError:
        anchor = today
    if not datetime.date(1900, 1, 1) <= anchor <= datetime.date(2999, 12, 31):
        anchor = today
    week_start = first_weekday()
    first, last = calendar_range(view, anchor, week_start)
    activities = selectors.activities_between(
        actor=actor,
        start=day_start(first, zone),
        end=day_start(last + datetime.timedelta(days=1), zone),
    )
    days: dict[datetime.date, list[Activity]] = {
        first + datetime.timedelta(days=i): [] for i in range((last - first).days + 1)
    }
    for activity in activities:
        begin = activity.start_at or activity.scheduled_at or activity.due_at
        if begin is None:
            continue
        finish = activity.end_at or begin
        local_begin = begin.astimezone(zone).date()
        # An event ending exactly at midnight does not occupy the next day.
        local_end = (finish - datetime.timedelta(microseconds=1)).astimezone(zone).date()
        day = max(local_begin, first)
        while day <= min(max(local_end, local_begin), last):
            days[day].append(activity)
            day += datetime.timedelta(days=1)
    day_list = list(days.items())
    weeks = [day_list[i : i + 7] for i in range(0, len(day_list), 7)]
    weekday_names = [d for d, _ in day_list[:7]] if view != "day" else []
    context: dict[str, Any] = {
        "view": view,
        "anchor": anchor,
        "today": today,
        "first": first,
        "last": last,
        "days": day_list,
        "weeks": weeks,
        "weekday_heads": weekday_names,
        "previous": _step(view, anchor, False).isoformat(),
        "next": _step(view, anchor, True).isoformat(),
        "now": timezone.now(),
        "views": [("day", _("Day")), ("week", _("Week")), ("month", _("Month"))],
    }
    return render(request, "interactions/calendar.html", context)


@login_required
@never_cache
@require_GET
def ics_info(request: HttpRequest) -> HttpResponse:
    """The user's private feed address, with a button that replaces it."""
    actor = actor_of(request)
    feed_url = request.build_absolute_uri(reverse("interactions:ics_feed", args=[actor.ics_token]))
    return render(request, "interactions/ics_info.html", {"feed_url": feed_url})


@login_required
@require_POST
def ics_reset(request: HttpRequest) -> HttpResponse:
    services.ics_token_reset(actor=actor_of(request))
    messages.success(
        request, _("Your calendar feed has a new address. The old address no longer works.")
    )
    return HttpResponseRedirect(reverse("interactions:ics_info"))


@require_GET
def ics_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself: no login (calendar apps cannot log in); the secret token is the key.

    A wrong token, or the token of a deactivated user, is 404.
    """
    try:
        user = selectors.ics_feed_user(token=token)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    activities = selectors.ics_feed_activities(user=user)
    text = ics.calendar_text(
        name=str(user),
        activities=activities,
        url_for=lambda a: request.build_absolute_uri(a.get_absolute_url()),
        time_zone=user.time_zone,
        language=user.language,
    )
    response = HttpResponse(text.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="vefa.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response

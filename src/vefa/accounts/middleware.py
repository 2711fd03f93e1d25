"""Per-request user settings: language, time zone, and the end of sessions that lost their user."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class UserPreferencesMiddleware:
    """Activate the signed-in user's language and time zone for each request.

    A session that still names a user who can no longer be signed in (deactivated, logged out
    everywhere, password changed) is flushed here, so nothing of it lingers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone or "UTC"))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        elif user is not None and SESSION_KEY in getattr(request, "session", {}):
            request.session.flush()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

"""Helpers of the customers pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme

from vefa.accounts.models import User
from vefa.common.errors import NotFound, PermissionDenied

V = TypeVar("V", bound=Callable[..., HttpResponse])


def actor_of(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def hidden_as_404(view: V) -> V:
    """A record the user may not see — or may see but not change, on a write — answers 404.

    Pages and htmx partials behave alike, so no surface tells "forbidden" from "missing".
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except (NotFound, PermissionDenied) as exc:
            raise Http404(str(exc.message)) from exc

    return wrapper  # type: ignore[return-value]


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` address when it stays on this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback

"""Helpers of the interactions pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from vefa.accounts.access import scope_for
from vefa.accounts.choices import Scope
from vefa.accounts.models import User
from vefa.common.errors import NotFound

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def actor_of(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def hidden_as_404(view: V) -> V:
    """A record the user may not see answers 404, on pages and partials alike."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc

    return wrapper  # type: ignore[return-value]


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def assignees_for(actor: User, current: User | None = None) -> list[tuple[int, str]]:
    """The people the actor may assign an activity to: themself first, then by scope."""
    scope = scope_for(actor, "interactions.activity", "change")
    people: list[User] = []
    if scope == Scope.ALL:
        people = list(User.objects.filter(is_active=True).only("pk", "full_name", "email")[:300])
    elif scope == Scope.TEAM and actor.team_id is not None:
        people = list(
            User.objects.filter(is_active=True, team_id=actor.team_id).only(
                "pk", "full_name", "email"
            )[:300]
        )
    choices = [(actor.pk, str(actor))]
    choices += [(u.pk, str(u)) for u in people if u.pk != actor.pk]
    if current is not None and current.pk not in {pk for pk, _ in choices}:
        choices.append((current.pk, str(current)))
    return choices

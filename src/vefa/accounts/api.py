"""API of the accounts app: who am I, colleagues and teams for pickers, one's own tokens."""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router

from vefa.accounts import selectors, services
from vefa.accounts.models import User
from vefa.accounts.schemas import (
    MeIn,
    MeOut,
    TeamOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    TokenPageOut,
    UserOut,
    UserPageOut,
)
from vefa.common.api import ErrorOut, actor_of, clamp_limit, json_response, page_out
from vefa.common.errors import ValidationFailed

router = Router(tags=["accounts"])

ERRORS: dict[int, type[ErrorOut]] = {
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
}


def _me(user: User) -> dict[str, object]:
    return MeOut(
        id=user.pk,
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        team=TeamOut(id=user.team.pk, name=user.team.name) if user.team else None,
        language=user.language,
        time_zone=user.time_zone,
        is_admin=user.is_admin,
    ).model_dump(mode="json")


@router.get("/me", response={200: MeOut, **ERRORS}, url_name="me")
def me(request: HttpRequest) -> HttpResponse:
    """The user the request is authenticated as."""
    return json_response(_me(actor_of(request)))


@router.patch("/me", response={200: MeOut, **ERRORS}, url_name="me_update")
def me_update(request: HttpRequest, payload: MeIn) -> HttpResponse:
    """Change one's own name, interface language or time zone."""
    actor = actor_of(request)
    data = payload.model_dump(exclude_unset=True)
    if any(value is None for value in data.values()):
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={k: [_("This field may not be null.")] for k, v in data.items() if v is None},
        )
    updated = services.user_update_profile(
        actor=actor,
        user=actor,
        full_name=data.get("full_name", actor.full_name),
        language=data.get("language", actor.language),
        time_zone=data.get("time_zone", actor.time_zone),
    )
    return json_response(_me(updated))


@router.get("/users", response={200: UserPageOut, **ERRORS}, url_name="user_list")
def user_list(
    request: HttpRequest,
    q: str = "",
    team: int | None = None,
    include_inactive: bool = False,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """Colleagues to assign work to, by name (inactive ones only for administrators)."""
    page = selectors.users_for_picker(
        actor=actor_of(request),
        search=q,
        team_id=team,
        include_inactive=include_inactive,
        cursor=cursor,
        size=clamp_limit(limit),
    )
    return json_response(_dump(page_out(page, UserOut)))


@router.get("/users/{user_id}", response={200: UserOut, **ERRORS}, url_name="user_detail")
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    user = selectors.user_get(actor=actor_of(request), user_id=user_id)
    return json_response(UserOut.from_orm(user).model_dump(mode="json"))


@router.get("/teams", response={200: list[TeamOut], **ERRORS}, url_name="team_list")
def team_list(request: HttpRequest) -> HttpResponse:
    teams = selectors.teams_list(actor=actor_of(request))
    return json_response([TeamOut.from_orm(t).model_dump(mode="json") for t in teams])


@router.get("/tokens", response={200: TokenPageOut, **ERRORS}, url_name="token_list")
def token_list(
    request: HttpRequest,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """One's own API tokens, newest first; keys are never shown again."""
    page = selectors.api_tokens_of(actor=actor_of(request), cursor=cursor, size=clamp_limit(limit))
    return json_response(_dump(page_out(page, TokenOut)))


@router.post("/tokens", response={201: TokenCreatedOut, **ERRORS}, url_name="token_create")
def token_create(request: HttpRequest, payload: TokenIn) -> HttpResponse:
    """Create a token for oneself; the answer holds the key, which is never shown again.

    Unlike other creates this one ignores ``Idempotency-Key``: replaying the answer would mean
    storing the key, and only its hash is ever stored.
    """
    actor = actor_of(request)
    expires_at = payload.expires_at
    if expires_at is not None and timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at, datetime.UTC)
    token, key = services.api_token_create(
        actor=actor, user=actor, name=payload.name, expires_at=expires_at
    )
    body = TokenOut.from_orm(token).model_dump(mode="json")
    body["key"] = key
    response = json_response(body, status=201)
    response["Location"] = reverse("api:token_detail", args=[token.pk])
    response["Cache-Control"] = "no-store"
    return response


@router.get("/tokens/{token_id}", response={200: TokenOut, **ERRORS}, url_name="token_detail")
def token_detail(request: HttpRequest, token_id: int) -> HttpResponse:
    token = selectors.api_token_get(actor=actor_of(request), token_id=token_id)
    return json_response(TokenOut.from_orm(token).model_dump(mode="json"))


@router.delete("/tokens/{token_id}", response={204: None, **ERRORS}, url_name="token_revoke")
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of one's own tokens at once (revoking twice is harmless)."""
    actor = actor_of(request)
    token = selectors.api_token_get(actor=actor, token_id=token_id)
    services.api_token_revoke(actor=actor, token=token)
    return HttpResponse(status=204)


def _dump(page: dict[str, object]) -> dict[str, object]:
    items = page["items"]
    assert isinstance(items, list)
    return {**page, "items": [item.model_dump(mode="json") for item in items]}

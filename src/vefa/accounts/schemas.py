"""API input and output shapes of the accounts app."""

from __future__ import annotations

import datetime

from ninja import Field, Schema

from vefa.accounts.services import MAX_NAME_LENGTH, MAX_TOKEN_NAME_LENGTH


class TeamOut(Schema):
    id: int
    name: str


class UserOut(Schema):
    """A colleague as assignment pickers show them."""

    id: int
    email: str
    full_name: str
    role: str
    team_id: int | None
    is_active: bool


class MeOut(Schema):
    id: int
    email: str
    full_name: str
    role: str
    team: TeamOut | None
    language: str
    time_zone: str
    is_admin: bool


class MeIn(Schema):
    """Fields of one's own profile; leave a field out to keep it."""

    full_name: str | None = Field(default=None, max_length=MAX_NAME_LENGTH)
    language: str | None = Field(default=None, max_length=10)
    time_zone: str | None = Field(default=None, max_length=64)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None
    expires_at: datetime.datetime | None
    revoked_at: datetime.datetime | None


class TokenCreatedOut(TokenOut):
    """The new token with its key: the only time the key is ever shown."""

    key: str


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=MAX_TOKEN_NAME_LENGTH)
    expires_at: datetime.datetime | None = None


class UserPageOut(Schema):
    items: list[UserOut]
    next_cursor: str | None
    previous_cursor: str | None


class TokenPageOut(Schema):
    items: list[TokenOut]
    next_cursor: str | None
    previous_cursor: str | None

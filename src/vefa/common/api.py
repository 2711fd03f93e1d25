"""API conventions shared by every router: auth, errors, ETags, idempotent creates, paging.

- Auth: a personal token (``Authorization: Bearer vefa_…``) or the browser session (with
  CSRF). The authenticated user is ``request.auth``.
- Errors: one shape everywhere, ``{"code", "message", "fields": {field: [messages]}}``.
- Updates: the response carries ``ETag``; a request with a stale ``If-Match`` gets 412.
- Creates: 201 with ``Location``; an ``Idempotency-Key`` makes a retried create return the
  first response instead of creating twice.
- Lists: keyset pages ``{"items", "next_cursor", "previous_cursor"}``, ``limit`` ≤ 100.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from vefa.common.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from vefa.common.paging import Page

if TYPE_CHECKING:
    from vefa.accounts.models import User

S = TypeVar("S", bound=Schema)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        from vefa.accounts.services import api_token_authenticate

        return api_token_authenticate(token)


class TokenHeaderAuth(APIKeyHeader):
    """``Authorization: Token vefa_…`` for clients that cannot send Bearer."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        from vefa.accounts.services import api_token_authenticate

        return api_token_authenticate(key or "")


class ActiveSessionAuth(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


api_auth = [TokenAuth(), TokenHeaderAuth(), ActiveSessionAuth()]


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


def actor_of(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def error_response(exc: ApplicationError) -> JsonResponse:
    return JsonResponse(exc.as_dict(), status=exc.status_code)


def ninja_validation_response(errors: list[dict[str, Any]]) -> JsonResponse:
    """Ninja/pydantic errors in the one error shape, with dotted field names."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(p) for p in error.get("loc", []) if p not in ("body", "payload", "query")]
        name = ".".join(loc) or "__all__"
        fields.setdefault(name, []).append(str(error.get("msg", _("Invalid value."))))
    exc = ValidationFailed(_("Please correct the errors below."), fields=fields)
    return error_response(exc)


# --- ETag / If-Match -------------------------------------------------------------------

_ETAG = re.compile(r'^\s*(?:W/)?"(\d+)-(\d+)"\s*$')


def etag_of(instance: models.Model) -> str:
    return f'"{instance.pk}-{getattr(instance, "version", 0)}"'


def if_match_version(request: HttpRequest, instance: models.Model) -> int | None:
    """The version the client last saw (from ``If-Match``), or ``None`` when not sent.

    A malformed or foreign ETag counts as stale: the write is refused with 412.
    """
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header)
    if not match or int(match.group(1)) != instance.pk:
        return -1
    return int(match.group(2))


def with_etag(response: HttpResponse, instance: models.Model) -> HttpResponse:
    response["ETag"] = etag_of(instance)
    return response


def json_response(
    data: Any, *, status: int = 200, instance: models.Model | None = None
) -> JsonResponse:
    response = JsonResponse(
        data, status=status, safe=False, json_dumps_params={"ensure_ascii": False}
    )
    if instance is not None:
        with_etag(response, instance)
    return response


# --- idempotent create -----------------------------------------------------------------


def _request_hash(request: HttpRequest) -> str:
    return hashlib.sha256(request.body or b"").hexdigest()


def create_response(
    request: HttpRequest,
    *,
    create: Callable[[], models.Model],
    schema: type[S],
    location: Callable[[models.Model], str],
) -> HttpResponse:
    """Run ``create`` and answer 201 with ``Location`` and ``ETag``.

    With an ``Idempotency-Key`` header the first response is stored (in the same transaction
    as the record) and replayed for any retry with the same key and body; a retry with a
    different body is refused.
    """
    from vefa.platform.models import IdempotencyRecord

    actor = actor_of(request)
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(key) > 200:
        return error_response(
            ValidationFailed(
                _("Please correct the errors below."),
                fields={"Idempotency-Key": [_("At most 200 characters.")]},
            )
        )
    body_hash = _request_hash(request)

    def replay(record: IdempotencyRecord) -> HttpResponse:
        if record.request_hash != body_hash:
            return error_response(
                ValidationFailed(
                    _("This Idempotency-Key was already used for a different request."),
                    fields={"Idempotency-Key": [_("Reused with a different request body.")]},
                )
            )
        response = HttpResponse(
            record.response_body, status=record.status_code, content_type="application/json"
        )
        if record.location:
            response["Location"] = record.location
        response["Idempotent-Replayed"] = "true"
        return response

    if key:
        existing = IdempotencyRecord.objects.filter(user=actor, key=key).first()
        if existing is not None:
            return replay(existing)
    try:
        with transaction.atomic():
            instance = create()
            body = json.dumps(schema.from_orm(instance).model_dump(mode="json"), ensure_ascii=False)
            url = location(instance)
            if key:
                IdempotencyRecord.objects.create(
                    user=actor,
                    key=key,
                    method=request.method or "POST",
                    path=request.path[:300],
                    request_hash=body_hash,
                    status_code=201,
                    response_body=body,
                    location=url,
                )
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer with its response.
        if key:
            existing = IdempotencyRecord.objects.filter(user=actor, key=key).first()
            if existing is not None:
                return replay(existing)
        raise
    response = HttpResponse(body, status=201, content_type="application/json")
    response["Location"] = url
    return with_etag(response, instance)


# --- pages -----------------------------------------------------------------------------


class PageOut(Schema, Generic[S]):
    items: list[S]
    next_cursor: str | None
    previous_cursor: str | None


def clamp_limit(limit: int | None) -> int:
    maximum = int(getattr(settings, "VEFA_API_MAX_PAGE_SIZE", 100))
    if limit is None:
        return min(50, maximum)
    return max(1, min(int(limit), maximum))


def page_out(page: Page[Any], schema: type[S]) -> dict[str, Any]:
    return {
        "items": [schema.from_orm(item) for item in page.items],
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
    }


# --- shared response helpers -----------------------------------------------------------

#: The error responses every operation may give, for the OpenAPI document.
API_ERRORS: dict[int, type[ErrorOut]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    412: ErrorOut,
    422: ErrorOut,
}


def dump(schema: Any, obj: Any) -> dict[str, Any]:
    """``obj`` through the output ``schema`` as JSON-ready data."""
    return dict(schema.from_orm(obj).model_dump(mode="json"))


def page_json(page: dict[str, Any]) -> dict[str, Any]:
    """A ``page_out`` result with its items as JSON-ready data."""
    return {**page, "items": [item.model_dump(mode="json") for item in page["items"]]}


@contextmanager
def hidden_if_denied() -> Iterator[None]:
    """Answer "not found" when the caller may see a record but not change it."""
    try:
        yield
    except PermissionDenied:
        raise NotFound(_("Not found.")) from None

"""The portal's own sign-in state, kept apart from staff authentication (ADR 0009).

A signed-in contact is ``request.session["portal_account_id"]`` plus a hash of the account's
password, so changing the password or switching the account off ends its sessions. The key
is rotated on sign-in. Staff authentication never reads it, so a portal session is not a
staff session, and a staff session is not a portal session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare, salted_hmac

from vefa.common.errors import NotFound
from vefa.portal.models import PortalAccount

SESSION_KEY = "portal_account_id"
HASH_KEY = "portal_account_hash"

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def _session_hash(account: PortalAccount) -> str:
    return salted_hmac("vefa.portal.session", f"{account.pk}:{account.password}").hexdigest()


def portal_login(request: HttpRequest, account: PortalAccount) -> None:
    """Sign the contact in: a new session key, the account and its password hash."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = account.pk
    request.session[HASH_KEY] = _session_hash(account)


def portal_logout(request: HttpRequest) -> None:
    """Sign the contact out; a staff sign-in in the same browser stays as it was."""
    request.session.pop(SESSION_KEY, None)
    request.session.pop(HASH_KEY, None)
    request.session.cycle_key()


def current_account(request: HttpRequest) -> PortalAccount | None:
    session = getattr(request, "session", None)
    if session is None:
        return None
    pk = session.get(SESSION_KEY)
    if not isinstance(pk, int):
        return None
    account = (
        PortalAccount.objects.select_related("customer", "contact")
        .filter(pk=pk, is_active=True)
        .first()
    )
    if account is None or not constant_time_compare(
        session.get(HASH_KEY, ""), _session_hash(account)
    ):
        session.pop(SESSION_KEY, None)
        session.pop(HASH_KEY, None)
        return None
    return account


def account_of(request: HttpRequest) -> PortalAccount:
    return request.portal_account  # type: ignore[attr-defined]


def portal_login_required(view: V) -> V:
    """Pages of a signed-in contact: the account on ``request.portal_account``, its
    language active, and a record of another customer answered with 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        account = current_account(request)
        if account is None:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('portal:login')}?{query}")
        request.portal_account = account  # type: ignore[attr-defined]
        if account.language:
            translation.activate(account.language)
            request.LANGUAGE_CODE = translation.get_language()
        try:
            response = view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapper  # type: ignore[return-value]

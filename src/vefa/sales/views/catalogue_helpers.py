"""Helpers of the catalogue pages: the actor, 404 for hidden or forbidden, message flashing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.formats import number_format
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from vefa.accounts.access import can_create
from vefa.accounts.models import User
from vefa.common.errors import ApplicationError, NotFound, PermissionDenied
from vefa.sales.models import Product
from vefa.sales.money import minor_digits, round_money

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def actor_of(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def can_manage(actor: User) -> bool:
    """Whether the actor keeps the catalogue (sees add, edit and delete buttons)."""
    return can_create(actor, Product)


def catalogue_page(view: V) -> V:
    """A record the user may not see, or may not change, answers 404 on every page and
    partial ("not allowed" looks like "not found")."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except (NotFound, PermissionDenied) as exc:
            raise Http404(str(exc.message)) from exc

    return wrapper  # type: ignore[return-value]


def require_manager(actor: User) -> None:
    if not can_manage(actor):
        raise NotFound("")


def flash_errors(request: HttpRequest, error: ApplicationError) -> None:
    """A service's refusal as messages on the next page (for the inline forms)."""
    texts = [m for messages_ in error.fields.values() for m in messages_] or [str(error.message)]
    for text in texts:
        messages.error(request, text)


def query_without_cursor(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("cursor", None)
    return params.urlencode()


def money_text(amount: Decimal | None, currency: str) -> str:
    """An amount rounded to its currency and formatted for the user's language."""
    if amount is None:
        return ""
    digits = minor_digits(currency)
    return str(
        number_format(
            round_money(amount, currency), decimal_pos=digits, use_l10n=True, force_grouping=True
        )
    )


def number_text(value: Decimal | None, places: int | None = None) -> str:
    """A quantity, rate or percentage without trailing zeros, formatted for the language."""
    if value is None:
        return ""
    normal = value.normalize()
    if places is None:
        exponent = normal.as_tuple().exponent
        places = max(0, -exponent) if isinstance(exponent, int) else 0
    return str(number_format(normal, decimal_pos=places, use_l10n=True, force_grouping=True))


def plain_number(value: Decimal) -> str:
    """A Decimal as plain text for an input: no exponent, no trailing zeros ("120", "99.5")."""
    return format(value.normalize(), "f")


_options_cache: dict[str, Any] = {}


def options_html(choices: list[tuple[int, str]], selected: int | None) -> SafeString:
    """``<option>``s for a long select (hundreds of categories), built without the template
    engine's per-option cost and kept while the choices stay the same; labels are escaped."""
    key = tuple(choices)
    if _options_cache.get("key") != key:
        html = format_html_join(
            "", '<option value="{}">{}</option>', ((str(pk), label) for pk, label in choices)
        )
        _options_cache.update(key=key, html=str(html))
    html = _options_cache["html"]
    if selected is not None:
        html = html.replace(f'<option value="{selected}">', f'<option value="{selected}" selected>')
    return mark_safe(html)  # noqa: S308 (built by format_html_join above)

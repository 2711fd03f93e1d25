"""Keeping order sources (administrators only): a web shop or till, its signing secret, and
the defaults its orders get (currency, price list, owner)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create
from vefa.integrations.choices import SourceKind
from vefa.integrations.models import OrderSource
from vefa.integrations.services._common import (
    as_bool,
    as_text,
    get_visible,
    invalid,
    require_admin,
)
from vefa.integrations.signing import new_secret
from vefa.platform.records import record_create, record_delete, record_update

if TYPE_CHECKING:
    from vefa.accounts.models import User

SOURCE_KEYS = frozenset(
    {"name", "key", "kind", "default_currency", "price_list", "owner", "is_active"}
)
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


@dataclass(frozen=True)
class SourceWithSecret:
    source: OrderSource
    secret: str


def _owner(value: Any) -> Any:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer
    from vefa.sales.models import Order

    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid({"owner": [_("Choose an active user.")]})
    try:
        key = int(value)
    except ValueError:
        raise invalid({"owner": [_("Choose an active user.")]}) from None
    user = User.objects.filter(pk=key, is_active=True).first() if 0 < key < 2**63 else None
    if user is None:
        raise invalid({"owner": [_("Choose an active user.")]})
    if not can_create(user, Order) or not can_create(user, Customer):
        raise invalid(
            {"owner": [_("This user's role cannot enter orders and customers; choose another.")]}
        )
    return user


def _price_list(value: Any, currency: str | None) -> Any:
    from vefa.sales.models import PriceList

    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise invalid({"price_list": [_("Choose an active price list.")]})
    try:
        key = int(value)
    except ValueError:
        raise invalid({"price_list": [_("Choose an active price list.")]}) from None
    found = PriceList.objects.filter(pk=key, is_active=True).first() if 0 < key < 2**63 else None
    if found is None:
        raise invalid({"price_list": [_("Choose an active price list.")]})
    if currency and found.currency != currency:
        raise invalid({"price_list": [_("The price list is in another currency.")]})
    return found


def _values(
    data: Mapping[str, Any], *, partial: bool, current: OrderSource | None
) -> dict[str, Any]:
    from vefa.sales.services._common import as_currency

    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = sorted(str(k) for k in data if k not in SOURCE_KEYS)
    if unknown:
        raise invalid({k: [_("Unknown field.")] for k in unknown})
    values: dict[str, Any] = {}
    if not partial or "name" in data:
        values["name"] = as_text(data.get("name"), field="name", max_length=100, required=True)
    if not partial or "key" in data:
        key = as_text(data.get("key"), field="key", max_length=40, required=True).lower()
        if not _KEY.match(key):
            raise invalid({"key": [_("Lower-case letters, digits and hyphens, 2 to 40.")]})
        clash = OrderSource.objects.filter(key=key)
        if current is not None:
            clash = clash.exclude(pk=current.pk)
        if clash.exists():
            raise invalid({"key": [_("Another source has this key.")]})
        values["key"] = key
    if not partial or "kind" in data:
        kind = data.get("kind", SourceKind.ECOMMERCE)
        if kind not in SourceKind.values:
            raise invalid({"kind": [_("Choose a valid value.")]})
        values["kind"] = kind
    if not partial or "default_currency" in data:
        values["default_currency"] = as_currency(
            data.get("default_currency") or "TRY", field="default_currency"
        )
    if not partial or "owner" in data:
        values["owner"] = _owner(data.get("owner"))
    if not partial or "price_list" in data:
        currency = values.get("default_currency") or (current.default_currency if current else None)
        values["price_list"] = _price_list(data.get("price_list"), currency)
    if "is_active" in data:
        values["is_active"] = as_bool(data["is_active"], field="is_active")
    return values


def source_create(*, actor: User, data: Mapping[str, Any]) -> SourceWithSecret:
    """Create an order source; its signing secret is returned this once."""
    require_admin(actor, OrderSource)
    values = _values(data, partial=False, current=None)
    secret = new_secret("ossec_")
    source = record_create(OrderSource(secret=secret, **values), actor=actor)
    return SourceWithSecret(source=source, secret=secret)


def source_update(
    *,
    actor: User,
    source_id: Any,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> OrderSource:
    require_admin(actor, OrderSource)
    with transaction.atomic():
        source = get_visible(OrderSource.objects.all(), actor=actor, pk=source_id)
        values = _values(data, partial=True, current=source)
        return record_update(source, actor=actor, data=values, expected_version=expected_version)


def source_delete(*, actor: User, source_id: Any) -> None:
    """Delete a source; its orders stay (only the link to the source's numbers goes)."""
    require_admin(actor, OrderSource)
    with transaction.atomic():
        source = get_visible(OrderSource.objects.all(), actor=actor, pk=source_id)
        record_delete(source, actor=actor)


def source_rotate_secret(*, actor: User, source_id: Any) -> SourceWithSecret:
    from vefa.platform.audit import log_change
    from vefa.platform.models import ChangeLogEntry

    require_admin(actor, OrderSource)
    secret = new_secret("ossec_")
    with transaction.atomic():
        source = get_visible(OrderSource.objects.select_for_update(), actor=actor, pk=source_id)
        OrderSource.objects.filter(pk=source.pk).update(secret=secret, version=source.version + 1)
        log_change(
            actor=actor,
            instance=source,
            action=ChangeLogEntry.Action.UPDATE,
            before={"secret": "(previous)"},
            after={"secret": "(rotated)"},
        )
        source.refresh_from_db()
    return SourceWithSecret(source=source, secret=secret)

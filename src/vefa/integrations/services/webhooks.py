"""Keeping webhooks and their event rules (administrators only).

The signing secret is generated here and returned once, by ``webhook_create`` and
``webhook_rotate_secret``; pages and the API show it at that moment only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from vefa.integrations.catalogue import EVENTS, check_condition, domain_event_name
from vefa.integrations.choices import CircuitState
from vefa.integrations.http import UnsafeURL, check_url
from vefa.integrations.models import EventRule, Webhook
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

MAX_RULES = 50
WEBHOOK_KEYS = frozenset({"name", "url", "description", "is_active", "rules"})
RULE_KEYS = frozenset(
    {"entity", "event", "condition_field", "condition_operator", "condition_value"}
)


@dataclass(frozen=True)
class WebhookWithSecret:
    webhook: Webhook
    secret: str


def _check_url(url: str) -> str:
    try:
        check_url(url)
    except UnsafeURL as exc:
        raise invalid({"url": [str(exc)]}) from None
    return url


def _rule_values(raw: Any, index: int) -> dict[str, str]:
    prefix = f"rules.{index}"
    if not isinstance(raw, Mapping):
        raise invalid({prefix: [_("Expected an object with entity and event.")]})
    unknown = sorted(str(k) for k in raw if k not in RULE_KEYS)
    if unknown:
        raise invalid({f"{prefix}.{k}": [_("Unknown field.")] for k in unknown})
    entity = raw.get("entity")
    event = raw.get("event")
    if not isinstance(entity, str) or not isinstance(event, str) or (entity, event) not in EVENTS:
        raise invalid({f"{prefix}.event": [_("Choose a record type and an event from the list.")]})
    values = {
        "condition_field": as_text(
            raw.get("condition_field"), field=f"{prefix}.condition_field", max_length=60
        ),
        "condition_operator": as_text(
            raw.get("condition_operator"), field=f"{prefix}.condition_operator", max_length=10
        ),
        "condition_value": as_text(
            raw.get("condition_value"), field=f"{prefix}.condition_value", max_length=200
        ),
    }
    errors = check_condition(
        entity, values["condition_field"], values["condition_operator"], values["condition_value"]
    )
    if errors:
        raise invalid({f"{prefix}.{k}": v for k, v in errors.items()})
    return {"entity": entity, "event": event, **values}


def _rules(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list | tuple):
        raise invalid({"rules": [_("Expected a list of rules.")]})
    if not raw:
        raise invalid({"rules": [_("Add at least one event.")]})
    if len(raw) > MAX_RULES:
        raise invalid({"rules": [_("At most %(n)d rules.") % {"n": MAX_RULES}]})
    return [_rule_values(item, i) for i, item in enumerate(raw)]


def _header(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = sorted(str(k) for k in data if k not in WEBHOOK_KEYS)
    if unknown:
        raise invalid({k: [_("Unknown field.")] for k in unknown})
    values: dict[str, Any] = {}
    if not partial or "name" in data:
        values["name"] = as_text(data.get("name"), field="name", max_length=100, required=True)
    if not partial or "url" in data:
        url = as_text(data.get("url"), field="url", max_length=500, required=True)
        values["url"] = _check_url(url)
    if "description" in data:
        values["description"] = as_text(data["description"], field="description", max_length=300)
    if "is_active" in data:
        values["is_active"] = as_bool(data["is_active"], field="is_active")
    return values


def _forget() -> None:
    from vefa.integrations.services.delivery import forget_watched_events

    forget_watched_events()


def _write_rules(webhook: Webhook, rules: Sequence[Mapping[str, str]], actor: User) -> None:
    _forget()
    for old in list(webhook.rules.all()):
        record_delete(old, actor=actor)
    for rule in rules:
        record_create(
            EventRule(
                webhook=webhook,
                event_name=domain_event_name(rule["entity"], rule["event"]),
                **rule,
            ),
            actor=actor,
        )


def webhook_create(*, actor: User, data: Mapping[str, Any]) -> WebhookWithSecret:
    """Create a webhook with its rules; the new secret is returned this once."""
    require_admin(actor, Webhook)
    values = _header(data, partial=False)
    rules = _rules(data.get("rules"))
    secret = new_secret()
    with transaction.atomic():
        webhook = record_create(Webhook(secret=secret, **values), actor=actor)
        _write_rules(webhook, rules, actor)
        _forget()
    return WebhookWithSecret(webhook=webhook, secret=secret)


def webhook_update(
    *,
    actor: User,
    webhook_id: Any,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Webhook:
    """Change a webhook's fields; ``rules`` given replaces the whole set."""
    require_admin(actor, Webhook)
    values = _header(data, partial=True)
    rules = _rules(data["rules"]) if "rules" in data else None
    with transaction.atomic():
        webhook = get_visible(Webhook.objects.all(), actor=actor, pk=webhook_id)
        if values.get("is_active") is True and not webhook.is_active:
            # Switched on again by a person: start with a clean circuit.
            Webhook.objects.filter(pk=webhook.pk).update(
                circuit_state=CircuitState.CLOSED,
                consecutive_failures=0,
                circuit_retry_at=None,
                circuit_opened_at=None,
            )
        webhook = record_update(
            webhook, actor=actor, data=values, expected_version=expected_version
        )
        _forget()
        if rules is not None:
            _write_rules(webhook, rules, actor)
            # The rules are part of the webhook: changing them makes a new version.
            Webhook.objects.filter(pk=webhook.pk).update(version=F("version") + 1)
            webhook.refresh_from_db()
    return webhook


def webhook_delete(*, actor: User, webhook_id: Any) -> None:
    require_admin(actor, Webhook)
    with transaction.atomic():
        webhook = get_visible(Webhook.objects.all(), actor=actor, pk=webhook_id)
        record_delete(webhook, actor=actor)
        _forget()


def webhook_rotate_secret(*, actor: User, webhook_id: Any) -> WebhookWithSecret:
    """Replace the signing secret; the new one is returned this once."""
    from vefa.platform.audit import log_change
    from vefa.platform.models import ChangeLogEntry

    require_admin(actor, Webhook)
    secret = new_secret()
    with transaction.atomic():
        webhook = get_visible(Webhook.objects.select_for_update(), actor=actor, pk=webhook_id)
        Webhook.objects.filter(pk=webhook.pk).update(secret=secret, version=webhook.version + 1)
        log_change(
            actor=actor,
            instance=webhook,
            action=ChangeLogEntry.Action.UPDATE,
            before={"secret": "(previous)"},
            after={"secret": "(rotated)"},
        )
        webhook.refresh_from_db()
    return WebhookWithSecret(webhook=webhook, secret=secret)


def webhook_reset_circuit(*, actor: User, webhook_id: Any) -> Webhook:
    """Close an open circuit by hand: deliveries waiting for it are tried at once."""
    from django.utils import timezone

    from vefa.integrations.choices import DeliveryStatus
    from vefa.integrations.models import WebhookDelivery

    require_admin(actor, Webhook)
    with transaction.atomic():
        webhook = get_visible(Webhook.objects.all(), actor=actor, pk=webhook_id)
        Webhook.objects.filter(pk=webhook.pk).update(
            circuit_state=CircuitState.CLOSED,
            consecutive_failures=0,
            circuit_retry_at=None,
            circuit_opened_at=None,
        )
        WebhookDelivery.objects.filter(webhook=webhook, status=DeliveryStatus.PENDING).update(
            next_attempt_at=timezone.now()
        )
        webhook.refresh_from_db()
    return webhook


__all__ = [
    "WebhookWithSecret",
    "webhook_create",
    "webhook_delete",
    "webhook_reset_circuit",
    "webhook_rotate_secret",
    "webhook_update",
]

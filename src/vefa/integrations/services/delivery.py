"""Queueing and sending webhook deliveries: retries with backoff, the circuit breaker, the log.

Flow
----
1. A domain event is committed; the subscriber calls ``deliveries_enqueue``, which finds the
   active rules for the event, checks each rule's condition against the record and writes
   one ``WebhookDelivery`` per matching rule with its JSON body fixed.
2. A background task (and, as a safety net, the periodic ``integrations.deliver_due``) calls
   ``delivery_attempt`` for each due delivery. The delivery is claimed with a conditional
   update, so two workers never send the same attempt.
3. The attempt POSTs the body with ``X-Vefa-Event``, ``X-Vefa-Delivery``,
   ``X-Vefa-Timestamp`` and ``X-Vefa-Signature``; a 2xx answer is success, anything else
   (another status, a timeout, a refused address) a failure that is retried after an
   exponential backoff with jitter (1 minute doubling up to 24 hours) until
   ``MAX_ATTEMPTS``.
4. Per webhook a circuit breaker counts failures in a row: at ``FAILURE_THRESHOLD`` it opens
   (deliveries wait, administrators are notified) for ``COOL_DOWN``; then one delivery
   probes (half-open); its success closes the circuit, its failure opens it again.
"""

from __future__ import annotations

import datetime
import json
import random
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.common.events import DomainEvent
from vefa.integrations import http
from vefa.integrations.catalogue import ENTITY_MODELS, EVENTS, condition_matches
from vefa.integrations.choices import CircuitState, DeliveryStatus
from vefa.integrations.models import DeliveryAttempt, EventRule, Webhook, WebhookDelivery
from vefa.integrations.services._common import get_visible, require_admin
from vefa.integrations.signing import signature

if TYPE_CHECKING:
    from vefa.accounts.models import User

BASE_DELAY = datetime.timedelta(minutes=1)
MAX_DELAY = datetime.timedelta(hours=24)
CLAIM_FOR = datetime.timedelta(minutes=2)
HALF_OPEN_WAIT = datetime.timedelta(minutes=1)
MODELS_WATCHED = frozenset(ENTITY_MODELS.values())
ENTITY_OF = {label: entity for entity, label in ENTITY_MODELS.items()}


def max_attempts() -> int:
    return int(getattr(settings, "VEFA_WEBHOOKS_MAX_ATTEMPTS", 12))


def failure_threshold() -> int:
    return int(getattr(settings, "VEFA_WEBHOOKS_FAILURE_THRESHOLD", 5))


def cool_down() -> datetime.timedelta:
    return datetime.timedelta(seconds=int(getattr(settings, "VEFA_WEBHOOKS_COOL_DOWN", 600)))


def backoff(attempt: int, *, rng: random.Random | None = None) -> datetime.timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): 1 min, 2, 4 … 24 h, each
    spread by ±20 % so receivers that failed together are not hit together again."""
    exponent = min(max(attempt - 1, 0), 20)
    delay = min(BASE_DELAY * (2**exponent), MAX_DELAY)
    factor = (rng or random).uniform(0.8, 1.2)
    seconds = delay.total_seconds() * factor
    seconds = max(BASE_DELAY.total_seconds(), min(seconds, MAX_DELAY.total_seconds()))
    return datetime.timedelta(seconds=seconds)


# --- queueing -----------------------------------------------------------------------------


def _record_data(event: DomainEvent) -> dict[str, Any]:
    """The record's fields as JSON: its current state, or its last state when deleted."""
    from vefa.platform.audit import snapshot
    from vefa.platform.models import ChangeLogEntry

    if event.name.endswith(".deleted"):
        entry = (
            ChangeLogEntry.objects.filter(model=event.model, object_id=event.object_id)
            .order_by("-id")
            .values_list("before", flat=True)
            .first()
        )
        return dict(entry or {"id": event.object_id})
    model = apps.get_model(event.model)
    instance = model._default_manager.filter(pk=event.object_id).first()
    return snapshot(instance) if instance is not None else {"id": event.object_id}


def _body(
    *,
    delivery_uuid: uuid.UUID,
    event_label: str,
    event: DomainEvent,
    entity: str,
    data: dict[str, Any],
    occurred_at: datetime.datetime,
) -> str:
    document = {
        "id": str(delivery_uuid),
        "event": event_label,
        "domain_event": event.name,
        "occurred_at": occurred_at.isoformat(),
        "object": {"type": entity, "id": event.object_id},
        "changed": list(event.payload.get("changed", [])),
        "actor_id": event.actor_id,
        "data": data,
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, default=str)


# The domain events some active rule listens to, read at most once a minute per process
# (and at once after a webhook or rule is saved in this process): an event nobody listens to
# costs no query. Another process sees a new or changed webhook within ``WATCHED_TTL``.
WATCHED_TTL = 60.0
_watched: tuple[float, frozenset[str]] | None = None


def watched_events() -> frozenset[str]:
    global _watched
    now = time.monotonic()
    if _watched is None or now - _watched[0] > WATCHED_TTL:
        names = frozenset(
            EventRule.objects.filter(webhook__is_active=True)
            .values_list("event_name", flat=True)
            .distinct()
        )
        _watched = (now, names)
    return _watched[1]


def forget_watched_events() -> None:
    """Drop the cached set (after a webhook or rule changed), now and after commit."""
    global _watched
    _watched = None

    def again() -> None:
        global _watched
        _watched = None

    transaction.on_commit(again)


def deliveries_enqueue(event: DomainEvent) -> list[int]:
    """Write the deliveries ``event`` calls for and queue their first attempt; their ids.

    Runs after the event's transaction committed. Quick when nothing listens: events no
    active rule names cost no query (``watched_events``), the others one indexed query.
    """
    if event.model not in MODELS_WATCHED or event.name not in watched_events():
        return []
    rules = list(
        EventRule.objects.filter(event_name=event.name, webhook__is_active=True).select_related(
            "webhook"
        )
    )
    if not rules:
        return []
    changed = set(event.payload.get("changed", []))
    entity = ENTITY_OF[event.model]
    data: dict[str, Any] | None = None
    now = timezone.now()
    fresh: list[WebhookDelivery] = []
    for rule in rules:
        spec = EVENTS.get((rule.entity, rule.event))
        if spec is None:
            continue
        if spec.changed_field and spec.changed_field not in changed:
            continue
        if data is None:
            data = _record_data(event)
        if not condition_matches(
            data, rule.condition_field, rule.condition_operator, rule.condition_value
        ):
            continue
        key = uuid.uuid4()
        fresh.append(
            WebhookDelivery(
                uuid=key,
                webhook=rule.webhook,
                rule=rule,
                event=rule.label,
                object_id=event.object_id,
                body=_body(
                    delivery_uuid=key,
                    event_label=rule.label,
                    event=event,
                    entity=entity,
                    data=data,
                    occurred_at=now,
                ),
                next_attempt_at=now,
                created_at=now,
            )
        )
    if not fresh:
        return []
    created = WebhookDelivery.objects.bulk_create(fresh)
    ids = [d.pk for d in created if d.pk is not None]
    if len(ids) != len(created):  # a backend that returns no ids from bulk inserts
        ids = list(
            WebhookDelivery.objects.filter(uuid__in=[d.uuid for d in fresh]).values_list(
                "pk", flat=True
            )
        )
    _queue(ids)
    return ids


def _queue(ids: list[int]) -> None:
    from vefa.integrations.tasks import deliver_webhooks

    def enqueue() -> None:
        try:
            deliver_webhooks.enqueue(delivery_ids=ids)
        except Exception:  # the periodic sweep sends them anyway
            import logging

            logging.getLogger(__name__).exception("could not queue webhook deliveries")

    transaction.on_commit(enqueue)


# --- sending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptResult:
    delivery_id: int
    status: str  # sent, failed, postponed, skipped
    status_code: int | None = None


def _claim(delivery_id: int, now: datetime.datetime) -> bool:
    due = Q(status=DeliveryStatus.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    stale = Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
    return bool(
        WebhookDelivery.objects.filter(Q(pk=delivery_id) & (due | stale)).update(
            status=DeliveryStatus.SENDING, claimed_until=now + CLAIM_FOR
        )
    )


def _release(delivery_id: int, when: datetime.datetime | None, **extra: Any) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.PENDING, next_attempt_at=when, claimed_until=None, **extra
    )


def _gate(webhook_id: int, now: datetime.datetime) -> tuple[str, datetime.datetime | None]:
    """Whether the circuit lets an attempt through: ("go" | "probe" | "wait" | "off", until)."""
    with transaction.atomic():
        hook = Webhook.objects.select_for_update().filter(pk=webhook_id).first()
        if hook is None or not hook.is_active:
            return "off", None
        if hook.circuit_state == CircuitState.CLOSED:
            return "go", None
        retry_at = hook.circuit_retry_at or now
        if now < retry_at:
            return "wait", retry_at
        # Open and cooled down, or a half-open probe that never reported: this one probes.
        Webhook.objects.filter(pk=hook.pk).update(
            circuit_state=CircuitState.HALF_OPEN, circuit_retry_at=now + CLAIM_FOR
        )
        return "probe", None


def _admins() -> list[User]:
    from vefa.accounts.choices import Role
    from vefa.accounts.models import User

    return list(
        User.objects.filter(is_active=True).filter(Q(role=Role.ADMIN) | Q(is_superuser=True))
    )


def _notify(webhook: Webhook, *, opened: bool, when: datetime.datetime) -> None:
    from vefa.platform.notifications import notification_send

    url = reverse("integrations:webhook_detail", args=[webhook.pk])
    if opened:
        verb = "webhook_paused"
        text = _(
            "Webhook “%(name)s” failed %(n)d times in a row; "
            "deliveries are paused and retried later."
        ) % {"name": webhook.name, "n": webhook.consecutive_failures}
    else:
        verb = "webhook_recovered"
        text = _("Webhook “%(name)s” answers again; paused deliveries continue.") % {
            "name": webhook.name
        }
    key = f"webhook:{webhook.pk}:{verb}:{int(when.timestamp())}"
    for admin in _admins():
        try:
            notification_send(
                recipient=admin,
                verb=verb,
                text=text,
                url=url,
                model="integrations.webhook",
                object_id=webhook.pk,
                dedupe_key=key[:150],
            )
        except Exception:  # a notice must never stop delivery
            import logging

            logging.getLogger(__name__).exception("webhook notice failed")


def _after_success(webhook_id: int, now: datetime.datetime) -> None:
    with transaction.atomic():
        hook = Webhook.objects.select_for_update().filter(pk=webhook_id).first()
        if hook is None:
            return
        was_open = hook.circuit_state != CircuitState.CLOSED
        Webhook.objects.filter(pk=hook.pk).update(
            circuit_state=CircuitState.CLOSED,
            consecutive_failures=0,
            circuit_opened_at=None,
            circuit_retry_at=None,
            last_success_at=now,
        )
        if was_open:
            # The receiver is back: whatever waited for the circuit goes now.
            WebhookDelivery.objects.filter(
                webhook_id=hook.pk, status=DeliveryStatus.PENDING, next_attempt_at__gt=now
            ).update(next_attempt_at=now)
            hook.refresh_from_db()
            _notify(hook, opened=False, when=now)


def _after_failure(webhook_id: int, now: datetime.datetime) -> None:
    with transaction.atomic():
        hook = Webhook.objects.select_for_update().filter(pk=webhook_id).first()
        if hook is None:
            return
        failures = hook.consecutive_failures + 1
        opens = hook.circuit_state == CircuitState.HALF_OPEN or (
            hook.circuit_state == CircuitState.CLOSED and failures >= failure_threshold()
        )
        changes: dict[str, Any] = {"consecutive_failures": failures}
        if opens:
            changes.update(
                circuit_state=CircuitState.OPEN,
                circuit_opened_at=hook.circuit_opened_at or now,
                circuit_retry_at=now + cool_down(),
            )
        Webhook.objects.filter(pk=hook.pk).update(**changes)
        if opens and hook.circuit_state == CircuitState.CLOSED:
            hook.refresh_from_db()
            _notify(hook, opened=True, when=now)


def headers_for(delivery: WebhookDelivery, secret: str, timestamp: str) -> dict[str, str]:
    body = delivery.body.encode("utf-8")
    return {
        "X-Vefa-Event": delivery.event,
        "X-Vefa-Delivery": str(delivery.uuid),
        "X-Vefa-Timestamp": timestamp,
        "X-Vefa-Signature": signature(secret, timestamp, body),
    }


def delivery_attempt(delivery_id: int, *, now: datetime.datetime | None = None) -> AttemptResult:
    """Try one due delivery once (a delivery that is not due, or claimed, is skipped)."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return AttemptResult(delivery_id, "skipped")
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None:  # its webhook was deleted meanwhile
        return AttemptResult(delivery_id, "skipped")
    gate, until = _gate(delivery.webhook_id, now)
    if gate == "off":
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.FAILED,
            claimed_until=None,
            next_attempt_at=None,
            last_error=_("The webhook is switched off.")[:300],
        )
        return AttemptResult(delivery_id, "skipped")
    if gate == "wait":
        _release(delivery_id, until)
        return AttemptResult(delivery_id, "postponed")
    webhook = delivery.webhook
    timestamp = str(int(now.timestamp()))
    response = http.post(
        webhook.url,
        delivery.body.encode("utf-8"),
        headers_for(delivery, webhook.secret, timestamp),
    )
    number = delivery.attempts + 1
    if response.ok:
        next_at = None
        status = DeliveryStatus.SUCCEEDED
    elif number >= max_attempts():
        next_at = None
        status = DeliveryStatus.FAILED
    else:
        next_at = now + backoff(number)
        status = DeliveryStatus.PENDING
    error = response.error or (
        "" if response.ok else _("HTTP status %(code)s") % {"code": response.status}
    )
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery_id=delivery_id,
            number=number,
            started_at=now,
            duration_ms=response.duration_ms,
            status_code=response.status,
            response_snippet=response.snippet,
            error=error[:300],
            succeeded=response.ok,
            next_attempt_at=next_at,
        )
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=status,
            attempts=F("attempts") + 1,
            next_attempt_at=next_at,
            claimed_until=None,
            last_status_code=response.status,
            last_error=error[:300],
            delivered_at=now if response.ok else None,
        )
    if response.ok:
        _after_success(webhook.pk, now)
    else:
        _after_failure(webhook.pk, now)
    return AttemptResult(delivery_id, "sent" if response.ok else "failed", response.status)


def deliveries_due(*, now: datetime.datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of deliveries whose next try has come (or whose claim went stale), oldest first."""
    now = now or timezone.now()
    due = Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_until__lt=now
    )
    return list(
        WebhookDelivery.objects.filter(due)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def deliver_due(*, now: datetime.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Attempt every due delivery once; counts by outcome."""
    counts: dict[str, int] = {}
    for pk in deliveries_due(now=now, limit=limit):
        result = delivery_attempt(pk, now=now)
        counts[result.status] = counts.get(result.status, 0) + 1
    return counts


def delivery_redeliver(*, actor: User, delivery_id: Any) -> WebhookDelivery:
    """Send a delivery's body again, as a new delivery with its own id (administrators)."""
    require_admin(actor, Webhook)
    original = get_visible(
        WebhookDelivery.objects.select_related("webhook"), actor=actor, pk=delivery_id
    )
    key = uuid.uuid4()
    try:
        document = json.loads(original.body)
        document["id"] = str(key)
        body = json.dumps(document, ensure_ascii=False, sort_keys=True)
    except (ValueError, TypeError):
        body = original.body
    now = timezone.now()
    with transaction.atomic():
        copy = WebhookDelivery.objects.create(
            uuid=key,
            webhook=original.webhook,
            rule_id=original.rule_id,
            event=original.event,
            object_id=original.object_id,
            body=body,
            next_attempt_at=now,
            created_at=now,
            redelivery_of=original,
        )
        _queue([copy.pk])
    return copy


def deliveries_prune(*, now: datetime.datetime | None = None) -> int:
    """Delete finished deliveries (with their attempts) older than
    ``VEFA_WEBHOOKS_KEEP_DAYS`` (30); waiting ones are kept whatever their age."""
    now = now or timezone.now()
    days = int(getattr(settings, "VEFA_WEBHOOKS_KEEP_DAYS", 30))
    cutoff = now - datetime.timedelta(days=days)
    old = WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED], created_at__lt=cutoff
    )
    total = 0
    while True:
        ids = list(old.values_list("pk", flat=True)[:1000])
        if not ids:
            return total
        WebhookDelivery.objects.filter(redelivery_of_id__in=ids).update(redelivery_of=None)
        DeliveryAttempt.objects.filter(delivery_id__in=ids).delete()
        total += (
            WebhookDelivery.objects.filter(pk__in=ids)
            .delete()[1]
            .get(WebhookDelivery._meta.label, 0)
        )

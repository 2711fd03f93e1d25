"""Outbound webhooks against a real HTTP server on loopback: signature, retries with backoff,
the circuit breaker, conditions, SSRF refusal, timeouts and access."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import random

import pytest
from django.utils import timezone

from tests.customers.factories import make_customer
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.customers.services.customers import customer_create, customer_update
from vefa.integrations import http
from vefa.integrations.choices import CircuitState, DeliveryStatus
from vefa.integrations.models import DeliveryAttempt, Webhook, WebhookDelivery
from vefa.integrations.services.delivery import (
    backoff,
    deliver_due,
    delivery_redeliver,
)
from vefa.integrations.services.webhooks import (
    webhook_create,
    webhook_delete,
    webhook_rotate_secret,
    webhook_update,
)
from vefa.integrations.signing import verify
from vefa.platform.models import Notification

from .conftest import HOSTILE

pytestmark = pytest.mark.django_db(transaction=False)


def _hook(admin, url, rules=None, **extra):
    rules = rules or [{"entity": "customer", "event": "created"}]
    return webhook_create(
        actor=admin, data={"name": "Shop sync", "url": url, "rules": rules, **extra}
    )


def _person(admin, commit, first="Ayşe", **data):
    with commit(execute=True):
        return customer_create(
            actor=admin,
            data={"kind": "person", "first_name": first, "last_name": "Yılmaz", **data},
            email=f"{first.encode('ascii', 'ignore').decode().lower()}@example.com",
        )


def _expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def test_signed_post_reaches_the_receiver(admin_user, receiver, django_capture_on_commit_callbacks):
    made = _hook(admin_user, receiver.url)
    assert made.secret.startswith("whsec_") and len(made.secret) > 40
    customer = _person(admin_user, django_capture_on_commit_callbacks)

    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    assert got.path == "/hook?src=vefa"
    assert got.headers["x-vefa-event"] == "customer.created"
    delivery = WebhookDelivery.objects.get()
    assert got.headers["x-vefa-delivery"] == str(delivery.uuid)
    stamp = got.headers["x-vefa-timestamp"]
    assert abs(int(stamp) - timezone.now().timestamp()) < 60
    assert got.headers["x-vefa-signature"] == _expected_signature(made.secret, stamp, got.body)
    assert verify(made.secret, stamp, got.body, got.headers["x-vefa-signature"])
    assert not verify("whsec_other", stamp, got.body, got.headers["x-vefa-signature"])
    assert not verify(made.secret, stamp, got.body + b" ", got.headers["x-vefa-signature"])
    document = got.json()
    assert document["id"] == str(delivery.uuid)
    assert document["event"] == "customer.created"
    assert document["object"] == {"type": "customer", "id": customer.pk}
    assert document["data"]["first_name"] == "Ayşe"
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code == 200 and attempt.succeeded
    # The secret never reaches the change log.
    from vefa.platform.models import ChangeLogEntry

    entry = ChangeLogEntry.objects.filter(model="integrations.webhook").first()
    assert entry is not None and "secret" not in json.dumps(entry.after)
    assert made.secret not in json.dumps(list(ChangeLogEntry.objects.values("after")), default=str)


def test_500_is_retried_with_backoff_then_delivered(
    admin_user, receiver, django_capture_on_commit_callbacks
):
    _hook(admin_user, receiver.url)
    receiver.plan = [500, 200]
    before = timezone.now()
    _person(admin_user, django_capture_on_commit_callbacks)

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    wait = delivery.next_attempt_at - before
    assert datetime.timedelta(seconds=47) <= wait <= datetime.timedelta(seconds=80)
    failed = DeliveryAttempt.objects.get()
    assert failed.status_code == 500 and not failed.succeeded
    assert len(failed.response_snippet) <= 500 and failed.response_snippet.startswith("<html>")

    # Not due yet: nothing is sent.
    assert deliver_due(now=before + datetime.timedelta(seconds=10)) == {}
    assert len(receiver.requests) == 1

    counts = deliver_due(now=delivery.next_attempt_at + datetime.timedelta(seconds=1))
    assert counts == {"sent": 1}
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["x-vefa-delivery"] == second.headers["x-vefa-delivery"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    assert Webhook.objects.get().consecutive_failures == 0


def test_backoff_grows_with_jitter_and_is_capped():
    rng = random.Random(7)
    first = [backoff(1, rng=rng).total_seconds() for _ in range(50)]
    assert min(first) >= 60 and max(first) <= 72 and len(set(first)) > 10
    assert 0.8 * 960 <= backoff(5, rng=rng).total_seconds() <= 1.2 * 960
    assert backoff(40, rng=rng) <= datetime.timedelta(hours=24)
    assert backoff(0, rng=rng) >= datetime.timedelta(minutes=1)


def test_gives_up_after_max_attempts(
    admin_user, receiver, settings, django_capture_on_commit_callbacks
):
    settings.VEFA_WEBHOOKS_MAX_ATTEMPTS = 3
    settings.VEFA_WEBHOOKS_FAILURE_THRESHOLD = 100
    receiver.default_status = 503
    _hook(admin_user, receiver.url)
    _person(admin_user, django_capture_on_commit_callbacks)
    later = timezone.now()
    for _ in range(4):
        later += datetime.timedelta(days=1)
        deliver_due(now=later)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert delivery.next_attempt_at is None
    assert len(receiver.requests) == 3


def test_circuit_opens_notifies_admins_probes_and_closes(
    admin_user, receiver, settings, django_capture_on_commit_callbacks
):
    settings.VEFA_WEBHOOKS_FAILURE_THRESHOLD = 3
    settings.VEFA_WEBHOOKS_COOL_DOWN = 600
    receiver.default_status = 500
    _hook(admin_user, receiver.url)
    for name in ("Ali", "Can", "Ece"):
        _person(admin_user, django_capture_on_commit_callbacks, first=name)
    hook = Webhook.objects.get()
    assert hook.circuit_state == CircuitState.OPEN
    assert hook.consecutive_failures == 3
    notice = Notification.objects.get(recipient=admin_user, verb="webhook_paused")
    assert "Shop sync" in notice.text
    assert len(receiver.requests) == 3

    # While open, a new event waits for the circuit: no request goes out.
    _person(admin_user, django_capture_on_commit_callbacks, first="Deniz")
    assert len(receiver.requests) == 3
    waiting = WebhookDelivery.objects.order_by("-id").first()
    assert waiting.status == DeliveryStatus.PENDING and waiting.attempts == 0
    assert waiting.next_attempt_at == hook.circuit_retry_at

    # Cooled down: one probe fails → open again, nothing else is sent.
    probe_time = hook.circuit_retry_at + datetime.timedelta(seconds=1)
    deliver_due(now=probe_time)
    assert len(receiver.requests) == 4
    hook.refresh_from_db()
    assert hook.circuit_state == CircuitState.OPEN
    assert hook.circuit_retry_at > probe_time

    # Next cool-down: the probe succeeds → closed, waiting deliveries go at once.
    receiver.default_status = 200
    second = hook.circuit_retry_at + datetime.timedelta(seconds=1)
    deliver_due(now=second)
    hook.refresh_from_db()
    assert hook.circuit_state == CircuitState.CLOSED
    assert hook.consecutive_failures == 0
    deliver_due(now=second + datetime.timedelta(seconds=1))
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 4
    assert Notification.objects.filter(recipient=admin_user, verb="webhook_recovered").exists()


def test_condition_and_stage_changed(admin_user, receiver, django_capture_on_commit_callbacks):
    _hook(
        admin_user,
        receiver.url,
        rules=[
            {
                "entity": "customer",
                "event": "stage_changed",
                "condition_field": "lifecycle_stage",
                "condition_operator": "eq",
                "condition_value": "customer",
            }
        ],
    )
    customer = _person(admin_user, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=admin_user, customer_id=customer.pk, data={"notes": "x"})
    assert receiver.requests == []  # no stage change
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=admin_user, customer_id=customer.pk, data={"lifecycle_stage": "lead"})
    assert receiver.requests == []  # stage changed, condition false
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(
            actor=admin_user, customer_id=customer.pk, data={"lifecycle_stage": "customer"}
        )
    assert len(receiver.requests) == 1
    document = receiver.requests[0].json()
    assert document["event"] == "customer.stage_changed"
    assert "lifecycle_stage" in document["changed"]


def test_deleted_event_carries_the_last_state(
    admin_user, receiver, django_capture_on_commit_callbacks
):
    from vefa.customers.services.customers import customer_delete

    _hook(admin_user, receiver.url, rules=[{"entity": "customer", "event": "deleted"}])
    customer = _person(admin_user, django_capture_on_commit_callbacks, first="Zeynep")
    with django_capture_on_commit_callbacks(execute=True):
        customer_delete(actor=admin_user, customer_id=customer.pk)
    assert len(receiver.requests) == 1
    assert receiver.requests[0].json()["data"]["first_name"] == "Zeynep"


def test_inactive_webhook_and_other_events_send_nothing(
    admin_user, receiver, django_capture_on_commit_callbacks
):
    made = _hook(admin_user, receiver.url, rules=[{"entity": "order", "event": "created"}])
    _person(admin_user, django_capture_on_commit_callbacks)
    assert WebhookDelivery.objects.count() == 0
    webhook_update(
        actor=admin_user,
        webhook_id=made.webhook.pk,
        data={"is_active": False, "rules": [{"entity": "customer", "event": "created"}]},
    )
    _person(admin_user, django_capture_on_commit_callbacks, first="Ali")
    assert WebhookDelivery.objects.count() == 0 and receiver.requests == []


def test_redeliver_sends_a_new_delivery_with_the_same_data(
    admin_user, receiver, django_capture_on_commit_callbacks
):
    _hook(admin_user, receiver.url)
    _person(admin_user, django_capture_on_commit_callbacks)
    original = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        copy = delivery_redeliver(actor=admin_user, delivery_id=original.pk)
    assert copy.pk != original.pk and copy.redelivery_of_id == original.pk
    assert len(receiver.requests) == 2
    first, second = (r.json() for r in receiver.requests)
    assert second["id"] == str(copy.uuid) != first["id"]
    assert second["data"] == first["data"]


def test_rotated_secret_signs_the_next_delivery(
    admin_user, receiver, django_capture_on_commit_callbacks
):
    made = _hook(admin_user, receiver.url)
    rotated = webhook_rotate_secret(actor=admin_user, webhook_id=made.webhook.pk)
    assert rotated.secret != made.secret
    _person(admin_user, django_capture_on_commit_callbacks)
    got = receiver.requests[0]
    stamp = got.headers["x-vefa-timestamp"]
    assert verify(rotated.secret, stamp, got.body, got.headers["x-vefa-signature"])
    assert not verify(made.secret, stamp, got.body, got.headers["x-vefa-signature"])


def test_timeout_is_a_failure(
    admin_user, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(http, "READ_TIMEOUT", 0.3)
    receiver.delay = 1.5
    _hook(admin_user, receiver.url)
    _person(admin_user, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code is None
    assert "timed out" in delivery.last_error.lower() or "timeout" in delivery.last_error.lower()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/",
        "http://localhost/hook",
    ],
)
def test_private_addresses_are_refused(admin_user, settings, url):
    settings.VEFA_WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ValidationFailed) as err:
        _hook(admin_user, url)
    assert "url" in err.value.fields
    assert Webhook.objects.count() == 0


def test_a_name_resolving_to_loopback_is_refused_at_delivery(
    admin_user, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.VEFA_WEBHOOKS_ALLOW_PRIVATE = False
    monkeypatch.setattr(
        http.socket,
        "getaddrinfo",
        lambda host, port, **kw: [(2, 1, 6, "", ("8.8.8.8", port))],
    )
    _hook(admin_user, "https://hooks.example.com/in")
    # DNS now answers with a loopback address (rebinding): the delivery refuses to connect.
    monkeypatch.setattr(
        http.socket,
        "getaddrinfo",
        lambda host, port, **kw: [(2, 1, 6, "", ("127.0.0.1", port))],
    )
    _person(admin_user, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert "private or local" in delivery.last_error


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "javascript:alert(1)", "https://user:pw@example.com/", "", "http://"],
)
def test_bad_urls_are_refused(admin_user, url):
    with pytest.raises(ValidationFailed) as err:
        _hook(admin_user, url)
    assert "url" in err.value.fields


@pytest.mark.parametrize(
    "rule,field",
    [
        ({"entity": "invoice", "event": "created"}, "rules.0.event"),
        ({"entity": "customer", "event": "converted"}, "rules.0.event"),
        ({"entity": "customer", "event": 5}, "rules.0.event"),
        (
            {
                "entity": "order",
                "event": "created",
                "condition_field": "total; DROP",
                "condition_operator": "eq",
                "condition_value": "1",
            },
            "rules.0.condition_field",
        ),
        (
            {
                "entity": "order",
                "event": "created",
                "condition_field": "total",
                "condition_operator": "gt",
                "condition_value": "=cmd|' /C calc'!A0",
            },
            "rules.0.condition_value",
        ),
        (
            {
                "entity": "order",
                "event": "created",
                "condition_field": "total",
                "condition_operator": "like",
                "condition_value": "1",
            },
            "rules.0.condition_operator",
        ),
        ({"entity": "order", "event": "created", "extra": 1}, "rules.0.extra"),
        ("order.created", "rules.0"),
    ],
)
def test_bad_rules_are_refused(admin_user, rule, field):
    with pytest.raises(ValidationFailed) as err:
        _hook(admin_user, "https://hooks.example.com/in", rules=[rule])
    assert field in err.value.fields


def test_bad_webhook_fields(admin_user):
    cases = [
        ({"name": "", "url": "https://example.com", "rules": []}, "name"),
        ({"name": "x" * 101, "url": "https://example.com", "rules": []}, "name"),
        ({"name": 5, "url": "https://example.com", "rules": []}, "name"),
        ({"name": "ok", "url": "https://example.com", "rules": []}, "rules"),
        ({"name": "ok", "url": "https://example.com", "rules": "x"}, "rules"),
        ({"name": "ok", "url": "https://example.com", "rules": [{}] * 51}, "rules"),
        ({"name": "ok", "url": "https://e.com", "rules": [{}], "is_active": "yes"}, "is_active"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationFailed) as err:
            webhook_create(actor=admin_user, data=data)
        assert field in err.value.fields, (data, err.value.fields)


def test_hostile_names_are_kept_as_text(admin_user):
    for value in HOSTILE:
        made = webhook_create(
            actor=admin_user,
            data={
                "name": value[:100],
                "url": "https://hooks.example.com/in",
                "rules": [
                    {
                        "entity": "ticket",
                        "event": "status_changed",
                        "condition_field": "subject",
                        "condition_operator": "contains",
                        "condition_value": value,
                    }
                ],
            },
        )
        assert made.webhook.name == value[:100].strip()


def test_only_admins_keep_webhooks(admin_user, rep, manager):
    made = _hook(admin_user, "https://hooks.example.com/in")
    for user in (rep, manager):
        with pytest.raises(PermissionDenied):
            _hook(user, "https://hooks.example.com/in")
        with pytest.raises(PermissionDenied):
            webhook_update(actor=user, webhook_id=made.webhook.pk, data={"name": "x"})
        with pytest.raises(PermissionDenied):
            webhook_delete(actor=user, webhook_id=made.webhook.pk)
    with pytest.raises(NotFound):
        webhook_update(actor=admin_user, webhook_id=999999, data={"name": "x"})
    with pytest.raises(NotFound):
        webhook_update(actor=admin_user, webhook_id="abc", data={"name": "x"})


def test_events_of_unwatched_records_cost_no_query(django_assert_num_queries, admin_user):
    from vefa.common.events import DomainEvent
    from vefa.integrations.services.delivery import deliveries_enqueue

    with django_assert_num_queries(0):
        deliveries_enqueue(DomainEvent("platform.tag.created", "platform.tag", 1))
    # The first event reads which events are watched; later ones ask nothing while none is.
    with django_assert_num_queries(1):
        deliveries_enqueue(DomainEvent("customers.customer.created", "customers.customer", 1))
    with django_assert_num_queries(0):
        deliveries_enqueue(DomainEvent("customers.customer.created", "customers.customer", 2))
        deliveries_enqueue(DomainEvent("sales.order.updated", "sales.order", 2))
    # A webhook saved in this process is seen at once.
    _hook(admin_user, "https://hooks.example.com/in")
    from vefa.integrations.services.delivery import watched_events

    with django_assert_num_queries(1):  # the watched set is read again
        deliveries_enqueue(DomainEvent("customers.customer.updated", "customers.customer", 1))
    assert watched_events() == {"customers.customer.created"}
    with django_assert_num_queries(0):
        deliveries_enqueue(DomainEvent("customers.customer.updated", "customers.customer", 1))


def test_an_order_status_change_is_sent(admin_user, receiver, django_capture_on_commit_callbacks):
    from vefa.sales.models import Product
    from vefa.sales.services.orders import order_create, order_set_status

    customer = make_customer(owner=admin_user)
    product = Product.objects.create(
        sku="KHV-1", name="Kahve", list_price="100.00", currency="TRY", tax_rate="20"
    )
    _hook(
        admin_user,
        receiver.url,
        rules=[
            {
                "entity": "order",
                "event": "status_changed",
                "condition_field": "total",
                "condition_operator": "gte",
                "condition_value": "100",
            }
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = order_create(
            actor=admin_user,
            customer=customer,
            currency="TRY",
            lines=[{"product": product.pk, "quantity": "1"}],
        )
    assert receiver.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(actor=admin_user, order_id=order.pk, status="confirmed")
    assert len(receiver.requests) == 1
    body = receiver.requests[0].json()
    assert body["event"] == "order.status_changed" and body["data"]["status"] == "confirmed"


def test_old_finished_deliveries_are_pruned_waiting_ones_kept(
    admin_user, receiver, django_capture_on_commit_callbacks
):
    from vefa.integrations.services.delivery import deliveries_prune

    _hook(admin_user, receiver.url)
    receiver.plan = [200, 500]
    _person(admin_user, django_capture_on_commit_callbacks, first="Ali")
    _person(admin_user, django_capture_on_commit_callbacks, first="Can")
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 1
    assert deliveries_prune() == 0
    later = timezone.now() + datetime.timedelta(days=31)
    assert deliveries_prune(now=later) == 1
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING
    assert DeliveryAttempt.objects.count() == 1


def test_deliver_command(admin_user, receiver, django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("webhooks_deliver", stdout=out)
    assert "nothing due" in out.getvalue()
    _hook(admin_user, receiver.url)
    receiver.plan = [500]
    _person(admin_user, django_capture_on_commit_callbacks)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    call_command("webhooks_deliver", stdout=out)
    assert "sent: 1" in out.getvalue()

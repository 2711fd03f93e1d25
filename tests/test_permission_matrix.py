"""The permission matrix: every page, partial and API operation × role × own/team/other record.

For each surface the expected answer comes from the one access policy
(``vefa.accounts.access``): allowed → a 2xx/3xx answer and, for a write, exactly one new
change-log row for the record; not allowed → 404 (never 403: "not allowed" looks like
"not found") and nothing changed — same version, same change log, record still there.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import CustomerFactory, TeamFactory, UserFactory
from vefa.accounts import access
from vefa.accounts.choices import Role
from vefa.platform.models import ChangeLogEntry

ROLES = [r.value for r in Role]
RELATIONS = ["own", "team", "other"]


@dataclass(frozen=True)
class Surface:
    """One way to reach a record: a page, an htmx partial or an API operation."""

    name: str
    model: str  # the kind of record the matrix makes: customer, lead, interaction, activity
    action: str  # view, change or delete
    method: str
    url: Callable[[Any], str]
    data: Callable[[Any], dict[str, Any]] | None = None
    kind: str = "api"  # api, page or partial
    writes: bool = False
    # Which record the answer depends on, when not the record itself (e.g. the customer).
    subject: Callable[[Any], Any] = field(default=lambda record: record)
    htmx: bool = False
    # Extra rule on top of the record's scope (e.g. converting a lead also creates a customer).
    also: Callable[[Any], bool] | None = None


def _customer_model() -> Any:
    from vefa.customers.models import Customer

    return Customer


def _api(path: str) -> Callable[[Any], str]:
    return lambda record: "/api/v1" + path.format(pk=record.pk)


def _page(name: str, attr: str | None = None) -> Callable[[Any], str]:
    return lambda record: reverse(name, args=[getattr(record, attr) if attr else record.pk])


SURFACES: list[Surface] = [
    # --- customers: pages and partials
    Surface(
        "page customer detail", "customer", "view", "GET", _page("customers:detail"), kind="page"
    ),
    Surface(
        "page customer edit form", "customer", "change", "GET", _page("customers:edit"), kind="page"
    ),
    Surface(
        "page customer delete",
        "customer",
        "delete",
        "POST",
        _page("customers:delete"),
        kind="page",
        writes=True,
    ),
    Surface(
        "page consent grant",
        "customer",
        "change",
        "POST",
        _page("customers:consent_grant"),
        data=lambda r: {"channel": "email", "purpose": "marketing", "source": "phone call"},
        kind="page",
        writes=True,
    ),
    Surface(
        "partial consent history",
        "customer",
        "view",
        "GET",
        _page("customers:consent_history"),
        kind="partial",
        htmx=True,
    ),
    Surface(
        "partial customer timeline",
        "customer",
        "view",
        "GET",
        _page("interactions:customer_timeline"),
        kind="partial",
        htmx=True,
    ),
    Surface(
        "partial customer activities",
        "customer",
        "view",
        "GET",
        _page("interactions:customer_activities"),
        kind="partial",
        htmx=True,
    ),
    # --- customers: API
    Surface("api customer get", "customer", "view", "GET", _api("/customers/{pk}")),
    Surface(
        "api customer patch",
        "customer",
        "change",
        "PATCH",
        _api("/customers/{pk}"),
        data=lambda r: {"notes": "Prefers mornings"},
        writes=True,
    ),
    Surface(
        "api customer delete", "customer", "delete", "DELETE", _api("/customers/{pk}"), writes=True
    ),
    Surface("api customer addresses", "customer", "view", "GET", _api("/customers/{pk}/addresses")),
    Surface("api customer consent", "customer", "view", "GET", _api("/customers/{pk}/consent")),
    Surface(
        "api consent grant",
        "customer",
        "change",
        "POST",
        _api("/customers/{pk}/consent/grant"),
        data=lambda r: {
            "channel": "sms",
            "purpose": "marketing",
            "source": "web form",
            "text_version": "v1",
        },
        writes=True,
    ),
    # --- leads
    Surface("page lead detail", "lead", "view", "GET", _page("customers:lead_detail"), kind="page"),
    Surface(
        "page lead edit form", "lead", "change", "GET", _page("customers:lead_edit"), kind="page"
    ),
    Surface(
        "page lead delete",
        "lead",
        "delete",
        "POST",
        _page("customers:lead_delete"),
        kind="page",
        writes=True,
    ),
    Surface("api lead get", "lead", "view", "GET", _api("/leads/{pk}")),
    Surface(
        "api lead patch",
        "lead",
        "change",
        "PATCH",
        _api("/leads/{pk}"),
        data=lambda r: {"score": 40},
        writes=True,
    ),
    Surface("api lead delete", "lead", "delete", "DELETE", _api("/leads/{pk}"), writes=True),
    Surface(
        "api lead convert",
        "lead",
        "change",
        "POST",
        _api("/leads/{pk}/convert"),
        writes=True,
        also=lambda actor: access.can_create(actor, _customer_model()),
    ),
    # --- interactions: pages
    Surface(
        "page interaction detail",
        "interaction",
        "view",
        "GET",
        _page("interactions:detail"),
        kind="page",
    ),
    Surface(
        "page interaction edit form",
        "interaction",
        "change",
        "GET",
        _page("interactions:edit"),
        kind="page",
    ),
    Surface(
        "page interaction delete",
        "interaction",
        "delete",
        "POST",
        _page("interactions:delete"),
        kind="page",
        writes=True,
    ),
    # --- activities: pages
    Surface(
        "page activity detail",
        "activity",
        "view",
        "GET",
        _page("interactions:activity_detail"),
        kind="page",
    ),
    Surface(
        "page activity edit form",
        "activity",
        "change",
        "GET",
        _page("interactions:activity_edit"),
        kind="page",
    ),
    Surface(
        "page activity cancel",
        "activity",
        "change",
        "POST",
        _page("interactions:activity_cancel"),
        kind="page",
        writes=True,
    ),
    # --- interactions: API
    Surface("api interaction get", "interaction", "view", "GET", _api("/interactions/{pk}")),
    Surface(
        "api interaction patch",
        "interaction",
        "change",
        "PATCH",
        _api("/interactions/{pk}"),
        data=lambda r: {"subject": "Changed subject"},
        writes=True,
    ),
    Surface(
        "api interaction delete",
        "interaction",
        "delete",
        "DELETE",
        _api("/interactions/{pk}"),
        writes=True,
    ),
    # --- activities: API
    Surface("api activity get", "activity", "view", "GET", _api("/activities/{pk}")),
    Surface(
        "api activity patch",
        "activity",
        "change",
        "PATCH",
        _api("/activities/{pk}"),
        data=lambda r: {"subject": "Changed subject"},
        writes=True,
    ),
    Surface(
        "api activity complete",
        "activity",
        "change",
        "POST",
        _api("/activities/{pk}/complete"),
        data=lambda r: {"outcome": "Done"},
        writes=True,
    ),
    Surface(
        "api activity delete", "activity", "delete", "DELETE", _api("/activities/{pk}"), writes=True
    ),
]


# --- records --------------------------------------------------------------------------


@pytest.fixture
def world(db):
    north = TeamFactory(name="North")
    south = TeamFactory(name="South")
    teammate = UserFactory(role=Role.SALES_REP, team=north, full_name="Teammate")
    stranger = UserFactory(role=Role.SALES_REP, team=south, full_name="Stranger")
    return {"north": north, "south": south, "team": teammate, "other": stranger}


def _owner(world: dict[str, Any], actor: Any, relation: str) -> Any:
    return actor if relation == "own" else world[relation]


def make_record(model: str, owner: Any) -> Any:
    """A record of ``model`` owned by ``owner`` (and in the owner's team)."""
    from vefa.customers.models import Lead
    from vefa.interactions.models import Activity, Interaction

    if model == "customer":
        return CustomerFactory(owner=owner, team=owner.team)
    if model == "lead":
        return Lead.objects.create(
            first_name="Lale", last_name="Demir", owner=owner, team=owner.team
        )
    if model == "interaction":
        customer = CustomerFactory(owner=owner, team=owner.team)
        return Interaction.objects.create(
            customer=customer, kind="call", subject="First call", user=owner
        )
    if model == "activity":
        due = timezone.now() + datetime.timedelta(days=2)
        return Activity.objects.create(
            kind="call",
            subject="Call back",
            owner=owner,
            team=owner.team,
            due_at=due,
            scheduled_at=due,
        )
    raise AssertionError(model)


def _state(record: Any) -> tuple[bool, int | None, int]:
    model = type(record)
    current = model._default_manager.filter(pk=record.pk).first()
    # A customer's changes include those of its contact points, addresses and consent.
    if model._meta.label_lower == "customers.customer":
        changes = ChangeLogEntry.objects.filter(customer_id=record.pk).count()
    else:
        changes = ChangeLogEntry.objects.filter(
            model=model._meta.label_lower, object_id=record.pk
        ).count()
    return current is not None, getattr(current, "version", None), changes


def _request(client: Client, surface: Surface, record: Any) -> Any:
    url = surface.url(record)
    headers = {"HX-Request": "true"} if surface.htmx else {}
    if surface.method == "GET":
        return client.get(url, headers=headers)
    if surface.kind == "api":
        body = json.dumps(surface.data(record) if surface.data else {})
        return client.generic(
            surface.method, url, body, content_type="application/json", headers=headers
        )
    return client.post(url, surface.data(record) if surface.data else {}, headers=headers)


CASES = [
    pytest.param(surface, role, relation, id=f"{surface.name}-{role}-{relation}")
    for surface in SURFACES
    for role in ROLES
    for relation in RELATIONS
]


@pytest.mark.parametrize(("surface", "role", "relation"), CASES)
def test_permission_matrix(world, surface, role, relation):
    # Given an actor of this role in team North and a record that is theirs, a teammate's
    # or another team's
    actor = UserFactory(role=role, team=world["north"], is_superuser=role == Role.ADMIN)
    record = make_record(surface.model, _owner(world, actor, relation))
    allowed = access.can(actor, surface.action, surface.subject(record))
    if surface.also is not None:
        allowed = allowed and surface.also(actor)
    before = _state(record)
    client = Client()
    client.force_login(actor)

    # When the actor uses the surface
    response = _request(client, surface, record)

    # Then the answer and the data follow the policy
    after = _state(record)
    if allowed:
        assert 200 <= response.status_code < 400, (response.status_code, response.content[:300])
        if surface.writes:
            assert after[2] == before[2] + 1, "an allowed write logs exactly one change"
        else:
            assert after == before
    else:
        assert response.status_code == 404, (response.status_code, response.content[:300])
        assert after == before, "a refused request changes nothing"

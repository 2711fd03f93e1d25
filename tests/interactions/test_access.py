"""The access matrix: role × own/team/other record × view/change/delete.

Allowed → the service works and writes one change-log row; not allowed → ``NotFound``
(exactly like a missing record) and nothing changes.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.factories import CustomerFactory, TeamFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.common.errors import NotFound
from vefa.interactions.models import Activity, Interaction
from vefa.interactions.selectors import activity_get, interaction_get
from vefa.interactions.services import (
    activity_delete,
    activity_update,
    interaction_delete,
    interaction_update,
)
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db

Y, N = True, False
# role: {position: (view, change, delete)} for interactions.interaction
INTERACTION = {
    Role.ADMIN: {"own": (Y, Y, Y), "team": (Y, Y, Y), "other": (Y, Y, Y)},
    Role.SALES_MANAGER: {"own": (Y, Y, Y), "team": (Y, Y, Y), "other": (Y, N, N)},
    Role.SALES_REP: {"own": (Y, Y, Y), "team": (Y, N, N), "other": (N, N, N)},
    Role.SERVICE_AGENT: {"own": (Y, Y, Y), "team": (Y, N, N), "other": (Y, N, N)},
    Role.MARKETER: {"own": (Y, Y, N), "team": (Y, N, N), "other": (Y, N, N)},
    Role.READ_ONLY: {"own": (Y, N, N), "team": (Y, N, N), "other": (Y, N, N)},
}
# the same for interactions.activity
ACTIVITY = {
    Role.ADMIN: {"own": (Y, Y, Y), "team": (Y, Y, Y), "other": (Y, Y, Y)},
    Role.SALES_MANAGER: {"own": (Y, Y, Y), "team": (Y, Y, Y), "other": (Y, N, N)},
    Role.SALES_REP: {"own": (Y, Y, Y), "team": (Y, N, N), "other": (N, N, N)},
    Role.SERVICE_AGENT: {"own": (Y, Y, Y), "team": (Y, N, N), "other": (N, N, N)},
    Role.MARKETER: {"own": (Y, Y, Y), "team": (Y, N, N), "other": (N, N, N)},
    Role.READ_ONLY: {"own": (Y, N, N), "team": (Y, N, N), "other": (Y, N, N)},
}
CASES = [(role, position) for role in INTERACTION for position in ("own", "team", "other")]


@pytest.fixture
def world(db):
    home = TeamFactory(name="Home")
    away = TeamFactory(name="Away")
    colleague = UserFactory(role=Role.SALES_REP, team=home)
    outsider = UserFactory(role=Role.SALES_REP, team=away)
    return {"home": home, "away": away, "colleague": colleague, "outsider": outsider}


def _actor(world, role):
    extra = {"is_superuser": True, "is_staff": True} if role == Role.ADMIN else {}
    return UserFactory(role=role, team=world["home"], **extra)


def _holder(world, actor, position):
    return {"own": actor, "team": world["colleague"], "other": world["outsider"]}[position]


def _interaction(world, actor, position) -> Interaction:
    holder = _holder(world, actor, position)
    customer = CustomerFactory(owner=holder, team=holder.team)
    return Interaction.objects.create(
        customer=customer, user=holder, kind="call", subject="original"
    )


def _activity(world, actor, position) -> Activity:
    holder = _holder(world, actor, position)
    due = timezone.now() + datetime.timedelta(days=1)
    return Activity.objects.create(
        kind="task",
        subject="original",
        owner=holder,
        team=holder.team,
        due_at=due,
        scheduled_at=due,
    )


def _logs() -> int:
    return ChangeLogEntry.objects.count()


@pytest.mark.parametrize(("role", "position"), CASES)
def test_interaction_matrix(world, role, position):
    actor = _actor(world, role)
    view, change, delete = INTERACTION[role][position]
    record = _interaction(world, actor, position)

    if view:
        assert interaction_get(actor=actor, pk=record.pk) == record
    else:
        with pytest.raises(NotFound):
            interaction_get(actor=actor, pk=record.pk)

    before = _logs()
    if change:
        updated = interaction_update(actor=actor, interaction_id=record.pk, data={"subject": "new"})
        assert updated.subject == "new"
        assert _logs() == before + 1
    else:
        with pytest.raises(NotFound):
            interaction_update(actor=actor, interaction_id=record.pk, data={"subject": "new"})
        record.refresh_from_db()
        assert (record.subject, record.version) == ("original", 1)
        assert _logs() == before

    before = _logs()
    if delete:
        interaction_delete(actor=actor, interaction_id=record.pk)
        assert not Interaction.objects.filter(pk=record.pk).exists()
        assert _logs() == before + 1
    else:
        with pytest.raises(NotFound):
            interaction_delete(actor=actor, interaction_id=record.pk)
        assert Interaction.objects.filter(pk=record.pk).exists()
        assert _logs() == before


@pytest.mark.parametrize(("role", "position"), CASES)
def test_activity_matrix(world, role, position):
    actor = _actor(world, role)
    view, change, delete = ACTIVITY[role][position]
    record = _activity(world, actor, position)

    if view:
        assert activity_get(actor=actor, pk=record.pk) == record
    else:
        with pytest.raises(NotFound):
            activity_get(actor=actor, pk=record.pk)

    before = _logs()
    if change:
        activity_update(actor=actor, activity_id=record.pk, data={"subject": "new"})
        assert Activity.objects.get(pk=record.pk).subject == "new"
        assert _logs() == before + 1
    else:
        with pytest.raises(NotFound):
            activity_update(actor=actor, activity_id=record.pk, data={"subject": "new"})
        record.refresh_from_db()
        assert (record.subject, record.version) == ("original", 1)
        assert _logs() == before

    before = _logs()
    if delete:
        activity_delete(actor=actor, activity_id=record.pk)
        assert not Activity.objects.filter(pk=record.pk).exists()
        assert _logs() == before + 1
    else:
        with pytest.raises(NotFound):
            activity_delete(actor=actor, activity_id=record.pk)
        assert Activity.objects.filter(pk=record.pk).exists()
        assert _logs() == before

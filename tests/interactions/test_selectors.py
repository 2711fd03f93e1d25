"""Reads: access on every selector, the merged timeline, the agenda, filters, search."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.factories import CustomerFactory
from tests.interactions.conftest import pdf_file
from vefa.common.errors import NotFound
from vefa.interactions.filters import ActivityFilters, InteractionFilters, filters_from_query
from vefa.interactions.models import Interaction
from vefa.interactions.selectors import (
    activity_agenda,
    activity_get,
    activity_list,
    activity_page,
    attachment_get,
    interaction_get,
    interaction_list,
    interaction_page,
    timeline_for_customer,
)
from vefa.interactions.services import (
    activity_create,
    attachment_add,
    interaction_create,
    interaction_update,
)
from vefa.platform import search
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)


def _log(rep, customer, minutes: int, kind: str = "call", subject: str = "") -> Interaction:
    return interaction_create(
        actor=rep,
        customer_id=customer.pk,
        kind=kind,
        subject=subject or f"{kind} {minutes}",
        occurred_at=T0 + datetime.timedelta(minutes=minutes),
    )


# --- access -------------------------------------------------------------------------------------


def test_hidden_interaction_and_attachment_are_not_found(rep, rep_other_team, other_customer):
    theirs = _log(rep_other_team, other_customer, 1)
    attachment = attachment_add(actor=rep_other_team, interaction_id=theirs.pk, file=pdf_file())
    with pytest.raises(NotFound):
        interaction_get(actor=rep, pk=theirs.pk)
    with pytest.raises(NotFound):
        attachment_get(actor=rep, pk=attachment.pk)
    assert list(interaction_list(actor=rep)) == []
    assert interaction_get(actor=rep_other_team, pk=theirs.pk) == theirs
    assert attachment_get(actor=rep_other_team, pk=attachment.pk) == attachment


def test_team_sees_team_customers_interactions(
    rep, rep_same_team, rep_other_team, team_customer, other_customer
):
    colleagues = _log(rep_same_team, team_customer, 1)
    _log(rep_other_team, other_customer, 2)
    assert list(interaction_list(actor=rep)) == [colleagues]


def test_activities_follow_the_activity_policy(rep, rep_same_team, rep_other_team, soon):
    own = activity_create(actor=rep, kind="task", subject="own", due_at=soon)
    team = activity_create(actor=rep_same_team, kind="task", subject="team", due_at=soon)
    other = activity_create(actor=rep_other_team, kind="task", subject="other", due_at=soon)
    visible = set(activity_list(actor=rep, filters=ActivityFilters(scope="all")))
    assert visible == {own, team}
    with pytest.raises(NotFound):
        activity_get(actor=rep, pk=other.pk)
    assert activity_get(actor=rep, pk=team.pk) == team


# --- timeline -------------------------------------------------------------------------------------


def test_timeline_merges_interactions_and_changes_newest_first(rep, own_customer):
    first = _log(rep, own_customer, 1)
    second = _log(rep, own_customer, 2, kind="email")
    interaction_update(actor=rep, interaction_id=first.pk, data={"outcome": "Called back"})
    page = timeline_for_customer(actor=rep, customer_id=own_customer.pk)
    kinds = [(e.kind, (e.interaction or e.change).pk) for e in page.entries]
    change = ChangeLogEntry.objects.get(model="interactions.interaction", action="update")
    # the change happened "now", after both interactions (which are dated in the past)
    assert kinds == [("changes", change.pk), ("email", second.pk), ("call", first.pk)]
    assert page.next_cursor is None


def test_timeline_type_filter(rep, own_customer):
    call = _log(rep, own_customer, 1)
    _log(rep, own_customer, 2, kind="email")
    interaction_update(actor=rep, interaction_id=call.pk, data={"outcome": "x"})
    only_calls = timeline_for_customer(actor=rep, customer_id=own_customer.pk, kinds=["call"])
    assert [e.interaction for e in only_calls.entries] == [call]
    only_changes = timeline_for_customer(actor=rep, customer_id=own_customer.pk, kinds=["changes"])
    assert [e.kind for e in only_changes.entries] == ["changes"]
    ignored = timeline_for_customer(actor=rep, customer_id=own_customer.pk, kinds=["<script>"])
    assert len(ignored.entries) == 3


def test_timeline_load_more_walks_every_entry_once(rep, own_customer):
    made = [_log(rep, own_customer, m) for m in range(7)]
    # two interactions at the same instant must both be shown, in a stable order
    twin = interaction_create(
        actor=rep,
        customer_id=own_customer.pk,
        kind="note",
        subject="twin",
        occurred_at=made[3].occurred_at,
    )
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = timeline_for_customer(
            actor=rep, customer_id=own_customer.pk, before=cursor, limit=3, kinds=["call", "note"]
        )
        seen += [e.interaction.pk for e in page.entries]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted([i.pk for i in made] + [twin.pk])
    assert len(seen) == len(set(seen)) == 8


def test_timeline_of_hidden_customer_is_not_found(rep, other_customer):
    with pytest.raises(NotFound):
        timeline_for_customer(actor=rep, customer_id=other_customer.pk)
    with pytest.raises(NotFound):
        timeline_for_customer(actor=rep, customer_id="1 OR 1=1")


def test_timeline_hides_changes_of_activities_the_actor_cannot_see(
    rep, rep_same_team, manager, team_customer, soon
):
    # a colleague's activity on a team customer: rep sees the customer, not the activity
    activity_create(
        actor=manager,
        kind="task",
        subject="secret plan",
        due_at=soon,
        customer_id=team_customer.pk,
        owner_id=manager.pk,
    )
    rep_view = timeline_for_customer(actor=rep, customer_id=team_customer.pk, kinds=["changes"])
    assert [e.change.model for e in rep_view.entries] == ["interactions.activity"]  # team scope
    from vefa.interactions.models import Activity

    Activity.objects.update(team=None)
    rep_view = timeline_for_customer(actor=rep, customer_id=team_customer.pk, kinds=["changes"])
    assert rep_view.entries == []
    manager_view = timeline_for_customer(
        actor=manager, customer_id=team_customer.pk, kinds=["changes"]
    )
    assert len(manager_view.entries) == 1


@pytest.mark.parametrize("rows", [5, 50])
def test_timeline_query_count_is_constant(rep, own_customer, rows, django_assert_num_queries):
    for m in range(rows):
        interaction = _log(rep, own_customer, m)
        if m % 5 == 0:
            attachment_add(actor=rep, interaction_id=interaction.pk, file=pdf_file())
    # customer and its tags, interactions, their attachments, changes (subqueries inline)
    with django_assert_num_queries(5):
        page = timeline_for_customer(actor=rep, customer_id=own_customer.pk, limit=100)
        for entry in page.entries:
            if entry.interaction is not None:
                list(entry.interaction.attachments.all())
                str(entry.interaction.user)


# --- agenda and filters ---------------------------------------------------------------


def test_agenda_splits_overdue_today_upcoming_in_users_zone(rep, soon):
    rep.time_zone = "Asia/Tehran"  # UTC+3:30
    rep.save()
    now = datetime.datetime(2026, 5, 1, 8, 0, tzinfo=datetime.UTC)  # 11:30 in Tehran
    overdue = activity_create(
        actor=rep, kind="task", subject="late", due_at=now - datetime.timedelta(hours=2)
    )
    today = activity_create(
        actor=rep, kind="call", subject="today", due_at=now + datetime.timedelta(hours=10)
    )
    # 20:00 UTC is already 23:30 in Tehran… and 21:00 UTC is tomorrow there
    tomorrow = activity_create(
        actor=rep, kind="task", subject="tomorrow", due_at=now + datetime.timedelta(hours=13)
    )
    activity_create(actor=rep, kind="task", subject="far", due_at=now + datetime.timedelta(days=30))
    agenda = activity_agenda(actor=rep, now=now)
    assert agenda == {"overdue": [overdue], "today": [today], "upcoming": [tomorrow]}


def test_activity_filters(rep, rep_same_team, own_customer, soon):
    now = timezone.now()
    late = activity_create(
        actor=rep,
        kind="call",
        subject="Late call",
        due_at=now - datetime.timedelta(days=1),
        customer_id=own_customer.pk,
    )
    meeting = activity_create(
        actor=rep,
        kind="meeting",
        subject="Meet",
        start_at=soon,
        end_at=soon + datetime.timedelta(hours=1),
    )
    colleague = activity_create(actor=rep_same_team, kind="task", subject="Theirs", due_at=soon)

    def ids(**kw):
        return {a.pk for a in activity_list(actor=rep, filters=ActivityFilters(**kw))}

    assert ids() == {late.pk, meeting.pk}
    assert ids(scope="team") == {late.pk, meeting.pk, colleague.pk}
    assert ids(kind="meeting") == {meeting.pk}
    assert ids(when="overdue") == {late.pk}
    assert ids(when="upcoming") == {meeting.pk}
    assert ids(customer=own_customer.pk) == {late.pk}
    assert ids(q="late") == {late.pk}
    assert ids(date_from=soon.date(), date_to=soon.date()) == {meeting.pk}
    assert ids(status="done") == set()


def test_filters_from_query_drops_bad_values():
    filters, errors = filters_from_query(
        ActivityFilters, {"kind": "meeting", "when": "<script>", "customer": "x", "scope": "all"}
    )
    assert (filters.kind, filters.when, filters.customer, filters.scope) == (
        "meeting",
        None,
        None,
        "all",
    )
    assert set(errors) == {"when", "customer"}


def test_interaction_filters_and_keyset_pages(rep, own_customer):
    rows = [_log(rep, own_customer, m, kind="call" if m % 2 else "email") for m in range(6)]
    other = CustomerFactory(owner=rep, team=rep.team)
    elsewhere = _log(rep, other, 10, subject="Birthday greeting")
    flt = InteractionFilters(customer=own_customer.pk, kind="call")
    assert [i.pk for i in interaction_list(actor=rep, filters=flt)] == [
        rows[5].pk,
        rows[3].pk,
        rows[1].pk,
    ]
    assert list(interaction_list(actor=rep, filters=InteractionFilters(q="birthday"))) == [
        elsewhere
    ]
    first = interaction_page(
        actor=rep, filters=InteractionFilters(customer=own_customer.pk), size=4
    )
    second = interaction_page(
        actor=rep,
        filters=InteractionFilters(customer=own_customer.pk),
        size=4,
        cursor=first.next_cursor,
    )
    assert [i.pk for i in first.items + second.items] == [r.pk for r in reversed(rows)]
    assert second.next_cursor is None


@pytest.mark.parametrize("rows", [5, 50])
def test_activity_page_query_count_is_constant(
    rep, own_customer, soon, rows, django_assert_num_queries
):
    for m in range(rows):
        activity_create(
            actor=rep,
            kind="task",
            subject=f"t{m}",
            due_at=soon + datetime.timedelta(minutes=m),
            customer_id=own_customer.pk,
        )
    with django_assert_num_queries(1):
        page = activity_page(actor=rep, filters=ActivityFilters(), size=100)
        for activity in page.items:
            str(activity.customer), str(activity.owner)
    assert len(page.items) == rows


def test_interaction_is_registered_for_search(rep, own_customer):
    interaction = _log(rep, own_customer, 1, subject="Şikâyet: kargo geç kaldı")
    row = search.document_row("interactions.interaction", interaction)
    assert row is not None
    assert (row["owner_id"], row["team_id"], row["customer_id"]) == (
        own_customer.owner_id,
        own_customer.team_id,
        own_customer.pk,
    )
    assert "sikayet" in row["text"]

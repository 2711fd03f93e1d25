"""Returns in the global search: found by number, customer, order, reason (in any of the
site's languages) and the customer's words; only by people who may see the return."""

from __future__ import annotations

import pytest

from tests.service.returns_helpers import make_order, make_product
from vefa.platform.models import SearchEntry
from vefa.platform.search import rebuild, search
from vefa.service.models import ReturnRequest
from vefa.service.services.returns import return_advance, return_create

pytestmark = pytest.mark.django_db

LABEL = "service.returnrequest"


def _hits(actor, query):
    results = search(actor=actor, query=query)
    return [hit.object_id for group in results.groups for hit in group.items if hit.model == LABEL]


@pytest.fixture
def returned(agent, customer, django_capture_on_commit_callbacks) -> ReturnRequest:
    order = make_order(customer, [(make_product(), "2", "100")])
    with django_capture_on_commit_callbacks(execute=True):
        return return_create(
            actor=agent,
            data={
                "order": order.pk,
                "reason": "defective",
                "reason_detail": "Ekranı çatlak geldi <script>alert(1)</script>",
            },
            lines=[{"order_line": order.lines.get().pk, "quantity": "1"}],
        )


def test_a_return_is_found_by_number_customer_order_reason_and_words(agent, returned):
    pk = returned.pk
    assert _hits(agent, returned.number) == [pk]
    assert _hits(agent, returned.number.lower()) == [pk]
    assert _hits(agent, "ayşe") == [pk] and _hits(agent, "AYSE yilmaz") == [pk]
    assert _hits(agent, returned.order.number) == [pk]
    assert _hits(agent, "catlak") == [pk] and _hits(agent, "ÇATLAK ekranı") == [pk]
    # The reason in English and in Turkish, whatever language the index was built in.
    assert _hits(agent, "defective") == [pk] and _hits(agent, "kusurlu") == [pk]
    assert _hits(agent, "buzdolabı") == []
    hit = next(
        h
        for g in search(actor=agent, query=returned.number).groups
        for h in g.items
        if h.model == LABEL
    )
    assert returned.number in hit.title and "Ayşe Yılmaz" in hit.title
    # The hit opens the return itself, not its customer.
    assert hit.url == f"/service/returns/{pk}/"
    assert "script" not in hit.title and "script" not in hit.subtitle


def test_only_people_who_may_see_the_return_find_it(
    returned, rep, rep_other_team, read_only, agent_other_team
):
    # Sales reps read their team's returns; agents and read-only users read every return.
    assert _hits(rep, returned.number) == [returned.pk]
    assert _hits(rep_other_team, returned.number) == []
    assert _hits(rep_other_team, "catlak") == []
    assert _hits(read_only, returned.number) == [returned.pk]
    assert _hits(agent_other_team, returned.number) == [returned.pk]


def test_a_stale_index_row_never_shows_a_return_that_became_hidden(returned, rep, other_team):
    # Moved to another team behind the index's back: the hit is re-checked and dropped.
    ReturnRequest.objects.filter(pk=returned.pk).update(team=other_team, owner=None)
    assert SearchEntry.objects.filter(model="returnrequest", object_id=returned.pk).exists()
    assert _hits(rep, returned.number) == []


def test_a_step_updates_the_entry_and_a_rebuild_indexes_every_return(
    agent, returned, django_capture_on_commit_callbacks
):
    assert _hits(agent, "ARAS-778899") == []
    with django_capture_on_commit_callbacks(execute=True):
        return_advance(actor=agent, return_id=returned.pk, status="approved")
        return_advance(
            actor=agent,
            return_id=returned.pk,
            status="pickup",
            data={"carrier": "Aras", "tracking_number": "ARAS-778899"},
        )
    assert _hits(agent, "aras-778899") == [returned.pk]
    SearchEntry.objects.filter(model="returnrequest").delete()
    assert _hits(agent, returned.number) == []
    counts = rebuild(labels=[LABEL])
    assert counts[LABEL] == 1
    assert _hits(agent, returned.number) == [returned.pk]
    assert _hits(agent, "kusurlu") == [returned.pk]


@pytest.mark.parametrize(
    "query", ["<svg onload=x>", "'; DROP TABLE service_returnrequest; --", "~o1", "\u202e", "%_%"]
)
def test_hostile_queries_find_nothing_and_break_nothing(agent, returned, query):
    assert _hits(agent, query) == []
    assert ReturnRequest.objects.filter(pk=returned.pk).exists()

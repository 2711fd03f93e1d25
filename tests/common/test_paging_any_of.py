"""Keyset pages over "any of these conditions": the same rows as one OR query, page by page."""

from __future__ import annotations

import pytest
from django.db.models import Q

from tests.customers.factories import make_customer
from vefa.common.paging import keyset_page
from vefa.customers.models import Customer


def _walk(qs, *, ordering, any_of, size):
    """Every page forwards, then every page backwards from the last; ids in page order."""
    forward, cursor, pages = [], None, []
    while True:
        page = keyset_page(qs, ordering=ordering, cursor=cursor, size=size, any_of=any_of)
        pages.append(page)
        forward += [c.pk for c in page.items]
        if not page.has_next:
            break
        cursor = page.next_cursor
    backward = []
    cursor = pages[-1].previous_cursor
    while cursor:
        page = keyset_page(qs, ordering=ordering, cursor=cursor, size=size, any_of=any_of)
        backward = [c.pk for c in page.items] + backward
        cursor = page.previous_cursor
    return forward, backward


@pytest.fixture
def customers(db):
    made = []
    for i in range(23):
        # Names and e-mails both start with "mel" for some rows, so rows match two branches.
        first = "Melek" if i % 3 == 0 else ("Ali" if i % 3 == 1 else "Mehmet")
        email = f"mel{i}@example.com" if i % 2 == 0 else f"x{i}@example.com"
        made.append(make_customer(first_name=first, last_name=f"Kaya{i % 4}", primary_email=email))
    return made


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", ["name_key", "-name_key", "created_at", "-id"])
@pytest.mark.parametrize("size", [1, 4, 50])
def test_branches_give_the_pages_the_or_query_gives(customers, ordering, size):
    branches = [Q(name_key__startswith="mel"), Q(primary_email__startswith="mel")]
    qs = Customer.objects.filter(branches[0] | branches[1])
    plain_forward, plain_backward = _walk(qs, ordering=ordering, any_of=None, size=size)
    forward, backward = _walk(qs, ordering=ordering, any_of=branches, size=size)
    assert forward == plain_forward
    assert backward == plain_backward
    # a row matching both branches appears once
    assert len(forward) == len(set(forward)) == qs.count()


@pytest.mark.django_db
def test_one_query_per_branch_and_one_for_the_page(customers, django_assert_num_queries):
    branches = [Q(name_key__startswith="mel"), Q(primary_email__startswith="mel")]
    qs = Customer.objects.filter(branches[0] | branches[1])
    with django_assert_num_queries(3):
        page = keyset_page(qs, ordering="name_key", cursor=None, size=5, any_of=branches)
    assert len(page.items) == 5


@pytest.mark.django_db
def test_no_match_in_any_branch_is_an_empty_page(customers):
    branches = [Q(name_key__startswith="zz"), Q(primary_email__startswith="zz")]
    qs = Customer.objects.filter(branches[0] | branches[1])
    page = keyset_page(qs, ordering="name_key", cursor=None, size=5, any_of=branches)
    assert page.items == [] and not page.has_next and not page.has_previous


def test_either_of_combines_one_condition_from_each_list():
    from vefa.common.paging import either_of

    a, b, c = Q(x=1), Q(y=2), Q(z=3)
    assert len(either_of([a, b], [])) == 2
    assert len(either_of([a, b], [c, a])) == 4
    assert either_of([a], []) == []
    assert either_of([], []) == []


@pytest.mark.django_db
def test_a_reps_team_list_reads_own_and_team_rows_and_matches_restrict(rep, team, rep_same_team):
    from vefa.accounts.access import access_branches, restrict

    for i in range(7):
        make_customer(owner=rep, team=None, last_name=f"Own{i}")
        make_customer(owner=rep_same_team, team=team, last_name=f"Team{i}")
        make_customer(owner=None, team=None, last_name=f"Other{i}")
    qs = restrict(Customer.objects.all(), rep, "view")
    branches = access_branches(Customer, rep, "view")
    assert len(branches) == 2
    plain_forward, plain_backward = _walk(qs, ordering="name_key", any_of=None, size=3)
    forward, backward = _walk(qs, ordering="name_key", any_of=branches, size=3)
    assert forward == plain_forward
    assert backward == plain_backward
    assert len(forward) == 14


@pytest.mark.django_db
@pytest.mark.parametrize("filters", [{}, {"q": "mel"}, {"sort": "-last_contact"}, {"owner": "me"}])
def test_a_reps_customer_list_pages_are_exactly_the_visible_customers(
    rep, team, rep_same_team, rep_other_team, other_team, filters
):
    from vefa.accounts.access import restrict
    from vefa.customers.selectors import customer_list

    for i in range(5):
        make_customer(owner=rep, team=other_team, first_name=f"Melis{i}", last_name="Own")
        make_customer(owner=rep_same_team, team=team, first_name=f"Melek{i}", last_name="Team")
        make_customer(owner=rep_other_team, team=other_team, first_name=f"Mert{i}", last_name="X")
    seen, cursor = [], None
    while True:
        page = customer_list(actor=rep, filters={**filters}, cursor=cursor, size=2)
        seen += [c.pk for c in page.items]
        if not page.has_next:
            break
        cursor = page.next_cursor
    visible = restrict(Customer.objects.all(), rep, "view")
    if "q" in filters:
        visible = visible.filter(name_key__startswith="mel")
    if filters.get("owner") == "me":
        visible = visible.filter(owner=rep)
    assert sorted(seen) == sorted(visible.values_list("pk", flat=True))
    assert len(seen) == len(set(seen))

"""Global search: folding end to end, prefixes, access inside the index and in counts."""

from __future__ import annotations

import pytest

from vefa.customers.services import customer_create, customer_delete, customer_update
from vefa.interactions.services import interaction_create
from vefa.platform import search
from vefa.platform.models import SearchEntry
from vefa.platform.search.terms import fold_text, index_terms, query_terms

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["index", "recent"])
def _search_step(request, monkeypatch):
    """Run every search test twice: with a tiny window of recent entries, so the full-text
    index answers (step 2), and with the normal window, which holds all test data."""
    from vefa.platform.search import backends

    if request.param == "index":
        monkeypatch.setattr(backends, "WINDOW", 2)
        monkeypatch.setattr(backends, "SAMPLE", 2)


def _person(actor, committed, **data):
    with committed():
        return customer_create(actor=actor, data={"kind": "person", **data})


def _titles(results, key):
    group = next((g for g in results.groups if g.key == key), None)
    return [] if group is None else [hit.title for hit in group.items]


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ({"first_name": "Zehra", "last_name": "İSTANBULLU"}, "istanbul"),
        ({"first_name": "Ђорђе", "last_name": "Јовановић"}, "djordje"),
        ({"first_name": "Đorđe", "last_name": "Marković"}, "djordje"),
        ({"first_name": "علي", "last_name": "كريمي"}, "علی"),
        ({"first_name": "علي", "last_name": "كريمي"}, "کریمی"),
        ({"first_name": "Işıl", "last_name": "Şahin"}, "isil sah"),
        ({"first_name": "Čedomir", "last_name": "Živković"}, "cedo ziv"),
    ],
)
def test_search_folds_what_was_stored_and_what_is_typed(admin_user, committed, stored, typed):
    # Given a customer stored with one spelling
    customer = _person(admin_user, committed, **stored)
    # When someone types it another way
    results = search.search(actor=admin_user, query=typed)
    # Then the customer is found, with a link to its page
    customers = next(g for g in results.groups if g.key == "customers")
    assert [hit.object_id for hit in customers.items] == [customer.pk]
    assert customers.items[0].url == customer.get_absolute_url()


def test_persian_digits_find_ascii_digits_and_back(admin_user, committed):
    # Given a customer whose tax number was typed with Persian digits
    customer = _person(admin_user, committed, first_name="Reza", last_name="Ahmadi")
    with committed():
        customer_update(actor=admin_user, customer_id=customer.pk, data={"notes": ""})
    _person(admin_user, committed, first_name="Sara", last_name="Ahmadi۱۲۳۴")
    # When searching with ASCII digits or Arabic-Indic digits
    ascii_hits = _titles(search.search(actor=admin_user, query="ahmadi12"), "customers")
    arabic_hits = _titles(search.search(actor=admin_user, query="ahmadi١٢"), "customers")
    # Then both find the Persian digits
    assert ascii_hits == ["Sara Ahmadi۱۲۳۴"]
    assert arabic_hits == ["Sara Ahmadi۱۲۳۴"]


def test_every_word_must_match_as_a_prefix(admin_user, committed):
    _person(admin_user, committed, first_name="Mehmet", last_name="Yılmaz")
    _person(admin_user, committed, first_name="Mehmet", last_name="Kaya")
    _person(admin_user, committed, first_name="Ahmet", last_name="Yıldız")

    assert sorted(_titles(search.search(actor=admin_user, query="meh"), "customers")) == [
        "Mehmet Kaya",
        "Mehmet Yılmaz",
    ]
    assert _titles(search.search(actor=admin_user, query="meh yil"), "customers") == [
        "Mehmet Yılmaz"
    ]
    assert _titles(search.search(actor=admin_user, query="yıl MEH"), "customers") == [
        "Mehmet Yılmaz"
    ]
    assert _titles(search.search(actor=admin_user, query="mehmetx"), "customers") == []


def test_newest_first_and_bounded_per_group_with_a_count(admin_user, committed):
    names = [f"Kaya{i}" for i in range(8)]
    for name in names:
        _person(admin_user, committed, first_name="Deniz", last_name=name)

    results = search.search(actor=admin_user, query="deniz", limit_per_group=3, count_limit=5)

    group = next(g for g in results.groups if g.key == "customers")
    assert [h.title for h in group.items] == ["Deniz Kaya7", "Deniz Kaya6", "Deniz Kaya5"]
    assert group.count == 5
    assert group.count_is_lower_bound is True
    assert group.has_more is True


def test_a_rep_never_finds_another_teams_customer_not_even_in_counts(
    rep, rep_same_team, rep_other_team, committed
):
    # Given customers named alike in the rep's team and in another team
    own = _person(rep, committed, first_name="Jovana", last_name="Own")
    colleague = _person(rep_same_team, committed, first_name="Jovana", last_name="Colleague")
    hidden = _person(rep_other_team, committed, first_name="Jovana", last_name="Hidden")
    # When the rep searches
    results = search.search(actor=rep, query="jovana")
    # Then only the team's customers are found and counted
    group = next(g for g in results.groups if g.key == "customers")
    assert sorted(h.object_id for h in group.items) == sorted([own.pk, colleague.pk])
    assert group.count == 2
    assert hidden.pk not in [h.object_id for g in results.groups for h in g.items]
    # And the other team's rep finds only the hidden one
    other = next(
        g
        for g in search.search(actor=rep_other_team, query="jovana").groups
        if g.key == "customers"
    )
    assert [h.object_id for h in other.items] == [hidden.pk]
    assert other.count == 1


def test_a_stale_index_row_is_dropped_by_the_access_recheck(rep, rep_other_team, committed):
    # Given a hidden customer whose index row wrongly says the rep may see it
    hidden = _person(rep_other_team, committed, first_name="Milica", last_name="Stale")
    SearchEntry.objects.filter(model="customer", object_id=hidden.pk).update(access=f"~o{rep.pk}")
    # When the rep searches
    group = next(g for g in search.search(actor=rep, query="milica").groups if g.key == "customers")
    # Then the record is re-checked and neither shown nor counted
    assert group.items == []
    assert group.count == 0


def test_changing_the_owner_moves_the_customer_and_its_interactions(
    admin_user, rep, rep_other_team, committed
):
    customer = _person(admin_user, committed, first_name="Nikola", last_name="Moved")
    with committed():
        customer_update(
            actor=admin_user,
            customer_id=customer.pk,
            data={"owner": rep_other_team.pk, "team": rep_other_team.team_id},
        )
        interaction_create(
            actor=admin_user, customer_id=customer.pk, kind="call", subject="Nikola pricing call"
        )
    assert _titles(search.search(actor=rep, query="nikola"), "customers") == []
    assert _titles(search.search(actor=rep, query="nikola"), "interactions") == []

    with committed():
        customer_update(
            actor=admin_user, customer_id=customer.pk, data={"owner": rep.pk, "team": rep.team_id}
        )

    assert _titles(search.search(actor=rep, query="nikola"), "customers") == ["Nikola Moved"]
    assert _titles(search.search(actor=rep, query="nikola"), "interactions") == [
        "Nikola pricing call"
    ]


def test_the_customers_owner_finds_interactions_others_recorded(rep, manager, committed):
    # Given the rep's own customer with a call recorded by the manager
    customer = _person(rep, committed, first_name="Selin", last_name="Owner")
    with committed():
        interaction_create(
            actor=manager, customer_id=customer.pk, kind="call", subject="Quarterly review"
        )
    # Then the rep (the customer's owner) finds it
    assert _titles(search.search(actor=rep, query="quarterly"), "interactions") == [
        "Quarterly review"
    ]


def test_contact_points_lead_to_their_customer(admin_user, committed):
    with committed():
        customer = customer_create(
            actor=admin_user,
            data={"kind": "person", "first_name": "Ayşe", "last_name": "Mail"},
            email="ayse.mail@example.com",
        )
    results = search.search(actor=admin_user, query="ayse.mail@exa")
    group = next(g for g in results.groups if g.key == "contact_points")
    assert [h.title for h in group.items] == ["ayse.mail@example.com"]
    assert group.items[0].url == customer.get_absolute_url()
    # Parts of the address find it too
    assert [
        h.title
        for h in next(
            g
            for g in search.search(actor=admin_user, query="example").groups
            if g.key == "contact_points"
        ).items
    ] == ["ayse.mail@example.com"]


def test_deleting_a_customer_removes_it_and_its_children_from_the_index(admin_user, committed):
    with committed():
        customer = customer_create(
            actor=admin_user,
            data={"kind": "person", "first_name": "Gone", "last_name": "Soon"},
            email="gone.soon@example.com",
        )
        interaction_create(
            actor=admin_user, customer_id=customer.pk, kind="note", subject="Gone note"
        )
    assert SearchEntry.objects.filter(customer_id=customer.pk).count() == 3

    with committed():
        customer_delete(actor=admin_user, customer_id=customer.pk)

    assert SearchEntry.objects.filter(customer_id=customer.pk).count() == 0
    assert search.search(actor=admin_user, query="gone").is_empty


def test_a_query_shorter_than_two_characters_searches_nothing(admin_user, committed):
    _person(admin_user, committed, first_name="A", last_name="B")
    results = search.search(actor=admin_user, query="a")
    assert results.too_short is True
    assert results.groups == []
    assert search.search(actor=admin_user, query="   ").too_short is False


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "AND OR NOT",
        "NEAR(a b)",
        "a* b:* c^d",
        "'); DROP TABLE platform_searchentry; --",
        "<script>alert(1)</script>",
        "=cmd|' /C calc'!A0",
        "x" * 10_000,
        "\u202egnp.exe",
        "a_b c-d e.f g@h +90",
    ],
)
def test_hostile_queries_are_plain_words(admin_user, committed, query):
    _person(admin_user, committed, first_name="Plain", last_name="Customer")
    # Any input is searched as words and never breaks the query
    results = search.search(actor=admin_user, query=query)
    assert all(h.title != "Plain Customer" for g in results.groups for h in g.items)
    assert SearchEntry.objects.filter(model="customer").count() == 1


def test_a_role_without_access_to_a_model_gets_no_group(service_agent, committed, admin_user):
    _person(admin_user, committed, first_name="Lead", last_name="Less")
    keys = [g.key for g in search.search(actor=service_agent, query="lead").groups]
    # Service agents may not see leads at all
    assert "leads" not in keys
    assert "customers" in keys


def test_inactive_users_find_nothing(admin_user, rep, committed):
    _person(admin_user, committed, first_name="Visible", last_name="Everywhere")
    rep.is_active = False
    assert search.search(actor=rep, query="visible").groups == []


def test_rebuild_reindexes_everything_in_bulk(admin_user, committed):
    with committed():
        customer = customer_create(
            actor=admin_user,
            data={"kind": "person", "first_name": "Bulk", "last_name": "Loaded"},
            phone="+905321234567",
        )
        interaction_create(
            actor=admin_user, customer_id=customer.pk, kind="call", subject="Bulk call"
        )
    SearchEntry.objects.all().delete()
    assert search.search(actor=admin_user, query="bulk").is_empty

    seen = []
    counts = search.rebuild(batch_size=100, progress=lambda label, done, total: seen.append(label))

    # every registered model is rebuilt; only these had records
    assert {label: n for label, n in counts.items() if n} == {
        "customers.customer": 1,
        "customers.contactpoint": 1,
        "interactions.interaction": 1,
    }
    assert {"customers.lead", "sales.order", "sales.opportunity"} <= set(counts)
    assert set(seen) == set(counts)
    results = search.search(actor=admin_user, query="bulk")
    assert _titles(results, "customers") == ["Bulk Loaded"]
    assert _titles(results, "interactions") == ["Bulk call"]
    assert _titles(search.search(actor=admin_user, query="90532"), "contact_points") == [
        "+905321234567"
    ]
    # And the index follows changes again afterwards
    _person(admin_user, committed, first_name="Bulk", last_name="After")
    assert sorted(_titles(search.search(actor=admin_user, query="bulk"), "customers")) == [
        "Bulk After",
        "Bulk Loaded",
    ]


def test_rebuild_of_some_models_keeps_the_others(admin_user, committed):
    with committed():
        customer = customer_create(
            actor=admin_user, data={"kind": "person", "first_name": "Part", "last_name": "Ial"}
        )
        interaction_create(
            actor=admin_user, customer_id=customer.pk, kind="call", subject="Partial call"
        )
    counts = search.rebuild(labels=["interactions.interaction"])
    assert counts == {"interactions.interaction": 1}
    results = search.search(actor=admin_user, query="partial")
    assert _titles(results, "interactions") == ["Partial call"]
    assert _titles(search.search(actor=admin_user, query="part"), "customers") == ["Part Ial"]
    with pytest.raises(ValueError, match="not searchable"):
        search.rebuild(labels=["accounts.user"])


def test_search_takes_a_constant_number_of_queries(admin_user, committed):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(count, start):
        for i in range(start, start + count):
            with committed():
                c = customer_create(
                    actor=admin_user,
                    data={"kind": "person", "first_name": "Query", "last_name": f"Count{i}"},
                    email=f"query{i}@example.com",
                )
                interaction_create(actor=admin_user, customer_id=c.pk, kind="call", subject="Query")

    def queries():
        with CaptureQueriesContext(connection) as context:
            results = search.search(actor=admin_user, query="query")
        return len(context), [len(g.items) for g in results.groups]

    add(2, 0)
    few, shown_few = queries()
    add(7, 2)
    many, shown_many = queries()
    # Per group at most two index lookups (the newest entries, then the full-text index) and
    # the access re-check of the records found, whatever the number of matches
    # customers, leads, contact points, interactions, then the groups with no match
    assert shown_few[:4] == [2, 0, 2, 2] and not any(shown_few[4:])
    assert shown_many[:4] == [5, 0, 5, 5] and not any(shown_many[4:])
    assert many == few


def test_fold_text_equals_fold_word_by_word():
    from hypothesis import given
    from hypothesis import strategies as st

    from vefa.common.text import fold

    @given(st.text(max_size=80))
    def check(text):
        assert fold_text(text) == fold(text)

    check()


def test_index_terms_keep_compound_words_whole_and_in_parts():
    assert index_terms("Ayşe.Kaya@Example.com +90 532") == [
        "ayse.kaya@example.com",
        "ayse",
        "kaya",
        "example",
        "com",
        "+90",
        "90",
        "532",
    ]
    # No term can pose as an access term
    assert all(not t.startswith("~") for t in index_terms("~o1 ~t2 ~mcustomer"))


def test_query_terms_drop_punctuation_at_word_ends_and_keep_a_leading_plus():
    assert query_terms("  Ali.  -Veli  +90532 ; İstanbul!") == ["ali", "veli", "+90532", "istanbul"]
    assert len(query_terms(" ".join(f"w{i}" for i in range(50)))) == 8


def _entries():
    return sorted(
        SearchEntry.objects.values_list(
            "model", "object_id", "title", "subtitle", "text", "access", "owner_id", "team_id",
            "customer_id",
        )
    )  # fmt: skip


def test_a_rebuild_writes_exactly_the_entries_the_events_wrote(admin_user, rep, committed):
    with committed():
        for i in range(3):
            c = customer_create(
                actor=rep,
                data={"kind": "person", "first_name": f"Same{i}", "last_name": "Entries"},
                email=f"same{i}@example.com",
                phone=f"+9053212345{i:02d}",
            )
            interaction_create(
                actor=rep, customer_id=c.pk, kind="meeting", subject=f"Visit {i}", body="Ali"
            )
    from vefa.customers.services import lead_create

    with committed():
        lead_create(actor=rep, data={"first_name": "Lead", "last_name": "Entry"})
    by_events = _entries()

    search.rebuild(batch_size=100)

    assert _entries() == by_events
    assert len(by_events) == 3 + 6 + 3 + 1


@pytest.mark.django_db(transaction=True)
def test_a_parallel_rebuild_matches_the_serial_one(admin_user):
    from django.db import connection

    for i in range(12):
        c = customer_create(
            actor=admin_user,
            data={"kind": "person", "first_name": f"Para{i}", "last_name": "Llel"},
            email=f"para{i}@example.com",
        )
        interaction_create(actor=admin_user, customer_id=c.pk, kind="call", subject=f"Call {i}")
    search.rebuild(batch_size=100, workers=1)
    serial = _entries()
    # Worker processes need a database they can open themselves (not an in-memory one)
    counts = search.rebuild(batch_size=100, workers=2)
    assert _entries() == serial
    assert counts["customers.customer"] == 12
    assert counts["interactions.interaction"] == 12
    results = search.search(actor=admin_user, query="para")
    assert len(next(g for g in results.groups if g.key == "customers").items) == 5
    if connection.vendor == "postgresql":
        from vefa.platform.search.indexer import _parallel_workers

        assert _parallel_workers(2, 12) == 2


def test_rebuilding_a_small_part_keeps_the_full_text_index_of_the_rest(admin_user, committed):
    with committed():
        c = customer_create(
            actor=admin_user, data={"kind": "person", "first_name": "Kept", "last_name": "Index"}
        )
        for i in range(3):
            interaction_create(
                actor=admin_user, customer_id=c.pk, kind="call", subject=f"Kept call {i}"
            )
    # One customer against three interactions: the customers are rewritten row by row
    search.rebuild(labels=["customers.customer"])
    assert _titles(search.search(actor=admin_user, query="kept"), "customers") == ["Kept Index"]
    assert len(_titles(search.search(actor=admin_user, query="kept call"), "interactions")) == 3


def test_a_big_customers_records_are_reindexed_by_the_worker(
    admin_user, rep, rep_other_team, committed, monkeypatch
):
    from vefa.platform import tasks
    from vefa.platform.search import indexer

    monkeypatch.setattr(indexer, "INLINE_CHILDREN", 2)
    queued = []
    real = tasks.reindex_customer_search

    class Spy:
        def enqueue(self, **kwargs):
            queued.append(kwargs)
            return real.enqueue(**kwargs)

    monkeypatch.setattr(tasks, "reindex_customer_search", Spy())
    customer = _person(
        admin_user,
        committed,
        first_name="Big",
        last_name="Account",
        owner=rep_other_team.pk,
        team=rep_other_team.team_id,
    )
    with committed():
        for i in range(3):
            interaction_create(
                actor=admin_user, customer_id=customer.pk, kind="note", subject=f"Big note {i}"
            )
    assert _titles(search.search(actor=rep, query="big note"), "interactions") == []
    # The owner moves to the rep: the task (run at once by the test backend) follows
    with committed():
        customer_update(
            actor=admin_user, customer_id=customer.pk, data={"owner": rep.pk, "team": rep.team_id}
        )
    assert len(_titles(search.search(actor=rep, query="big note"), "interactions")) == 3
    assert queued == [{"customer_id": customer.pk}]


def _reference_index_terms(*texts):
    """The definition: fold the whole text, split it into terms, add the parts of compounds."""
    import re

    from vefa.common.text import fold
    from vefa.platform.search.terms import MAX_TERM_LENGTH, MAX_TERMS

    seen = {}
    for text in texts:
        for token in [t for t in re.split(r"[^\w@.+\-]+", fold(text or "")) if t]:
            token = token[:MAX_TERM_LENGTH]
            seen.setdefault(token, None)
            if any(c in token for c in "@.+-_"):
                for part in re.split(r"[@.+\-_]+", token):
                    if part:
                        seen.setdefault(part, None)
    return list(seen)[:MAX_TERMS]


def test_index_terms_word_by_word_equal_the_definition():
    from hypothesis import given
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list("aİIıi şŞčĆđЂљ عليكی۱٢ @.+-_x9 \t\u200cé\u0301ﷺ"))

    @given(st.lists(st.text(alphabet=alphabet, max_size=40), max_size=3))
    def check(texts):
        assert index_terms(*texts) == _reference_index_terms(*texts)

    check()


@pytest.mark.parametrize("total_thin", [12, 3])
def test_thinly_spread_hits_are_walked_to_and_rare_ones_looked_up(total_thin, monkeypatch):
    """Hits in every third entry: the first window holds too few; on PostgreSQL a longer walk
    finds enough without the full-text index, and with only a few hits in all the index finds
    every one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from vefa.platform.search import backends

    monkeypatch.setattr(backends, "WINDOW", 6)
    monkeypatch.setattr(backends, "SAMPLE", 6)
    monkeypatch.setattr(backends, "WALK", 60)
    rows = []
    thin = []
    for number in range(90):
        word = "other"
        # the newest entries come last; the thin ones are every third among the newest
        if number % 3 == 0 and len(thin) < total_thin and number >= 90 - 3 * total_thin:
            word = "thinly"
            thin.append(number)
        rows.append(
            {
                "model": "customer", "object_id": number, "title": f"T{number}", "subtitle": "",
                "text": f"{word} {number}", "access": "~o1", "owner_id": None, "team_id": None,
                "customer_id": None,
            }
        )  # fmt: skip
    backends.upsert(rows)
    with CaptureQueriesContext(connection) as context:
        hits = backends.match(model_key="customer", terms=["thin"], access=None, limit=5)
    expected = sorted(thin, reverse=True)[:5]
    assert [h.object_id for h in hits] == expected
    sql = [q["sql"] for q in context.captured_queries]
    walks = [q for q in sql if "ORDER BY id DESC LIMIT" in q and "recent" in q and "SUM(" not in q]
    lookups = [q for q in sql if " MATCH " in q or "AS MATERIALIZED" in q]
    if connection.vendor == "postgresql":
        # the newest window and the walk; the GIN index only when the walk fell short
        assert len(walks) == 2
        assert len(lookups) == (0 if total_thin >= 5 else 1)
    else:
        # FTS5 reads the rarest condition alone: faster than a walk, so always the index
        assert len(walks) == 1
        assert len(lookups) == 1

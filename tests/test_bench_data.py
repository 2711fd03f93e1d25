"""``vefa bench-data``: a small load on the test database (SQLite or PostgreSQL).

The load runs in the test's transaction; the test database is empty before each test.
"""

from __future__ import annotations

from io import StringIO

import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Max

from vefa.accounts.choices import Role
from vefa.accounts.models import User
from vefa.common.text import fold
from vefa.customers.models import Address, ContactPoint, Customer
from vefa.demo.bench import run
from vefa.demo.bench.search import CONTACT_POINT, CUSTOMER
from vefa.demo.bench.staff import BENCH_PASSWORD
from vefa.interactions.models import Activity, Interaction, Reminder
from vefa.platform.models import SearchEntry
from vefa.platform.search import document_row

N = 500


def _quiet(line: str) -> None:
    """Reports of the load are not under test here."""


def _indexes() -> set[str]:
    tables = ["customers_customer", "customers_contactpoint", "interactions_interaction"]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND tbl_name IN (%s, %s, %s)",
                tables,
            )
        else:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                "UNION ALL SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid::regclass::text = ANY(%s)",
                [tables, tables],
            )
        return {row[0] for row in cursor.fetchall()}


def _rows() -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
    """Everything the load wrote that a second load must reproduce, in id order."""
    customers = list(
        Customer.objects.order_by("pk").values_list(
            "pk", "display_name", "name_key", "kind", "birth_date", "annual_revenue",
            "primary_email", "primary_phone", "owner_id", "team_id", "created_at",
            "last_interaction_at", "lifecycle_stage",
        )
    )  # fmt: skip
    interactions = list(
        Interaction.objects.order_by("pk").values_list(
            "pk", "customer_id", "kind", "subject", "occurred_at", "amount", "currency", "user_id"
        )
    )
    points = list(ContactPoint.objects.order_by("pk").values_list("pk", "customer_id", "value"))
    search = list(
        SearchEntry.objects.order_by("model", "object_id").values_list(
            "model", "object_id", "title", "subtitle", "text", "access"
        )
    )
    return customers, interactions, points, search


@pytest.mark.django_db
def test_load_writes_customers_interactions_and_their_records():
    # given an empty database with its indexes as migrated
    indexes = _indexes()
    # when
    result = run(customers=N, interactions_per_customer=10, seed=3, report=_quiet)
    # then exactly the numbers asked for
    assert result.customers == N
    assert Customer.objects.count() == N
    assert Interaction.objects.count() == N * 10
    assert Address.objects.count() == N
    assert ContactPoint.objects.count() >= 2 * N
    assert Activity.objects.exists() and Reminder.objects.exists()
    # and the indexes are back exactly as the migrations made them
    assert _indexes() == indexes
    # and the phases were timed
    assert [p[0] for p in result.phases][:2] == ["dropping indexes", "customers and their records"]


@pytest.mark.django_db
def test_users_in_every_role_own_the_customers_by_team():
    run(customers=N, seed=3, report=_quiet)
    bench_users = User.objects.filter(email__endswith="@bench.vefa.example")
    assert set(bench_users.values_list("role", flat=True)) == set(Role.values)
    user = bench_users.filter(role=Role.SALES_REP).first()
    assert user is not None and user.check_password(BENCH_PASSWORD)
    owned = Customer.objects.exclude(owner=None).select_related("owner")
    assert owned.count() > N * 0.9
    for customer in owned:
        assert customer.team_id == customer.owner.team_id
    assert Customer.objects.values("team").distinct().count() >= 2


@pytest.mark.django_db
def test_rows_are_consistent():
    run(customers=N, interactions_per_customer=8, seed=5, report=_quiet)
    newest = dict(Interaction.objects.values_list("customer_id").annotate(m=Max("occurred_at")))
    for customer in Customer.objects.all():
        assert customer.name_key == fold(customer.display_name)
        assert customer.last_interaction_at == newest.get(customer.pk)
        customer.full_clean()
    for point in ContactPoint.objects.filter(kind__in=("phone", "mobile")):
        number = phonenumbers.parse(point.normalized)
        assert phonenumbers.is_valid_number(number), point.normalized
        assert phonenumbers.region_code_for_number(number) == point.country
    primaries = ContactPoint.objects.filter(is_primary=True).values("customer", "kind")
    assert not primaries.annotate(n=Count("id")).filter(n__gt=1).exists()
    for interaction in Interaction.objects.select_related("customer")[::7]:
        interaction.full_clean()
        assert interaction.occurred_at >= interaction.customer.created_at
        if interaction.amount is not None:
            assert interaction.currency == interaction.customer.currency


@pytest.mark.django_db
def test_search_entries_are_what_the_builders_make():
    run(customers=N, seed=3, report=_quiet)
    entries = {(e.model, e.object_id): e for e in SearchEntry.objects.all()}
    assert len(entries) == N + ContactPoint.objects.count()
    records = [(CUSTOMER, c) for c in Customer.objects.all()]
    records += [(CONTACT_POINT, p) for p in ContactPoint.objects.select_related("customer")]
    for label, record in records:
        expected = document_row(label, record)
        assert expected is not None
        entry = entries[(expected["model"], expected["object_id"])]
        for column in ("title", "subtitle", "text", "access", "owner_id", "team_id", "customer_id"):
            assert getattr(entry, column) == expected[column], (label, column)


@pytest.mark.django_db
def test_same_seed_same_rows_and_another_seed_other_rows():
    run(customers=N, seed=11, report=_quiet)
    first = _rows()
    # when loaded again with the same seed (replacing the first load)
    run(customers=N, seed=11, replace=True, report=_quiet)
    # then every row is the same
    assert _rows() == first
    # and another seed gives other people
    run(customers=N, seed=12, replace=True, report=_quiet)
    assert _rows()[0] != first[0]


@pytest.mark.django_db
def test_rows_do_not_depend_on_how_the_work_is_split():
    run(customers=N, seed=11, chunk_size=100, workers=1, report=_quiet)
    alone = _rows()
    run(customers=N, seed=11, chunk_size=100, workers=2, replace=True, report=_quiet)
    assert _rows() == alone


@pytest.mark.django_db
def test_refuses_a_database_with_customers_unless_replacing():
    run(customers=50, seed=1, report=_quiet)
    with pytest.raises(CommandError, match="already has customers"):
        call_command("bench_data", "--customers", "50", stdout=StringIO())
    assert Customer.objects.count() == 50


@pytest.mark.django_db
def test_command_prints_a_time_per_phase():
    out = StringIO()
    call_command("bench_data", "--customers", "60", "--interactions-per-customer", "3", stdout=out)
    text = out.getvalue()
    for phase in (
        "customers and their records",
        "interactions",
        "rebuilding indexes",
        "search index",
    ):
        assert phase in text
    assert Interaction.objects.count() == 180


@pytest.mark.django_db
@pytest.mark.parametrize(
    "arguments",
    [
        ["--customers", "0"],
        ["--customers", "-5"],
        ["--customers", "10", "--interactions-per-customer", "-1"],
    ],
)
def test_refuses_impossible_sizes(arguments):
    with pytest.raises(CommandError):
        call_command("bench_data", *arguments, stdout=StringIO())
    assert not Customer.objects.exists()
    assert not User.objects.exists()

"""``vefa demo``'s data: the demo company loaded once into the test database.

The company is loaded once for the module (it takes a while) inside a transaction that is
rolled back afterwards; each test reads it.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from io import StringIO

import phonenumbers
import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Q
from django.utils import timezone

from tests.demo_loaded import demo_loaded
from vefa.accounts.backends import EmailBackend
from vefa.accounts.choices import Role
from vefa.accounts.models import User
from vefa.common.text import fold
from vefa.customers.models import (
    Address,
    Consent,
    ContactPoint,
    Customer,
    CustomerRelationship,
    Lead,
)
from vefa.customers.normalize import normalize_contact
from vefa.customers.services.customers import derive_display_name
from vefa.customers.services.leads import lead_name_key
from vefa.demo.build import TAGS
from vefa.demo.company import LOGINS
from vefa.interactions.models import Activity, Interaction, Reminder, TimeEntry
from vefa.platform.audit import snapshot
from vefa.platform.models import ChangeLogEntry, SearchEntry

TABLES = (
    "customers_customer", "customers_contactpoint", "customers_address", "customers_consent",
    "customers_customerrelationship", "customers_lead", "interactions_interaction",
    "interactions_activity", "interactions_reminder", "interactions_activityattendee",
    "interactions_timeentry",
)  # fmt: skip
# The demo's "now" is taken a moment after the fixture starts loading it.
LOAD_SLACK = datetime.timedelta(minutes=10)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo company, loaded once; everything is rolled back after the module."""
    with demo_loaded(django_db_blocker) as loaded:
        yield loaded


pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def reads(demo, db):
    """Each test reads the module's demo (its own writes are rolled back after it)."""


def test_the_company_has_about_two_thousand_customers_mostly_people(reads):
    # given the loaded demo
    kinds = dict(Customer.objects.values_list("kind").annotate(n=Count("id")))
    # then
    assert Customer.objects.count() == 2000
    assert 1300 <= kinds["person"] <= 1500
    assert 500 <= kinds["organisation"] <= 700
    assert set(Customer.objects.values_list("country", flat=True)) == {"TR", "GB", "US", "RS", "IR"}
    assert set(Customer.objects.values_list("lifecycle_stage", flat=True)) == {
        "lead", "prospect", "customer", "inactive", "lost",
    }  # fmt: skip


def test_names_are_believable_in_every_script(reads):
    # then Turkish, Serbian Latin and Cyrillic, and Persian names are there
    names = list(Customer.objects.filter(kind="person").values_list("display_name", flat=True))
    assert any(c in name for name in names for c in "ğşıİçöü")
    assert any(c in name for name in names for c in "čćđšž")
    assert any("\u0400" <= c <= "\u04ff" for name in names for c in name)  # Cyrillic
    assert any("\u0600" <= c <= "\u06ff" for name in names for c in name)  # Persian


def test_history_spans_three_years_and_every_kind_of_interaction(reads):
    now = timezone.now()
    span = Interaction.objects.aggregate(last=Max("occurred_at"))
    oldest = Interaction.objects.order_by("occurred_at").first()
    assert oldest is not None
    assert now - oldest.occurred_at > datetime.timedelta(days=3 * 365 - 20)
    assert span["last"] <= now
    assert 20_000 <= Interaction.objects.count() <= 60_000
    kinds = set(Interaction.objects.values_list("kind", flat=True))
    assert {"purchase", "call", "email", "complaint", "return", "meeting", "offer", "note"} <= kinds
    purchases = Interaction.objects.filter(kind="purchase")
    assert not purchases.filter(Q(amount__isnull=True) | Q(currency="")).exists()
    assert set(purchases.values_list("currency", flat=True)) == {"TRY", "GBP", "USD", "RSD", "IRR"}


def test_every_role_has_a_user_with_the_documented_login(reads):
    backend = EmailBackend()
    for login in LOGINS:
        user = backend.authenticate(None, username=login.email, password=login.password)
        assert user is not None, login.email
        assert user.role == login.role
        assert len(login.password) >= 10
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    reps = User.objects.filter(role=Role.SALES_REP)
    assert reps.values("team").distinct().count() >= 2


def test_the_command_prints_the_logins(demo, db):
    for login in LOGINS:
        assert login.email in demo["output"]
        assert login.password in demo["output"]


def test_names_are_derived_and_folded_as_the_service_does(reads):
    for customer in Customer.objects.all():
        fields = {
            f: getattr(customer, f) for f in ("first_name", "last_name", "trade_name", "legal_name")
        }
        assert customer.display_name == derive_display_name(customer.kind, fields)
        assert customer.name_key == fold(customer.display_name)
    for lead in Lead.objects.all():
        assert lead.name_key == lead_name_key(lead.__dict__)


def test_contact_points_are_normalised_and_phones_valid_e164(reads):
    points = list(ContactPoint.objects.select_related("customer"))
    assert len(points) >= 4000
    for point in points:
        result = normalize_contact(point.kind, point.value, point.country or point.customer.country)
        assert point.normalized == result.value, point.value
        if point.kind in ("phone", "mobile"):
            number = phonenumbers.parse(point.normalized)
            assert phonenumbers.is_valid_number(number), point.normalized
            assert point.normalized == phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164
            )
    one_primary = ContactPoint.objects.filter(is_primary=True).values("customer", "kind")
    assert one_primary.annotate(n=Count("id")).filter(n__gt=1).count() == 0
    emails = ContactPoint.objects.filter(kind="email").values_list("normalized", flat=True)
    assert len(set(emails)) == len(emails)


def test_customer_list_columns_follow_the_primaries(reads):
    primaries = {}
    for point in ContactPoint.objects.filter(is_primary=True):
        primaries[(point.customer_id, point.kind)] = point.normalized
    addresses = {a.customer_id: a for a in Address.objects.filter(is_primary=True)}
    for customer in Customer.objects.all():
        order = ("mobile", "phone") if customer.kind == "person" else ("phone", "mobile")
        phone = next(
            (primaries[(customer.pk, k)] for k in order if (customer.pk, k) in primaries), ""
        )
        assert customer.primary_email == primaries.get((customer.pk, "email"), "")
        assert customer.primary_phone == phone
        assert customer.city == addresses[customer.pk].city
        assert customer.country == addresses[customer.pk].country


def test_last_interaction_is_the_newest_interaction(reads):
    newest = dict(Interaction.objects.values_list("customer_id").annotate(m=Max("occurred_at")))
    for customer in Customer.objects.all():
        assert customer.last_interaction_at == newest.get(customer.pk)


def test_every_record_passes_model_validation(reads):
    for model in (
        Customer,
        ContactPoint,
        Address,
        Consent,
        CustomerRelationship,
        Lead,
        Activity,
        TimeEntry,
    ):
        for record in model.objects.all():
            record.full_clean()
    for record in Interaction.objects.all()[::7]:
        record.full_clean()


def test_organisations_have_legal_names_codes_and_employees(reads):
    firms = Customer.objects.filter(kind="organisation")
    assert not firms.filter(
        Q(legal_name="") | Q(nace_code="") | Q(sic_code="") | Q(tax_number="")
    ).exists()
    assert firms.filter(employee_count__gt=0).count() > firms.count() * 0.7
    assert firms.exclude(annual_revenue=None).count() > firms.count() * 0.5
    people = Customer.objects.filter(kind="person")
    assert people.exclude(birth_date=None).count() > people.count() * 0.6
    assert people.exclude(income_band="").exists() and people.exclude(hobbies="").exists()
    assert (
        people.exclude(marital_status="").exists() and people.exclude(children_count=None).exists()
    )
    assert CustomerRelationship.objects.filter(kind="works_at").count() > 200


def test_leads_in_every_status_and_converted_ones_point_at_their_customer(reads):
    statuses = set(Lead.objects.values_list("status", flat=True))
    assert statuses == {"new", "contacted", "qualified", "unqualified", "converted"}
    for lead in Lead.objects.filter(status="converted").select_related("converted_customer"):
        assert lead.converted_customer is not None
        assert lead.converted_at == lead.converted_customer.created_at
        assert lead.email == lead.converted_customer.primary_email


def test_activities_done_overdue_today_and_upcoming_with_reminders(reads, demo):
    now = timezone.now()
    today = timezone.localdate()
    planned = Activity.objects.filter(status="planned")
    assert Activity.objects.filter(status="done", interaction__isnull=False).count() >= 30
    assert planned.filter(scheduled_at__lt=now - datetime.timedelta(hours=12)).exists()
    assert (
        planned.filter(scheduled_at__date=today).exists()
        or planned.filter(
            scheduled_at__range=(
                now - datetime.timedelta(hours=24),
                now + datetime.timedelta(hours=24),
            )
        ).exists()
    )
    upcoming = planned.filter(kind__in=("meeting", "appointment"), scheduled_at__gt=now)
    assert upcoming.count() >= 20
    for activity in Activity.objects.all():
        assert activity.scheduled_at == (activity.start_at or activity.due_at)
    for reminder in Reminder.objects.select_related("activity"):
        assert reminder.activity.status == "planned"
        expected = reminder.activity.scheduled_at - datetime.timedelta(
            minutes=reminder.minutes_before
        )
        assert reminder.remind_at == expected
        # reminders already due when the demo was loaded count as sent, the others wait
        if reminder.sent_at is not None:
            assert reminder.sent_at == reminder.remind_at <= demo["started"] + LOAD_SLACK
        else:
            assert reminder.remind_at > demo["started"]
    assert set(Reminder.objects.values_list("minutes_before", flat=True)) == {1440, 60}
    assert TimeEntry.objects.count() >= 30


def test_consent_history_has_grants_and_withdrawals(reads):
    assert Consent.objects.filter(status="granted").count() > 1000
    assert Consent.objects.filter(status="withdrawn").exists()


def test_one_create_change_log_row_per_customer_matching_the_record(reads):
    entries = ChangeLogEntry.objects.filter(model="customers.customer", action="create")
    assert entries.count() == Customer.objects.count()
    by_id = {e.object_id: e for e in entries}
    for customer in Customer.objects.prefetch_related("tags")[:300]:
        entry = by_id[customer.pk]
        assert entry.customer_id == customer.pk
        assert entry.time == customer.created_at
        assert _same(entry.after, snapshot(customer))


def _same(logged: dict, current: dict) -> bool:
    """Equal snapshots; a decimal may come back from the database with more places."""
    if logged.keys() != current.keys():
        return False
    for key, value in logged.items():
        other = current[key]
        if value == other:
            continue
        decimal = key == "annual_revenue" and value is not None and other is not None
        if decimal and Decimal(value) == Decimal(other):
            continue
        return False
    return True


def test_search_index_was_rebuilt(reads):
    assert SearchEntry.objects.filter(model="customer").count() == Customer.objects.count()
    assert SearchEntry.objects.filter(model="contactpoint").count() == ContactPoint.objects.count()
    assert SearchEntry.objects.filter(model="interaction").count() == Interaction.objects.count()


def test_a_second_run_adds_nothing(reads):
    before = (Customer.objects.count(), Interaction.objects.count(), User.objects.count())
    out = StringIO()
    call_command("demo_data", stdout=out)
    assert (Customer.objects.count(), Interaction.objects.count(), User.objects.count()) == before
    assert "already loaded" in out.getvalue()


def test_the_same_seed_makes_the_same_company(reads):
    # given the staff and tags of the loaded demo and a fixed moment
    from vefa.demo.build import DemoBuilder, Ids
    from vefa.demo.company import ensure_staff

    staff = ensure_staff()
    now = 1_800_000_000
    made = []
    for _ in range(2):
        # when the company is made twice
        builder = DemoBuilder(
            staff=staff, now=now, ids=Ids(dict.fromkeys(TABLES, 0)), tag_ids=dict.fromkeys(TAGS, 1)
        )
        builder.customers_all()
        builder.histories()
        made.append(builder.data.rows)
    # then it is the same, row for row
    assert made[0] == made[1]
    assert len(made[0]["customers_customer"]) == 2000

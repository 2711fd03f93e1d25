"""Field sales: planning visits with the address, the calendar, logging in two taps, my day."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.sales.conftest import HOSTILE
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.customers.models import Address
from vefa.interactions.models import Activity, Interaction
from vefa.interactions.services.activities import activity_create
from vefa.platform.models import ChangeLogEntry
from vefa.platform.records import record_create
from vefa.sales.models import Opportunity
from vefa.sales.services.field import address_text, follow_up_postpone, visit_log, visit_plan


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def addressed(own_customer):
    Address.objects.create(customer=own_customer, kind="office", line1="Bağdat Cd. 12",
                           city="İstanbul", postal_code="34710", country="TR")  # fmt: skip
    Address.objects.create(customer=own_customer, kind="billing", line1="İstiklal Cd. 1",
                           district="Beyoğlu", city="İstanbul", postal_code="34433",
                           country="TR", is_primary=True)  # fmt: skip
    return own_customer


def soon(hours: int = 2) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(hours=hours)


def later_today() -> datetime.datetime:
    """A time later today in UTC (the test users' zone), or the current minute at 23:59."""
    now = timezone.now()
    end = now.replace(hour=23, minute=59, second=0, microsecond=0)
    return min(now + datetime.timedelta(minutes=30), end)


# --- planning -----------------------------------------------------------------------------


def test_visit_takes_the_primary_address(rep, addressed):
    visit = visit_plan(actor=rep, customer_id=addressed.pk, due_at=soon())
    assert visit.kind == "visit"
    assert visit.customer_id == addressed.pk
    assert visit.owner_id == rep.pk
    assert visit.location == "İstiklal Cd. 1, Beyoğlu, 34433 İstanbul, TR"
    assert visit.subject == "Visit: Ayşe Yılmaz"
    assert visit.reminders.count() == 2  # the usual defaults
    assert (
        ChangeLogEntry.objects.filter(model="interactions.activity", object_id=visit.pk).count()
        == 1
    )


def test_visit_location_given_or_from_city(rep, own_customer):
    assert address_text(own_customer) == ""
    own_customer.city, own_customer.country = "Ankara", "TR"
    own_customer.save()
    assert (
        visit_plan(actor=rep, customer_id=own_customer.pk, due_at=soon()).location == "Ankara, TR"
    )
    given = visit_plan(actor=rep, customer_id=own_customer.pk, due_at=soon(), location=" Café ")
    assert given.location == "Café"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"due_at": None}, "due_at"),
        ({"due_at": "tomorrow"}, "due_at"),
        ({"customer_id": "abc"}, "customer"),
        ({"customer_id": 10**12}, "customer"),
        ({"location": "x" * 201}, "location"),
        ({"location": 42}, "location"),
    ],
)
def test_visit_plan_refuses_bad_input(rep, own_customer, kwargs, field):
    args = {"customer_id": own_customer.pk, "due_at": soon(), **kwargs}
    with pytest.raises(ValidationFailed) as exc:
        visit_plan(actor=rep, **args)
    assert field in exc.value.fields
    assert not Activity.objects.exists()


def test_visit_to_a_hidden_customer_is_refused(rep, other_customer):
    with pytest.raises(ValidationFailed) as exc:
        visit_plan(actor=rep, customer_id=other_customer.pk, due_at=soon())
    assert "customer" in exc.value.fields
    assert not Activity.objects.exists()


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_subject_and_address_kept_as_text(rep, own_customer, text):
    visit = visit_plan(actor=rep, customer_id=own_customer.pk, due_at=soon(), subject=text,
                       location=text)  # fmt: skip
    assert (visit.subject, visit.location) == (text.strip(), text.strip())


def test_calendar_shows_the_visit_with_its_address(rep, addressed):
    due = datetime.datetime(2030, 5, 14, 9, 30, tzinfo=datetime.UTC)
    visit_plan(actor=rep, customer_id=addressed.pk, due_at=due, location="<b>Kadıköy</b> 5")
    page = login(rep).get(reverse("interactions:calendar") + "?view=week&date=2030-05-14")
    html = page.content.decode()
    assert "Visit: Ayşe Yılmaz" in html
    assert "&lt;b&gt;Kadıköy&lt;/b&gt; 5" in html
    assert "<b>Kadıköy" not in html


# --- logging in two taps ----------------------------------------------------------------------


def test_two_taps_log_exactly_one_visit_interaction(rep, addressed):
    visit = visit_plan(actor=rep, customer_id=addressed.pk, due_at=later_today())
    client = login(rep)
    day = client.get(reverse("sales:my_day")).content.decode()
    log_url = reverse("sales:visit_log", args=[visit.pk])
    assert f'hx-get="{log_url}"' in day  # tap 1: the "Visited" button
    form = client.get(log_url, HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    html = form.content.decode()
    assert 'value="Visited"' in html  # the outcome is already filled in
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    saved = client.post(log_url, {"outcome": "Visited", "version": version},
                        HTTP_HX_REQUEST="true")  # tap 2  # fmt: skip
    assert saved.status_code == 200
    assert "Logged" in saved.content.decode()
    visit.refresh_from_db()
    assert visit.status == "done"
    interactions = Interaction.objects.filter(customer=addressed)
    assert interactions.count() == 1
    touch = interactions.get()
    assert (touch.kind, touch.channel, touch.user_id, touch.outcome) == (
        "visit", "face_to_face", rep.pk, "Visited"
    )  # fmt: skip
    assert visit.interaction_id == touch.pk
    assert not visit.reminders.exists()
    # A second tap (double submit) changes nothing.
    again = client.post(log_url, {"outcome": "Visited", "version": version})
    assert again.status_code == 422
    assert interactions.count() == 1


def test_log_without_htmx_redirects_to_my_day(rep, own_customer):
    visit = visit_plan(actor=rep, customer_id=own_customer.pk, due_at=soon())
    client = login(rep)
    assert client.get(reverse("sales:visit_log", args=[visit.pk])).status_code == 200
    response = client.post(reverse("sales:visit_log", args=[visit.pk]), {"outcome": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("sales:my_day")
    assert Interaction.objects.get().kind == "visit"


def test_stale_version_is_a_conflict(rep, own_customer):
    visit = visit_plan(actor=rep, customer_id=own_customer.pk, due_at=soon())
    with pytest.raises(Conflict):
        visit_log(actor=rep, activity_id=visit.pk, expected_version=visit.version + 1)
    assert not Interaction.objects.exists()
    page = login(rep).post(reverse("sales:visit_log", args=[visit.pk]),
                           {"outcome": "x", "version": visit.version + 5})  # fmt: skip
    assert page.status_code == 422
    assert not Interaction.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"outcome": "x" * 301}, "outcome"),
        ({"outcome": 5}, "outcome"),
        ({"notes": "x" * 10001}, "notes"),
    ],
)
def test_visit_log_refuses_bad_input(rep, own_customer, kwargs, field):
    visit = visit_plan(actor=rep, customer_id=own_customer.pk, due_at=soon())
    with pytest.raises(ValidationFailed) as exc:
        visit_log(actor=rep, activity_id=visit.pk, **kwargs)
    assert field in exc.value.fields
    assert not Interaction.objects.exists()


def test_only_visits_can_be_logged_as_visits(rep, own_customer):
    call = activity_create(actor=rep, kind="call", subject="c", customer_id=own_customer.pk,
                           due_at=soon())  # fmt: skip
    with pytest.raises(ValidationFailed):
        visit_log(actor=rep, activity_id=call.pk)
    assert login(rep).get(reverse("sales:visit_log", args=[call.pk])).status_code == 404


def test_someone_elses_visit_is_not_found(rep, rep_same_team, rep_other_team, team_customer):
    visit = visit_plan(actor=rep_same_team, customer_id=team_customer.pk, due_at=soon())
    # A teammate may see it (team scope) but not change it; another team cannot see it.
    with pytest.raises(PermissionDenied):
        visit_log(actor=rep, activity_id=visit.pk)
    with pytest.raises(NotFound):
        visit_log(actor=rep_other_team, activity_id=visit.pk)
    for user in (rep, rep_other_team):
        response = login(user).post(reverse("sales:visit_log", args=[visit.pk]), {"outcome": "x"})
        assert response.status_code == 404
    assert not Interaction.objects.exists()
    visit.refresh_from_db()
    assert visit.status == "planned"


def test_hostile_outcome_is_escaped(rep, own_customer):
    visit = visit_plan(actor=rep, customer_id=own_customer.pk, due_at=later_today())
    client = login(rep)
    client.post(reverse("sales:visit_log", args=[visit.pk]), {"outcome": HOSTILE[0]})
    html = client.get(reverse("sales:my_day")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- the visit planning page ------------------------------------------------------------------


def test_plan_page_prefills_the_address_and_plans(rep, addressed):
    client = login(rep)
    url = reverse("sales:visit_create") + f"?customer={addressed.pk}"
    page = client.get(url)
    assert page.status_code == 200
    assert "İstiklal Cd. 1, Beyoğlu, 34433 İstanbul, TR" in page.content.decode()
    response = client.post(url, {"customer": addressed.pk, "due_at": "2030-05-14T10:00",
                                 "location": "", "subject": "", "description": ""})  # fmt: skip
    assert response.status_code == 302
    visit = Activity.objects.get()
    assert visit.location.startswith("İstiklal Cd. 1")
    bad = client.post(url, {"customer": addressed.pk, "due_at": "soon"})
    assert bad.status_code == 422
    assert Activity.objects.count() == 1


def test_plan_page_finds_customers_in_scope(rep, own_customer, other_customer):
    client = login(rep)
    mine = client.get(reverse("sales:visit_create"), {"q": "Ayşe"}).content.decode()
    assert "Ayşe Yılmaz" in mine
    theirs = client.get(reverse("sales:visit_create"), {"q": "Jovana"}).content.decode()
    assert "Jovana Petrović" not in theirs
    assert "No customer with this name." in theirs
    hidden = client.get(reverse("sales:visit_create"), {"customer": other_customer.pk})
    assert hidden.status_code == 404


def test_read_only_cannot_plan(read_only, own_customer):
    response = login(read_only).get(reverse("sales:visit_create") + f"?customer={own_customer.pk}")
    assert response.status_code == 404


# --- my day -------------------------------------------------------------------------------


def _opportunity(owner, customer, stages, follow_up, name):
    return record_create(
        Opportunity(name=name, customer=customer, pipeline=stages[0].pipeline, stage=stages[0],
                    owner=owner, team=owner.team, follow_up_date=follow_up),
        actor=owner,
    )  # fmt: skip


def test_my_day_lists_only_my_work(rep, rep_same_team, own_customer, team_customer, stages):
    now = timezone.now()
    today = now.date()
    visit_plan(actor=rep, customer_id=own_customer.pk, due_at=later_today(), subject="My visit")
    activity_create(actor=rep, kind="call", subject="My call", customer_id=own_customer.pk,
                    due_at=later_today())  # fmt: skip
    activity_create(actor=rep, kind="task", subject="My overdue task",
                    due_at=now - datetime.timedelta(days=2))  # fmt: skip
    activity_create(actor=rep, kind="call", subject="Tomorrow call",
                    due_at=now + datetime.timedelta(days=2))  # fmt: skip
    _opportunity(rep, own_customer, stages, today, "My follow-up deal")
    _opportunity(rep, own_customer, stages, today + datetime.timedelta(days=3), "Later deal")
    # A teammate's work, which the rep could see on the team lists, is not on the rep's day.
    visit_plan(actor=rep_same_team, customer_id=team_customer.pk, due_at=later_today(),
               subject="Their visit")  # fmt: skip
    activity_create(actor=rep_same_team, kind="task", subject="Their overdue task",
                    due_at=now - datetime.timedelta(days=2))  # fmt: skip
    _opportunity(rep_same_team, team_customer, stages, today, "Their deal")

    html = login(rep).get(reverse("sales:my_day")).content.decode()
    for text in ("My visit", "My call", "My overdue task", "My follow-up deal"):
        assert text in html
    for text in ("Tomorrow call", "Later deal", "Their visit", "Their overdue task", "Their deal"):
        assert text not in html
    theirs = login(rep_same_team).get(reverse("sales:my_day")).content.decode()
    assert "Their visit" in theirs and "My visit" not in theirs


def test_my_day_shows_address_and_map_links(rep, addressed):
    visit_plan(actor=rep, customer_id=addressed.pk, due_at=later_today())
    html = login(rep).get(reverse("sales:my_day")).content.decode()
    assert "İstiklal Cd. 1, Beyoğlu" in html
    assert "https://www.openstreetmap.org/search?query=%C4%B0stiklal%20Cd.%201" in html
    assert 'href="geo:0,0?q=%C4%B0stiklal' in html


def test_my_day_query_count_does_not_grow(rep, own_customer, stages):
    client = login(rep)
    url = reverse("sales:my_day")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    visit_plan(actor=rep, customer_id=own_customer.pk, due_at=later_today())
    _opportunity(rep, own_customer, stages, timezone.now().date(), "d0")
    few = count()
    for n in range(8):
        visit_plan(actor=rep, customer_id=own_customer.pk, due_at=later_today())
        activity_create(actor=rep, kind="call", subject=f"c{n}", customer_id=own_customer.pk,
                        due_at=later_today())  # fmt: skip
        _opportunity(rep, own_customer, stages, timezone.now().date(), f"d{n + 1}")
    assert count() == few


def test_one_tap_call_done_records_the_call(rep, own_customer):
    call = activity_create(actor=rep, kind="call", subject="c", customer_id=own_customer.pk,
                           due_at=later_today())  # fmt: skip
    client = login(rep)
    response = client.post(reverse("sales:field_activity_done", args=[call.pk]),
                           {"version": call.version, "next": "https://evil.example/"})  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == reverse("sales:my_day")
    assert Interaction.objects.get().kind == "call"
    again = client.post(reverse("sales:field_activity_done", args=[call.pk]))
    assert again.status_code == 302
    assert Interaction.objects.count() == 1


def test_one_tap_postpone_follow_up(rep, rep_other_team, own_customer, stages):
    deal = _opportunity(rep, own_customer, stages, timezone.now().date(), "d")
    response = login(rep).post(
        reverse("sales:field_follow_up_postpone", args=[deal.pk]), {"version": deal.version}
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.follow_up_date == timezone.now().date() + datetime.timedelta(days=7)
    with pytest.raises(NotFound):
        follow_up_postpone(actor=rep_other_team, opportunity_id=deal.pk)
    with pytest.raises(ValidationFailed):
        follow_up_postpone(actor=rep, opportunity_id=deal.pk, days="a lot")
    hidden = login(rep_other_team).post(reverse("sales:field_follow_up_postpone", args=[deal.pk]))
    assert hidden.status_code == 404


def test_pages_need_login(client):
    for url in (reverse("sales:my_day"), reverse("sales:visit_create"), reverse("sales:analysis")):
        assert client.get(url).status_code == 302


def test_customer_helper_used(rep):
    # make_customer keeps the address-less path honest for a customer without anything.
    customer = make_customer(owner=rep, team=rep.team)
    assert address_text(customer) == ""

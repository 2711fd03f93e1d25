"""Pages of the platform: home, search, notifications, jobs, change log; access and htmx."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.platform.conftest import HOSTILE
from vefa.accounts.choices import Role
from vefa.customers.services import customer_create, customer_update
from vefa.interactions.services import activity_create, interaction_create
from vefa.platform.models import ChangeLogEntry, Job, Notification
from vefa.platform.notifications import notification_send

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _login(client, user):
    client.force_login(user)
    return client


# --- home ---------------------------------------------------------------------------------------


def test_the_home_page_needs_a_login(client):
    response = client.get(reverse("platform:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_home_shows_my_overdue_today_and_upcoming_activities_and_recent_customers(
    client, rep, rep_other_team, committed
):
    # Given the rep's customer and activities overdue, today and next week
    now = timezone.now()
    with committed():
        customer = customer_create(
            actor=rep, data={"kind": "person", "first_name": "Home", "last_name": "Page"}
        )
        for subject, due in [
            ("Overdue call", now - datetime.timedelta(days=2)),
            ("Later call", now + datetime.timedelta(days=3)),
        ]:
            activity_create(
                actor=rep, kind="call", subject=subject, due_at=due, customer_id=customer.pk
            )
        other = customer_create(
            actor=rep_other_team, data={"kind": "person", "first_name": "Not", "last_name": "Mine"}
        )
        activity_create(actor=rep_other_team, kind="call", subject="Their call", due_at=now)
    # When the rep opens the home page
    response = _login(client, rep).get(reverse("platform:dashboard"))
    # Then the rep's own work and customers are listed, nobody else's
    assert response.status_code == 200
    body = response.content.decode()
    assert "Overdue call" in body
    assert "Later call" in body
    assert "Their call" not in body
    assert customer.display_name in body
    assert other.display_name not in body
    agenda = response.context["agenda"]
    assert [a.subject for a in agenda["overdue"]] == ["Overdue call"]
    assert [a.subject for a in agenda["upcoming"]] == ["Later call"]
    assert [c.pk for c in response.context["recent_customers"]] == [customer.pk]


def test_home_escapes_what_users_typed(client, rep, committed):
    with committed():
        customer_create(
            actor=rep,
            data={"kind": "person", "first_name": "<script>alert(1)</script>", "last_name": "X"},
        )
    body = _login(client, rep).get(reverse("platform:dashboard")).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_home_query_count_does_not_grow_with_rows(
    client, rep, committed, django_assert_max_num_queries
):
    now = timezone.now()
    with committed():
        for i in range(8):
            c = customer_create(
                actor=rep, data={"kind": "person", "first_name": f"Q{i}", "last_name": "Count"}
            )
            activity_create(
                actor=rep, kind="task", subject=f"Task {i}", due_at=now, customer_id=c.pk
            )
    _login(client, rep)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("platform:dashboard")).status_code == 200


# --- search -------------------------------------------------------------------------------------


def test_search_page_groups_results_and_the_navbar_gets_a_dropdown(client, rep, committed):
    with committed():
        customer = customer_create(
            actor=rep,
            data={"kind": "person", "first_name": "Dropdown", "last_name": "Kaya"},
            email="dropdown@example.com",
        )
        interaction_create(actor=rep, customer_id=customer.pk, kind="call", subject="Dropdown call")
    _login(client, rep)
    page = client.get(reverse("platform:search"), {"q": "dropdown"})
    assert page.status_code == 200
    assert [g.key for g in page.context["results"].nonempty_groups] == [
        "customers",
        "contact_points",
        "interactions",
    ]
    assert "<html" in page.content.decode()
    partial = client.get(
        reverse("platform:search"),
        {"q": "dropdown"},
        HTTP_HX_TARGET="global-search-results",
        **HTMX,
    )
    body = partial.content.decode()
    assert partial.status_code == 200
    assert "<html" not in body
    assert "dropdown-menu" in body
    assert customer.get_absolute_url() in body


def test_search_never_shows_another_teams_customer(client, rep, rep_other_team, committed):
    with committed():
        customer_create(
            actor=rep_other_team,
            data={"kind": "person", "first_name": "Hidden", "last_name": "Jovanović"},
        )
    body = (
        _login(client, rep)
        .get(
            reverse("platform:search"),
            {"q": "jovanovic"},
            HTTP_HX_TARGET="global-search-results",
            **HTMX,
        )
        .content.decode()
    )
    assert "Jovanović" not in body
    assert "Nothing found" in body


@pytest.mark.parametrize("query", HOSTILE)
def test_search_page_escapes_the_query(client, rep, query):
    response = _login(client, rep).get(reverse("platform:search"), {"q": query})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


# --- notifications ------------------------------------------------------------------------------


def test_notifications_list_only_my_own_and_the_badge_counts_unread(client, rep, rep_same_team):
    notification_send(recipient=rep, verb="test", text="For me")
    notification_send(recipient=rep, verb="test", text="Also for me")
    notification_send(recipient=rep_same_team, verb="test", text="For my colleague")
    _login(client, rep)

    page = client.get(reverse("platform:notifications"))
    badge = client.get(reverse("platform:notification_badge"), **HTMX)

    body = page.content.decode()
    assert "For me" in body
    assert "Also for me" in body
    assert "For my colleague" not in body
    assert ">2</span>" in badge.content.decode()


def test_marking_someone_elses_notification_read_is_not_found_and_changes_nothing(
    client, rep, rep_same_team
):
    theirs = notification_send(recipient=rep_same_team, verb="test", text="Private")
    response = _login(client, rep).post(reverse("platform:notification_read", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_one_read_by_htmx_and_then_all(client, rep):
    first = notification_send(recipient=rep, verb="test", text="First")
    notification_send(recipient=rep, verb="test", text="Second")
    _login(client, rep)

    one = client.post(reverse("platform:notification_read", args=[first.pk]), **HTMX)
    assert one.status_code == 200
    assert f'id="notification-{first.pk}"' in one.content.decode()
    assert Notification.objects.filter(recipient=rep, read_at__isnull=True).count() == 1

    everything = client.post(reverse("platform:notification_read_all"))
    assert everything.status_code == 302
    assert Notification.objects.filter(recipient=rep, read_at__isnull=True).count() == 0
    assert "99+" not in client.get(reverse("platform:notification_badge")).content.decode()


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, rep):
    notice = notification_send(recipient=rep, verb="test", text="Go", url="/customers/")
    response = _login(client, rep).post(
        reverse("platform:notification_read", args=[notice.pk]), {"open": "1"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/customers/"
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_the_badge_shows_99_plus(client, rep):
    for i in range(120):
        Notification.objects.create(recipient=rep, verb="bulk", text=f"n{i}")
    body = _login(client, rep).get(reverse("platform:notification_badge")).content.decode()
    assert "99+" in body


def test_notification_pages_need_a_login(client):
    assert client.get(reverse("platform:notifications")).status_code == 302
    assert client.get(reverse("platform:notification_badge")).status_code == 302


# --- change log -----------------------------------------------------------------------------


def test_only_administrators_see_the_change_log(client, rep, manager, admin_user, committed):
    with committed():
        customer_create(
            actor=rep, data={"kind": "person", "first_name": "Logged", "last_name": "Change"}
        )
    for user in (rep, manager):
        client.force_login(user)
        assert client.get(reverse("platform:changelog")).status_code == 404
    client.force_login(admin_user)
    response = client.get(reverse("platform:changelog"))
    assert response.status_code == 200
    assert "Logged Change" in response.content.decode()


def test_change_log_filters_by_type_actor_action_and_date(client, admin_user, rep, committed):
    with committed():
        customer = customer_create(
            actor=rep, data={"kind": "person", "first_name": "Filter", "last_name": "Me"}
        )
        customer_update(actor=admin_user, customer_id=customer.pk, data={"notes": "changed"})
    client.force_login(admin_user)
    url = reverse("platform:changelog")

    by_action = client.get(url, {"model": "customers.customer", "action": "update"})
    assert [e.action for e in by_action.context["page"].items] == ["update"]
    by_actor = client.get(url, {"model": "customers.customer", "actor": rep.pk})
    assert {e.actor_id for e in by_actor.context["page"].items} == {rep.pk}
    today = timezone.localdate().isoformat()
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert len(client.get(url, {"date_from": today}).context["page"].items) >= 2
    assert client.get(url, {"date_from": tomorrow}).context["page"].items == []
    entry = by_action.context["page"].items[0]
    body = by_action.content.decode()
    assert ("notes", "", "changed") in entry.changed_fields()
    assert "<ins" in body


@pytest.mark.parametrize(
    "params",
    [
        {"model": "nope.model"},
        {"action": "explode"},
        {"actor": "abc"},
        {"date_from": "2024-13-45"},
        {"object_id": "1; DROP"},
        {"cursor": "not-a-cursor"},
    ],
)
def test_change_log_bad_filters_say_what_is_wrong(client, admin_user, params):
    client.force_login(admin_user)
    response = client.get(reverse("platform:changelog"), params)
    assert response.status_code in (200, 422)
    if "cursor" not in params:
        assert response.status_code == 422
        assert response.context["errors"]


def test_change_log_pages_with_a_keyset_cursor(client, admin_user):
    for i in range(60):
        ChangeLogEntry.objects.create(
            action="update", model="customers.customer", object_id=i, object_repr=f"c{i}"
        )
    client.force_login(admin_user)
    first = client.get(reverse("platform:changelog"), {"model": "customers.customer"})
    page = first.context["page"]
    assert len(page.items) == 50
    second = client.get(
        reverse("platform:changelog"), {"model": "customers.customer", "cursor": page.next_cursor}
    )
    ids = [e.pk for e in page.items] + [e.pk for e in second.context["page"].items]
    assert len(ids) == 60
    assert len(set(ids)) == 60


def test_record_changes_visible_only_to_who_may_view_the_record(
    client, rep, rep_same_team, rep_other_team, committed
):
    with committed():
        customer = customer_create(
            actor=rep, data={"kind": "person", "first_name": "History", "last_name": "Kept"}
        )
        customer_update(actor=rep, customer_id=customer.pk, data={"notes": "second"})
    url = reverse("platform:record_changes", args=["customers.customer", customer.pk])

    for allowed in (rep, rep_same_team):
        client.force_login(allowed)
        response = client.get(url)
        assert response.status_code == 200
        assert [e.action for e in response.context["page"].items] == ["update", "create"]

    client.force_login(rep_other_team)
    assert client.get(url).status_code == 404
    assert client.get(url, **HTMX).status_code == 404


@pytest.mark.parametrize(
    "label", ["nope.nope", "accounts.user", "platform.changelogentry", "auth.permission", "x"]
)
def test_record_changes_of_unknown_or_ungoverned_types_are_not_found_for_non_admins(
    client, rep, label
):
    client.force_login(rep)
    assert client.get(f"/changes/{label}/{rep.pk}/").status_code == 404


def test_administrators_see_the_history_of_users(client, admin_user, rep):
    client.force_login(admin_user)
    response = client.get(reverse("platform:record_changes", args=["accounts.user", rep.pk]))
    assert response.status_code == 200


# --- jobs ----------------------------------------------------------------------------------------


def test_job_pages_only_for_its_user_or_an_administrator(client, rep, rep_same_team, admin_user):
    job = Job.objects.create(kind="test", title="Export <b>all</b>", user=rep, total=10, progress=4)
    for user, status in ((rep, 200), (admin_user, 200), (rep_same_team, 404)):
        client.force_login(user)
        assert client.get(reverse("platform:job_detail", args=[job.pk])).status_code == status
        assert (
            client.get(reverse("platform:job_status", args=[job.pk]), **HTMX).status_code == status
        )


def test_a_running_job_polls_itself_and_a_finished_one_stops_with_a_notice(client, rep):
    job = Job.objects.create(
        kind="test", title="Import", user=rep, status=Job.Status.RUNNING, total=10, progress=4
    )
    client.force_login(rep)
    running = client.get(reverse("platform:job_status", args=[job.pk]), **HTMX).content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert 'aria-valuenow="40"' in running
    assert "<html" not in running

    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, progress=10)
    done = client.get(reverse("platform:job_status", args=[job.pk]), **HTMX).content.decode()
    assert "hx-trigger" not in done
    assert "alert-success" in done

    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, message="<script>x</script>")
    failed = client.get(reverse("platform:job_status", args=[job.pk]), **HTMX).content.decode()
    assert "alert-danger" in failed
    assert "<script>x</script>" not in failed


def test_any_administrator_sees_any_job_and_a_missing_job_is_not_found(client, rep):
    job = Job.objects.create(kind="test", title="Mine", user=rep)
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get(reverse("platform:job_detail", args=[job.pk])).status_code == 200
    assert client.get(reverse("platform:job_detail", args=[job.pk + 1000])).status_code == 404


def test_an_emptied_search_box_closes_the_dropdown(client, rep):
    response = _login(client, rep).get(
        reverse("platform:search"), {"q": "  "}, HTTP_HX_TARGET="global-search-results", **HTMX
    )
    assert response.status_code == 200
    assert response.content.decode().strip() == ""

"""The service settings page: read by service users, written by administrators only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.service.conftest import HOSTILE
from vefa.accounts.choices import Role
from vefa.service.models import BusinessCalendar, Category, Holiday, Queue, SlaPolicy

URL = "/service/setup/"


@pytest.fixture
def admin(db, team):
    return UserFactory(role=Role.ADMIN, team=team, full_name="Admin")


def test_url_name():
    assert reverse("service:setup") == URL


def test_admin_sees_sections_and_add_forms(client, admin, queue):
    client.force_login(admin)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    for anchor in ('id="queues"', 'id="categories"', 'id="calendars"', 'id="policies"'):
        assert anchor in body
    assert 'name="kind" value="queue"' in body
    assert reverse("service:setup_edit", args=["queue", queue.pk]) in body


def test_agent_reads_without_forms_and_cannot_write(client, agent, queue, calendar):
    client.force_login(agent)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Support" in body
    assert 'name="kind"' not in body
    assert reverse("service:setup_edit", args=["queue", queue.pk]) not in body
    assert client.post(URL, {"kind": "queue", "new-queue-name": "Mine"}).status_code == 404
    edit = reverse("service:setup_edit", args=["queue", queue.pk])
    assert client.get(edit).status_code == 404
    assert client.post(edit, {"name": "Hijacked", "assignment": "manual"}).status_code == 404
    holiday_url = reverse("service:setup_holiday_add", args=[calendar.pk])
    assert client.post(holiday_url, {"date": "2026-12-31", "name": "x"}).status_code == 404
    holiday = Holiday.objects.create(calendar=calendar, date="2026-12-30", name="Kept")
    remove = reverse("service:setup_holiday_remove", args=[holiday.pk])
    assert client.post(remove).status_code == 404
    queue.refresh_from_db()
    assert queue.name == "Support"
    assert not Queue.objects.filter(name="Mine").exists()
    assert Holiday.objects.filter(pk=holiday.pk).exists()


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_unknown_kind_and_missing_row_are_404(client, admin):
    client.force_login(admin)
    assert client.get("/service/setup/printer/1/").status_code == 404
    assert client.get(reverse("service:setup_edit", args=["queue", 999999])).status_code == 404
    assert client.post(URL, {"kind": "printer"}).status_code == 404


def test_admin_adds_a_policy_and_errors_come_back_on_the_form(client, admin, agent):
    client.force_login(admin)
    response = client.post(
        URL,
        {
            "kind": "policy",
            "new-policy-name": "Urgent",
            "new-policy-priority": "urgent",
            "new-policy-first_response_minutes": "30",
            "new-policy-resolution_minutes": "240",
            "new-policy-warn_at_percent": "75",
            "new-policy-escalation": "reassign",
            "new-policy-escalate_to": "",
            "new-policy-is_active": "on",
        },
    )
    assert response.status_code == 422
    assert "Choose who takes over" in response.content.decode()
    assert not SlaPolicy.objects.exists()
    response = client.post(
        URL,
        {
            "kind": "policy",
            "new-policy-name": "Urgent",
            "new-policy-priority": "urgent",
            "new-policy-first_response_minutes": "30",
            "new-policy-resolution_minutes": "240",
            "new-policy-warn_at_percent": "75",
            "new-policy-escalation": "reassign",
            "new-policy-escalate_to": str(agent.pk),
            "new-policy-is_active": "on",
        },
    )
    assert response.status_code == 302
    policy = SlaPolicy.objects.get()
    assert policy.escalate_to == agent and policy.warn_at_percent == 75


def test_calendar_hours_from_the_form_and_clear_errors(client, admin):
    client.force_login(admin)
    data = {
        "kind": "calendar",
        "new-calendar-name": "Belgrade",
        "new-calendar-time_zone": "Europe/Belgrade",
        "new-calendar-day_1": "08:00-12:00, 13:00-16:00",
        "new-calendar-day_2": "08:00-25:00",
    }
    response = client.post(URL, data)
    assert response.status_code == 422
    assert "25:00" in response.content.decode()
    assert not BusinessCalendar.objects.exists()
    data["new-calendar-day_2"] = "16:00-08:00"
    assert "ends before it starts" in client.post(URL, data).content.decode()
    data["new-calendar-day_2"] = "08:00-12:00, 11:00-16:00"
    assert "overlap" in client.post(URL, data).content.decode()
    data["new-calendar-day_2"] = "08:00-16:00"
    assert client.post(URL, data).status_code == 302
    calendar = BusinessCalendar.objects.get()
    assert calendar.hours == {
        "1": [["08:00", "12:00"], ["13:00", "16:00"]],
        "2": [["08:00", "16:00"]],
    }
    edit = reverse("service:setup_edit", args=["calendar", calendar.pk])
    page = client.get(edit).content.decode()
    assert "08:00-12:00, 13:00-16:00" in page
    response = client.post(
        reverse("service:setup_holiday_add", args=[calendar.pk]),
        {"date": "2026-12-31", "name": "New Year's Eve"},
    )
    assert response.status_code == 302
    assert calendar.holidays.count() == 1
    holiday = calendar.holidays.get()
    response = client.post(reverse("service:setup_holiday_remove", args=[holiday.pk]))
    assert response.status_code == 302 and not calendar.holidays.exists()


def test_edit_deactivates_and_stale_version_is_refused(client, admin, queue):
    client.force_login(admin)
    edit = reverse("service:setup_edit", args=["queue", queue.pk])
    assert client.get(edit).status_code == 200
    data = {"name": "Support", "assignment": "manual", "version": str(queue.version)}
    response = client.post(edit, data)  # unchecked "active" and "default": deactivated
    assert response.status_code == 302
    queue.refresh_from_db()
    assert not queue.is_active and queue.assignment == "manual"
    response = client.post(edit, {**data, "name": "Renamed"})  # the old version again
    assert response.status_code == 422
    assert "Someone else changed" in response.content.decode()
    queue.refresh_from_db()
    assert queue.name == "Support"


def test_category_move_under_its_child_is_refused_on_the_page(client, admin):
    client.force_login(admin)
    parent = Category.objects.create(name="Delivery", path="Delivery")
    child = Category.objects.create(name="Late", parent=parent, path="Delivery › Late")
    edit = reverse("service:setup_edit", args=["category", parent.pk])
    response = client.post(edit, {"name": "Delivery", "parent": str(child.pk), "is_active": "on"})
    assert response.status_code == 422
    assert "under itself" in response.content.decode()


def test_hostile_names_are_escaped(client, admin, agent, calendar):
    client.force_login(admin)
    for index, name in enumerate(HOSTILE):
        Queue.objects.create(name=f"{name} {index}")
        Category.objects.create(name=f"{name} {index}", path=f"{name} {index}")
        SlaPolicy.objects.create(
            name=f"{name} {index}", first_response_minutes=1, resolution_minutes=1
        )
        Holiday.objects.create(calendar=calendar, date=f"2026-12-{index + 1:02d}", name=name)
    for user in (admin, agent):
        client.force_login(user)
        body = client.get(URL).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    client.force_login(admin)
    queue = Queue.objects.get(name__startswith="<script>")
    body = client.get(reverse("service:setup_edit", args=["queue", queue.pk])).content.decode()
    assert "<script>alert(1)</script>" not in body


def test_page_query_count_does_not_grow_with_rows(
    client, admin, calendar, django_assert_max_num_queries
):
    client.force_login(admin)
    for index in range(3):
        Queue.objects.create(name=f"Queue {index}", calendar=calendar)
        Holiday.objects.create(calendar=calendar, date=f"2026-01-{index + 1:02d}", name="x")
    client.get(URL)
    with django_assert_max_num_queries(40) as few:
        client.get(URL)
    baseline = len(few.captured_queries)
    for index in range(3, 30):
        Queue.objects.create(name=f"Queue {index}", calendar=calendar)
        BusinessCalendar.objects.create(name=f"Calendar {index}", time_zone="UTC")
        Category.objects.create(name=f"C{index}", path=f"C{index}")
    with django_assert_max_num_queries(baseline):
        client.get(URL)

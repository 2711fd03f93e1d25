"""Pages and partials: access as 404, escaping, quick add, completion, query counts."""

from __future__ import annotations

import datetime
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.interactions.conftest import PDF_BYTES, pdf_file
from vefa.interactions.models import Activity, Interaction
from vefa.interactions.services import (
    activity_create,
    attachment_add,
    interaction_create,
)
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def htmx(client: Client, method: str, url: str, data=None):
    return getattr(client, method)(url, data or {}, HTTP_HX_REQUEST="true")


def test_interaction_page_escapes_user_text(rep, own_customer):
    interaction = interaction_create(
        actor=rep, customer_id=own_customer.pk, kind="call", subject=XSS, body=XSS, outcome=XSS
    )
    attachment_add(
        actor=rep,
        interaction_id=interaction.pk,
        file=pdf_file(),
        name="<img src=x onerror=alert(1)>.pdf",
    )
    response = login(rep).get(reverse("interactions:detail", args=[interaction.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html


def test_hidden_records_are_404_on_pages_and_partials(rep, rep_other_team, other_customer, soon):
    theirs = interaction_create(
        actor=rep_other_team, customer_id=other_customer.pk, kind="note", subject="secret"
    )
    attachment = attachment_add(actor=rep_other_team, interaction_id=theirs.pk, file=pdf_file())
    activity = activity_create(actor=rep_other_team, kind="task", subject="secret", due_at=soon)
    client = login(rep)
    logs = ChangeLogEntry.objects.count()
    gets = [
        reverse("interactions:detail", args=[theirs.pk]),
        reverse("interactions:edit", args=[theirs.pk]),
        reverse("interactions:attachment_download", args=[attachment.pk]),
        reverse("interactions:customer_timeline", args=[other_customer.pk]),
        reverse("interactions:customer_activities", args=[other_customer.pk]),
        reverse("interactions:quick_add") + f"?customer={other_customer.pk}",
        reverse("interactions:create") + f"?customer={other_customer.pk}",
        reverse("interactions:activity_detail", args=[activity.pk]),
        reverse("interactions:activity_edit", args=[activity.pk]),
        reverse("interactions:activity_complete", args=[activity.pk]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
        assert htmx(client, "get", url).status_code == 404, url
    posts = [
        (
            reverse("interactions:edit", args=[theirs.pk]),
            {
                "kind": "note",
                "subject": "x",
                "direction": "outbound",
                "initiated_by": "company",
                "status": "done",
            },
        ),
        (reverse("interactions:delete", args=[theirs.pk]), {}),
        (reverse("interactions:attachment_delete", args=[attachment.pk]), {}),
        (
            reverse("interactions:quick_add"),
            {
                "customer": other_customer.pk,
                "mode": "interaction",
                "i-kind": "call",
                "i-direction": "outbound",
                "i-subject": "x",
            },
        ),
        (reverse("interactions:activity_complete", args=[activity.pk]), {}),
        (reverse("interactions:activity_cancel", args=[activity.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert ChangeLogEntry.objects.count() == logs
    theirs.refresh_from_db()
    assert theirs.subject == "secret"
    assert Activity.objects.get(pk=activity.pk).status == "planned"


def test_colleague_sees_but_cannot_edit_interaction(rep, rep_same_team, team_customer):
    interaction = interaction_create(
        actor=rep_same_team, customer_id=team_customer.pk, kind="note", subject="theirs"
    )
    client = login(rep)
    page = client.get(reverse("interactions:detail", args=[interaction.pk]))
    assert page.status_code == 200
    assert reverse("interactions:edit", args=[interaction.pk]) not in page.content.decode()
    assert client.get(reverse("interactions:edit", args=[interaction.pk])).status_code == 404


def test_create_page_records_and_redirects(rep, own_customer):
    client = login(rep)
    url = reverse("interactions:create") + f"?customer={own_customer.pk}"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "kind": "visit",
            "subject": "سلام — visited the shop",
            "direction": "outbound",
            "initiated_by": "company",
            "status": "done",
            "occurred_at": "2026-01-05T10:30",
        },
    )
    interaction = Interaction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == interaction.get_absolute_url()
    assert interaction.subject == "سلام — visited the shop"


def test_create_page_shows_errors(rep, own_customer):
    url = reverse("interactions:create") + f"?customer={own_customer.pk}"
    response = login(rep).post(
        url,
        {
            "kind": "call",
            "subject": "x" * 10_000,
            "direction": "outbound",
            "initiated_by": "company",
            "status": "done",
        },
    )
    assert response.status_code == 422
    assert Interaction.objects.count() == 0


def test_quick_add_logs_interaction_and_returns_timeline_with_trigger(rep, own_customer):
    client = login(rep)
    form = htmx(client, "get", reverse("interactions:quick_add") + f"?customer={own_customer.pk}")
    assert form.status_code == 200
    assert 'name="i-subject"' in form.content.decode()
    response = htmx(
        client,
        "post",
        reverse("interactions:quick_add"),
        {
            "customer": own_customer.pk,
            "mode": "interaction",
            "i-kind": "complaint",
            "i-direction": "inbound",
            "i-subject": XSS,
        },
    )
    assert response.status_code == 200
    assert "vefa:timeline-changed" in response["HX-Trigger"]
    html = response.content.decode()
    assert 'id="customer-timeline"' in html
    assert "&lt;script&gt;" in html and XSS not in html
    assert Interaction.objects.get().kind == "complaint"


def test_quick_add_plans_activity_and_shows_errors_in_place(rep, own_customer):
    client = login(rep)
    bad = htmx(
        client,
        "post",
        reverse("interactions:quick_add"),
        {"customer": own_customer.pk, "mode": "activity", "a-kind": "meeting", "a-subject": ""},
    )
    assert bad.status_code == 200
    assert bad["HX-Retarget"] == "#quick-add"
    assert Activity.objects.count() == 0
    ok = htmx(
        client,
        "post",
        reverse("interactions:quick_add"),
        {
            "customer": own_customer.pk,
            "mode": "activity",
            "a-kind": "meeting",
            "a-subject": "Visit",
            "a-when": "2030-02-01T10:00",
            "a-duration": "90",
        },
    )
    assert ok.status_code == 200
    activity = Activity.objects.get()
    assert (activity.customer_id, activity.end_at - activity.start_at) == (
        own_customer.pk,
        datetime.timedelta(minutes=90),
    )


def test_completing_a_call_from_the_page_records_the_interaction(rep, own_customer, soon):
    activity = activity_create(
        actor=rep, kind="call", subject="Call", due_at=soon, customer_id=own_customer.pk
    )
    client = login(rep)
    assert (
        client.get(reverse("interactions:activity_detail", args=[activity.pk])).status_code == 200
    )
    response = client.post(
        reverse("interactions:activity_complete", args=[activity.pk]),
        {"outcome": "Sold", "duration_minutes": "15", "version": activity.version},
    )
    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert (interaction.kind, interaction.outcome, interaction.duration_minutes) == (
        "call",
        "Sold",
        15,
    )
    again = client.post(reverse("interactions:activity_complete", args=[activity.pk]), {})
    assert again.status_code == 422
    assert Interaction.objects.count() == 1


def test_activity_form_end_before_start(rep):
    response = login(rep).post(
        reverse("interactions:activity_create"),
        {
            "kind": "meeting",
            "subject": "x",
            "start_at": "2030-01-01T10:00",
            "end_at": "2030-01-01T09:00",
            "priority": "normal",
            "owner": rep.pk,
        },
    )
    assert response.status_code == 422
    assert "The end must be after the start." in response.content.decode()
    assert Activity.objects.count() == 0


def test_activity_list_colours_overdue_and_today(rep):
    now = timezone.now()
    activity_create(
        actor=rep, kind="task", subject="late", due_at=now - datetime.timedelta(hours=3)
    )
    activity_create(
        actor=rep, kind="task", subject="later", due_at=now + datetime.timedelta(days=5)
    )
    html = login(rep).get(reverse("interactions:activity_list")).content.decode()
    assert html.count("vefa-overdue") == 1
    assert "later" in html


def _queries(client: Client, url: str, **extra) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(ctx)


def test_activity_list_query_count_does_not_grow(rep, own_customer, soon):
    client = login(rep)
    url = reverse("interactions:activity_list")
    for n in range(5):
        activity_create(
            actor=rep, kind="task", subject=f"t{n}", due_at=soon, customer_id=own_customer.pk
        )
    few = _queries(client, url)
    for n in range(45):
        activity_create(
            actor=rep, kind="call", subject=f"c{n}", due_at=soon, customer_id=own_customer.pk
        )
    assert _queries(client, url) == few


def test_timeline_partial_query_count_does_not_grow(rep, own_customer):
    client = login(rep)
    url = reverse("interactions:customer_timeline", args=[own_customer.pk])
    for n in range(5):
        interaction_create(actor=rep, customer_id=own_customer.pk, kind="call", subject=f"{n}")
    few = _queries(client, url, HTTP_HX_REQUEST="true")
    for n in range(45):
        interaction = interaction_create(
            actor=rep, customer_id=own_customer.pk, kind="email", subject=f"{n}"
        )
        if n % 10 == 0:
            attachment_add(
                actor=rep, interaction_id=interaction.pk, file=io.BytesIO(PDF_BYTES), name="a.pdf"
            )
    assert _queries(client, url, HTTP_HX_REQUEST="true") == few


def test_timeline_partial_filter_and_load_more(rep, own_customer):
    for n in range(30):
        interaction_create(
            actor=rep,
            customer_id=own_customer.pk,
            kind="call",
            subject=f"call-{n:02d}",
            occurred_at=timezone.now() - datetime.timedelta(hours=n),
        )
    client = login(rep)
    url = reverse("interactions:customer_timeline", args=[own_customer.pk])
    first = htmx(client, "get", url, {"kind": "call"}).content.decode()
    assert "call-00" in first and "call-24" in first and "call-25" not in first
    assert "Load more" in first
    cursor = first.split("before=")[1].split("&")[0].split('"')[0]
    from urllib.parse import unquote

    more = htmx(client, "get", url, {"kind": "call", "before": unquote(cursor)}).content.decode()
    assert "call-25" in more and "call-29" in more and "call-24" not in more
    assert 'id="customer-timeline"' not in more
    assert "Load more" not in more
    emails = htmx(client, "get", url, {"kind": "email"}).content.decode()
    assert "call-0" not in emails


def test_calendar_query_count_and_views(rep):
    rep.time_zone = "Europe/Istanbul"
    rep.save()
    client = login(rep)
    base = datetime.datetime(2030, 5, 13, 9, 0, tzinfo=datetime.UTC)
    for n in range(5):
        activity_create(
            actor=rep, kind="task", subject=f"t{n}", due_at=base + datetime.timedelta(days=n)
        )
    url = reverse("interactions:calendar") + "?view=month&date=2030-05-13"
    few = _queries(client, url)
    for n in range(45):
        activity_create(
            actor=rep, kind="call", subject=f"c{n}", due_at=base + datetime.timedelta(hours=n)
        )
    assert _queries(client, url) == few
    week = client.get(
        reverse("interactions:calendar") + "?view=week&date=2030-05-13"
    ).content.decode()
    assert "12:00" in week  # 09:00 UTC is 12:00 in Istanbul
    for view in ("day", "week", "month"):
        for date in ("2030-05-13", "nonsense", "0001-01-01"):
            response = client.get(reverse("interactions:calendar"), {"view": view, "date": date})
            assert response.status_code == 200


def test_calendar_week_starts_per_locale():
    from vefa.interactions.views.calendar import calendar_range, first_weekday

    assert first_weekday("en") == 6  # Sunday
    assert first_weekday("tr") == 0  # Monday
    assert first_weekday("fa") == 5  # Saturday
    wednesday = datetime.date(2030, 5, 15)
    assert calendar_range("week", wednesday, 5) == (
        datetime.date(2030, 5, 11),
        datetime.date(2030, 5, 17),
    )
    first, last = calendar_range("month", wednesday, 0)
    assert (
        first.weekday(),
        last.weekday(),
        first <= datetime.date(2030, 5, 1),
        last >= datetime.date(2030, 5, 31),
    ) == (0, 6, True, True)


def test_ics_info_shows_feed_and_reset_changes_it(rep):
    client = login(rep)
    old = rep.ics_token
    page = client.get(reverse("interactions:ics_info"))
    assert old in page.content.decode()
    client.post(reverse("interactions:ics_reset"))
    rep.refresh_from_db()
    assert rep.ics_token != old
    assert client.get(reverse("interactions:ics_feed", args=[old])).status_code == 404


def test_pages_need_login(own_customer):
    response = Client().get(reverse("interactions:activity_list"))
    assert response.status_code == 302


def test_interaction_list_partial_filters_and_hides(
    rep, rep_other_team, own_customer, other_customer
):
    interaction_create(actor=rep, customer_id=own_customer.pk, kind="complaint", subject=XSS)
    interaction_create(actor=rep, customer_id=own_customer.pk, kind="call", subject="call")
    interaction_create(
        actor=rep_other_team, customer_id=other_customer.pk, kind="complaint", subject="hidden"
    )
    client = login(rep)
    html = htmx(client, "get", reverse("interactions:list"), {"kind": "complaint"}).content.decode()
    assert "&lt;script&gt;" in html and XSS not in html
    assert "hidden" not in html and ">call<" not in html
    bad = htmx(client, "get", reverse("interactions:list"), {"kind": "<svg>", "user": "x"})
    assert bad.status_code == 200


@pytest.mark.parametrize("extra", [0, 45])
def test_interaction_list_partial_query_count(rep, own_customer, extra, django_assert_num_queries):
    for n in range(5 + extra):
        interaction_create(actor=rep, customer_id=own_customer.pk, kind="call", subject=f"{n}")
    client = login(rep)
    url = reverse("interactions:list")
    client.get(url, HTTP_HX_REQUEST="true")  # warm the session
    # session, user, interactions (+customer, user), tags, attachments
    with django_assert_num_queries(5):
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200


def test_pages_render_right_to_left_in_persian(rep, own_customer, soon):
    rep.language = "fa"
    rep.save()
    activity = activity_create(
        actor=rep,
        kind="meeting",
        subject="جلسه با مشتری",
        start_at=soon,
        end_at=soon + datetime.timedelta(hours=1),
    )
    client = login(rep)
    for url in (
        reverse("interactions:activity_list"),
        reverse("interactions:activity_detail", args=[activity.pk]),
        reverse("interactions:calendar") + "?view=month",
    ):
        html = client.get(url).content.decode()
        assert 'dir="rtl"' in html
        assert "جلسه با مشتری" in html


def test_stale_edit_form_shows_conflict_and_keeps_the_newer_data(rep, own_customer):
    interaction = interaction_create(
        actor=rep, customer_id=own_customer.pk, kind="note", subject="v1"
    )
    client = login(rep)
    url = reverse("interactions:edit", args=[interaction.pk])
    data = {
        "kind": "note",
        "subject": "mine",
        "direction": "outbound",
        "initiated_by": "company",
        "status": "done",
    }
    assert client.post(url, data | {"version": 1}).status_code == 302
    stale = client.post(url, data | {"subject": "stale", "version": 1})
    assert stale.status_code == 409
    interaction.refresh_from_db()
    assert (interaction.subject, interaction.version) == ("mine", 2)

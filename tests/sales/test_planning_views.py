"""Target and forecast pages: progress bars, setting targets by role, the inline SVG chart."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from vefa.platform.models import ChangeLogEntry
from vefa.sales.models import Opportunity, SalesTarget
from vefa.sales.services.planning import target_create

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_manager_sets_a_target_on_the_page(manager, rep):
    client = login(manager)
    page = client.get(reverse("sales:target_list"))
    assert page.status_code == 200
    assert "Set a target" in page.content.decode()
    today = timezone.localdate()
    response = client.post(
        reverse("sales:target_list"),
        {
            "subject": f"user:{rep.pk}",
            "period_kind": "month",
            "period_start": str(today),
            "metric": "revenue",
            "amount": "1000",
            "currency": "TRY",
        },
    )
    assert response.status_code == 302
    target = SalesTarget.objects.get()
    assert target.user == rep and target.period_start == today.replace(day=1)
    bad = client.post(
        reverse("sales:target_list"),
        {
            "subject": f"user:{rep.pk}",
            "period_kind": "month",
            "period_start": str(today),
            "metric": "revenue",
            "amount": "-5",
            "currency": "TRY",
        },
    )
    assert bad.status_code == 422
    assert SalesTarget.objects.count() == 1


def test_rep_sees_own_target_with_progress_and_cannot_set(
    manager, rep, rep_same_team, own_customer, stages
):
    today = timezone.localdate()
    mine = target_create(
        actor=manager, user_id=rep.pk, period_start=today, amount="1000", currency="TRY"
    )
    target_create(
        actor=manager, user_id=rep_same_team.pk, period_start=today, amount="1", currency="TRY"
    )
    Opportunity.objects.create(
        name="W",
        customer=own_customer,
        pipeline=stages[0].pipeline,
        stage=stages[4],
        status="won",
        amount=Decimal("400"),
        currency="TRY",
        owner=rep,
        team=rep.team,
        closed_at=timezone.now(),
    )
    client = login(rep)
    page = client.get(reverse("sales:target_list"))
    html = page.content.decode()
    assert "Set a target" not in html
    assert 'aria-valuenow="40"' in html
    assert [a.target.pk for a, _ in page.context["rows"]] == [mine.pk]
    before = ChangeLogEntry.objects.count()
    assert (
        client.post(reverse("sales:target_list"), {"subject": f"user:{rep.pk}"}).status_code == 404
    )
    assert client.get(reverse("sales:target_edit", args=[mine.pk])).status_code == 404
    assert client.post(reverse("sales:target_delete", args=[mine.pk])).status_code == 404
    assert ChangeLogEntry.objects.count() == before
    assert SalesTarget.objects.filter(pk=mine.pk).exists()


def test_manager_edits_and_deletes(manager, rep):
    target = target_create(
        actor=manager, user_id=rep.pk, period_start="2026-01-01", amount="10", currency="TRY"
    )
    client = login(manager)
    url = reverse("sales:target_edit", args=[target.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"amount": "20", "currency": "TRY", "version": 1}).status_code == 302
    stale = client.post(url, {"amount": "30", "currency": "TRY", "version": 1})
    assert stale.status_code == 422
    assert SalesTarget.objects.get().amount == Decimal(20)
    assert client.post(reverse("sales:target_delete", args=[target.pk])).status_code == 302
    assert not SalesTarget.objects.exists()


def test_forecast_page_draws_an_svg_without_scripts(manager, rep, own_customer, stages):
    Opportunity.objects.create(
        name="<b>x</b>",
        customer=own_customer,
        pipeline=stages[0].pipeline,
        stage=stages[2],
        amount=Decimal("1000"),
        currency="TRY",
        probability=50,
        owner=rep,
        team=rep.team,
        expected_close_date=timezone.localdate(),
        forecast_category="commit",
    )
    client = login(manager)
    response = client.get(reverse("sales:forecast"), {"currency": "TRY"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and "<rect" in html
    assert "cdn" not in html.lower()
    assert response.context["result"].months[0].weighted == Decimal("500.00")
    bad = client.get(reverse("sales:forecast"), {"currency": "ZZZ", "pipeline": "x"})
    assert bad.status_code == 200
    assert bad.context["filter_errors"] == ["currency", "pipeline"]
    for role in ("marketer", "service_agent", "read_only"):
        assert login(UserFactory(role=role)).get(reverse("sales:forecast")).status_code == 200

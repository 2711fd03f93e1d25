"""Opportunity pages: the board (move, conflict, lost dialog, quick add, show more), the list,
the detail page, the forms, and who may see and change what."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.sales.conftest import HOSTILE
from vefa.accounts.choices import Role
from vefa.platform.models import ChangeLogEntry
from vefa.sales.models import Opportunity
from vefa.sales.services.opportunities import opportunity_create, opportunity_move

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_opp(actor, customer, **data):
    return opportunity_create(
        actor=actor, data={"name": "Espresso makinesi", "customer": customer.pk, **data}
    )


@pytest.fixture
def opp(rep, own_customer):
    return make_opp(rep, own_customer, amount="1500")


def _log_rows(opportunity):
    return list(
        ChangeLogEntry.objects.filter(model="sales.opportunity", object_id=opportunity.pk).order_by(
            "id"
        )
    )


def _changed(entry):
    return {k for k in entry.after if entry.before.get(k) != entry.after.get(k)}


def board_move(client, opportunity, stage, version, **extra):
    return client.post(
        reverse("sales:board_move", args=[opportunity.pipeline_id]),
        {"opportunity": opportunity.pk, "stage": stage.pk, "version": version, **extra},
    )


class TestBoard:
    def test_columns_counts_and_sums(self, rep, own_customer, stages, pipeline):
        make_opp(rep, own_customer, amount="100")
        make_opp(rep, own_customer, amount="250.50")
        make_opp(rep, own_customer, amount="10", currency="EUR")
        response = client_for(rep).get(reverse("sales:board"))
        assert response.status_code == 200
        board = response.context["board"]
        assert [c.stage.kind for c in board.columns][-2:] == ["won", "lost"]
        first = board.columns[0]
        assert first.count == 3
        assert board.main_currency == "TRY"
        assert first.main_sum == Decimal("350.50")
        assert first.other_sums == [("EUR", Decimal("10.0000"))]
        html = response.content.decode()
        assert "sales/board.js" in html
        assert 'draggable="true"' in html

    def test_stale_cards_are_highlighted(self, rep, opp, stages):
        Opportunity.objects.filter(pk=opp.pk).update(
            stage_changed_at=timezone.now()
            - datetime.timedelta(days=stages[0].stale_after_days + 1)
        )
        html = client_for(rep).get(reverse("sales:board")).content.decode()
        assert "sales-card-stale" in html

    @pytest.mark.parametrize("text", HOSTILE)
    def test_hostile_names_are_escaped(self, rep, own_customer, text):
        own_customer.display_name = text
        own_customer.save()
        make_opp(rep, own_customer, name=text)
        html = client_for(rep).get(reverse("sales:board")).content.decode()
        assert "<script>alert(1)</script>" not in html
        if "<script>" in text:
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_rep_sees_only_his_own_by_default(
        self, rep, rep_same_team, own_customer, team_customer
    ):
        make_opp(rep, own_customer, name="Mine")
        make_opp(rep_same_team, team_customer, name="Colleague's")
        html = client_for(rep).get(reverse("sales:board")).content.decode()
        assert "Mine" in html and "Colleague" not in html

    def test_manager_sees_team(self, manager, rep, rep_same_team, own_customer, team_customer):
        make_opp(rep, own_customer, name="First deal")
        make_opp(rep_same_team, team_customer, name="Second deal")
        html = client_for(manager).get(reverse("sales:board")).content.decode()
        assert "First deal" in html and "Second deal" in html

    def test_show_more(self, rep, own_customer, pipeline, stages, monkeypatch):
        from vefa.sales.selectors import opportunities as selectors

        for i in range(5):
            make_opp(rep, own_customer, name=f"Deal {i}")
        monkeypatch.setattr(selectors, "COLUMN_LIMIT", 2)
        original = selectors.board

        def small_board(**kwargs):
            kwargs["limit"] = 2
            return original(**kwargs)

        monkeypatch.setattr(selectors, "board", small_board)
        response = client_for(rep).get(reverse("sales:board"))
        column = response.context["board"].columns[0]
        assert column.count == 5 and len(column.cards) == 2 and column.more == 3
        more = client_for(rep).get(
            reverse("sales:board_more", args=[pipeline.pk, stages[0].pk]) + "?offset=2",
            headers={"HX-Request": "true"},
        )
        assert more.status_code == 200
        assert more.content.decode().count('class="card sales-card') == 3

    def test_quick_add(self, rep, own_customer, pipeline, stages):
        url = reverse("sales:board_quick_add", args=[pipeline.pk, stages[1].pk])
        response = client_for(rep).post(
            url,
            {"name": "Quick one", "customer": own_customer.pk, "amount": "42"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        created = Opportunity.objects.get(name="Quick one")
        assert created.stage == stages[1] and created.owner == rep
        assert "Quick one" in response.content.decode()

    def test_quick_add_errors_keep_nothing(self, rep, other_customer, pipeline, stages):
        url = reverse("sales:board_quick_add", args=[pipeline.pk, stages[0].pk])
        response = client_for(rep).post(
            url,
            {"name": "Nope", "customer": other_customer.pk},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        assert "Choose an existing customer." in response.content.decode()
        assert 'value="Nope"' in response.content.decode()  # what was typed is kept
        assert not Opportunity.objects.filter(name="Nope").exists()

    def test_customer_picker(self, rep, own_customer, other_customer):
        response = client_for(rep).get(
            reverse("sales:opportunity_customer_picker"), {"customer_q": "Ay"}
        )
        html = response.content.decode()
        assert f'value="{own_customer.pk}"' in html
        assert f'value="{other_customer.pk}"' not in html


class TestMoveEndpoint:
    def test_move_returns_the_two_columns(self, rep, opp, stages):
        response = board_move(client_for(rep), opp, stages[2], opp.version)
        assert response.status_code == 200
        html = response.content.decode()
        assert f'id="column-{stages[0].pk}"' in html and f'id="column-{stages[2].pk}"' in html
        assert f'id="column-{stages[1].pk}"' not in html
        opp.refresh_from_db()
        assert opp.stage == stages[2] and opp.probability == stages[2].probability

    def test_stale_version_is_412(self, rep, opp, stages):
        opportunity_move(actor=rep, opportunity_id=opp.pk, stage_id=stages[1].pk)
        response = board_move(client_for(rep), opp, stages[2], opp.version)
        assert response.status_code == 412
        assert response.json()["code"] == "conflict"
        assert "Someone else changed" in response.json()["message"]
        assert Opportunity.objects.get(pk=opp.pk).stage == stages[1]

    def test_missing_version_is_a_conflict(self, rep, opp, stages):
        response = client_for(rep).post(
            reverse("sales:board_move", args=[opp.pipeline_id]),
            {"opportunity": opp.pk, "stage": stages[1].pk},
        )
        assert response.status_code == 412

    def test_lost_without_reason_is_refused(self, rep, opp, stages):
        lost = next(s for s in stages if s.kind == "lost")
        response = board_move(client_for(rep), opp, lost, opp.version)
        assert response.status_code == 422
        assert "lost_reason" in response.json()["fields"]
        assert Opportunity.objects.get(pk=opp.pk).status == "open"
        response = board_move(client_for(rep), opp, lost, opp.version, lost_reason="price")
        assert response.status_code == 200
        assert Opportunity.objects.get(pk=opp.pk).status == "lost"

    def test_other_pipeline_stage(self, rep, opp, renewal_pipeline):
        response = board_move(client_for(rep), opp, renewal_pipeline.stages.first(), opp.version)
        assert response.status_code == 422
        assert "stage" in response.json()["fields"]

    @pytest.mark.parametrize("who", ["rep_other_team", "read_only"])
    def test_not_allowed_is_404_and_nothing_changes(self, request, who, opp, stages):
        user = request.getfixturevalue(who)
        response = board_move(client_for(user), opp, stages[2], opp.version)
        assert response.status_code == 404
        assert Opportunity.objects.get(pk=opp.pk).version == opp.version
        assert len(_log_rows(opp)) == 1

    def test_garbage_input(self, rep, opp):
        response = client_for(rep).post(
            reverse("sales:board_move", args=[opp.pipeline_id]),
            {"opportunity": "<script>", "stage": "x", "version": "1e9"},
        )
        assert response.status_code == 404


class TestDragEqualsForm:
    def test_same_fields_and_same_change_log_shape(self, rep, own_customer, stages):
        dragged = make_opp(rep, own_customer, name="Same", amount="10")
        edited = make_opp(rep, own_customer, name="Same", amount="10")
        client = client_for(rep)
        assert board_move(client, dragged, stages[3], dragged.version).status_code == 200
        page = client.get(reverse("sales:opportunity_edit", args=[edited.pk]))
        form = page.context["form"]
        data = {
            name: ("" if value is None else value)
            for name, value in form.initial.items()
            if name in form.fields
        }
        data["stage"] = stages[3].pk
        response = client.post(reverse("sales:opportunity_edit", args=[edited.pk]), data)
        assert response.status_code == 302, response.content.decode()[:2000]
        dragged.refresh_from_db()
        edited.refresh_from_db()
        for name in (
            "stage_id",
            "status",
            "probability",
            "closed_at",
            "version",
            "lost_reason",
            "amount",
            "follow_up_activity_id",
        ):
            assert getattr(dragged, name) == getattr(edited, name), name
        drag_row = _log_rows(dragged)[-1]
        form_row = _log_rows(edited)[-1]
        assert len(_log_rows(dragged)) == len(_log_rows(edited)) == 2
        assert _changed(drag_row) == _changed(form_row)
        assert set(drag_row.after) == set(form_row.after)

    def test_lost_in_the_form_needs_a_reason(self, rep, opp, stages):
        client = client_for(rep)
        page = client.get(reverse("sales:opportunity_edit", args=[opp.pk]))
        form = page.context["form"]
        data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
        data["stage"] = next(s for s in stages if s.kind == "lost").pk
        response = client.post(reverse("sales:opportunity_edit", args=[opp.pk]), data)
        assert response.status_code == 422
        assert "lost reason" in response.content.decode()
        assert Opportunity.objects.get(pk=opp.pk).status == "open"


class TestPages:
    def test_list_filters_and_paging(self, rep, own_customer, stages):
        for i in range(3):
            make_opp(rep, own_customer, name=f"Row {i}", expected_close_date=f"2030-01-0{i + 1}")
        client = client_for(rep)
        response = client.get(reverse("sales:opportunity_list"))
        assert response.status_code == 200
        assert len(response.context["page"].items) == 3
        response = client.get(
            reverse("sales:opportunity_list"),
            {"close_from": "2030-01-02", "close_to": "2030-01-02", "stage": stages[0].pk},
        )
        assert [o.name for o in response.context["page"].items] == ["Row 1"]
        response = client.get(reverse("sales:opportunity_list"), {"q": "row 2"})
        assert [o.name for o in response.context["page"].items] == ["Row 2"]
        response = client.get(reverse("sales:opportunity_list"), {"close_from": "garbage"})
        assert response.status_code == 200 and response.context["filter_errors"]

    def test_detail_shows_history_lines_and_bids(self, rep, opp, stages, product):
        from vefa.sales.models import Competitor
        from vefa.sales.services.opportunities import opportunity_bid_add, opportunity_line_add

        opportunity_line_add(actor=rep, opportunity_id=opp.pk, data={"product": product.pk})
        rival = Competitor.objects.create(name="<b>Rival</b>")
        opportunity_bid_add(actor=rep, opportunity_id=opp.pk, competitor_id=rival.pk, price="9")
        opportunity_move(actor=rep, opportunity_id=opp.pk, stage_id=stages[1].pk)
        html = client_for(rep).get(reverse("sales:opportunity_detail", args=[opp.pk])).content
        text = html.decode()
        assert product.name in text
        assert "&lt;b&gt;Rival&lt;/b&gt;" in text
        assert stages[1].name in text  # the history names the stage

    def test_create_form(self, rep, own_customer, stages):
        client = client_for(rep)
        page = client.get(reverse("sales:opportunity_create") + f"?customer={own_customer.pk}")
        assert page.status_code == 200
        assert page.context["form"].initial["customer"] == own_customer.pk
        response = client.post(
            reverse("sales:opportunity_create"),
            {
                "name": "From the form",
                "customer": own_customer.pk,
                "stage": stages[1].pk,
                "amount": "12.5",
                "currency": "TRY",
                "forecast_category": "pipeline",
                "owner": rep.pk,
                "follow_up_date": (timezone.localdate() + datetime.timedelta(days=2)).isoformat(),
                "follow_up_kind": "call",
            },
        )
        assert response.status_code == 302
        created = Opportunity.objects.get(name="From the form")
        assert created.stage == stages[1] and created.follow_up_activity.kind == "call"

    def test_create_form_errors(self, rep, stages):
        response = client_for(rep).post(
            reverse("sales:opportunity_create"),
            {"name": "", "stage": stages[0].pk, "amount": "x", "currency": "TRY"},
        )
        assert response.status_code == 422
        assert not Opportunity.objects.exists()

    def test_move_page_without_script(self, rep, opp, stages):
        client = client_for(rep)
        lost = next(s for s in stages if s.kind == "lost")
        url = reverse("sales:opportunity_move", args=[opp.pk])
        response = client.post(url, {"stage": lost.pk, "version": opp.version})
        assert response.status_code == 422
        response = client.post(
            url, {"stage": lost.pk, "version": opp.version, "lost_reason": "timing"}
        )
        assert response.status_code == 302
        assert Opportunity.objects.get(pk=opp.pk).lost_reason == "timing"

    def test_delete(self, rep, opp):
        client = client_for(rep)
        assert client.get(reverse("sales:opportunity_delete", args=[opp.pk])).status_code == 200
        response = client.post(reverse("sales:opportunity_delete", args=[opp.pk]))
        assert response.status_code == 302
        assert not Opportunity.objects.filter(pk=opp.pk).exists()


class TestPermissions:
    @pytest.mark.parametrize("role", [Role.SERVICE_AGENT, Role.MARKETER])
    def test_roles_without_sales_access_get_404(self, role, team, opp, pipeline):
        user = UserFactory(role=role, team=team)
        client = client_for(user)
        for url in (
            reverse("sales:board"),
            reverse("sales:board_pipeline", args=[pipeline.pk]),
            reverse("sales:opportunity_list"),
            reverse("sales:opportunity_detail", args=[opp.pk]),
            reverse("sales:opportunity_create"),
        ):
            assert client.get(url).status_code == 404, url

    def test_read_only_views_but_cannot_change(self, read_only, opp, stages):
        client = client_for(read_only)
        html = client.get(reverse("sales:board") + "?scope=all").content.decode()
        assert opp.name in html
        assert 'draggable="true"' not in html and "Quick add" not in html
        assert client.get(reverse("sales:opportunity_detail", args=[opp.pk])).status_code == 200
        for name in (
            "sales:opportunity_edit",
            "sales:opportunity_move",
            "sales:opportunity_delete",
        ):
            assert client.get(reverse(name, args=[opp.pk])).status_code == 404
            assert client.post(reverse(name, args=[opp.pk]), {}).status_code == 404
        assert client.get(reverse("sales:opportunity_create")).status_code == 404
        assert Opportunity.objects.get(pk=opp.pk).version == opp.version

    def test_rep_of_other_team_sees_nothing(self, rep_other_team, opp):
        client = client_for(rep_other_team)
        assert client.get(reverse("sales:opportunity_detail", args=[opp.pk])).status_code == 404
        html = client.get(reverse("sales:board") + "?scope=all").content.decode()
        assert opp.name not in html

    def test_manager_edits_team_opportunity(self, manager, opp):
        client = client_for(manager)
        assert client.get(reverse("sales:opportunity_edit", args=[opp.pk])).status_code == 200

    def test_line_and_bid_posts_by_strangers(self, rep_other_team, opp):
        client = client_for(rep_other_team)
        response = client.post(
            reverse("sales:opportunity_line_add", args=[opp.pk]), {"line-description": "x"}
        )
        assert response.status_code == 404
        assert opp.lines.count() == 0


def test_board_team_filter_for_admins(
    admin_user, rep, rep_other_team, own_customer, other_customer, team
):
    make_opp(rep, own_customer, name="North deal")
    make_opp(rep_other_team, other_customer, name="South deal")
    client = client_for(admin_user)
    html = client.get(reverse("sales:board") + f"?scope=all&team={team.pk}").content.decode()
    assert "North deal" in html and "South deal" not in html
    assert 'name="team"' in html


def test_detail_lists_visible_quotes(rep, rep_other_team, opp, own_customer, other_customer):
    from vefa.sales.models import Quote

    Quote.objects.create(
        number="Q-2026-0001", customer=own_customer, opportunity=opp, owner=rep, team=rep.team
    )
    Quote.objects.create(
        number="Q-2026-0002",
        customer=other_customer,
        opportunity=opp,
        owner=rep_other_team,
        team=rep_other_team.team,
    )
    html = client_for(rep).get(reverse("sales:opportunity_detail", args=[opp.pk])).content
    text = html.decode()
    assert "Q-2026-0001" in text and "Q-2026-0002" not in text

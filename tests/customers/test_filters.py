"""The one filter definition of the customer and lead lists (also the API's query parameters)."""

from __future__ import annotations

import contextlib
import datetime

import pytest
from django.utils import timezone

from tests.customers.factories import make_customer, make_lead
from vefa.common.errors import ValidationFailed
from vefa.customers import selectors
from vefa.customers.models import Customer
from vefa.platform.models import CustomFieldDefinition

pytestmark = pytest.mark.django_db


def names(actor, **filters) -> list[str]:
    return [c.display_name for c in selectors.customer_list(actor=actor, filters=filters).items]


@pytest.fixture
def people(admin_user, rep, team, other_team, rep_other_team):
    now = timezone.now()
    ayse = make_customer(
        owner=rep,
        team=team,
        first_name="Ayşe",
        last_name="Yılmaz",
        primary_email="ayse@example.com",
        primary_phone="+905321234567",
        city="İstanbul",
        country="TR",
        source="web",
        lifecycle_stage="customer",
        tags=["VIP"],
        custom_fields={"segment": "gold", "size": 12, "vip": True, "since": "2020-01-02"},
    )
    bora = make_customer(
        owner=rep_other_team,
        team=other_team,
        first_name="Bora",
        last_name="Kaya",
        primary_email="bora@example.org",
        city="Ankara",
        country="TR",
        source="event",
        lifecycle_stage="prospect",
        custom_fields={"segment": "silver", "size": 3, "vip": False, "notes": "Likes tea"},
    )
    acme = make_customer(
        owner=None,
        team=None,
        kind="organisation",
        trade_name="Čačak Fabrika",
        city="Čačak",
        country="RS",
        lifecycle_stage="lost",
        tags=["VIP", "Partner"],
        custom_fields={"regions": ["north", "south"], "revenue_share": "12.50"},
    )
    Customer.objects.filter(pk=ayse.pk).update(
        created_at=now - datetime.timedelta(days=10), last_interaction_at=now
    )
    Customer.objects.filter(pk=bora.pk).update(
        created_at=now - datetime.timedelta(days=5),
        last_interaction_at=now - datetime.timedelta(days=40),
    )
    Customer.objects.filter(pk=acme.pk).update(created_at=now - datetime.timedelta(days=1))
    return ayse, bora, acme


class TestCustomerFilters:
    def test_search_is_a_prefix_of_the_folded_name_email_or_phone(self, admin_user, people):
        assert names(admin_user, q="AYSE") == ["Ayşe Yılmaz"]
        assert names(admin_user, q="cacak") == ["Čačak Fabrika"]
        assert names(admin_user, q="bora@") == ["Bora Kaya"]
        assert names(admin_user, q="0532 123") == ["Ayşe Yılmaz"]
        assert names(admin_user, q="+90532") == ["Ayşe Yılmaz"]
        assert names(admin_user, q="yilmaz") == []  # a prefix of the name, not a word in it

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            ({"kind": "organisation"}, ["Čačak Fabrika"]),
            ({"stage": "prospect"}, ["Bora Kaya"]),
            ({"source": "web"}, ["Ayşe Yılmaz"]),
            ({"city": "ankara"}, ["Bora Kaya"]),
            ({"country": "rs"}, ["Čačak Fabrika"]),
            ({"tag": "vip"}, ["Ayşe Yılmaz", "Čačak Fabrika"]),
            ({"tag": "VIP, partner"}, ["Čačak Fabrika"]),
            ({"owner": "none"}, ["Čačak Fabrika"]),
            ({"team": "none"}, ["Čačak Fabrika"]),
        ],
    )
    def test_simple_filters(self, admin_user, people, filters, expected):
        assert names(admin_user, **filters) == expected

    @pytest.mark.parametrize("id_lists", [False, True])
    @pytest.mark.parametrize("common_from", [1, 2, 5_000])
    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            ({"tag": "vip"}, ["Ayşe Yılmaz", "Čačak Fabrika"]),
            ({"tag": "VIP, partner"}, ["Čačak Fabrika"]),
            ({"tag": "partner", "sort": "-name"}, ["Čačak Fabrika"]),
            ({"tag": "vip", "sort": "-name"}, ["Čačak Fabrika", "Ayşe Yılmaz"]),
            ({"tag": "nobody-has-this"}, []),
        ],
    )
    def test_tags_common_or_rare_give_the_same_list(
        self, admin_user, rep, people, monkeypatch, common_from, id_lists, filters, expected
    ):
        """A common tag is checked on each row in sort order, a rare one gathered and sorted,
        and counting every record reads lists of ids: the list is the same every way, and
        access still applies."""
        from vefa.customers import filters as filter_module

        monkeypatch.setattr(filter_module, "COMMON_RELATED", common_from)
        with filter_module.id_lists() if id_lists else contextlib.nullcontext():
            assert names(admin_user, **filters) == expected
            assert names(rep, **filters) == [n for n in expected if n == "Ayşe Yılmaz"]

    def test_tags_common_alone_and_rare_together(self, admin_user, people, monkeypatch):
        """ "vip" (two customers) is common from two on; with "partner" only one customer has
        both, so together they are gathered as lists, not checked row by row (SQLite; on
        PostgreSQL they are always lists)."""
        from django.db import connection

        from vefa.customers import filters as filter_module

        monkeypatch.setattr(filter_module, "COMMON_RELATED", 2)

        def sql(tags: str) -> str:
            form = filter_module.CustomerFilterForm({"tag": tags}, actor=admin_user)
            assert form.is_valid(), form.errors
            return str(form.apply(Customer.objects.all()).query)

        assert ("EXISTS" in sql("vip")) == (connection.vendor == "sqlite")
        assert "EXISTS" not in sql("vip, partner")
        assert names(admin_user, tag="vip, partner") == ["Čačak Fabrika"]
        assert names(admin_user, tag="vip, vip") == ["Ayşe Yılmaz", "Čačak Fabrika"]

    def test_owner_me_and_team_mine(self, rep, people):
        assert names(rep, owner="me") == ["Ayşe Yılmaz"]
        assert names(rep, team="mine") == ["Ayşe Yılmaz"]

    def test_created_and_last_contact_ranges(self, admin_user, people):
        today = timezone.localdate()
        week_ago = (today - datetime.timedelta(days=7)).isoformat()
        assert names(admin_user, created_from=week_ago) == ["Bora Kaya", "Čačak Fabrika"]
        assert names(admin_user, created_to=week_ago) == ["Ayşe Yılmaz"]
        month_ago = (today - datetime.timedelta(days=30)).isoformat()
        assert names(admin_user, last_contact_after=month_ago) == ["Ayşe Yılmaz"]
        # "not contacted since" includes those never contacted
        assert names(admin_user, last_contact_before=month_ago) == ["Bora Kaya", "Čačak Fabrika"]

    def test_custom_fields(self, admin_user, people):
        model = "customers.customer"
        for key, field_type, choices in [
            ("segment", "choice", ["gold", "silver"]),
            ("size", "integer", []),
            ("vip", "boolean", []),
            ("since", "date", []),
            ("notes", "text", []),
            ("regions", "multichoice", ["north", "south", "east"]),
            ("revenue_share", "decimal", []),
        ]:
            CustomFieldDefinition.objects.create(
                model=model, key=key, label=key, field_type=field_type, choices=choices
            )
        assert names(admin_user, cf_segment="gold") == ["Ayşe Yılmaz"]
        assert names(admin_user, cf_size="3") == ["Bora Kaya"]
        assert names(admin_user, cf_vip="true") == ["Ayşe Yılmaz"]
        assert names(admin_user, cf_vip="false") == ["Bora Kaya"]
        assert names(admin_user, cf_since="2020-01-02") == ["Ayşe Yılmaz"]
        assert names(admin_user, cf_notes="TEA") == ["Bora Kaya"]
        assert names(admin_user, cf_regions="south") == ["Čačak Fabrika"]
        assert names(admin_user, cf_regions="east") == []
        assert names(admin_user, cf_revenue_share="12.5") == ["Čačak Fabrika"]

    @pytest.mark.parametrize(
        ("filters", "field"),
        [
            ({"kind": "robot"}, "kind"),
            ({"stage": "vip"}, "stage"),
            ({"owner": "somebody"}, "owner"),
            ({"team": "x"}, "team"),
            ({"country": "Turkey"}, "country"),
            ({"created_from": "yesterday"}, "created_from"),
            ({"created_from": "2024-02-01", "created_to": "2024-01-01"}, "created_to"),
            ({"sort": "-evil"}, "sort"),
            ({"q": "x" * 101}, "q"),
            ({"q": "a\x00b"}, "q"),
            ({"tag": "a,b,c,d,e,f"}, "tag"),
        ],
    )
    def test_invalid_values_name_the_parameter(self, admin_user, filters, field):
        with pytest.raises(ValidationFailed) as exc:
            selectors.customer_list(actor=admin_user, filters=filters)
        assert field in exc.value.fields

    def test_invalid_custom_field_value(self, admin_user):
        CustomFieldDefinition.objects.create(
            model="customers.customer", key="size", label="Size", field_type="integer"
        )
        with pytest.raises(ValidationFailed) as exc:
            selectors.customer_list(actor=admin_user, filters={"cf_size": "big"})
        assert "cf_size" in exc.value.fields

    def test_hostile_search_text_is_just_text(self, admin_user, people):
        for value in ("<script>alert(1)</script>", "=cmd|' /C calc'!A0", "' OR 1=1 --", "%", "_"):
            assert names(admin_user, q=value) == []

    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            ("name", ["Ayşe Yılmaz", "Bora Kaya", "Čačak Fabrika"]),
            ("-name", ["Čačak Fabrika", "Bora Kaya", "Ayşe Yılmaz"]),
            ("created", ["Ayşe Yılmaz", "Bora Kaya", "Čačak Fabrika"]),
            ("-created", ["Čačak Fabrika", "Bora Kaya", "Ayşe Yılmaz"]),
            ("last_contact", ["Čačak Fabrika", "Bora Kaya", "Ayşe Yılmaz"]),
            ("-last_contact", ["Ayşe Yılmaz", "Bora Kaya", "Čačak Fabrika"]),
        ],
    )
    def test_sorts(self, admin_user, people, sort, expected):
        assert names(admin_user, sort=sort) == expected

    @pytest.mark.parametrize("sort", ["name", "-created", "last_contact", "-last_contact"])
    def test_keyset_pages_walk_forward_and_back(self, admin_user, rep, team, sort):
        now = timezone.now()
        for i in range(7):
            customer = make_customer(owner=rep, team=team, first_name=f"P{i}", last_name="X")
            if i % 2:
                Customer.objects.filter(pk=customer.pk).update(
                    last_interaction_at=now - datetime.timedelta(hours=i)
                )
        expected = [
            c.pk
            for c in selectors.customer_list(
                actor=admin_user, filters={"sort": sort}, size=50
            ).items
        ]
        seen: list[int] = []
        cursor = None
        pages = []
        while True:
            page = selectors.customer_list(
                actor=admin_user, filters={"sort": sort}, cursor=cursor, size=3
            )
            pages.append(page)
            seen += [c.pk for c in page.items]
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        assert seen == expected
        back = selectors.customer_list(
            actor=admin_user, filters={"sort": sort}, cursor=pages[-1].previous_cursor, size=3
        )
        assert [c.pk for c in back.items] == [c.pk for c in pages[-2].items]


class TestLeadFilters:
    def test_lead_filters_and_sorts(self, admin_user, rep, team):
        make_lead(owner=rep, team=team, first_name="Deniz", source="web", score=80, email="d@x.com")
        make_lead(owner=rep, team=team, company_name="Zeta AŞ", status="qualified", score=20)
        make_lead(owner=None, first_name="Ece", status="converted", score=50)

        def lead_names(**filters):
            page = selectors.lead_list(actor=admin_user, filters=filters)
            return [str(lead) for lead in page.items]

        assert lead_names(q="den") == ["Deniz"]
        assert lead_names(q="zeta") == ["Zeta AŞ"]
        assert lead_names(q="d@x") == ["Deniz"]
        assert lead_names(status="qualified") == ["Zeta AŞ"]
        assert lead_names(open="true", sort="name") == ["Deniz", "Zeta AŞ"]
        assert lead_names(score_min="40", sort="-score") == ["Deniz", "Ece"]
        assert lead_names(owner="none") == ["Ece"]
        assert lead_names(source="web") == ["Deniz"]
        with pytest.raises(ValidationFailed) as exc:
            lead_names(score_min="70", score_max="10")
        assert "score_max" in exc.value.fields


def test_a_cursor_of_another_sort_starts_at_page_one(admin_user, rep, team):
    for i in range(3):
        make_customer(owner=rep, team=team, first_name=f"C{i}", last_name="Z")
    by_name = selectors.customer_list(actor=admin_user, filters={"sort": "name"}, size=1)
    for sort in ("created", "-last_contact"):
        page = selectors.customer_list(
            actor=admin_user, filters={"sort": sort}, cursor=by_name.next_cursor, size=1
        )
        assert len(page.items) == 1
    leads = selectors.lead_list(
        actor=admin_user, filters={"sort": "score"}, cursor=by_name.next_cursor
    )
    assert leads.items == []
    garbage = selectors.customer_list(actor=admin_user, cursor="!!not-a-cursor!!", size=1)
    assert [c.first_name for c in garbage.items] == ["C0"]

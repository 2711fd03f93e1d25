"""The customers pages: lists, the customer 360 page, forms, htmx sections, lead pages."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.customers.conftest import HOSTILE
from tests.customers.factories import make_customer, make_lead
from vefa.customers.models import (
    Address,
    Consent,
    ContactPoint,
    Customer,
    CustomerRelationship,
    Lead,
)
from vefa.customers.services import (
    address_create,
    consent_grant,
    contact_point_create,
    customer_update,
    relationship_create,
)
from vefa.interactions.models import Activity
from vefa.platform.models import ChangeLogEntry, CustomFieldDefinition, SavedView

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def customer_logs() -> int:
    return ChangeLogEntry.objects.filter(model__startswith="customers.").count()


class TestCustomerList:
    def test_lists_visible_customers_with_custom_field_columns(
        self, rep, own_customer, team_customer, other_customer
    ):
        definition = CustomFieldDefinition.objects.create(
            model="customers.customer",
            key="tier",
            label="Loyalty tier",
            field_type="text",
            show_in_list=True,
        )
        Customer.objects.filter(pk=own_customer.pk).update(custom_fields={"tier": "Platinum"})
        response = client_for(rep).get(reverse("customers:list"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Ayşe Yılmaz" in html and "Mehmet Kaya" in html
        assert "Jovana" not in html
        assert definition.label in html and "Platinum" in html
        assert 'name="cf_tier"' in html  # the custom field is a filter too

    def test_htmx_request_gets_only_the_results(self, rep, own_customer):
        response = client_for(rep).get(
            reverse("customers:list"),
            {"q": "ayş"},
            headers={**HTMX, "HX-Target": "customer-results"},
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        assert "Ayşe Yılmaz" in html

    def test_invalid_filter_is_a_form_error_not_a_crash(self, rep, own_customer):
        response = client_for(rep).get(
            reverse("customers:list"), {"created_from": "yesterday", "sort": "evil"}
        )
        assert response.status_code == 422
        html = response.content.decode()
        assert "Enter a valid date." in html
        assert "Ayşe Yılmaz" not in html

    def test_hostile_names_are_escaped(self, rep, team):
        for value in HOSTILE:
            make_customer(owner=rep, team=team, first_name=value, last_name="X")
        html = client_for(rep).get(reverse("customers:list")).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "علی رضایی" in html

    def test_keyset_next_link_keeps_the_filters(self, rep, team, settings):
        settings.VEFA_LIST_PAGE_SIZE = 2
        for i in range(3):
            make_customer(owner=rep, team=team, first_name=f"P{i}", last_name="Q")
        response = client_for(rep).get(reverse("customers:list"), {"kind": "person"})
        next_url = response.context["next_url"]
        assert "kind=person" in next_url and "cursor=" in next_url
        second = client_for(rep).get(next_url)
        assert [c.first_name for c in second.context["page"].items] == ["P2"]

    def test_saved_view_applies_its_filters(self, rep, team, own_customer):
        make_customer(owner=rep, team=team, kind="organisation", trade_name="Firma")
        view = SavedView.objects.create(
            owner=rep, list_key="customers", name="Firms", filters={"kind": "organisation"}
        )
        response = client_for(rep).get(reverse("customers:list"), {"view": view.pk})
        assert [c.display_name for c in response.context["page"].items] == ["Firma"]

    def test_someone_elses_saved_view_is_not_found(self, rep, rep_other_team):
        view = SavedView.objects.create(
            owner=rep_other_team, list_key="customers", name="Mine", filters={}
        )
        response = client_for(rep).get(reverse("customers:list"), {"view": view.pk})
        assert response.status_code == 404

    @pytest.mark.parametrize("rows", [5, 50])
    def test_query_count_does_not_grow_with_rows(self, rep, team, rows, django_assert_num_queries):
        CustomFieldDefinition.objects.create(
            model="customers.customer",
            key="tier",
            label="Tier",
            field_type="text",
            show_in_list=True,
        )
        for i in range(rows):
            make_customer(owner=rep, team=team, last_name=f"N{i:03d}", tags=["vip", "gold"])
        client = client_for(rep)
        # session, user, custom fields, the rep's own and team's first rows (one query
        # each, read in sort order), page, tags, saved views, owner and team choices
        with django_assert_num_queries(10):
            response = client.get(reverse("customers:list"))
        assert len(response.context["page"].items) == rows

    def test_bulk_assign_changes_only_allowed_rows(
        self, rep, rep_same_team, own_customer, other_customer
    ):
        response = client_for(rep).post(
            reverse("customers:bulk"),
            {
                "ids": [own_customer.pk, other_customer.pk],
                "action": "assign",
                "owner": rep_same_team.pk,
                "next": "/customers/?kind=person",
            },
        )
        assert response.status_code == 302
        assert response["Location"] == "/customers/?kind=person"
        own_customer.refresh_from_db()
        other_customer.refresh_from_db()
        assert own_customer.owner_id == rep_same_team.pk
        assert other_customer.owner_id != rep_same_team.pk

    def test_bulk_tag_and_foreign_next_is_ignored(self, rep, own_customer):
        response = client_for(rep).post(
            reverse("customers:bulk"),
            {
                "ids": [own_customer.pk],
                "action": "tag",
                "add": "vip",
                "next": "https://evil.example/",
            },
        )
        assert response["Location"] == reverse("customers:list")
        assert list(own_customer.tags.values_list("name", flat=True)) == ["vip"]


class TestCustomerForms:
    def test_create_person_with_email_phone_and_custom_field(self, rep):
        CustomFieldDefinition.objects.create(
            model="customers.customer", key="shoe", label="Shoe size", field_type="integer"
        )
        response = client_for(rep).post(
            reverse("customers:create") + "?kind=person",
            {
                "kind": "person",
                "first_name": "Ali",
                "last_name": "Rezaei",
                "lifecycle_stage": "prospect",
                "currency": "TRY",
                "owner": rep.pk,
                "email": "ali@example.ir",
                "phone": "+98 912 345 6789",
                "tags": "vip, new",
                "cf_shoe": "43",
            },
        )
        customer = Customer.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("customers:detail", args=[customer.pk])
        assert customer.primary_phone == "+989123456789"
        assert customer.custom_fields == {"shoe": 43}
        assert sorted(customer.tags.values_list("name", flat=True)) == ["new", "vip"]

    def test_create_organisation_form_has_organisation_fields_only(self, rep):
        html = (
            client_for(rep).get(reverse("customers:create") + "?kind=organisation").content.decode()
        )
        assert 'name="legal_name"' in html
        assert 'name="birth_date"' not in html

    def test_service_errors_show_on_the_fields(self, rep):
        response = client_for(rep).post(
            reverse("customers:create"),
            {"kind": "person", "lifecycle_stage": "prospect", "phone": "12", "currency": "TRY"},
        )
        assert response.status_code == 422
        html = response.content.decode()
        assert "Enter a first or a last name." in html
        assert Customer.objects.count() == 0

    def test_read_only_user_cannot_open_the_create_form(self, read_only):
        assert client_for(read_only).get(reverse("customers:create")).status_code == 403

    def test_edit_saves_and_bumps_the_version(self, rep, own_customer):
        response = client_for(rep).post(
            reverse("customers:edit", args=[own_customer.pk]),
            {
                "first_name": "Ayşe",
                "last_name": "Demir",
                "lifecycle_stage": "customer",
                "currency": "EUR",
                "owner": rep.pk,
                "team": own_customer.team_id,
                "version": own_customer.version,
            },
        )
        assert response.status_code == 302
        own_customer.refresh_from_db()
        assert (own_customer.display_name, own_customer.currency) == ("Ayşe Demir", "EUR")

    def test_stale_version_shows_the_current_values_instead_of_overwriting(self, rep, own_customer):
        customer_update(actor=rep, customer_id=own_customer.pk, data={"last_name": "Kaya"})
        response = client_for(rep).post(
            reverse("customers:edit", args=[own_customer.pk]),
            {
                "first_name": "Ayşe",
                "last_name": "Demir",
                "lifecycle_stage": "customer",
                "currency": "TRY",
                "owner": rep.pk,
                "team": own_customer.team_id,
                "version": 1,
            },
        )
        assert response.status_code == 409
        html = response.content.decode()
        assert "Someone else changed this customer" in html
        assert "Kaya" in html and "Demir" in html
        assert 'name="version" value="2"' in html
        own_customer.refresh_from_db()
        assert own_customer.last_name == "Kaya"

    def test_others_customers_are_404_on_edit_and_delete(self, rep, team_customer, other_customer):
        client = client_for(rep)
        for customer in (team_customer, other_customer):
            assert client.get(reverse("customers:edit", args=[customer.pk])).status_code == 404
            assert client.post(reverse("customers:delete", args=[customer.pk])).status_code == 404
        assert Customer.objects.count() == 2
        assert customer_logs() == 0

    def test_manager_deletes_after_confirming(self, manager, own_customer):
        client = client_for(manager)
        assert client.get(reverse("customers:delete", args=[own_customer.pk])).status_code == 200
        response = client.post(reverse("customers:delete", args=[own_customer.pk]))
        assert response.status_code == 302
        assert not Customer.objects.filter(pk=own_customer.pk).exists()


class TestCustomerDetail:
    def _full_customer(self, rep, customer, organisation):
        contact_point_create(
            actor=rep, customer_id=customer.pk, data={"kind": "email", "value": "a@x.com"}
        )
        address_create(
            actor=rep,
            customer_id=customer.pk,
            data={"kind": "home", "line1": "Tunalı Hilmi 5", "city": "Ankara", "country": "TR"},
        )
        relationship_create(
            actor=rep,
            from_customer_id=customer.pk,
            to_customer_id=organisation.pk,
            data={"kind": "works_at", "job_title": "Buyer"},
        )
        consent_grant(actor=rep, customer_id=customer.pk, channel="email", purpose="marketing")

    def test_the_360_page_shows_everything_and_loads_the_interactions_regions(
        self, rep, own_customer, organisation
    ):
        Customer.objects.filter(pk=own_customer.pk).update(
            birth_date=timezone.localdate().replace(year=1990) - datetime.timedelta(days=1)
        )
        self._full_customer(rep, own_customer, organisation)
        response = client_for(rep).get(reverse("customers:detail", args=[own_customer.pk]))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Tunalı Hilmi 5" in html
        assert "a@x.com" in html
        assert "Acme Ltd" in html and "Buyer" in html
        assert reverse("interactions:customer_timeline", args=[own_customer.pk]) in html
        assert reverse("interactions:customer_activities", args=[own_customer.pk]) in html
        assert f"{reverse('interactions:quick_add')}?customer={own_customer.pk}" in html
        assert reverse("customers:consent_withdraw", args=[own_customer.pk]) in html
        assert "Next birthday" in html

    def test_the_organisation_sees_the_relationship_from_its_side(
        self, rep, own_customer, organisation
    ):
        self._full_customer(rep, own_customer, organisation)
        html = client_for(rep).get(reverse("customers:detail", args=[organisation.pk])).content
        assert "Employs" in html.decode() and "Ayşe Yılmaz" in html.decode()

    def test_hostile_values_are_escaped(self, rep, team):
        customer = make_customer(
            owner=rep,
            team=team,
            first_name="<script>alert(1)</script>",
            notes="<img src=x onerror=alert(2)>",
            custom_fields={"x": "<b>bold</b>"},
        )
        html = client_for(rep).get(reverse("customers:detail", args=[customer.pk])).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=alert(2)&gt;" in html

    def test_hidden_customer_is_404(self, rep, other_customer):
        response = client_for(rep).get(reverse("customers:detail", args=[other_customer.pk]))
        assert response.status_code == 404

    def test_read_only_user_sees_no_edit_buttons(self, read_only, own_customer):
        html = (
            client_for(read_only)
            .get(reverse("customers:detail", args=[own_customer.pk]))
            .content.decode()
        )
        assert reverse("customers:edit", args=[own_customer.pk]) not in html
        assert reverse("customers:contact_point_add", args=[own_customer.pk]) not in html

    @pytest.mark.parametrize("rows", [5, 50])
    def test_query_count_does_not_grow_with_child_rows(
        self, rep, team, own_customer, rows, django_assert_num_queries
    ):
        for i in range(rows):
            ContactPoint.objects.create(
                customer=own_customer, kind="email", value=f"p{i}@x.com", normalized=f"p{i}@x.com"
            )
            Address.objects.create(
                customer=own_customer, kind="home", line1=f"Street {i}", city="Ankara", country="TR"
            )
            other = make_customer(owner=rep, team=team, last_name=f"Friend {i}")
            CustomerRelationship.objects.create(
                from_customer=own_customer, to_customer=other, kind="referred_by"
            )
            Consent.objects.create(
                customer=own_customer,
                channel="email",
                purpose="marketing",
                status="granted",
                source="x",
                text_version=str(i),
            )
        client = client_for(rep)
        # session, user, customer, tags, contact points, addresses, relationships and the
        # visibility of their other ends, consent, converted leads, custom fields
        with django_assert_num_queries(11):
            response = client.get(reverse("customers:detail", args=[own_customer.pk]))
        assert response.status_code == 200


class TestSections:
    def test_add_contact_point_via_htmx_returns_the_section(self, rep, own_customer):
        client = client_for(rep)
        url = reverse("customers:contact_point_add", args=[own_customer.pk])
        form = client.get(url, headers=HTMX)
        assert form.status_code == 200 and "<html" not in form.content.decode()
        response = client.post(url, {"kind": "mobile", "value": "0532 111 22 33"}, headers=HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="section-contact_points"' in html
        assert "0532 111 22 33" in html
        assert ContactPoint.objects.get().normalized == "+905321112233"

    def test_invalid_contact_point_comes_back_into_its_slot(self, rep, own_customer):
        response = client_for(rep).post(
            reverse("customers:contact_point_add", args=[own_customer.pk]),
            {"kind": "phone", "value": "123"},
            headers=HTMX,
        )
        assert response["HX-Retarget"] == "#contact_points-form-slot"
        assert "not a valid phone number" in response.content.decode()
        assert ContactPoint.objects.count() == 0

    def test_without_htmx_the_form_is_a_page_that_redirects(self, rep, own_customer):
        client = client_for(rep)
        url = reverse("customers:address_add", args=[own_customer.pk])
        assert "<html" in client.get(url).content.decode()
        response = client.post(
            url, {"kind": "office", "line1": "Main St 1", "city": "London", "country": "GB"}
        )
        assert response.status_code == 302
        assert Address.objects.get().country == "GB"

    def test_edit_and_delete_contact_point(self, rep, own_customer):
        point = contact_point_create(
            actor=rep, customer_id=own_customer.pk, data={"kind": "email", "value": "a@x.com"}
        )
        client = client_for(rep)
        response = client.post(
            reverse("customers:contact_point_edit", args=[point.pk]),
            {"kind": "email", "value": "b@x.com", "version": point.version},
            headers=HTMX,
        )
        assert response.status_code == 200
        point.refresh_from_db()
        assert point.normalized == "b@x.com"
        client.post(reverse("customers:contact_point_delete", args=[point.pk]), headers=HTMX)
        assert ContactPoint.objects.count() == 0

    def test_consent_is_one_button_each_way(self, rep, own_customer):
        client = client_for(rep)
        data = {"channel": "sms", "purpose": "newsletter"}
        granted = client.post(
            reverse("customers:consent_grant", args=[own_customer.pk]), data, headers=HTMX
        )
        assert granted.status_code == 200
        assert 'id="section-consent"' in granted.content.decode()
        client.post(
            reverse("customers:consent_withdraw", args=[own_customer.pk]), data, headers=HTMX
        )
        assert list(Consent.objects.order_by("id").values_list("status", flat=True)) == [
            "granted",
            "withdrawn",
        ]
        history = client.get(
            reverse("customers:consent_history", args=[own_customer.pk]), headers=HTMX
        )
        assert history.content.decode().count("<tr>") == 3

    def test_relationship_add_with_picker(self, rep, own_customer, organisation):
        client = client_for(rep)
        picker = client.get(
            reverse("customers:picker"), {"q": "acm", "exclude": own_customer.pk}, headers=HTMX
        )
        assert f'value="{organisation.pk}"' in picker.content.decode()
        response = client.post(
            reverse("customers:relationship_add", args=[organisation.pk]),
            {
                "kind": "works_at",
                "direction": "backward",
                "to_customer": own_customer.pk,
                "job_title": "Engineer",
            },
            headers=HTMX,
        )
        assert response.status_code == 200
        relationship = CustomerRelationship.objects.get()
        assert (relationship.from_customer_id, relationship.to_customer_id) == (
            own_customer.pk,
            organisation.pk,
        )

    def test_relationship_to_a_hidden_customer_is_a_field_error(
        self, rep, own_customer, other_customer
    ):
        response = client_for(rep).post(
            reverse("customers:relationship_add", args=[own_customer.pk]),
            {"kind": "referred_by", "direction": "forward", "to_customer": other_customer.pk},
            headers=HTMX,
        )
        assert "Choose an existing customer." in response.content.decode()
        assert CustomerRelationship.objects.count() == 0

    def test_sections_of_hidden_customers_are_404(self, rep, other_customer, team_customer):
        client = client_for(rep)
        for url in (
            reverse("customers:section", args=[other_customer.pk, "consent"]),
            reverse("customers:contact_point_add", args=[other_customer.pk]),
            reverse("customers:contact_point_add", args=[team_customer.pk]),
            reverse("customers:section", args=[team_customer.pk, "nonsense"]),
        ):
            assert client.get(url, headers=HTMX).status_code == 404, url
        response = client.post(
            reverse("customers:consent_grant", args=[team_customer.pk]),
            {"channel": "sms", "purpose": "newsletter"},
            headers=HTMX,
        )
        assert response.status_code == 404
        assert Consent.objects.count() == 0


class TestLeadPages:
    def test_list_detail_and_escaping(self, rep, team):
        lead = make_lead(owner=rep, team=team, first_name="<script>x</script>", company_name="Acme")
        client = client_for(rep)
        html = client.get(reverse("customers:lead_list")).content.decode()
        assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html
        activity = Activity.objects.create(
            kind="call", subject="Call <Acme>", owner=rep, team=team, lead=lead
        )
        detail = client.get(reverse("customers:lead_detail", args=[lead.pk]))
        assert detail.status_code == 200
        html = detail.content.decode()
        assert reverse("customers:lead_convert", args=[lead.pk]) in html
        assert "Call &lt;Acme&gt;" in html
        assert reverse("interactions:activity_detail", args=[activity.pk]) in html

    @pytest.mark.parametrize("rows", [5, 50])
    def test_lead_list_query_count(self, rep, team, rows, django_assert_num_queries):
        for i in range(rows):
            make_lead(owner=rep, team=team, first_name=f"L{i}")
        client = client_for(rep)
        # session, user, custom fields, page, tags
        with django_assert_num_queries(5):
            response = client.get(reverse("customers:lead_list"))
        assert len(response.context["page"].items) == rows

    def test_create_edit_and_convert(self, rep, team):
        client = client_for(rep)
        response = client.post(
            reverse("customers:lead_create"),
            {
                "first_name": "Sara",
                "last_name": "Ahmadi",
                "company_name": "Pars Co",
                "email": "sara@pars.ir",
                "status": "new",
                "owner": rep.pk,
            },
        )
        lead = Lead.objects.get()
        assert response["Location"] == reverse("customers:lead_detail", args=[lead.pk])
        response = client.post(
            reverse("customers:lead_edit", args=[lead.pk]),
            {
                "first_name": "Sara",
                "last_name": "Ahmadi",
                "company_name": "Pars Co",
                "email": "sara@pars.ir",
                "status": "qualified",
                "score": "70",
                "owner": rep.pk,
                "version": 1,
            },
        )
        assert response.status_code == 302
        convert_page = client.get(reverse("customers:lead_convert", args=[lead.pk]))
        assert "Create a new organisation" in convert_page.content.decode()
        response = client.post(
            reverse("customers:lead_convert", args=[lead.pk]),
            {"lifecycle_stage": "prospect", "organisation": "new", "version": 2},
        )
        person = Customer.objects.get(kind="person")
        assert response["Location"] == reverse("customers:detail", args=[person.pk])
        lead.refresh_from_db()
        assert lead.status == "converted"
        # a second visit to the conversion page goes back to the lead
        again = client.get(reverse("customers:lead_convert", args=[lead.pk]))
        assert again.status_code == 302

    def test_convert_page_offers_the_existing_organisation(self, rep, team, organisation):
        lead = make_lead(owner=rep, team=team, first_name="Can", company_name="ACME ltd")
        html = client_for(rep).get(reverse("customers:lead_convert", args=[lead.pk])).content
        assert f'value="{organisation.pk}"' in html.decode()

    def test_lead_edit_conflict(self, rep, own_lead):
        Lead.objects.filter(pk=own_lead.pk).update(version=5)
        response = client_for(rep).post(
            reverse("customers:lead_edit", args=[own_lead.pk]),
            {"first_name": "X", "status": "new", "version": 1},
        )
        assert response.status_code == 409
        own_lead.refresh_from_db()
        assert own_lead.first_name == "Deniz"

    def test_hidden_lead_pages_are_404(self, rep, other_lead):
        client = client_for(rep)
        for name in ("lead_detail", "lead_edit", "lead_convert", "lead_delete"):
            assert client.get(reverse(f"customers:{name}", args=[other_lead.pk])).status_code == 404
        assert (
            client.post(reverse("customers:lead_delete", args=[other_lead.pk])).status_code == 404
        )
        assert Lead.objects.filter(pk=other_lead.pk).exists()


class TestColumns:
    def test_chosen_columns_are_shown_and_kept_by_paging_and_saved_views(self, rep, team, settings):
        settings.VEFA_LIST_PAGE_SIZE = 1
        CustomFieldDefinition.objects.create(
            model="customers.customer", key="tier", label="Loyalty tier", field_type="text"
        )
        make_customer(owner=rep, team=team, last_name="A", custom_fields={"tier": "Gold"})
        make_customer(owner=rep, team=team, last_name="B")
        client = client_for(rep)
        response = client.get(reverse("customers:list"), {"columns": ["cf_tier", "created"]})
        html = response.content.decode()
        assert response.context["shown"] == ["cf_tier", "created"]
        assert "Loyalty tier" in html and "Gold" in html
        assert "columns=cf_tier" in response.context["next_url"]
        assert response.context["saved_view_columns"] == "cf_tier,created"
        view = SavedView.objects.create(
            owner=rep, list_key="customers", name="Tiers", filters={}, columns=["cf_tier"]
        )
        saved = client.get(reverse("customers:list"), {"view": view.pk})
        assert saved.context["shown"] == ["cf_tier"]

    def test_unknown_columns_fall_back_to_the_defaults(self, rep):
        response = client_for(rep).get(reverse("customers:list"), {"columns": "password,<x>"})
        assert response.status_code == 200
        assert response.context["shown"][:2] == ["stage", "email"]

"""The warnings under the customer and lead forms, and the data-quality page for each role."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.quality.models import QualitySnapshot
from vefa.quality.services import findings_refresh

pytestmark = pytest.mark.django_db

CHECK = "/quality/duplicates/check/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_forms_carry_the_warnings_slot(admin_user):
    client = signed_in(admin_user)
    for url in (reverse("customers:create"), reverse("customers:lead_create")):
        page = client.get(url).content.decode()
        assert 'id="duplicate-warnings"' in page
        assert f'hx-post="{CHECK}"' in page
        assert 'hx-include="closest form"' in page


def test_the_edit_form_leaves_its_own_record_out(create_customer, admin_user):
    ayse = create_customer(first_name="Ayşe", last_name="Yılmaz")
    page = signed_in(admin_user).get(reverse("customers:edit", args=[ayse.pk])).content.decode()
    assert f'"exclude_customer": "{ayse.pk}"' in page


def test_warnings_partial_lists_matches_with_links(create_customer, admin_user):
    ayse = create_customer(first_name="Ayşe", last_name="Yılmaz", phone="0532 111 22 33")
    response = signed_in(admin_user).post(
        CHECK, {"first_name": "Ayse", "last_name": "Yilmas", "phone": "05321112233", "notes": "x"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="duplicate-warnings"' in html
    assert f'href="/customers/{ayse.pk}/"' in html
    assert "same phone" in html
    assert "similar name" in html


def test_warnings_escape_html_in_names(create_customer, admin_user):
    create_customer(first_name="<b>Ayşe</b><script>x()</script>", last_name="Yılmaz")
    html = (
        signed_in(admin_user)
        .post(CHECK, {"first_name": "<b>Ayşe</b><script>x()</script>", "last_name": "Yılmaz"})
        .content.decode()
    )
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
    assert "<script>x()" not in html


def test_warnings_refuse_a_huge_value_clearly(admin_user):
    response = signed_in(admin_user).post(CHECK, {"first_name": "a" * 10_000})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="duplicate-error"' in html
    assert "nothing was checked" in html


def test_warnings_show_nothing_hidden(create_customer, rep, rep_other_team, other_team):
    create_customer(
        first_name="Jovana", last_name="Petrović", owner=rep_other_team.pk, team=other_team.pk
    )
    html = signed_in(rep).post(CHECK, {"first_name": "Jovana", "last_name": "Petrovic"})
    assert html.status_code == 200
    assert html.content.decode().strip() == ""


def test_check_needs_sign_in_and_post(admin_user):
    assert Client().post(CHECK, {"first_name": "A"}).status_code == 302
    assert signed_in(admin_user).get(CHECK).status_code == 405


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ADMIN, 200),
        (Role.SALES_MANAGER, 200),
        (Role.MARKETER, 200),
        (Role.SALES_REP, 404),
        (Role.SERVICE_AGENT, 404),
        (Role.READ_ONLY, 404),
    ],
)
def test_dashboard_for_each_role(team, role, status):
    user = UserFactory(role=role, team=team)
    response = signed_in(user).get(reverse("quality:dashboard"))
    assert response.status_code == status


def test_dashboard_counts_shares_and_links(create_customer, admin_user):
    first = create_customer(first_name="Ayşe", last_name="Yılmaz", email="ayse@example.com")
    second = create_customer(first_name="Ayse", last_name="Yilmaz", email="ayse@example.com")
    acme = create_customer(kind="organisation", legal_name="Acme A.Ş.", owner=None)
    milan = create_customer(first_name="Milan", last_name="Jovanović")
    findings_refresh([first.pk, second.pk, acme.pk, milan.pk])
    QualitySnapshot.objects.create(
        day=datetime.date(2026, 1, 1), total=4, no_contact=2, duplicate=1
    )
    response = signed_in(admin_user).get(reverse("quality:dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-issue="no_contact"' in html
    assert f"{reverse('customers:list')}?quality_issue=no_contact" in html
    assert f"{reverse('customers:list')}?quality_issue=no_tax_number" in html
    assert f"{reverse('customers:list')}?quality_issue=duplicate" in html
    assert 'data-testid="quality-trend"' in html
    assert "<svg" in html
    by_code = {row["code"]: row["count"] for row in response.context["rows"]}
    assert by_code == {
        "no_contact": 2,
        "no_owner": 1,
        "no_address": 4,
        "no_tax_number": 1,
        "invalid_email": 0,
        "invalid_phone": 0,
        "stale": 0,
        "duplicate": 2,
    }


def test_dashboard_in_persian_right_to_left(admin_user):
    admin_user.language = "fa"
    admin_user.save()
    response = signed_in(admin_user).get(reverse("quality:dashboard"), HTTP_ACCEPT_LANGUAGE="fa")
    assert response.status_code == 200


def test_the_customer_list_filters_by_issue(create_customer, admin_user):
    with_mail = create_customer(first_name="Ayşe", last_name="Yılmaz", email="ayse@example.com")
    without = create_customer(first_name="Milan", last_name="Jovanović")
    client = signed_in(admin_user)
    html = client.get(reverse("customers:list"), {"quality_issue": "no_contact"}).content.decode()
    assert f"/customers/{without.pk}/" in html
    assert f"/customers/{with_mail.pk}/" not in html
    findings_refresh([with_mail.pk, without.pk])
    html = client.get(reverse("customers:list"), {"quality_issue": "invalid_email"})
    assert html.status_code == 200
    assert f"/customers/{with_mail.pk}/" not in html.content.decode()
    bad = client.get(reverse("customers:list"), {"quality_issue": "<script>"})
    assert bad.status_code == 422

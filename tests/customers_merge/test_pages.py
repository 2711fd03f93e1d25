"""The merge page, the merge history and undo buttons, and a merged record's address."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.customers.factories import make_customer
from vefa.customers.models import CustomerMerge
from vefa.customers.services.merge import merge_customers

pytestmark = pytest.mark.django_db

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "علی رضایی",
    "\u202egnp.exe",
    "'; DROP TABLE customers_customer; --",
]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pair(rep, team):
    a = make_customer(owner=rep, team=team, first_name="Ayşe", last_name="Yılmaz")
    b = make_customer(owner=rep, team=team, first_name="Ayse", last_name="Yilmaz", pets="kedi")
    return a, b


def test_page_shows_columns_radios_and_counts(rep, pair):
    a, b = pair
    from vefa.customers.models import Address

    Address.objects.create(customer=b, kind="home", line1="X 1", city="İzmir", country="TR")
    response = client_for(rep).get(reverse("customers:merge") + f"?ids={a.pk},{b.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'name="survivor" id="survivor-{a.pk}" value="{a.pk}" checked' in html
    assert f'name="pick_first_name" id="pick-first_name-{b.pk}"' in html
    # The survivor has no pets: the other record's value is preselected.
    assert f'id="pick-pets-{b.pk}" value="{b.pk}" checked' in html
    assert "addresses" in html.lower()


def test_post_merges_with_picks_and_redirects(rep, pair):
    a, b = pair
    response = client_for(rep).post(
        reverse("customers:merge"),
        {"ids": f"{a.pk},{b.pk}", "survivor": str(b.pk), "pick_first_name": str(a.pk)},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[b.pk])
    b.refresh_from_db()
    a.refresh_from_db()
    assert b.first_name == "Ayşe" and a.merged_into_id == b.pk
    # The merged record's page leads to the survivor.
    visit = client_for(rep).get(reverse("customers:detail", args=[a.pk]))
    assert visit.status_code == 302 and visit["Location"] == reverse(
        "customers:detail", args=[b.pk]
    )


def test_one_record_shows_the_add_form(rep, pair):
    a, _b = pair
    response = client_for(rep).get(reverse("customers:merge") + f"?ids={a.pk}")
    assert response.status_code == 200
    assert 'name="survivor"' not in response.content.decode()


@pytest.mark.parametrize("ids", ["", "abc", "1,abc", "99999999999999999999,1", "<script>", ",,,"])
def test_bad_ids(rep, pair, ids):
    response = client_for(rep).get(reverse("customers:merge"), {"ids": ids})
    assert response.status_code in (200, 404, 422)
    assert "<script>" not in response.content.decode().replace("&lt;script&gt;", "")


def test_hidden_record_is_404(rep, pair, rep_other_team, other_team):
    a, _b = pair
    hidden = make_customer(owner=rep_other_team, team=other_team)
    client = client_for(rep)
    assert client.get(reverse("customers:merge") + f"?ids={a.pk},{hidden.pk}").status_code == 404
    response = client.post(
        reverse("customers:merge"), {"ids": f"{a.pk},{hidden.pk}", "survivor": str(a.pk)}
    )
    assert response.status_code == 404
    assert CustomerMerge.objects.count() == 0


def test_a_merged_record_seen_by_nobody_else_is_404(rep_other_team, pair):
    a, b = pair
    from vefa.customers.models import Customer

    Customer.objects.filter(pk=b.pk).update(merged_into=a)
    response = client_for(rep_other_team).get(reverse("customers:detail", args=[b.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_escaped(rep, team, value):
    a = make_customer(owner=rep, team=team, first_name=value, last_name="A", hobbies=value)
    b = make_customer(owner=rep, team=team, first_name="B", last_name=value, hobbies="x")
    response = client_for(rep).get(reverse("customers:merge") + f"?ids={a.pk},{b.pk}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in html
    if value.startswith("<script>"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_history_and_undo_buttons(rep, pair):
    a, b = pair
    merge = merge_customers(rep, a, [b], {})
    client = client_for(rep)
    detail = client.get(reverse("customers:detail", args=[a.pk])).content.decode()
    assert reverse("customers:merge_history", args=[a.pk]) in detail
    assert f'href="{reverse("customers:merge")}?ids={a.pk}"' in detail
    history = client.get(reverse("customers:merge_history", args=[a.pk])).content.decode()
    assert reverse("customers:merge_undo", args=[merge.pk]) in history
    page = client.get(reverse("customers:merge_detail", args=[merge.pk]))
    assert page.status_code == 200
    response = client.post(reverse("customers:merge_undo", args=[merge.pk]))
    assert response.status_code == 302
    b.refresh_from_db()
    assert b.merged_into_id is None
    history = client.get(reverse("customers:merge_history", args=[a.pk])).content.decode()
    assert reverse("customers:merge_undo", args=[merge.pk]) not in history


def test_undo_refused_offers_partial(rep, pair):
    from vefa.customers.models import Address

    a, b = pair
    address = Address.objects.create(
        customer=b, kind="home", line1="X 1", city="İzmir", country="TR"
    )
    merge = merge_customers(rep, a, [b], {})
    Address.objects.filter(pk=address.pk).delete()
    client = client_for(rep)
    response = client.post(reverse("customers:merge_undo", args=[merge.pk]))
    assert response.status_code == 422
    html = response.content.decode()
    assert f"#{address.pk}" in html and 'name="partial" value="1"' in html
    response = client.post(reverse("customers:merge_undo", args=[merge.pk]), {"partial": "1"})
    assert response.status_code == 302
    b.refresh_from_db()
    assert b.merged_into_id is None


def test_others_cannot_see_or_undo_a_merge(rep, rep_other_team, pair):
    merge = merge_customers(rep, pair[0], [pair[1]], {})
    client = client_for(rep_other_team)
    assert client.get(reverse("customers:merge_detail", args=[merge.pk])).status_code == 404
    assert client.post(reverse("customers:merge_undo", args=[merge.pk])).status_code == 404
    assert client.get(reverse("customers:merge_history", args=[pair[0].pk])).status_code == 404

"""The customer pages lead to vCard: a card per customer, the list's customers as cards (the
list's filters apply) and the import for those who may create customers."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from vefa.accounts.choices import Role

pytestmark = pytest.mark.django_db


def test_customer_page_and_list_link_to_vcards(team):
    rep = UserFactory(role=Role.SALES_REP, team=team)
    reader = UserFactory(role=Role.READ_ONLY, team=team)
    mine = make_customer(first_name="Ayşe", last_name="<b>Yılmaz</b>", owner=rep, team=team)
    client = Client()
    client.force_login(rep)
    page = client.get(reverse("customers:detail", args=[mine.pk])).content.decode()
    card_url = reverse("integrations:vcard_customer", args=[mine.pk])
    assert card_url in page
    card = client.get(card_url)
    assert card.status_code == 200 and b"BEGIN:VCARD" in card.content
    listing = client.get(reverse("customers:list"), {"city": "İzmir"}).content.decode()
    assert reverse("integrations:vcard_export") + "?city=%C4%B0zmir" in listing
    assert reverse("integrations:vcard") in listing  # a rep may create customers
    other = Client()
    other.force_login(reader)
    listing = other.get(reverse("customers:list")).content.decode()
    assert reverse("integrations:vcard_export") in listing
    assert reverse("integrations:vcard") + '"' not in listing  # may not create: no import

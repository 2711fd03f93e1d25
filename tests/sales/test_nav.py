"""The Sales menu shows each role only the pages it may open."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.sales.templatetags.sales_nav import sales_menu


def _urls(user) -> set[str]:
    return {e["url"] for e in sales_menu(Context({"user": user})) if "url" in e}


@pytest.mark.django_db
def test_a_rep_sees_the_board_and_the_catalogue(rep):
    urls = _urls(rep)
    assert reverse("sales:board") in urls
    assert reverse("sales:product_list") in urls


@pytest.mark.django_db
def test_a_service_agent_sees_orders_but_no_deals(team):
    agent = UserFactory(role=Role.SERVICE_AGENT, team=team)
    urls = _urls(agent)
    assert reverse("sales:order_list") in urls
    assert reverse("sales:board") not in urls
    assert reverse("sales:quote_list") not in urls


@pytest.mark.django_db
def test_nobody_signed_in_sees_no_menu():
    assert sales_menu(Context({"user": AnonymousUser()})) == []


@pytest.mark.django_db
def test_no_divider_starts_or_ends_the_menu_or_follows_another(team):
    for role in Role.values:
        entries = sales_menu(Context({"user": UserFactory(role=role, team=team)}))
        dividers = [i for i, e in enumerate(entries) if e.get("divider")]
        assert 0 not in dividers and len(entries) - 1 not in dividers
        assert all(b - a > 1 for a, b in itertools.pairwise(dividers))


@pytest.mark.django_db
def test_the_menu_is_on_every_page(rep):
    client = Client()
    client.force_login(rep)
    body = client.get(reverse("platform:dashboard")).content.decode()
    assert reverse("sales:board") in body

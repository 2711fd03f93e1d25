"""The sales analysis page: charts as inline SVG, tables, scoping, escaping, bad input."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from tests.sales.conftest import HOSTILE
from tests.sales.test_analysis_figures import data, make_order  # noqa: F401 (fixture)
from vefa.sales.models import Product

URL = reverse("sales:analysis")
RANGE = {"start": "2026-01-01", "end": "2026-03-31", "currency": "TRY"}


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def svgs(html: str) -> list[ET.Element]:
    """Every inline chart, parsed as XML (a broken escape would not parse)."""
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", html, flags=re.S)]


def test_page_shows_figures_charts_and_tables(data, admin_user):  # noqa: F811
    response = login(admin_user).get(URL, RANGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "4,800.00" in html  # the revenue of the known data set
    assert "66.7 %" in html and "44.5" in html
    assert "USD" in html  # listed as not convertible
    charts = svgs(html)
    assert len(charts) >= 12
    ns = "{http://www.w3.org/2000/svg}"
    for chart in charts:
        assert chart.get("role") == "img"
        assert chart.find(f"{ns}title") is not None
    titles = [t.text for c in charts for t in c.iter(f"{ns}title")]
    assert "A · Alpha: 4,100.00" in titles
    assert html.count("<table") >= 12  # each chart has its table


def test_default_range_without_parameters(data, rep):  # noqa: F811
    response = login(rep).get(URL)
    assert response.status_code == 200
    assert 'name="start"' in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"start": "yesterday"},
        {"start": "2026-03-01", "end": "2026-01-01"},
        {"currency": "XXX"},
        {"currency": "<script>"},
        {"pipeline": "abc"},
        {"pipeline": "999999"},
        {"start": "9" * 5000},
    ],
)
def test_bad_parameters_are_a_form_error(data, admin_user, params):  # noqa: F811
    response = login(admin_user).get(URL, {**RANGE, **params})
    assert response.status_code == 422
    assert "<script>" not in response.content.decode().split("<main", 1)[-1]


def test_scope_rep_manager_read_only(data, rep, manager, read_only, rep_other_team):  # noqa: F811
    cache.clear()
    mine = login(rep).get(URL, RANGE).content.decode()
    assert "1,260.00" in mine and str(rep_other_team) not in mine
    team = login(manager).get(URL, RANGE).content.decode()
    assert "1,300.00" in team and str(rep_other_team) not in team
    everything = login(read_only).get(URL, RANGE).content.decode()
    assert "4,800.00" in everything and str(rep_other_team) in everything


@pytest.mark.parametrize("role", ["marketer", "service_agent"])
def test_roles_without_deals_get_404(data, role):  # noqa: F811
    assert login(UserFactory(role=role)).get(URL, RANGE).status_code == 404


def test_hostile_names_are_escaped_in_svg_text(data, admin_user, rep):  # noqa: F811
    cache.clear()
    for i, name in enumerate(HOSTILE):
        product = Product.objects.create(sku=f"H{i}", name=name, list_price=1)
        customer = make_customer(owner=rep, team=rep.team, city=name, tags=[name[:50]])
        make_order(rep, customer, "2026-01-20", "TRY", str(10 + i), lines=[(product, str(10 + i))])
    rep.full_name = '</text><script>alert("x")</script>'
    rep.save()
    html = login(admin_user).get(URL, RANGE).content.decode()
    assert "<script>alert" not in html
    assert "</text><script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    charts = svgs(html)  # still well-formed XML
    texts = [t.text or "" for c in charts for t in c.iter("{http://www.w3.org/2000/svg}text")]
    assert any("<script>alert(1)" in t for t in texts)  # shown as text, not markup
    assert "'; DROP TABLE sales_order; --" in "".join(texts)


def test_rtl_charts_are_mirrored(data, admin_user):  # noqa: F811
    admin_user.language = "fa"
    admin_user.save()
    client = login(admin_user)
    html = client.get(URL, RANGE, HTTP_ACCEPT_LANGUAGE="fa").content.decode()
    if 'dir="rtl"' not in html:
        pytest.skip("Persian is not activated for this user on this build")
    assert 'direction="rtl"' in html
    # Labels start at the right edge (x = the chart's width) and read right to left.
    assert re.search(r'<text x="360" y="\d+" text-anchor="start" class="vefa-chart-label"', html)

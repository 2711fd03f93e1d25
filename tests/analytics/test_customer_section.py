"""The analytics card of the customer 360 page: badges with the numbers behind them, movement,
history, next best products; escaped, right to left in Persian, 404 for hidden customers."""

from __future__ import annotations

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tests.analytics.test_api import HOSTILE, finished_refresh, give_score, write_snapshot
from tests.customers.factories import make_customer
from vefa.analytics.models import AnalyticsSettings
from vefa.sales.models import Product

pytestmark = pytest.mark.django_db


def client_for(user, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["vefa_language"] = language
    return client


def section(client: Client, customer) -> str:
    response = client.get(reverse("analytics_customer:section", args=[customer.pk]))
    assert response.status_code == 200, response.content
    return response.content.decode()


def text_of(html: str) -> str:
    """The visible text, tags removed and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def own_customer(rep, team):
    return make_customer(owner=rep, team=team, first_name="Ayşe", last_name="Yılmaz")


@pytest.fixture
def other_customer(rep_other_team, other_team):
    return make_customer(owner=rep_other_team, team=other_team, first_name="Jovana")


@pytest.fixture
def store(settings, tmp_path):
    settings.ANALYTICS_DIR = tmp_path
    return tmp_path


def _product(name: str, sku: str) -> Product:
    return Product.objects.create(
        sku=sku, name=name, list_price=Decimal("10"), tax_rate=Decimal("20")
    )


def test_badges_and_the_numbers_behind_them(rep, own_customer, store):
    refresh = finished_refresh(datetime.date(2026, 11, 1))
    give_score(own_customer, refresh=refresh)
    html = section(client_for(rep), own_customer)
    for badge in [
        "rfm_segment",
        "ladder_step",
        "value_class",
        "churn_risk",
        "declining",
        "overdue",
        "clv",
        "p_alive",
        "share_of_wallet",
    ]:
        assert f'data-badge="{badge}"' in html, badge
    text = text_of(html)
    assert "RFM segment: At risk R2 F4 M5" in text
    assert "Ladder step: Regular buyer" in text and "Churn risk: High" in text
    assert "Value class: A (top value)" in text
    assert "P(alive): 31 %" in text and "Share of wallet: 25 %" in text
    assert "12,345.00" in text  # CLV
    # Why: this year against last year, the usual gap, P(alive) against the threshold, rank.
    assert "Orders in the last 12 months 4 · the 12 months before: 10 · -60 %" in text
    assert "4,800.00" in text and "10,000.00" in text and "-52 %" in text
    assert "Usual gap between purchases 30 days" in text
    assert "Since the last purchase 61 days · 2.0 times the usual gap" in text
    assert "Probability still active 31 % · below the threshold of 50 %" in text
    assert "Value rank no. 12 of all customers" in text
    # Movement since the previous quarter.
    assert "Loyal customer → now Regular buyer" in text and "Loyal → now At risk" in text
    assert 'id="analytics-empty"' not in html


def test_history_from_the_snapshots_and_next_best_products(rep, own_customer, store):
    older = finished_refresh(datetime.date(2026, 8, 1))
    newer = finished_refresh(datetime.date(2026, 11, 1))
    write_snapshot(
        store,
        older.pk,
        older.as_of,
        [{"customer_id": own_customer.pk, "rfm_segment": "champions", "ladder_step": "loyal"}],
    )
    write_snapshot(
        store,
        newer.pk,
        newer.as_of,
        [{"customer_id": own_customer.pk, "rfm_segment": "at_risk", "ladder_step": "regular"}],
    )
    first, second = _product("Filtre kahve", "K-1"), _product("Demlik", "K-2")
    give_score(own_customer, refresh=newer, next_best=[second.pk, first.pk, 424242])
    html = section(client_for(rep), own_customer)
    rows = re.findall(r"<tr>(.*?)</tr>", html.split('id="analytics-history"')[1], re.S)
    assert [text_of(r) for r in rows[1:]] == [
        "11/01/2026 At risk Regular buyer – –",
        "08/01/2026 Champions Loyal customer – –",
    ]
    products = html.split('id="analytics-next-best">')[1].split("</ol>")[0]
    assert text_of(products) == "Demlik K-2 Filtre kahve K-1"


def test_hostile_product_names_and_reasons_are_escaped(rep, own_customer, store):
    names = [_product(name, f"H-{n}") for n, name in enumerate(HOSTILE)]
    give_score(
        own_customer,
        next_best=[p.pk for p in names],
        reasons=json.dumps(
            {"orders_last_12m": "<b>x</b>", "value_rank": [1], "mean_gap_days": None}
        ),
    )
    html = section(client_for(rep), own_customer)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "علی رضایی" in html
    assert "<b>x</b>" not in html and "&lt;b&gt;" not in html  # malformed reasons are left out
    assert html.count("<bdi>") >= len(HOSTILE)


def test_persian_reads_right_to_left(rep, own_customer, store):
    give_score(own_customer, refresh=finished_refresh())
    client = client_for(rep, "fa")
    page = client.get(reverse("customers:detail", args=[own_customer.pk])).content.decode()
    assert 'dir="rtl"' in page
    html = section(client, own_customer)
    # Scores, money and percentages keep their own order inside the right-to-left text.
    assert re.search(r'<span class="vefa-nowrap" dir="ltr">R2 F4 M5</span>', html)
    assert re.search(r'dir="ltr">31 %</span>', html)
    # The movement arrow points the way Persian reads.
    assert "←" in html and "→" not in html
    # Labels are isolated so a mixed-direction label cannot reorder the badge around it.
    for badge in re.findall(r'<li class="badge[^"]*"[^>]*>(.*?)</li>', html, re.S):
        assert "<bdi" in badge or 'dir="ltr"' in badge, badge
    # Logical spacing only: no physical left/right utilities.
    assert not re.search(r"\b(ml|mr|pl|pr)-\d|text-(left|right)|float-(left|right)", html)


def test_empty_state_without_a_score(rep, own_customer, store):
    html = section(client_for(rep), own_customer)
    assert 'id="analytics-empty"' in html
    assert "data-badge" not in html


def test_the_customer_page_loads_the_card(rep, own_customer):
    page = client_for(rep).get(reverse("customers:detail", args=[own_customer.pk]))
    url = reverse("analytics_customer:section", args=[own_customer.pk])
    assert f'hx-get="{url}"' in page.content.decode()


def test_hidden_customers_are_404_and_anonymous_users_sign_in(rep, other_customer, store):
    give_score(other_customer)
    url = reverse("analytics_customer:section", args=[other_customer.pk])
    assert client_for(rep).get(url).status_code == 404
    assert (
        client_for(rep).get(reverse("analytics_customer:section", args=[999999])).status_code == 404
    )
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert client_for(rep).post(url).status_code == 405


@pytest.mark.parametrize("products", [1, 5])
def test_query_count_does_not_grow_with_products(
    rep, own_customer, store, products, django_assert_num_queries
):
    ids = [_product(f"P{n}", f"Q-{n}").pk for n in range(products)]
    give_score(own_customer, refresh=finished_refresh(), next_best=ids)
    AnalyticsSettings.current()  # the row exists on a running installation
    client = client_for(rep)
    # session, user, customer, tags, score with its refresh, settings, products
    # The customer, tags, the score, the settings, the latest refresh, products, history …
    with django_assert_num_queries(8):
        html = section(client, own_customer)
    assert html.count("Q-") == products

"""The analytic filters of the customer list (page and ``GET /api/v1/customers``): every
attribute, for an administrator and a rep, invalid values, the form, constant query count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.analytics.test_api import HOSTILE, give_score
from tests.analytics.test_api import client_for as api_client_for
from tests.customers.factories import make_customer

pytestmark = pytest.mark.django_db

API = "/api/v1/customers"


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people(rep, rep_same_team, rep_other_team, team, other_team) -> dict[str, int]:
    """Customers with different scores: three in the rep's team, one in another team, and one
    without any score."""
    specs = {
        "champion": (
            rep,
            team,
            {
                "rfm_segment": "champions",
                "r_score": 5,
                "f_score": 5,
                "ladder_step": "loyal",
                "value_class": "A",
                "churn_risk": "low",
                "declining": False,
                "overdue": False,
                "clv": 500_000,
                "p_alive": 0.95,
            },
        ),
        "slipping": (
            rep_same_team,
            team,
            {
                "rfm_segment": "at_risk",
                "r_score": 2,
                "f_score": 4,
                "ladder_step": "regular",
                "value_class": "A",
                "churn_risk": "high",
                "declining": True,
                "overdue": True,
                "clv": 150_000,
                "p_alive": 0.30,
            },
        ),
        "small": (
            rep,
            team,
            {
                "rfm_segment": "new",
                "r_score": 5,
                "f_score": 1,
                "ladder_step": "one_time",
                "value_class": "C",
                "churn_risk": "medium",
                "declining": False,
                "overdue": True,
                "clv": 2_000,
                "p_alive": 0.60,
            },
        ),
        "elsewhere": (
            rep_other_team,
            other_team,
            {
                "rfm_segment": "at_risk",
                "r_score": 2,
                "f_score": 4,
                "ladder_step": "regular",
                "value_class": "A",
                "churn_risk": "high",
                "declining": True,
                "overdue": True,
                "clv": 900_000,
                "p_alive": 0.10,
            },
        ),
    }
    ids = {}
    for name, (owner, owner_team, values) in specs.items():
        customer = make_customer(owner=owner, team=owner_team, first_name=name, last_name="X")
        give_score(customer, **values)
        ids[name] = customer.pk
    ids["unscored"] = make_customer(owner=rep, team=team, first_name="unscored").pk
    return ids


CASES = [
    ({"rfm_segment": "at_risk"}, {"slipping", "elsewhere"}),
    ({"rfm_segment": "champions"}, {"champion"}),
    ({"r_score": "5"}, {"champion", "small"}),
    ({"f_score": "4"}, {"slipping", "elsewhere"}),
    ({"ladder_step": "one_time"}, {"small"}),
    ({"ladder_step": "regular"}, {"slipping", "elsewhere"}),
    ({"value_class": "A"}, {"champion", "slipping", "elsewhere"}),
    ({"value_class": "C"}, {"small"}),
    ({"churn_risk": "high"}, {"slipping", "elsewhere"}),
    ({"churn_risk": "medium"}, {"small"}),
    ({"declining": "true"}, {"slipping", "elsewhere"}),
    ({"declining": "false"}, {"champion", "small"}),
    ({"overdue": "true"}, {"slipping", "small", "elsewhere"}),
    ({"overdue": "false"}, {"champion"}),
    ({"clv_min": "1500"}, {"champion", "slipping", "elsewhere"}),
    ({"clv_min": "5000.00"}, {"champion", "elsewhere"}),
    ({"p_alive_below": "0.5"}, {"slipping", "elsewhere"}),
    ({"p_alive_below": "0.05"}, set()),
    ({"value_class": "A", "churn_risk": "high"}, {"slipping", "elsewhere"}),
    ({}, {"champion", "slipping", "small", "elsewhere", "unscored"}),
]
TEAM = {"champion", "slipping", "small", "unscored"}


def _names(ids: dict[str, int], pks: list[int]) -> set[str]:
    by_pk = {pk: name for name, pk in ids.items()}
    return {by_pk[pk] for pk in pks}


@pytest.mark.parametrize(("filters", "expected"), CASES)
def test_list_page_filters(admin_user, rep, people, filters, expected):
    for user, visible in [(admin_user, expected), (rep, expected & TEAM)]:
        response = page_client(user).get(reverse("customers:list"), filters)
        assert response.status_code == 200, response.content
        items = [c.pk for c in response.context["page"].items]
        assert _names(people, items) == visible, (user.role, filters)


@pytest.mark.parametrize(("filters", "expected"), CASES)
def test_api_filters(admin_user, rep, people, filters, expected):
    for user, visible in [(admin_user, expected), (rep, expected & TEAM)]:
        response = api_client_for(user).get(API, filters)
        assert response.status_code == 200, response.content
        items = [c["id"] for c in response.json()["items"]]
        assert _names(people, items) == visible, (user.role, filters)


INVALID = [
    ("rfm_segment", "nope"),
    ("rfm_segment", HOSTILE[0]),
    ("ladder_step", "LOYAL"),
    ("value_class", "D"),
    ("churn_risk", HOSTILE[1]),
    ("r_score", "6"),
    ("r_score", "0"),
    ("f_score", "abc"),
    ("declining", "maybe"),
    ("overdue", "1"),
    ("clv_min", "-1"),
    ("clv_min", "abc"),
    ("clv_min", "1" * 40),
    ("p_alive_below", "1.5"),
    ("p_alive_below", "NaN"),
    ("p_alive_below", "-0.1"),
]


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_invalid_values_name_the_parameter(admin_user, people, name, value):
    response = api_client_for(admin_user).get(API, {name: value})
    assert response.status_code == 422, (name, value, response.content)
    body = response.json()
    assert body["code"] == "validation_failed" and name in body["fields"], body
    page = page_client(admin_user).get(reverse("customers:list"), {name: value})
    assert page.status_code == 422
    html = page.content.decode()
    assert "champion X" not in html  # no results for a filter that was not understood
    assert "<script>alert(1)</script>" not in html


def test_the_filters_show_on_the_list_page(rep, people):
    html = page_client(rep).get(reverse("customers:list")).content.decode()
    assert ">Analytics</h3>" in html
    for name in [
        "rfm_segment",
        "r_score",
        "f_score",
        "ladder_step",
        "value_class",
        "churn_risk",
        "declining",
        "overdue",
        "clv_min",
        "p_alive_below",
    ]:
        assert f'name="{name}"' in html, name
    assert '<option value="at_risk">At risk</option>' in html
    chosen = page_client(rep).get(reverse("customers:list"), {"churn_risk": "high"})
    assert '<option value="high" selected>High</option>' in chosen.content.decode()


def test_the_api_documents_the_filters(admin_user):
    schema = api_client_for(admin_user).get("/api/v1/openapi.json").json()
    parameters = {p["name"] for p in schema["paths"][API]["get"]["parameters"]}
    assert {"rfm_segment", "churn_risk", "clv_min", "p_alive_below", "declining"} <= parameters


def _queries(client: Client, url: str, params: dict[str, str]) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    body = response.json()["items"] if url == API else response.context["page"].items
    return len(queries), len(body)


def test_query_count_does_not_grow_with_rows(rep, team):
    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            customer = make_customer(owner=rep, team=team, last_name=f"N{i:03d}", tags=["vip"])
            give_score(customer, value_class="A", churn_risk="high")

    filters = {"value_class": "A", "churn_risk": "high", "declining": "true", "clv_min": "1"}
    page, api = page_client(rep), api_client_for(rep)
    add(3, 0)
    # Warm-up: per-process caches, the token's first-use stamp.
    _queries(page, reverse("customers:list"), {})
    _queries(api, API, {})
    small_page, small_api = (
        _queries(page, reverse("customers:list"), filters),
        _queries(api, API, filters),
    )
    add(40, 3)
    big_page, big_api = (
        _queries(page, reverse("customers:list"), filters),
        _queries(api, API, {**filters, "limit": "100"}),
    )
    assert (small_page[1], big_page[1]) == (3, 43)
    assert small_page[0] == big_page[0]
    assert (small_api[1], big_api[1]) == (3, 43)
    assert small_api[0] == big_api[0]


def test_the_list_opens_more_filters_when_an_analytic_filter_is_set(client, admin_user):
    client.force_login(admin_user)
    shut = client.get("/customers/").content.decode()
    opened = client.get("/customers/?value_class=A").content.decode()
    marker = '<details class="mt-2" open>'
    assert marker not in shut
    assert marker in opened

"""Segments over the analytic scores: the same customers whether a rule is read as a list of
ids or checked customer by customer, for an administrator, a sales rep and a campaign's
audience."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.customers.factories import make_customer
from vefa.analytics.models import CustomerScore
from vefa.customers.selectors import customer_queryset
from vefa.marketing.segment_rules import apply_rules
from vefa.marketing.selectors.segments import count_rules, segment_customers
from vefa.marketing.services.segments import segment_create

pytestmark = pytest.mark.django_db

# (city, stage, team?, value class, churn risk, declining); None: no score row at all.
PEOPLE: list[tuple[str, str, bool, tuple[str, str, bool] | None]] = [
    ("Ankara", "customer", True, ("A", "high", False)),
    ("Ankara", "customer", False, ("A", "low", True)),
    ("İzmir", "customer", True, ("B", "high", True)),
    ("İzmir", "lead", True, ("A", "medium", False)),
    ("Ankara", "lost", False, ("C", "low", False)),
    ("Bursa", "customer", True, None),
    ("Bursa", "customer", False, ("A", "medium", False)),
    ("Bursa", "prospect", True, ("C", "low", False)),
]


@pytest.fixture
def people(rep, team, rep_other_team, other_team) -> list[dict[str, Any]]:
    now = timezone.now()
    rows = []
    for number, (city, stage, mine, score) in enumerate(PEOPLE):
        owner, owner_team = (rep, team) if mine else (rep_other_team, other_team)
        customer = make_customer(
            owner=owner,
            team=owner_team,
            first_name=f"P{number}",
            last_name="Test",
            city=city,
            lifecycle_stage=stage,
        )
        if score is not None:
            value_class, churn, declining = score
            CustomerScore.objects.create(
                customer=customer,
                computed_at=now,
                currency="TRY",
                value_class=value_class,
                churn_risk=churn,
                declining=declining,
            )
        rows.append({"pk": customer.pk, "city": city, "stage": stage, "mine": mine, "score": score})
    # A merged copy with the best score is never counted.
    copy = make_customer(
        first_name="Old", last_name="Copy", city="Ankara", merged_into_id=rows[0]["pk"]
    )
    CustomerScore.objects.create(customer=copy, computed_at=now, currency="TRY", value_class="A")
    return rows


ALL_RULES = [{"param": "value_class", "value": "A"}, {"param": "stage", "value": "customer"}]
ANY_RULES = [
    {"param": "churn_risk", "value": "high"},
    {"param": "declining", "value": "true"},
    {"param": "city", "value": "Bursa"},
]


def _expected(people: list[dict[str, Any]], match: str, mine_only: bool = False) -> set[int]:
    out = set()
    for row in people:
        score = row["score"] or ("", "", False)
        if match == "all":
            hit = score[0] == "A" and row["stage"] == "customer"
        else:
            hit = score[1] == "high" or score[2] or row["city"] == "Bursa"
        if hit and (row["mine"] or not mine_only):
            out.add(row["pk"])
    return out


@pytest.mark.parametrize(("match", "rules"), [("all", ALL_RULES), ("any", ANY_RULES)])
def test_counts_and_members_of_every_reader(people, admin_user, rep, marketer, match, rules):
    assert count_rules(actor=admin_user, rules=rules, match=match) == len(_expected(people, match))
    assert count_rules(actor=rep, rules=rules, match=match) == len(
        _expected(people, match, mine_only=True)
    )
    segment = segment_create(
        actor=marketer, name=f"Scores {match}", kind="dynamic", match=match, rules=rules
    )
    assert set(segment_customers(segment).values_list("pk", flat=True)) == _expected(people, match)


@pytest.mark.parametrize("common_from", [1, 5_000])
@pytest.mark.parametrize(("match", "rules"), [("all", ALL_RULES), ("any", ANY_RULES)])
def test_lists_of_ids_over_every_customer_checks_row_by_row_for_a_share(
    people, admin_user, monkeypatch, common_from, match, rules
):
    """Over every customer a score rule is a list of ids (``IN``); over a team's share on
    SQLite a common one is checked customer by customer (``EXISTS``), a rare one is a list
    too."""
    from vefa.customers import filters

    monkeypatch.setattr(filters, "COMMON_RELATED", common_from)

    def sql(whole: bool) -> str:
        queryset = apply_rules(customer_queryset(), rules, match, actor=admin_user, whole=whole)
        assert set(queryset.values_list("pk", flat=True)) == _expected(people, match)
        return str(queryset.query)

    assert "EXISTS" not in sql(whole=True)
    assert '"analytics_customerscore"' in sql(whole=True)
    # PostgreSQL plans the list from its statistics whichever way it is written.
    walks = common_from == 1 and connection.vendor == "sqlite"
    assert ("EXISTS" in sql(whole=False)) == walks

"""Fixtures of the export tests: customers in two teams and hostile texts."""

from __future__ import annotations

import pytest

from tests.customers.factories import make_customer

HOSTILE = [
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1)",
    "\tTAB=1",
    "\rCR=1",
    "علی رضایی‎ — «ویژه»",
    "\u202egnp.exe",
    "'; DROP TABLE customers_customer; --",
    'quote " and, comma',
    "line one\nline two\r\nline three",
]


@pytest.fixture
def own(rep, team):
    return make_customer(owner=rep, team=team, first_name="Ayşe", last_name="Yılmaz", city="Ankara")


@pytest.fixture
def teammate_customer(rep_same_team, team):
    return make_customer(
        owner=rep_same_team, team=team, first_name="Mehmet", last_name="Kaya", city="İzmir"
    )


@pytest.fixture
def hidden(rep_other_team, other_team):
    """A customer of another team: ``rep`` may not see it."""
    return make_customer(
        owner=rep_other_team,
        team=other_team,
        first_name="Jovana",
        last_name="Petrović",
        city="Ankara",
    )

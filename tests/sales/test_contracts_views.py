"""Contract pages: list with filters and keyset pages, detail, create and edit forms, the
renewal buttons; hidden contracts are 404; hostile text is escaped."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from vefa.platform.models import ChangeLogEntry
from vefa.sales.models import Contract, Opportunity
from vefa.sales.services.contracts import contract_create

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
D = datetime.timedelta(days=1)


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make(owner, customer, **over):
    values = {
        "customer_id": customer.pk,
        "title": "Sözleşme",
        "start_date": TODAY - 100 * D,
        "end_date": TODAY + 20 * D,
        "value": "1000",
        "status": "active",
    }
    values.update(over)
    return contract_create(actor=owner, **values)


def test_list_detail_and_escaping(rep, own_customer):
    contract = make(rep, own_customer, title="<script>alert(1)</script>")
    client = login(rep)
    page = client.get(reverse("sales:contract_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert contract.number in html
    detail = client.get(reverse("sales:contract_detail", args=[contract.pk]))
    assert detail.status_code == 200
    assert "Renew now" in detail.content.decode()


def test_list_filters_and_constant_queries(rep, own_customer):
    for i in range(5):
        make(rep, own_customer, title=f"C{i}", end_date=TODAY + (10 + i * 50) * D)
    client = login(rep)
    response = client.get(reverse("sales:contract_list"), {"renewal_within": "30"})
    assert response.content.decode().count("/sales/contracts/") >= 1
    assert len(response.context["page"].items) == 1
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("sales:contract_list"))
    for i in range(10):
        make(rep, own_customer, title=f"D{i}")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("sales:contract_list"))
    assert len(many.captured_queries) == len(few.captured_queries)
    bad = client.get(reverse("sales:contract_list"), {"status": "bogus", "renewal_within": "x"})
    assert bad.status_code == 200
    assert bad.context["filter_errors"] == ["renewal_within", "status"]
    partial = client.get(reverse("sales:contract_list"), headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.content.decode()


def test_create_and_edit_through_the_forms(rep, own_customer):
    client = login(rep)
    form = client.get(reverse("sales:contract_create") + f"?customer={own_customer.pk}")
    assert form.status_code == 200
    data = {
        "customer_id": own_customer.pk,
        "title": "Bakım",
        "start_date": str(TODAY),
        "end_date": str(TODAY + 364 * D),
        "value": "1234,5",
        "currency": "eur",
        "billing_period": "monthly",
        "status": "active",
        "remind_days_before": "45",
        "owner": rep.pk,
        "notes": "",
    }
    response = client.post(reverse("sales:contract_create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    contract = Contract.objects.get()
    assert contract.currency == "EUR" and contract.billing_period == "monthly"
    bad = client.post(reverse("sales:contract_create"), {**data, "end_date": str(TODAY - D)})
    assert bad.status_code == 422
    assert Contract.objects.count() == 1
    edit_url = reverse("sales:contract_edit", args=[contract.pk])
    assert client.get(edit_url).status_code == 200
    saved = client.post(edit_url, {**data, "title": "Bakım 2", "version": contract.version})
    assert saved.status_code == 302
    stale = client.post(edit_url, {**data, "title": "Bakım 3", "version": contract.version})
    assert stale.status_code == 422
    assert "Someone else changed" in stale.content.decode()
    assert Contract.objects.get().title == "Bakım 2"


def test_create_without_customer_says_so(rep):
    response = login(rep).post(
        reverse("sales:contract_create"),
        {
            "title": "x",
            "start_date": str(TODAY),
            "end_date": str(TODAY),
            "value": "1",
            "currency": "TRY",
            "billing_period": "yearly",
            "status": "draft",
            "remind_days_before": "30",
        },
    )
    assert response.status_code == 422
    assert not Contract.objects.exists()


def test_renew_now_and_next_term_buttons(rep, own_customer):
    contract = make(rep, own_customer)
    client = login(rep)
    response = client.post(reverse("sales:contract_renew_now", args=[contract.pk]))
    assert response.status_code == 302
    opportunity = Opportunity.objects.get(renewal_of=contract)
    detail = client.get(reverse("sales:contract_detail", args=[contract.pk])).content.decode()
    assert "Renew now" not in detail
    won = opportunity.pipeline.stages.get(kind="won")
    Opportunity.objects.filter(pk=opportunity.pk).update(
        status="won", stage=won, closed_at=timezone.now(), amount=Decimal("1500")
    )
    detail = client.get(reverse("sales:contract_detail", args=[contract.pk])).content.decode()
    assert "Create the next term" in detail
    response = client.post(
        reverse("sales:contract_renew", args=[contract.pk]), {"version": contract.version}
    )
    assert response.status_code == 302
    successor = Contract.objects.exclude(pk=contract.pk).get()
    assert response["Location"] == successor.get_absolute_url()
    assert successor.value == Decimal("1500")


@pytest.mark.parametrize("role", ["marketer", "sales_rep"])
def test_hidden_contract_is_404_and_unchanged(role, rep_same_team, team_customer):
    contract = make(rep_same_team, team_customer)
    user = UserFactory(role=role, team=rep_same_team.team if role == "sales_rep" else None)
    client = login(user)
    before = ChangeLogEntry.objects.count()
    for name in ("contract_detail", "contract_edit"):
        assert client.get(reverse(f"sales:{name}", args=[contract.pk])).status_code == 404
    for name in ("contract_renew_now", "contract_renew", "contract_edit"):
        assert client.post(reverse(f"sales:{name}", args=[contract.pk])).status_code == 404
    assert ChangeLogEntry.objects.count() == before
    assert not Opportunity.objects.exists()
    assert client.get(reverse("sales:contract_list")).context["page"].items == []


def test_service_agent_reads_but_cannot_change(rep, own_customer):
    contract = make(rep, own_customer)
    client = login(UserFactory(role="service_agent"))
    detail = client.get(reverse("sales:contract_detail", args=[contract.pk]))
    assert detail.status_code == 200
    assert "Renew now" not in detail.content.decode()
    assert client.get(reverse("sales:contract_edit", args=[contract.pk])).status_code == 404
    assert client.post(reverse("sales:contract_renew_now", args=[contract.pk])).status_code == 404
    assert client.get(reverse("sales:contract_create")).status_code == 404
    assert Contract.objects.get(pk=contract.pk).version == 1


def test_edit_form_shows_large_values_in_plain_digits(rep, own_customer):
    contract = make(rep, own_customer, value="125000000", currency="IRR")
    page = login(rep).get(reverse("sales:contract_edit", args=[contract.pk]))
    html = page.content.decode()
    assert 'value="125000000"' in html
    assert "E+" not in html

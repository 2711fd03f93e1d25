"""Customers, leads and contact points in global search, only for those who may see them."""

from __future__ import annotations

import pytest

from vefa.customers.search import contact_point_document, customer_document, lead_document
from vefa.customers.services import (
    contact_point_create,
    customer_bulk_assign,
    customer_create,
    lead_create,
)
from vefa.platform.models import CustomFieldDefinition
from vefa.platform.search import registered, search

pytestmark = pytest.mark.django_db


def found(actor, query: str, group: str) -> list[str]:
    results = search(actor=actor, query=query)
    for result_group in results.groups:
        if result_group.key == group:
            return [hit.title for hit in result_group.items]
    return []


def test_the_three_models_are_registered():
    assert {"customers.customer", "customers.lead", "customers.contactpoint"} <= set(registered())


def test_customer_is_found_by_name_email_phone_and_searchable_custom_fields(
    rep, django_capture_on_commit_callbacks
):
    CustomFieldDefinition.objects.create(
        model="customers.customer", key="loyalty", label="Loyalty card", field_type="text"
    )
    CustomFieldDefinition.objects.create(
        model="customers.customer",
        key="secret",
        label="Internal",
        field_type="text",
        searchable=False,
    )
    with django_capture_on_commit_callbacks(execute=True):
        customer_create(
            actor=rep,
            data={
                "kind": "person",
                "first_name": "Şükrü",
                "last_name": "Öztürk",
                "custom_fields": {"loyalty": "CARD-7781", "secret": "hidden-word"},
            },
            email="sukru@example.com",
            phone="0532 765 43 21",
        )
    assert found(rep, "sukru", "customers") == ["Şükrü Öztürk"]
    assert found(rep, "ozturk", "customers") == ["Şükrü Öztürk"]
    assert found(rep, "card-7781", "customers") == ["Şükrü Öztürk"]
    assert found(rep, "hidden-word", "customers") == []
    # the contact points are found too, and lead to the customer
    assert found(rep, "905327654321", "contact_points") == ["0532 765 43 21"]


def test_contact_points_follow_the_customer_to_its_new_owner(
    rep, rep_other_team, admin_user, own_customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        contact_point_create(
            actor=rep, customer_id=own_customer.pk, data={"kind": "email", "value": "move@x.com"}
        )
    assert found(rep, "move@x.com", "contact_points") == ["move@x.com"]
    with django_capture_on_commit_callbacks(execute=True):
        customer_bulk_assign(
            actor=admin_user,
            customer_ids=[own_customer.pk],
            owner=rep_other_team.pk,
            team=rep_other_team.team_id,
            set_team=True,
        )
    assert found(rep, "move@x.com", "contact_points") == []
    assert found(rep_other_team, "move@x.com", "contact_points") == ["move@x.com"]


def test_hidden_customers_are_not_found(rep, rep_other_team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        customer_create(actor=rep_other_team, data={"kind": "person", "last_name": "Gizli"})
    assert found(rep, "gizli", "customers") == []
    assert found(rep_other_team, "gizli", "customers") == ["Gizli"]


def test_leads_are_found_by_company(rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead_create(actor=rep, data={"first_name": "Ana", "company_name": "Đurđevak DOO"})
    assert found(rep, "djurdjevak", "leads") == ["Ana (Đurđevak DOO)"]


def test_documents(own_customer, own_lead):
    own_customer.primary_email = "a@x.com"
    doc = customer_document(own_customer)
    assert doc.title == "Ayşe Yılmaz"
    assert doc.owner_id == own_customer.owner_id
    assert doc.customer_id == own_customer.pk
    assert "a@x.com" in doc.subtitle
    assert lead_document(own_lead).title == "Deniz Arslan"


def test_contact_point_document_points_at_the_customer(rep, own_customer):
    point = contact_point_create(
        actor=rep, customer_id=own_customer.pk, data={"kind": "email", "value": "z@x.com"}
    )
    doc = contact_point_document(point)
    assert (doc.customer_id, doc.owner_id, doc.team_id) == (
        own_customer.pk,
        own_customer.owner_id,
        own_customer.team_id,
    )
    assert doc.subtitle == own_customer.display_name

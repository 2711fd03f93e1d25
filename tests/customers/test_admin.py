"""The admin shows customers read-only and writes only through the services."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from vefa.customers.models import Customer, LeadAssignmentRule
from vefa.platform.models import ChangeLogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    "name",
    [
        "customer",
        "customerrelationship",
        "contactpoint",
        "address",
        "consent",
        "lead",
        "leadassignmentrule",
    ],
)
def test_changelists_render(admin_client_, own_customer, own_lead, name):
    response = admin_client_.get(reverse(f"admin:customers_{name}_changelist"))
    assert response.status_code == 200


def test_customer_page_is_read_only_with_its_children(admin_client_, own_customer):
    response = admin_client_.get(reverse("admin:customers_customer_change", args=[own_customer.pk]))
    assert response.status_code == 200
    assert b'name="first_name"' not in response.content
    assert admin_client_.get(reverse("admin:customers_customer_add")).status_code == 403


def test_customer_delete_goes_through_the_service(admin_client_, own_customer):
    response = admin_client_.post(
        reverse("admin:customers_customer_delete", args=[own_customer.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=own_customer.pk).exists()
    assert ChangeLogEntry.objects.filter(model="customers.customer", action="delete").count() == 1


def test_assignment_rule_is_saved_through_the_service(admin_client_, team):
    response = admin_client_.post(
        reverse("admin:customers_leadassignmentrule_add"),
        {"name": "Web leads", "team": team.pk, "source": "web", "is_active": "on", "order": 5},
    )
    assert response.status_code == 302
    rule = LeadAssignmentRule.objects.get()
    assert (rule.name, rule.team_id, rule.source, rule.order) == ("Web leads", team.pk, "web", 5)
    assert ChangeLogEntry.objects.filter(model="customers.leadassignmentrule").count() == 1
    admin_client_.post(
        reverse("admin:customers_leadassignmentrule_change", args=[rule.pk]),
        {"name": "Web", "team": team.pk, "source": "", "order": 5},
    )
    rule.refresh_from_db()
    assert (rule.name, rule.source, rule.is_active) == ("Web", "", False)
    admin_client_.post(
        reverse("admin:customers_leadassignmentrule_delete", args=[rule.pk]), {"post": "yes"}
    )
    assert LeadAssignmentRule.objects.count() == 0
    assert list(
        ChangeLogEntry.objects.filter(model="customers.leadassignmentrule")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["create", "update", "delete"]

"""The portal's points page: the signed-in contact sees their customer's points only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.portal.conftest import sign_in
from vefa.marketing.models import LoyaltyProgram
from vefa.marketing.services.loyalty import points_award
from vefa.marketing.services.referrals import referral_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(db) -> LoyaltyProgram:
    return LoyaltyProgram.objects.create(
        name="Vefa Club", currency="TRY", point_value=Decimal("0.50"), expiry_months=12
    )


def test_points_page_shows_only_the_own_customer(program, client_a, world_a, world_b):
    points_award(customer_id=world_a.customer.pk, points=40, key="a1", description="<b>Hoş</b>")
    points_award(customer_id=world_b.customer.pk, points=999, key="b1", description="B-secret")
    page = client_a.get("/portal/points/")
    html = page.content.decode()
    assert page.status_code == 200
    assert ">40<" in html and "20.00 TRY" in html
    assert "&lt;b&gt;Hoş&lt;/b&gt;" in html
    assert "999" not in html and "B-secret" not in html
    assert referral_code(world_a.customer.pk) in html
    assert referral_code(world_b.customer.pk) not in html


def test_points_page_needs_a_portal_sign_in(program, client, world_a):
    response = client.get("/portal/points/")
    assert response.status_code == 302 and "/portal/login/" in response["Location"]


def test_points_page_without_a_programme(client_a):
    page = client_a.get("/portal/points/")
    assert page.status_code == 200
    assert "There is no loyalty programme at the moment." in page.content.decode()


def test_points_history_pages(program, world_a, world_b, client):
    for i in range(30):
        points_award(customer_id=world_a.customer.pk, points=i + 1, key=f"k{i}")
    signed = sign_in(client, world_a.account)
    first = signed.get("/portal/points/").content.decode()
    assert "cursor=" in first

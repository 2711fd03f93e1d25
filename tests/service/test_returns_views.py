"""Return pages: list, rates, a new return from an order's lines, steps, access as 404."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.service.conftest import HOSTILE
from tests.service.returns_helpers import make_order, make_product
from vefa.service.models import ReturnRequest
from vefa.service.services.returns import return_advance, return_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(customer):
    return make_order(customer, [(make_product(), "3", "100")])


@pytest.fixture
def signed_in(client, agent):
    client.force_login(agent)
    return client


def _create(actor, order, qty="1", **data):
    return return_create(
        actor=actor,
        data={"order": order.pk, "reason": "defective", **data},
        lines=[{"order_line": order.lines.get().pk, "quantity": qty}],
    )


def test_list_shows_returns_with_constant_queries(signed_in, agent, customer):
    order = make_order(customer, [(make_product(), "100", "1")])
    _create(agent, order)
    with CaptureQueriesContext(connection) as few:
        response = signed_in.get(reverse("service:return_list"))
    assert response.status_code == 200
    for _ in range(10):
        _create(agent, order)
    with CaptureQueriesContext(connection) as many:
        response = signed_in.get(reverse("service:return_list"))
    assert response.status_code == 200
    assert len(many) == len(few)
    assert response.content.decode().count(reverse("service:return_detail", args=[1])[:-2]) >= 11


def test_list_pages_with_a_cursor_and_filters(signed_in, agent, order):
    first = _create(agent, order, "1")
    second = _create(agent, order, "1")
    return_advance(actor=agent, return_id=second.pk, status="approved")
    response = signed_in.get(reverse("service:return_list"), {"status": "approved"})
    body = response.content.decode()
    assert second.number in body and first.number not in body
    response = signed_in.get(reverse("service:return_list"), {"q": first.number.lower()})
    assert first.number in response.content.decode()
    response = signed_in.get(reverse("service:return_list"), {"status": "bogus", "owner": "x"})
    assert response.status_code == 200
    assert "status" in response.content.decode()
    from vefa.service.selectors.returns import return_list

    page = return_list(actor=agent, limit=1)
    assert page.items == [second] and page.has_next
    response = signed_in.get(
        reverse("service:return_list"), {"cursor": page.next_cursor}, HTTP_HX_REQUEST="true"
    )
    assert first.number in response.content.decode()
    assert second.number not in response.content.decode()


def test_rates_section(signed_in, agent, order):
    _create(agent, order, "1")
    response = signed_in.get(reverse("service:return_rates"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Türk kahvesi" in body and "33.33" in body
    response = signed_in.get(reverse("service:return_rates"), {"rate_from": "garbage"})
    assert response.status_code == 200


def test_new_return_from_an_order(signed_in, agent, order):
    response = signed_in.get(reverse("service:return_create"))
    assert response.status_code == 200
    response = signed_in.get(reverse("service:return_create"), {"number": order.number.lower()})
    assert response.status_code == 302
    assert response["Location"].endswith(f"?order={order.pk}")
    response = signed_in.get(reverse("service:return_create"), {"number": "O-1999-000001"})
    assert response.status_code == 404
    line = order.lines.get()
    response = signed_in.get(reverse("service:return_create"), {"order": order.pk})
    assert response.status_code == 200
    assert f'name="qty_{line.pk}"' in response.content.decode()
    response = signed_in.post(
        reverse("service:return_create"),
        {
            "order": order.pk,
            "reason": "damaged",
            "reason_detail": HOSTILE[0],
            f"qty_{line.pk}": "2",
            f"reason_{line.pk}": "defective",
        },
    )
    assert response.status_code == 302
    created = ReturnRequest.objects.get()
    assert response["Location"] == reverse("service:return_detail", args=[created.pk])
    assert created.lines.get().quantity == Decimal("2.000")
    assert created.lines.get().reason == "defective"
    page = signed_in.get(response["Location"]).content.decode()
    assert HOSTILE[0] not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_new_return_errors_are_shown_and_nothing_is_written(signed_in, order):
    line = order.lines.get()
    url = reverse("service:return_create")
    response = signed_in.post(url, {"order": order.pk, "reason": "damaged", f"qty_{line.pk}": "4"})
    assert response.status_code == 422
    assert "At most 3 can still be returned" in response.content.decode()
    response = signed_in.post(url, {"order": order.pk, "reason": "damaged"})
    assert response.status_code == 422
    assert "Choose at least one line" in response.content.decode()
    response = signed_in.post(url, {"order": order.pk, "reason": "", f"qty_{line.pk}": "1"})
    assert response.status_code == 422
    response = signed_in.post(
        url, {"order": order.pk, "reason": "damaged", f"qty_{line.pk}": "abc"}
    )
    assert response.status_code == 422
    assert ReturnRequest.objects.count() == 0


def test_steps_through_the_page(signed_in, agent, order):
    rr = _create(agent, order, "2")
    url = reverse("service:return_step", args=[rr.pk])
    detail = reverse("service:return_detail", args=[rr.pk])
    assert signed_in.post(url, {"status": "approved", "version": 1})["Location"] == detail
    response = signed_in.post(url, {"status": "pickup", "step-pickup-carrier": ""})
    assert response.status_code == 422
    signed_in.post(
        url,
        {
            "status": "pickup",
            "step-pickup-carrier": HOSTILE[0],
            "step-pickup-tracking_number": "TR-1",
        },
    )
    signed_in.post(url, {"status": "in_transit"})
    signed_in.post(url, {"status": "received", "step-received-storage_location": "A-1"})
    signed_in.post(
        url,
        {
            "status": "inspected",
            "step-inspected-inspection_notes": "Scratched",
            "step-inspected-disposition": "refund",
        },
    )
    response = signed_in.post(url, {"status": "completed", "step-completed-refund_amount": "500"})
    assert response.status_code == 422
    assert "At most 240.00 TRY" in response.content.decode()
    signed_in.post(url, {"status": "completed", "step-completed-refund_amount": "200,50"})
    rr.refresh_from_db()
    assert rr.status == "completed" and rr.refund_amount == Decimal("200.50")
    assert rr.carrier == HOSTILE[0]
    page = signed_in.get(detail).content.decode()
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    # A skipped or repeated step is refused without a change.
    response = signed_in.post(url, {"status": "approved"})
    assert response.status_code == 302
    rr.refresh_from_db()
    assert rr.status == "completed"


def test_stale_version_on_the_page_is_reported(signed_in, agent, order):
    rr = _create(agent, order)
    return_advance(actor=agent, return_id=rr.pk, status="approved")
    response = signed_in.post(
        reverse("service:return_step", args=[rr.pk]),
        {"status": "pickup", "step-pickup-carrier": "X", "version": 1},
        follow=True,
    )
    assert "changed by someone else" in response.content.decode()
    rr.refresh_from_db()
    assert rr.status == "approved"


def test_other_team_agent_gets_404(client, agent, agent_other_team, order):
    rr = _create(agent, order)
    client.force_login(agent_other_team)
    # The other team may see every return (service agents view all) but not change it.
    assert client.get(reverse("service:return_detail", args=[rr.pk])).status_code == 200
    response = client.post(reverse("service:return_step", args=[rr.pk]), {"status": "approved"})
    assert response.status_code == 404
    assert client.get(reverse("service:return_detail", args=[99999])).status_code == 404
    rr.refresh_from_db()
    assert rr.status == "requested"


def test_a_role_that_cannot_see_returns_gets_404(client, agent, order, team):
    from tests.factories import UserFactory
    from vefa.accounts.choices import Role

    rr = _create(agent, order)
    rep = UserFactory(role="sales_rep", team=None)
    assert Role.SALES_REP == "sales_rep"
    client.force_login(rep)
    assert client.get(reverse("service:return_detail", args=[rr.pk])).status_code == 404
    assert client.get(reverse("service:return_create")).status_code == 403
    assert rr.number not in client.get(reverse("service:return_list")).content.decode()


def test_anonymous_is_sent_to_login(client, agent, order):
    rr = _create(agent, order)
    response = client.get(reverse("service:return_detail", args=[rr.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_return_for_a_ticket(signed_in, agent, customer, order):
    from vefa.service.models import Ticket

    with_order = Ticket.objects.create(
        number="T-2026-000801",
        subject="Send it back",
        customer=customer,
        order=order,
        team=agent.team,
        type="return_request",
    )
    url = reverse("service:return_create")
    response = signed_in.get(url, {"ticket": with_order.pk})
    assert response.status_code == 302
    assert response["Location"] == f"{url}?order={order.pk}&ticket={with_order.pk}"
    page = signed_in.get(response["Location"]).content.decode()
    assert f'name="ticket" value="{with_order.pk}"' in page
    line = order.lines.get()
    signed_in.post(
        url,
        {
            "order": order.pk,
            "ticket": with_order.pk,
            "reason": "damaged",
            f"qty_{line.pk}": "1",
        },
    )
    assert ReturnRequest.objects.get().ticket == with_order
    # Without an order on the ticket: the customer's orders, each keeping the ticket.
    without = Ticket.objects.create(
        number="T-2026-000802", subject="Which order?", customer=customer, team=agent.team
    )
    page = signed_in.get(url, {"ticket": without.pk}).content.decode()
    assert f"?order={order.pk}&amp;ticket={without.pk}" in page


def test_search_by_whole_number(signed_in, agent, order):
    first = _create(agent, order)
    second = _create(agent, order)
    body = signed_in.get(reverse("service:return_list"), {"q": second.number.lower()}).content
    assert second.number in body.decode() and first.number not in body.decode()

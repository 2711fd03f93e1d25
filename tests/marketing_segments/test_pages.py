"""The segment pages: list, builder with live count, detail, static lists, permissions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.marketing_segments.conftest import HOSTILE
from vefa.marketing.models import Segment, SegmentMember
from vefa.marketing.services.segments import segment_create, static_members_add


@pytest.fixture
def mclient(client, marketer):
    client.force_login(marketer)
    return client


def test_list_and_detail_escape_hostile_names(mclient, marketer, ankara):
    for text in HOSTILE:
        segment_create(
            actor=marketer,
            name=text,
            kind="dynamic",
            description=text,
            rules=[{"param": "city", "value": "Ankara"}],
        )
    page = mclient.get(reverse("marketing:segment_list"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    first = Segment.objects.get(name=HOSTILE[0])
    detail = mclient.get(reverse("marketing:segment_detail", args=[first.pk]))
    assert detail.status_code == 200
    assert "<script>alert(1)</script>" not in detail.content.decode()
    assert "City: Ankara" in detail.content.decode()


def test_new_segment_from_the_customer_list_filters(mclient):
    page = mclient.get(reverse("marketing:segment_new") + "?city=Ankara&stage=customer&cursor=x")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'value="Ankara"' in body
    assert 'name="rule_param"' in body


def test_create_through_the_builder(mclient, ankara, izmir):
    response = mclient.post(
        reverse("marketing:segment_new"),
        {
            "name": "Ankara customers",
            "kind": "dynamic",
            "match": "all",
            "rule_param": ["city", ""],
            "rule_value": ["Ankara", ""],
            "tags": "vip, north",
        },
    )
    assert response.status_code == 302
    segment = Segment.objects.get(name="Ankara customers")
    assert segment.rules == [{"param": "city", "value": "Ankara"}]
    assert sorted(t.name for t in segment.tags.all()) == ["north", "vip"]


def test_builder_shows_the_bad_rule(mclient):
    response = mclient.post(
        reverse("marketing:segment_new"),
        {
            "name": "Bad",
            "kind": "dynamic",
            "match": "all",
            "rule_param": ["city", "country"],
            "rule_value": ["Ankara", "Narnia"],
        },
    )
    assert response.status_code == 422
    assert "Rule 2" in response.content.decode()
    assert not Segment.objects.filter(name="Bad").exists()


def test_live_count_and_rule_row(mclient, ankara, izmir, hidden):
    response = mclient.post(
        reverse("marketing:segment_count_preview"),
        {"match": "any", "rule_param": ["city", "city"], "rule_value": ["Ankara", "İzmir"]},
    )
    assert response.status_code == 200
    assert ">3<" in response.content.decode()
    bad = mclient.post(
        reverse("marketing:segment_count_preview"),
        {"rule_param": ["rfm_segment"], "rule_value": ["<b>nope</b>"]},
    )
    assert "&lt;b&gt;" in bad.content.decode() or "Rule 1" in bad.content.decode()
    row = mclient.get(reverse("marketing:segment_rule_row") + "?rule_param=rfm_segment&key=r2")
    assert row.status_code == 200
    assert 'name="rule_value"' in row.content.decode()
    assert "<select" in row.content.decode()


def test_rep_sees_only_visible_members(client, marketer, rep, ankara, hidden):
    segment = segment_create(
        actor=marketer, name="Ankara", kind="dynamic", rules=[{"param": "city", "value": "Ankara"}]
    )
    client.force_login(rep)
    detail = client.get(reverse("marketing:segment_detail", args=[segment.pk]))
    body = detail.content.decode()
    assert "Ayşe" in body and "Jovana" not in body
    count = client.get(reverse("marketing:segment_count", args=[segment.pk]))
    assert ">1<" in count.content.decode()
    segment.refresh_from_db()
    assert segment.last_count is None  # a partial view is never kept as the segment's size


def test_read_only_cannot_create_or_edit(client, read_only, marketer):
    segment = segment_create(actor=marketer, name="S", kind="static")
    client.force_login(read_only)
    assert client.get(reverse("marketing:segment_new")).status_code == 403
    assert client.get(reverse("marketing:segment_edit", args=[segment.pk])).status_code == 403
    assert client.post(reverse("marketing:segment_archive", args=[segment.pk])).status_code == 403
    assert client.get(reverse("marketing:segment_detail", args=[999999])).status_code == 404


def test_add_matching_and_selected_to_a_static_list(mclient, marketer, ankara, izmir):
    segment = segment_create(actor=marketer, name="List", kind="static")
    page = mclient.get(reverse("marketing:segment_add_customers") + "?city=Ankara")
    assert page.status_code == 200
    assert "1 customer matches" in page.content.decode()
    done = mclient.post(
        reverse("marketing:segment_add_customers"), {"city": "Ankara", "target_list": segment.pk}
    )
    assert done.status_code == 302
    assert set(SegmentMember.objects.values_list("customer_id", flat=True)) == {ankara.pk}
    mclient.post(
        reverse("marketing:segment_add_customers"), {"ids": [izmir.pk], "target_list": segment.pk}
    )
    assert SegmentMember.objects.count() == 2
    mclient.post(reverse("marketing:segment_remove", args=[segment.pk]), {"ids": [ankara.pk]})
    assert set(SegmentMember.objects.values_list("customer_id", flat=True)) == {izmir.pk}


def test_edit_keeps_version_and_refuses_a_stale_one(mclient, marketer, ankara):
    segment = segment_create(
        actor=marketer, name="S", kind="dynamic", rules=[{"param": "city", "value": "Ankara"}]
    )
    form = mclient.get(reverse("marketing:segment_edit", args=[segment.pk]))
    assert form.status_code == 200
    data = {
        "name": "Renamed",
        "match": "all",
        "rule_param": ["city"],
        "rule_value": ["İzmir"],
        "version": segment.version,
    }
    assert (
        mclient.post(reverse("marketing:segment_edit", args=[segment.pk]), data).status_code == 302
    )
    stale = mclient.post(reverse("marketing:segment_edit", args=[segment.pk]), data)
    assert stale.status_code == 422
    segment.refresh_from_db()
    assert segment.name == "Renamed" and segment.rules[0]["value"] == "İzmir"


def test_static_list_page_lists_members(mclient, marketer, ankara):
    segment = segment_create(actor=marketer, name="L", kind="static")
    static_members_add(actor=marketer, segment_id=segment.pk, customer_ids=[ankara.pk])
    page = mclient.get(reverse("marketing:segment_members", args=[segment.pk]))
    assert page.status_code == 200 and "Ayşe" in page.content.decode()


def test_products_and_campaigns_are_picked_by_name(mclient, marketer):
    """The value of a product or campaign rule is chosen by name; a stored id that is not
    among the choices is still offered, so editing never drops it."""
    from django.utils import timezone

    from vefa.marketing.models import Campaign
    from vefa.sales.models import Product

    Product.objects.create(sku="TEA-1", name="<b>Çay</b> demlik")
    Campaign.objects.create(
        name="Bahar <script>x</script>", owner=marketer, audience_drawn_at=timezone.now()
    )
    Campaign.objects.create(name="Never launched", owner=marketer)
    url = reverse("marketing:segment_rule_row")
    product_row = mclient.get(url + "?rule_param=bought_product&key=r2").content.decode()
    assert "<select" in product_row
    assert "TEA-1 · &lt;b&gt;Çay&lt;/b&gt; demlik" in product_row
    campaign_row = mclient.get(url + "?rule_param=campaign_clicked&key=r3").content.decode()
    assert "Bahar &lt;script&gt;x&lt;/script&gt;" in campaign_row
    assert "Never launched" not in campaign_row
    kept = mclient.post(
        reverse("marketing:segment_count_preview"),
        {"rule_param": ["bought_product"], "rule_value": ["999999"]},
    )
    assert kept.status_code == 200
    product = Product.objects.get()
    segment = segment_create(
        actor=marketer,
        name="Tea",
        kind="dynamic",
        rules=[{"param": "bought_product", "value": str(product.pk)}],
    )
    edit = mclient.get(reverse("marketing:segment_edit", args=[segment.pk])).content.decode()
    assert f'<option value="{product.pk}" selected' in edit
    # A product no longer offered (inactive) stays chosen, by its id.
    gone = Product.objects.create(sku="OLD-1", name="Old", is_active=False)
    old = segment_create(
        actor=marketer,
        name="Old tea",
        kind="dynamic",
        rules=[{"param": "bought_product", "value": str(gone.pk)}],
    )
    edit = mclient.get(reverse("marketing:segment_edit", args=[old.pk])).content.decode()
    assert f'<option value="{gone.pk}" selected>#{gone.pk}</option>' in edit

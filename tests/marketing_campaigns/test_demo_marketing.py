"""``vefa demo``'s marketing: segments, templates in four languages, two completed campaigns
whose report shows real numbers (conversions credited to demo orders, costs, a control
group) and a draft. The demo is loaded once for the module and rolled back afterwards."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.demo_loaded import demo_loaded
from vefa.accounts.models import User
from vefa.marketing.choices import CampaignStatus, RecipientStatus
from vefa.marketing.models import Campaign, CampaignRecipient, MessageTemplate, Segment
from vefa.marketing.selectors.reports import campaign_report


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo company, loaded once; everything is rolled back after the module."""
    with demo_loaded(django_db_blocker) as loaded:
        yield loaded


pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def marketer(demo, db):
    return User.objects.get(email="marketing@vefa.example")


def test_segments_templates_and_campaigns(demo, db):
    names = set(Segment.objects.values_list("name", flat=True))
    assert {"At risk — win back", "Champions"} <= names
    languages = set(
        MessageTemplate.objects.get(name="Win-back: 15% off").versions.values_list(
            "language", flat=True
        )
    )
    assert languages == {"tr", "en", "sr-latn", "fa"}
    statuses = sorted(Campaign.objects.values_list("status", flat=True))
    assert statuses.count(CampaignStatus.COMPLETED) == 2
    assert statuses.count(CampaignStatus.DRAFT) == 1


def test_reports_show_real_numbers(marketer, client):
    campaign = Campaign.objects.get(name="Spring win-back")
    report = campaign_report(actor=marketer, campaign=campaign)
    total = report.total
    assert total.counts.sent > 100
    assert total.counts.control > 10
    assert total.counts.converted > 0
    assert total.counts.revenue > 0
    assert total.cost and total.cost > 0
    assert total.roi is not None
    assert len(report.variants) == 2
    # Every conversion points at a real, not cancelled order of that customer.
    converted = CampaignRecipient.objects.filter(
        campaign=campaign, converted_at__isnull=False
    ).select_related("conversion_order")
    assert all(r.conversion_order.customer_id == r.customer_id for r in converted)
    assert CampaignRecipient.objects.filter(
        campaign=campaign, status=RecipientStatus.CONTROL
    ).exists()
    client.force_login(marketer)
    page = client.get(reverse("marketing:campaign_report", args=[campaign.pk]))
    assert page.status_code == 200
    board = client.get(reverse("marketing:dashboard"))
    assert board.status_code == 200
    assert "Spring win-back" in board.content.decode()

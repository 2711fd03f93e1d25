"""A campaign in a real browser: a marketer turns a cell of the RFM grid into a segment,
builds a campaign to it with a template, launches it and watches the progress while the
e-mail reaches a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from tests.e2e.test_analytics_dashboard import _log_in, analytics  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def marketing(analytics):  # noqa: F811 (the fixture imported above)
    from django.utils import timezone

    from vefa.customers.models import Consent
    from vefa.marketing.models import MarketingSettings, MessageTemplate, TemplateVersion

    admin = analytics["admin"]
    MarketingSettings.objects.create(
        pk=1,
        quiet_hours_start=datetime.time(0, 0),
        quiet_hours_end=datetime.time(0, 0),
        from_email="news@vefa.example",
        from_name="Vefa",
        send_rate=1000,
    )
    for i, customer in enumerate(analytics["customers"]):
        customer.primary_email = f"c{i}@example.com"
        customer.language = "en"
        customer.save()
        Consent.objects.create(
            customer=customer,
            channel="email",
            purpose="marketing",
            status="granted",
            source="test",
            text_version="1",
            recorded_at=timezone.now(),
        )
    template = MessageTemplate.objects.create(
        name="We miss you", channel="email", default_language="en", owner=admin
    )
    TemplateVersion.objects.create(
        template=template,
        language="en",
        subject="Hello {{ first_name }}",
        body_html="<p>Hello {{ first_name }}, 15% off this week.</p>",
        body_text="Hello {{ first_name }}, 15% off this week.",
    )
    return {**analytics, "template": template}


def test_segment_from_the_rfm_grid_to_a_launched_campaign(page, marketing, smtp_server):
    from vefa.marketing.models import Campaign, CampaignRecipient, Segment

    # The sending runs inside the launch request here (the test task backend): allow for it.
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, marketing["admin"].email)
    page.goto("/analytics/")
    page.click('#chart-rfm a[href="/customers/?r_score=5&f_score=1"]')
    page.wait_for_url("**/customers/?r_score=5&f_score=1")
    page.click("text=Save as segment")
    page.wait_for_url("**/marketing/segments/new/**")
    page.fill("#id_name", "Recent but rare")
    page.click("form >> button[type=submit]:has-text('Save')")
    page.wait_for_url("**/marketing/segments/*/")
    segment = Segment.objects.get(name="Recent but rare")

    page.goto(reverse("marketing:campaign_create") + f"?segment={segment.pk}")
    page.fill("#id_name", "Win them back <script>x</script>")
    page.select_option("#id_objective", "win_back")
    page.fill("#id_control_percent", "0")
    page.select_option("#id_variant_0_template", str(marketing["template"].pk))
    page.click("button[type=submit]:has-text('Save')")
    page.wait_for_url("**/marketing/campaigns/*/")
    campaign = Campaign.objects.get()
    assert list(campaign.segments.all()) == [segment]
    assert page.get_by_text("Win them back <script>x</script>").first.is_visible()
    # The audience is counted before launch.
    assert page.locator("[data-testid=audience-size]").inner_text().count("1") >= 1

    page.click("button[data-action=launch]")
    page.wait_for_url(f"**/marketing/campaigns/{campaign.pk}/")
    progress = page.locator("[data-testid=campaign-progress]")
    progress.locator("[data-status=sent]").wait_for()
    assert "1" in progress.locator("[data-status=sent]").inner_text()
    assert CampaignRecipient.objects.filter(campaign=campaign, status="sent").count() == 1
    # The campaign's message went to the one customer of the segment, once (the other
    # message is the "job finished" notice to the marketer).
    sent = [
        envelope.content
        for envelope in smtp_server.messages
        if envelope.rcpt_tos == ["c0@example.com"]
    ]
    assert len(sent) == 1
    assert b"Hello Ali" in sent[0]
    assert b"List-Unsubscribe" in sent[0]
    assert errors == []

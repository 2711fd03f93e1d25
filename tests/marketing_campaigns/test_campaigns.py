"""Campaigns: services (validation, A/B weights, editing only while draft/scheduled, costs),
pages (list, detail, form, calendar, progress), the API and the settings page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.marketing_campaigns.conftest import HOSTILE, add_recipient, make_campaign
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.marketing.choices import CampaignStatus, RecipientStatus
from vefa.marketing.models import Campaign, CampaignCost, MarketingSettings, MessageTemplate
from vefa.marketing.services.campaigns import (
    campaign_create,
    campaign_delete,
    campaign_update,
    cost_add,
)
from vefa.marketing.services.setup import marketing_settings, settings_update


def data(segment, template, **extra):
    values = {
        "name": "Win back the sleepers",
        "objective": "win_back",
        "channel": "email",
        "segments": [segment.pk],
        "control_percent": 10,
        "budget": "1500.00",
        "currency": "TRY",
        "variants": [
            {"code": "A", "template": template.pk, "weight": 50},
            {"code": "b", "template": template.pk, "subject": "Özledik!", "weight": 50},
        ],
    }
    values.update(extra)
    return values


def test_create_draft_with_variants(marketer, segment, template):
    campaign = campaign_create(actor=marketer, data=data(segment, template))
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.budget == Decimal("1500.00")
    assert list(campaign.variants.values_list("code", "weight")) == [("A", 50), ("B", 50)]
    assert list(campaign.segments.all()) == [segment]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"variants": [{"code": "A", "template": 0, "weight": 100}]}, "variants.0.template"),
        ({"variants": [{"code": "A", "weight": 60}, {"code": "B", "weight": 30}]}, None),
        ({"control_percent": 51}, "control_percent"),
        ({"control_percent": "ten"}, "control_percent"),
        ({"budget": "-5"}, "budget"),
        ({"budget": 1.5}, "budget"),
        ({"currency": "lira"}, "currency"),
        ({"objective": "world_domination"}, "objective"),
        ({"name": ""}, "name"),
        ({"from_email": "not-an-address"}, "from_email"),
        ({"attribution_days": 0}, "attribution_days"),
        ({"segments": [999999]}, "segments"),
        ({"starts_at": "2026-05-02T10:00", "ends_at": "2026-05-01T10:00"}, "ends_at"),
        ({"starts_at": "yesterday"}, "starts_at"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_input_names_the_field(marketer, segment, template, extra, field):
    values = data(segment, template, **extra)
    if field is None:
        values["variants"] = [dict(v, template=template.pk) for v in extra["variants"]]
        field = "variants"
    with pytest.raises(ValidationFailed) as error:
        campaign_create(actor=marketer, data=values)
    assert field in error.value.fields
    assert not Campaign.objects.exists()


def test_weights_must_add_up_to_100(marketer, segment, template):
    values = data(segment, template)
    values["variants"][1]["weight"] = 40
    with pytest.raises(ValidationFailed) as error:
        campaign_create(actor=marketer, data=values)
    assert "variants" in error.value.fields


def test_duplicate_variant_codes_and_wrong_channel(marketer, segment, template):
    values = data(segment, template)
    values["variants"][1]["code"] = "a"
    with pytest.raises(ValidationFailed) as error:
        campaign_create(actor=marketer, data=values)
    assert "variants.1.code" in error.value.fields
    with pytest.raises(ValidationFailed) as error:
        campaign_create(actor=marketer, data=data(segment, template, channel="sms"))
    assert "variants.0.template" in error.value.fields


def test_segment_cannot_be_included_and_excluded(marketer, segment, template):
    with pytest.raises(ValidationFailed) as error:
        campaign_create(actor=marketer, data=data(segment, template, exclusions=[segment.pk]))
    assert "exclusions" in error.value.fields


def test_edit_only_while_draft_or_scheduled(marketer, segment, template):
    campaign = campaign_create(actor=marketer, data=data(segment, template))
    campaign_update(actor=marketer, campaign_id=campaign.pk, data={"name": "Renamed"})
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    with pytest.raises(ValidationFailed) as error:
        campaign_update(actor=marketer, campaign_id=campaign.pk, data={"name": "Again"})
    assert "status" in error.value.fields
    # Costs can still be recorded.
    cost = cost_add(
        actor=marketer,
        campaign_id=campaign.pk,
        data={"incurred_on": "2026-05-01", "description": "SMS gateway", "amount": "120.50"},
    )
    assert cost.currency == "TRY" and cost.amount == Decimal("120.50")
    with pytest.raises(ValidationFailed):
        campaign_delete(actor=marketer, campaign_id=campaign.pk)


def test_cost_validation(marketer, sent_campaign):
    with pytest.raises(ValidationFailed) as error:
        cost_add(
            actor=marketer,
            campaign_id=sent_campaign.pk,
            data={"incurred_on": "soon", "description": "", "amount": "-1", "currency": "x"},
        )
    assert {"incurred_on", "description", "amount", "currency"} <= set(error.value.fields)
    assert not CampaignCost.objects.exists()


def test_permissions(marketer, marketer_other_team, rep, segment, template):
    campaign = campaign_create(actor=marketer, data=data(segment, template))
    with pytest.raises(NotFound):
        campaign_create(actor=rep, data=data(segment, template))
    with pytest.raises(PermissionDenied):
        campaign_update(actor=rep, campaign_id=campaign.pk, data={"name": "x"})
    # Marketers reach every campaign to change it; deleting stays within the team.
    campaign_update(actor=marketer_other_team, campaign_id=campaign.pk, data={"name": "Shared"})
    with pytest.raises(PermissionDenied):
        campaign_delete(actor=marketer_other_team, campaign_id=campaign.pk)
    with pytest.raises(NotFound):
        campaign_update(actor=rep, campaign_id=campaign.pk + 1000, data={"name": "x"})


def test_pages(client, marketer, segment, template, sent_campaign, customer):
    campaign = campaign_create(actor=marketer, data=data(segment, template, name=HOSTILE[0]))
    client.force_login(marketer)
    listing = client.get(reverse("marketing:campaign_list"))
    assert listing.status_code == 200
    assert "<script>alert(1)</script>" not in listing.content.decode()
    detail = client.get(reverse("marketing:campaign_detail", args=[campaign.pk]))
    assert detail.status_code == 200
    assert b"campaign_audience" not in detail.content  # the URL, not the name
    audience = client.get(reverse("marketing:campaign_audience", args=[campaign.pk]))
    assert audience.status_code == 200
    assert b"audience-size" in audience.content
    add_recipient(sent_campaign, customer)
    progress = client.get(reverse("marketing:campaign_progress", args=[sent_campaign.pk]))
    assert progress.status_code == 200
    assert b'data-status="sent"' in progress.content
    assert b"every 2s" not in progress.content  # completed: no more polling
    assert client.get(reverse("marketing:campaign_edit", args=[campaign.pk])).status_code == 200
    locked = client.get(reverse("marketing:campaign_edit", args=[sent_campaign.pk]))
    assert locked.status_code == 302
    report = client.get(reverse("marketing:campaign_report", args=[sent_campaign.pk]))
    assert report.status_code == 200
    assert client.get(reverse("marketing:dashboard")).status_code == 200


def test_form_post_and_errors(client, marketer, segment, template):
    client.force_login(marketer)
    url = reverse("marketing:campaign_create")
    base = {
        "name": "Form campaign",
        "objective": "retention",
        "channel": "email",
        "purpose": "marketing",
        "segments": [segment.pk],
        "control_percent": 10,
        "currency": "TRY",
        "variant_0_code": "A",
        "variant_0_template": template.pk,
        "variant_0_weight": 80,
    }
    bad = client.post(url, base)
    assert bad.status_code == 422
    assert "100" in bad.content.decode()
    good = client.post(url, {**base, "variant_0_weight": 100})
    assert good.status_code == 302
    assert Campaign.objects.get().variants.get().weight == 100


def test_calendar_shows_running_campaigns(client, marketer):
    start = timezone.make_aware(datetime.datetime(2026, 3, 30, 10, 0))
    make_campaign(
        marketer, name="Bayram", starts_at=start, ends_at=start + datetime.timedelta(days=4)
    )
    make_campaign(marketer, name="Nowruz", starts_at=start - datetime.timedelta(days=60))
    client.force_login(marketer)
    page = client.get(reverse("marketing:campaign_calendar"), {"month": "2026-04"})
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count("Bayram") >= 3  # 1–3 April at least
    assert "Nowruz" not in body
    assert (
        client.get(reverse("marketing:campaign_calendar"), {"month": "2026-13"}).status_code == 200
    )
    with_rtl = client.get(
        reverse("marketing:campaign_calendar"), {"month": "2026-04"}, HTTP_ACCEPT_LANGUAGE="fa"
    )
    assert with_rtl.status_code == 200


def test_hidden_campaign_is_404(client, rep, marketer, segment, template, read_only):
    campaign = campaign_create(actor=marketer, data=data(segment, template))
    client.force_login(read_only)
    assert client.get(reverse("marketing:campaign_detail", args=[campaign.pk])).status_code == 200
    assert client.get(reverse("marketing:campaign_edit", args=[campaign.pk])).status_code == 404
    assert (
        client.post(reverse("marketing:campaign_action", args=[campaign.pk, "launch"])).status_code
        == 404
    )
    assert (
        client.get(reverse("marketing:campaign_detail", args=[campaign.pk + 999])).status_code
        == 404
    )


def test_api_campaign_flow(client, marketer, segment, template):
    client.force_login(marketer)
    payload = data(segment, template)
    created = client.post(
        "/api/v1/marketing/campaigns", data=payload, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["variants"][1]["code"] == "B"
    bad = client.patch(
        f"/api/v1/marketing/campaigns/{pk}",
        data={"variants": [{"code": "A", "template": template.pk, "weight": 70}]},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["fields"]["variants"]
    cost = client.post(
        f"/api/v1/marketing/campaigns/{pk}/costs",
        data={"incurred_on": "2026-05-01", "description": "Print", "amount": "99.90"},
        content_type="application/json",
    )
    assert cost.status_code == 201
    audience = client.get(f"/api/v1/marketing/campaigns/{pk}/audience")
    assert audience.json()["customers"] == 1
    report = client.get(f"/api/v1/marketing/campaigns/{pk}/report")
    assert report.status_code == 200
    # No revenue yet against 99.90 spent: ROI −100 %, no cost per acquisition.
    assert report.json()["total"]["roi"] == -1.0
    assert report.json()["total"]["cost_per_acquisition"] is None
    assert report.json()["total"]["uplift"] is None
    assert report.json()["total"]["cost"] == "99.90"
    assert client.get("/api/v1/marketing/dashboard").status_code == 200
    assert client.get("/api/v1/marketing/dashboard?currency=zz").status_code == 422
    gone = client.delete(f"/api/v1/marketing/campaigns/{pk}")
    assert gone.status_code == 204


def test_settings_service_and_page(client, marketer, rep):
    row = marketing_settings()
    assert row.pk == 1 and MarketingSettings.objects.count() == 1
    with pytest.raises(ValidationFailed) as error:
        settings_update(
            actor=marketer,
            data={"time_zone": "Mars/Olympus", "cap_days": 0, "quiet_hours_start": "25:00"},
        )
    assert {"time_zone", "cap_days", "quiet_hours_start"} <= set(error.value.fields)
    with pytest.raises(NotFound):
        settings_update(actor=rep, data={"cap_days": 3})
    settings_update(actor=marketer, data={"attribution_days": 14, "track_opens": True})
    assert MarketingSettings.objects.get().attribution_days == 14
    client.force_login(rep)
    page = client.get(reverse("marketing:setup"))
    assert page.status_code == 200 and b"disabled" in page.content
    assert client.post(reverse("marketing:setup"), {"cap_days": 1}).status_code == 404
    client.force_login(marketer)
    form = client.get(reverse("marketing:setup")).context["form"]
    posted = {k: v for k, v in form.initial.items() if v is not None}
    posted.update(
        {
            "cap_messages": 2,
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "08:00",
            "track_opens": "",
        }
    )
    posted.pop("track_opens")
    response = client.post(reverse("marketing:setup"), posted)
    assert response.status_code == 302, response.content
    row = MarketingSettings.objects.get()
    assert row.cap_messages == 2 and row.track_opens is False


def test_customer_section(client, marketer, customer, segment, sent_campaign, read_only):
    add_recipient(sent_campaign, customer, clicked_at=timezone.now())
    add_recipient(
        make_campaign(marketer, name=HOSTILE[0]),
        customer,
        status=RecipientStatus.CONTROL,
        sent_at=None,
    )
    client.force_login(marketer)
    response = client.get(reverse("marketing:customer_section", args=[customer.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Champions" in body and "Spring win-back" in body
    assert "<script>alert(1)</script>" not in body
    page = client.get(reverse("customers:detail", args=[customer.pk]))
    assert reverse("marketing:customer_section", args=[customer.pk]) in page.content.decode()
    client.force_login(read_only)
    assert (
        client.get(reverse("marketing:customer_section", args=[customer.pk + 999])).status_code
        == 404
    )


def test_template_archived_not_offered(marketer, segment, template):
    MessageTemplate.objects.filter(pk=template.pk).update(is_archived=True)
    with pytest.raises(ValidationFailed) as error:
        campaign_create(actor=marketer, data=data(segment, template))
    assert "variants.0.template" in error.value.fields


def test_segment_picker_searches_and_keeps_the_chosen(client, marketer, segment, other_segment):
    from vefa.marketing.models import Segment

    hostile = Segment.objects.create(name=HOSTILE[0], owner=marketer, team_id=marketer.team_id)
    client.force_login(marketer)
    url = reverse("marketing:campaign_segment_options")
    found = client.get(url, {"field": "segments", "q": "risk", "segments": [segment.pk]})
    assert found.status_code == 200
    body = found.content.decode()
    # The chosen segment stays, checked; the search adds the match; nothing else.
    assert f'value="{segment.pk}" id="segments-{segment.pk}" checked' in body
    assert (
        f'value="{other_segment.pk}"' in body
        and "checked" not in body.split(f'value="{other_segment.pk}"')[1].split(">")[0]
    )
    assert f'value="{hostile.pk}"' not in body
    everything = client.get(url, {"field": "exclusions"}).content.decode()
    assert "<script>alert(1)</script>" not in everything
    assert f'value="{hostile.pk}"' in everything
    assert client.get(url, {"field": "owner"}).status_code == 404
    form = client.get(reverse("marketing:campaign_create"), {"segment": segment.pk})
    assert f'id="segments-{segment.pk}" checked' in form.content.decode()

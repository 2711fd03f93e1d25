"""API of campaign reports under /api/v1/marketing (definitions in
``vefa.marketing.selectors.reports``): a campaign's figures in total and per variant, and the
dashboard's comparison of campaigns and channels. Undefined figures are ``null``."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import actor_of, json_response
from vefa.common.errors import ValidationFailed
from vefa.marketing.selectors import reports
from vefa.marketing.selectors.campaigns import campaign_get
from vefa.sales.money import MoneyError, check_currency

router = Router(tags=["marketing"])


class FiguresOut(Schema):
    variant: str | None
    recipients: int
    sent: int
    delivered: int
    opened: int | None
    clicked: int
    replied: int
    unsubscribed: int
    bounced: int
    converted: int
    control_group: int
    control_converted: int
    response_rate: float | None
    conversion_rate: float | None
    control_conversion_rate: float | None
    uplift: float | None
    relative_uplift: float | None
    p_value: float | None
    significant: bool | None
    revenue: Decimal
    cost: Decimal | None
    roi: float | None
    cost_per_acquisition: Decimal | None


class CampaignReportOut(Schema):
    campaign_id: int
    currency: str
    attribution_days: int
    total: FiguresOut
    variants: list[FiguresOut]
    unconverted_currencies: list[str]


class ChannelOut(Schema):
    channel: str
    campaigns: int
    sent: int
    converted: int
    response_rate: float | None
    conversion_rate: float | None
    revenue: Decimal
    cost: Decimal
    roi: float | None


class DashboardCampaignOut(Schema):
    campaign_id: int
    name: str
    channel: str
    currency: str
    figures: FiguresOut


class DashboardOut(Schema):
    currency: str
    channels: list[ChannelOut]
    campaigns: list[DashboardCampaignOut]
    unconverted_currencies: list[str]


def _f(value: Decimal | float | None) -> float | None:
    return float(value) if value is not None else None


def figures_json(figures: reports.Figures) -> dict[str, Any]:
    c = figures.counts
    up = figures.uplift
    return {
        "variant": figures.label or None,
        "recipients": c.recipients,
        "sent": c.sent,
        "delivered": c.delivered,
        "opened": c.opened if figures.track_opens else None,
        "clicked": c.clicked,
        "replied": c.replied,
        "unsubscribed": c.unsubscribed,
        "bounced": c.bounced,
        "converted": c.converted,
        "control_group": c.control,
        "control_converted": c.control_converted,
        "response_rate": _f(figures.response_rate),
        "conversion_rate": _f(figures.conversion_rate),
        "control_conversion_rate": _f(up.control_rate),
        "uplift": _f(up.absolute),
        "relative_uplift": _f(up.relative),
        "p_value": up.p_value,
        "significant": up.significant,
        "revenue": str(c.revenue),
        "cost": str(figures.cost) if figures.cost is not None else None,
        "roi": _f(figures.roi),
        "cost_per_acquisition": str(figures.cost_per_acquisition)
        if figures.cost_per_acquisition is not None
        else None,
    }


@router.get(
    "/campaigns/{campaign_id}/report",
    response={200: CampaignReportOut, **ERRORS},
    url_name="marketing_campaign_report",
)
def campaign_report(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """What the campaign returned, in total and per A/B variant, against the control group."""
    actor = actor_of(request)
    campaign = campaign_get(actor=actor, pk=campaign_id)
    report = reports.campaign_report(actor=actor, campaign=campaign)
    return json_response(
        {
            "campaign_id": campaign.pk,
            "currency": report.currency,
            "attribution_days": report.attribution_days,
            "total": figures_json(report.total),
            "variants": [figures_json(v) for v in report.variants],
            "unconverted_currencies": report.unconverted,
        }
    )


@router.get("/dashboard", response={200: DashboardOut, **ERRORS}, url_name="marketing_dashboard")
def marketing_dashboard(
    request: HttpRequest,
    currency: str = Query("TRY", max_length=3),
    since: datetime.date | None = None,
) -> HttpResponse:
    """The campaigns that sent (most recent first, at most 50) and the sums per channel, with
    revenue and cost in ``currency``."""
    actor = actor_of(request)
    try:
        code = check_currency(currency)
    except MoneyError:
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={"currency": [_("Enter a three-letter currency code, e.g. TRY.")]},
        ) from None
    start = (
        datetime.datetime.combine(since, datetime.time.min, tzinfo=datetime.UTC) if since else None
    )
    board = reports.dashboard(actor=actor, currency=code, since=start)
    return json_response(
        {
            "currency": board.currency,
            "channels": [
                {
                    "channel": c.channel,
                    "campaigns": c.campaigns,
                    "sent": c.counts.sent,
                    "converted": c.counts.converted,
                    "response_rate": _f(c.response_rate),
                    "conversion_rate": _f(c.conversion_rate),
                    "revenue": str(c.revenue),
                    "cost": str(c.cost),
                    "roi": _f(c.roi),
                }
                for c in board.channels
            ],
            "campaigns": [
                {
                    "campaign_id": campaign.pk,
                    "name": campaign.name,
                    "channel": campaign.channel,
                    "currency": campaign.currency,
                    "figures": figures_json(figures),
                }
                for campaign, figures in board.campaigns
            ],
            "unconverted_currencies": board.unconverted,
        }
    )

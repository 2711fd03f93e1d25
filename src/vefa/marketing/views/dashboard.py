"""The marketing dashboard: the campaigns that sent compared side by side, and the sums per
channel, with revenue and cost in one currency. Cached for a few minutes per user."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vefa.common import charts
from vefa.interactions.views._helpers import actor_of
from vefa.marketing.choices import CampaignChannel
from vefa.marketing.selectors import reports
from vefa.sales.money import MoneyError, check_currency

CACHE_SECONDS = 120
PERIODS = {"90": 90, "365": 365, "all": None}


def _charts(board: reports.Dashboard, rtl: bool) -> dict[str, Any]:
    labels = dict(CampaignChannel.choices)
    channel_rows = [
        charts.BarRow(
            label=str(labels.get(c.channel, c.channel)),
            values=[
                (c.conversion_rate, charts.fmt_share(c.conversion_rate)),
                (c.response_rate, charts.fmt_share(c.response_rate)),
            ],
        )
        for c in board.channels
    ]
    campaign_rows = [
        charts.BarRow(
            label=campaign.name,
            values=[(figures.roi, charts.fmt_share(figures.roi, 0))],
        )
        for campaign, figures in board.campaigns[:15]
        if figures.roi is not None
    ]
    return {
        "channels": charts.bar_chart(
            chart_id="marketing-channels",
            title=_("Channels compared"),
            description=_("Conversion and response rate of each channel."),
            rows=channel_rows,
            series=[_("Conversion rate"), _("Response rate")],
            rtl=rtl,
            empty=_("No campaign has sent in this period."),
        ),
        "roi": charts.bar_chart(
            chart_id="marketing-roi",
            title=_("Return on investment"),
            description=_("(Revenue − cost) ÷ cost of each campaign with costs."),
            rows=campaign_rows,
            series=[_("ROI")],
            rtl=rtl,
            empty=_("No campaign with costs in this period."),
        ),
    }


@login_required
@require_GET
def marketing_dashboard(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    period = request.GET.get("period", "365")
    if period not in PERIODS:
        period = "365"
    try:
        currency = check_currency(
            request.GET.get("currency") or getattr(settings, "VEFA_DEFAULT_CURRENCY", "TRY")
        )
    except MoneyError:
        currency = "TRY"
    days = PERIODS[period]
    since = timezone.now() - datetime.timedelta(days=days) if days else None
    language = translation.get_language() or ""
    key = f"marketing:dashboard:{actor.pk}:{actor.role}:{period}:{currency}:{language}"
    context = cache.get(key)
    if context is None:
        board = reports.dashboard(actor=actor, currency=currency, since=since)
        context = {
            "board": board,
            "charts": _charts(board, translation.get_language_bidi()),
            "channel_labels": dict(CampaignChannel.choices),
        }
        cache.set(key, context, CACHE_SECONDS)
    return render(
        request,
        "marketing/dashboard/dashboard.html",
        {**context, "period": period, "currency": currency},
    )


urlpatterns = [
    path("", marketing_dashboard, name="dashboard"),
]

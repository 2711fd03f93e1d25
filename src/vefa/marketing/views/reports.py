"""The campaign report: what a campaign returned, in total and per A/B variant, against its
control group (definitions in ``vefa.marketing.selectors.reports``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vefa.common import charts
from vefa.interactions.views._helpers import actor_of, hidden_as_404
from vefa.marketing.selectors import reports
from vefa.marketing.selectors.campaigns import campaign_get


def funnel_chart(report: reports.CampaignReport, rtl: bool) -> str:
    counts = report.total.counts
    steps = [
        (_("Sent"), counts.sent),
        (_("Delivered"), counts.delivered),
        (_("Clicked"), counts.clicked),
        (_("Converted"), counts.converted),
    ]
    if report.total.track_opens:
        steps.insert(2, (_("Opened"), counts.opened))
    rows = [charts.BarRow(label=str(label), values=[(n, charts.fmt_int(n))]) for label, n in steps]
    return charts.bar_chart(
        chart_id="campaign-funnel",
        title=_("From sent to converted"),
        description=_("How many recipients reached each step."),
        rows=rows,
        series=[_("Recipients")],
        rtl=rtl,
        empty=_("Nothing was sent yet."),
    )


@login_required
@require_GET
@hidden_as_404
def campaign_report(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    campaign = campaign_get(actor=actor, pk=pk)
    report = reports.campaign_report(actor=actor, campaign=campaign)
    rtl = translation.get_language_bidi()
    groups = [report.total, *report.variants]
    return render(
        request,
        "marketing/reports/campaign_report.html",
        {
            "campaign": campaign,
            "report": report,
            "total": report.total,
            "groups": groups,
            "funnel": funnel_chart(report, rtl),
        },
    )


urlpatterns = [
    path("campaigns/<int:pk>/report/", campaign_report, name="campaign_report"),
]

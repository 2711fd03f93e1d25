"""The data-quality page: each issue as a count, a share and a link to the customers behind
it, and the trend from the daily snapshots."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vefa.accounts.access import sees_all
from vefa.common import charts
from vefa.common.errors import PermissionDenied
from vefa.customers.models import Customer
from vefa.quality import selectors
from vefa.quality.issues import DUPLICATE_THRESHOLD, ISSUES, stale_months
from vefa.quality.models import QualitySnapshot


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def _trend_chart(snapshots: list[QualitySnapshot], code: str, title: str, description: str) -> Any:
    bars = []
    for s in snapshots:
        share = _share(int(getattr(s, code)), s.total)
        bars.append(
            charts.Bar(
                label=charts.fmt_date(s.day),
                value=(share or 0) * 100,
                text=charts.fmt_share(share),
            )
        )
    return charts.time_bars(
        chart_id=f"quality-trend-{code}",
        title=title,
        description=description,
        bars=bars,
        rtl=bool(translation.get_language_bidi()),
        empty=_("No daily figures yet: they are recorded by the nightly check."),
    )


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        board = selectors.quality_dashboard(actor=request.user)  # type: ignore[arg-type]
    except PermissionDenied as exc:
        # Like every page a role may not open: not found, never "forbidden".
        raise Http404(exc.message) from exc
    figures = board["figures"]
    total = figures["total"]
    list_url = reverse("customers:list")
    rows = [
        {
            "code": code,
            "label": label,
            "count": figures[code],
            "count_text": charts.fmt_int(figures[code]),
            "share_text": charts.fmt_share(_share(figures[code], total)),
            "url": f"{list_url}?{urlencode({'quality_issue': code})}",
        }
        for code, label in ISSUES
    ]
    snapshots: list[QualitySnapshot] = board["snapshots"]
    trend = [
        {
            "day": s.day,
            "total": charts.fmt_int(s.total),
            "shares": [charts.fmt_share(_share(int(getattr(s, c)), s.total)) for c, _l in ISSUES],
        }
        for s in snapshots[-30:][::-1]
    ]
    context = {
        "rows": rows,
        "total": charts.fmt_int(total),
        "issues": ISSUES,
        "stale_months": stale_months(),
        "threshold": DUPLICATE_THRESHOLD,
        "show_trend": sees_all(request.user, Customer),  # type: ignore[arg-type]
        "trend": trend,
        "chart_duplicates": _trend_chart(
            snapshots,
            "duplicate",
            _("Share of likely duplicates by day"),
            _(
                "The share of customers whose instant check finds another record scoring at "
                "least %(n)d."
            )
            % {"n": DUPLICATE_THRESHOLD},
        ),
        "chart_contact": _trend_chart(
            snapshots,
            "no_contact",
            _("Share without e-mail and phone by day"),
            _("The share of customers with neither an e-mail address nor a phone number."),
        ),
    }
    return render(request, "quality/dashboard.html", context)


urlpatterns = [
    path("", dashboard, name="dashboard"),
]

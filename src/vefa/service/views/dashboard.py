"""The service dashboard: complaint management metrics per period, team and agent.

The figures come from ``vefa.service.selectors.metrics`` (the API answers the same numbers);
this module only reads the filters, draws the charts (inline SVG from ``vefa.common.charts``)
and names the groups in the active language.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from vefa.accounts.access import scope_for
from vefa.accounts.choices import Role, Scope
from vefa.accounts.models import Team, User
from vefa.common import charts
from vefa.common.errors import ValidationFailed
from vefa.interactions.filters import user_zone
from vefa.interactions.forms import BootstrapMixin
from vefa.interactions.views._helpers import actor_of, hidden_as_404
from vefa.service.choices import OPEN_STATUSES, TicketPriority, TicketStatus
from vefa.service.selectors.metrics import (
    PERIODS,
    metrics_scope,
    resolve_period,
    service_metrics,
)

MAX_PEOPLE = 500


class DashboardForm(BootstrapMixin, forms.Form):
    """The dashboard's filters, read from the query string."""

    period = forms.ChoiceField(
        label=gettext_lazy("Period"),
        required=False,
        choices=[
            ("30", gettext_lazy("Last 30 days")),
            ("90", gettext_lazy("Last 90 days")),
            ("365", gettext_lazy("Last 365 days")),
            ("custom", gettext_lazy("Custom")),
        ],
    )
    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=gettext_lazy("Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    team = forms.TypedChoiceField(
        label=gettext_lazy("Team"), coerce=int, required=False, empty_value=None, choices=[]
    )
    agent = forms.TypedChoiceField(
        label=gettext_lazy("Agent"), coerce=int, required=False, empty_value=None, choices=[]
    )

    def __init__(self, *args: Any, actor: User, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        everyone = ("", _("Everyone"))
        # Only the teams and people whose tickets the actor reads.
        scope = scope_for(actor, "service.ticket", "view")
        teams = Team.objects.order_by("name")
        # The people who work tickets (a select of every user would be long and slow).
        people = User.objects.filter(
            is_active=True, role__in=(Role.SERVICE_AGENT, Role.ADMIN)
        ).order_by("full_name", "pk")
        if scope != Scope.ALL:
            teams = teams.filter(pk__in=[actor.team_id] if actor.team_id else [])
            people = people.filter(
                Q(pk=actor.pk) | Q(team_id=actor.team_id)
                if scope == Scope.TEAM and actor.team_id is not None
                else Q(pk=actor.pk)
            )
        self.fields["team"].choices = [  # type: ignore[attr-defined]
            everyone,
            *teams.values_list("pk", "name"),
        ]
        self.fields["agent"].choices = [  # type: ignore[attr-defined]
            everyone,
            *people.values_list("pk", "full_name")[:MAX_PEOPLE],
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            data["start"], data["end"] = resolve_period(
                period=data.get("period") or "",
                start=data.get("start"),
                end=data.get("end"),
                today=self.today,
            )
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return data


def _hours(value: float | None) -> str:
    return charts.DASH if value is None else charts.fmt_decimal(value, 1)


def _ticket_url(pk: int) -> str:
    try:
        return reverse("service:ticket_detail", args=[pk])
    except NoReverseMatch:
        return ""


def _ticket_list_url() -> str:
    try:
        return reverse("service:ticket_list")
    except NoReverseMatch:
        return ""


def _tiles(report: dict[str, Any]) -> list[Any]:
    summary = report["summary"]
    first = report["first_response_hours"]
    resolution = report["resolution_hours"]
    fcr = report["first_contact_resolution"]
    reopen = report["reopen"]
    sla = report["sla"]
    returns = report["returns"]
    per = _("median %(median)s h · p90 %(p90)s h")
    return [
        charts.kpi_tile(
            label=_("Tickets opened"),
            value=charts.fmt_int(summary["opened"]),
            change=None,
            change_text="",
        ),
        charts.kpi_tile(
            label=_("Complaints"),
            value=charts.fmt_int(summary["complaints"]),
            change=None,
            change_text="",
        ),
        charts.kpi_tile(
            label=_("First response (hours)"),
            value=per % {"median": _hours(first["median"]), "p90": _hours(first["p90"])},
            change=None,
            change_text="",
        ),
        charts.kpi_tile(
            label=_("Resolution (hours)"),
            value=per % {"median": _hours(resolution["median"]), "p90": _hours(resolution["p90"])},
            change=None,
            change_text="",
        ),
        charts.kpi_tile(
            label=_("Resolved at first contact"),
            value=charts.fmt_share(fcr["share"]),
            change=None,
            change_text="",
        ),
        charts.kpi_tile(
            label=_("Reopen rate"),
            value=charts.fmt_share(reopen["rate"]),
            change=None,
            change_text="",
        ),
        charts.kpi_tile(
            label=_("SLA compliance: resolution"),
            value=charts.fmt_share(sla["resolution"]["share"]),
            change=None,
            change_text="",
        ),
        charts.kpi_tile(
            label=_("SLA compliance: first response"),
            value=charts.fmt_share(sla["first_response"]["share"]),
            change=None,
            change_text="",
        ),
        charts.kpi_tile(
            label=_("Returns"),
            value=charts.fmt_int(returns["total"]),
            change=returns["change"],
            change_text=charts.fmt_change(returns["change"]),
            previous=charts.fmt_int(returns["previous_total"]),
            higher_is_better=False,
        ),
    ]


def _charts(report: dict[str, Any], rtl: bool) -> dict[str, Any]:
    days = report["complaints_per_day"]
    per_day = charts.time_bars(
        chart_id="service-complaints-per-day",
        title=_("Complaints per day"),
        description=_("Complaints opened on each day of the period."),
        bars=[
            charts.Bar(charts.fmt_date(d["day"]), d["count"], charts.fmt_int(d["count"]))
            for d in days
        ],
        rtl=rtl,
        empty=_("No complaints in this period."),
    )
    months = report["returns"]["months"]
    returns = charts.time_bars(
        chart_id="service-returns-per-month",
        title=_("Returns per month"),
        description=_("Return requests opened in each month of the period."),
        bars=[
            charts.Bar(charts.fmt_month(m["month"]), m["count"], charts.fmt_int(m["count"]))
            for m in months
        ],
        rtl=rtl,
        empty=_("No returns in this period."),
        max_labels=6,
    )
    none = _("(no category)")
    categories = charts.bar_chart(
        chart_id="service-top-categories",
        title=_("Top categories (root causes)"),
        description=_("Tickets opened in the period per category, most frequent first."),
        rows=[
            charts.BarRow(
                c["label"] or none,
                [
                    (c["count"], charts.fmt_int(c["count"])),
                    (c["complaints"], charts.fmt_int(c["complaints"])),
                ],
            )
            for c in report["top_categories"]
        ],
        series=[_("Tickets"), _("Complaints")],
        rtl=rtl,
        empty=_("No tickets in this period."),
    )
    return {"per_day": per_day, "returns": returns, "categories": categories}


def _open_table(report: dict[str, Any]) -> dict[str, Any]:
    counts = {(r["status"], r["priority"]): r["count"] for r in report["open_by_status_priority"]}
    priorities = list(TicketPriority)
    rows = []
    for status in OPEN_STATUSES:
        cells = [counts.get((status, p.value), 0) for p in priorities]
        rows.append(
            {
                "label": TicketStatus(status).label,
                "cells": [charts.fmt_int(c) for c in cells],
                "total": charts.fmt_int(sum(cells)),
            }
        )
    totals = [sum(counts.get((s, p.value), 0) for s in OPEN_STATUSES) for p in priorities]
    return {
        "columns": [p.label for p in priorities],
        "rows": rows,
        "totals": [charts.fmt_int(t) for t in totals],
        "total": charts.fmt_int(sum(totals)),
    }


def _group_rows(rows: list[dict[str, Any]], unnamed: str) -> list[dict[str, Any]]:
    return [
        {
            "name": r["name"] or unnamed,
            "opened": charts.fmt_int(r["opened"]),
            "complaints": charts.fmt_int(r["complaints"]),
            "resolved": charts.fmt_int(r["resolved"]),
            "first_contact": charts.fmt_share(r["first_contact_share"]),
            "reopen": charts.fmt_share(r["reopen_rate"]),
            "sla": charts.fmt_share(r["sla_compliance"]),
            "mean_resolution": _hours(r["mean_resolution_hours"]),
        }
        for r in rows
    ]


def _high_value(report: dict[str, Any]) -> list[dict[str, Any]]:
    statuses = dict(TicketStatus.choices)
    priorities = dict(TicketPriority.choices)
    out = []
    for row in report["high_value_open_complaints"]:
        customer_url = (
            reverse("customers:detail", args=[row["customer_id"]]) if row["customer_id"] else ""
        )
        out.append(
            dict(
                row,
                url=_ticket_url(row["id"]),
                customer_url=customer_url,
                status_label=statuses.get(row["status"], row["status"]),
                priority_label=priorities.get(row["priority"], row["priority"]),
            )
        )
    return out


@login_required
@require_GET
@hidden_as_404
def dashboard(request: HttpRequest) -> HttpResponse:
    """Complaint management metrics for a period, a team and an agent."""
    actor = actor_of(request)
    metrics_scope(actor)  # 404 for users who see no tickets
    today = timezone.now().astimezone(user_zone(actor)).date()
    form = DashboardForm(request.GET or {"period": str(PERIODS[0])}, actor=actor, today=today)
    if not form.is_valid():
        return render(
            request, "service/dashboard/dashboard.html", {"form": form, "report": None}, status=422
        )
    values = form.cleaned_data
    report = service_metrics(
        actor=actor,
        start=values["start"],
        end=values["end"],
        team_id=values.get("team"),
        owner_id=values.get("agent"),
    )
    rtl = translation.get_language_bidi()
    context = {
        "form": form,
        "report": report,
        "tiles": _tiles(report),
        "charts": _charts(report, rtl),
        "open_table": _open_table(report),
        "high_value": _high_value(report),
        "by_team": _group_rows(report["by_team"], _("(no team)")),
        "by_agent": _group_rows(report["by_agent"], _("(unassigned)")),
        "ticket_list_url": _ticket_list_url(),
        "period_text": _("%(start)s – %(end)s")
        % {"start": charts.fmt_date(report["start"]), "end": charts.fmt_date(report["end"])},
        "previous_text": _("%(start)s – %(end)s")
        % {
            "start": charts.fmt_date(report["returns"]["previous_start"]),
            "end": charts.fmt_date(report["returns"]["previous_end"]),
        },
    }
    return render(request, "service/dashboard/dashboard.html", context)


urlpatterns = [path("", dashboard, name="dashboard")]

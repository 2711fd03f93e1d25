"""The analytic attributes as filters of every customer list (page and API).

Registered as a ``FilterExtension`` of ``customers.customer`` when the app is ready, so the
customer app lists, validates and applies them without importing analytics.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from vefa.analytics.models import ChurnRisk, CustomerScore, LadderStep, RfmSegment, ValueClass
from vefa.customers.filters import with_related

YES_NO = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
SCORES = [("", _("Any"))] + [(str(n), str(n)) for n in range(1, 6)]

# Parameters named after the field of the customer's score they compare, by kind.
CHOICE_FILTERS = ("rfm_segment", "ladder_step", "value_class", "churn_risk")
FLAG_FILTERS = ("declining", "overdue")
SCORE_FILTERS = ("r_score", "f_score")
PARAMETERS = (
    *CHOICE_FILTERS,
    *FLAG_FILTERS,
    *SCORE_FILTERS,
    "clv_min",
    "p_alive_below",
)


def _choice(label: Any, choices: Any) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=[("", _("Any")), *choices])


class CustomerAnalyticsFilters:
    """RFM segment and scores, ladder step, value class, churn risk, decline, CLV, P(alive)."""

    title = _("Analytics")

    def form_fields(self) -> dict[str, forms.Field]:
        return {
            "rfm_segment": _choice(_("RFM segment"), RfmSegment.choices),
            "r_score": forms.ChoiceField(label=_("R score"), required=False, choices=SCORES),
            "f_score": forms.ChoiceField(label=_("F score"), required=False, choices=SCORES),
            "ladder_step": _choice(_("Ladder step"), LadderStep.choices),
            "value_class": _choice(_("Value class"), ValueClass.choices),
            "churn_risk": _choice(_("Churn risk"), ChurnRisk.choices),
            "declining": forms.ChoiceField(label=_("Declining"), required=False, choices=YES_NO),
            "overdue": forms.ChoiceField(
                label=_("Overdue for a purchase"), required=False, choices=YES_NO
            ),
            "clv_min": forms.DecimalField(
                label=_("Lifetime value at least"),
                required=False,
                min_value=Decimal(0),
                max_digits=18,
                decimal_places=2,
            ),
            "p_alive_below": forms.DecimalField(
                label=_("P(alive) below"),
                required=False,
                min_value=Decimal(0),
                max_value=Decimal(1),
                max_digits=4,
                decimal_places=3,
            ),
        }

    def apply(self, queryset: QuerySet[Any], data: Mapping[str, Any]) -> QuerySet[Any]:
        """The customers whose score meets every condition given: one condition on the score
        table, in the form ``with_related`` finds cheaper for the list or the count."""
        conditions: dict[str, Any] = {}
        for name in CHOICE_FILTERS:
            if data.get(name):
                conditions[name] = data[name]
        for name in SCORE_FILTERS:
            if data.get(name):
                conditions[name] = int(data[name])
        for name in FLAG_FILTERS:
            if data.get(name) in ("true", "false"):
                conditions[name] = data[name] == "true"
        if data.get("clv_min") is not None:
            conditions["clv__gte"] = data["clv_min"]
        if data.get("p_alive_below") is not None:
            conditions["p_alive__lt"] = float(data["p_alive_below"])
        if not conditions:
            return queryset
        scores = CustomerScore.objects.filter(**conditions)
        # P(alive) has no index of its own: it is checked customer by customer.
        indexed = set(conditions) != {"p_alive__lt"}
        return with_related(queryset, scores, "customer", indexed=indexed)

    def __repr__(self) -> str:
        return "CustomerAnalyticsFilters()"

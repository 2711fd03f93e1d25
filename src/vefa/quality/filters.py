"""The customer list learns the data-quality issues as a filter (``?quality_issue=<code>``),
so each figure of the data-quality page links to the customers behind it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from vefa.customers.filters import register_filter_extension
from vefa.quality.issues import ISSUE_CODES, ISSUES, issue_condition


class CustomerQualityFilters:
    """A customer list filter extension (see ``vefa.customers.filters.FilterExtension``)."""

    title = _("Data quality")

    def form_fields(self) -> dict[str, forms.Field]:
        return {
            "quality_issue": forms.ChoiceField(
                label=_("Data quality issue"),
                required=False,
                choices=[("", "—"), *ISSUES],
            )
        }

    def apply(self, queryset: QuerySet[Any], data: Mapping[str, Any]) -> QuerySet[Any]:
        code = data.get("quality_issue")
        if code in ISSUE_CODES:
            queryset = queryset.filter(issue_condition(str(code)))
        return queryset

    def __repr__(self) -> str:
        return "CustomerQualityFilters()"


register_filter_extension("customers.customer", CustomerQualityFilters())

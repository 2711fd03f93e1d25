"""Forms of the returns pages. They only shape input; the service validates and writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vefa.interactions.forms import DATETIME_FORMAT, BootstrapMixin, datetime_input
from vefa.service.choices import Disposition, ReturnReason, ReturnStatus
from vefa.service.services.returns import STEP_FIELDS

MAX_LINE_INPUTS = 200

# The fields a step cannot do without (the service says so too; the page marks them).
REQUIRED: dict[str, tuple[str, ...]] = {
    ReturnStatus.PICKUP: ("carrier",),
    ReturnStatus.RECEIVED: ("storage_location",),
    ReturnStatus.INSPECTED: ("inspection_notes", "disposition"),
    ReturnStatus.REJECTED: ("note",),
}


class ReturnRequestForm(BootstrapMixin, forms.Form):
    """The header of a new return; the lines come from ``lines_from_post``."""

    reason = forms.ChoiceField(label=_("Reason"), choices=[("", "—"), *ReturnReason.choices])
    reason_detail = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea({"rows": 3}),
    )
    contact = forms.TypedChoiceField(
        label=_("Contact person"), coerce=int, required=False, empty_value=None
    )
    ticket = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, contacts: Iterable[tuple[int, str]] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [("", "—"), *contacts]  # type: ignore[attr-defined]

    def service_data(self, order_id: int) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {
            "order": order_id,
            "reason": data["reason"],
            "reason_detail": data.get("reason_detail") or "",
        }
        if data.get("contact"):
            values["contact"] = data["contact"]
        if data.get("ticket"):
            values["ticket"] = data["ticket"]
        return values


def lines_from_post(post: Mapping[str, Any], line_ids: Iterable[int]) -> list[dict[str, Any]]:
    """The chosen lines: ``qty_<id>`` above nothing, with ``reason_<id>`` when given.

    A quantity is passed on as typed: the service says what is wrong with it.
    """
    lines: list[dict[str, Any]] = []
    for line_id in list(line_ids)[:MAX_LINE_INPUTS]:
        raw = str(post.get(f"qty_{line_id}", "") or "").strip()
        if not raw or raw in {"0", "0.0", "0,0"}:
            continue
        line: dict[str, Any] = {"order_line": line_id, "quantity": raw[:40]}
        reason = str(post.get(f"reason_{line_id}", "") or "")
        if reason:
            line["reason"] = reason[:40]
        lines.append(line)
    return lines


class StepForm(BootstrapMixin, forms.Form):
    """The data of one step; only the fields the step takes are kept."""

    carrier = forms.CharField(label=_("Carrier"), max_length=100, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False)
    pickup_at = forms.DateTimeField(
        label=_("Pickup time"),
        required=False,
        widget=datetime_input(),
        input_formats=[DATETIME_FORMAT],
    )
    storage_location = forms.CharField(label=_("Storage location"), max_length=100, required=False)
    inspection_notes = forms.CharField(
        label=_("Inspection notes"), required=False, widget=forms.Textarea({"rows": 3})
    )
    disposition = forms.ChoiceField(
        label=_("Disposition"), required=False, choices=[("", "—"), *Disposition.choices]
    )
    refund_amount = forms.CharField(label=_("Refund amount"), max_length=40, required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea({"rows": 2}))

    def __init__(self, *args: Any, status: str, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"step-{status}")
        super().__init__(*args, **kwargs)
        self.status = status
        keep = STEP_FIELDS.get(status, frozenset())
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        for name in REQUIRED.get(status, ()):
            self.fields[name].required = True
        if status == ReturnStatus.REJECTED:
            self.fields["note"].label = _("Why is it rejected?")

    @property
    def label(self) -> str:
        return str(ReturnStatus(self.status).label)

    def service_data(self, post: Mapping[str, Any], line_ids: Iterable[int]) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        if self.status == ReturnStatus.INSPECTED:
            per_line = []
            for line_id in list(line_ids)[:MAX_LINE_INPUTS]:
                value = str(post.get(f"line_disposition_{line_id}", "") or "")
                if value:
                    per_line.append({"id": line_id, "disposition": value[:20]})
            if per_line:
                data["lines"] = per_line
        return data

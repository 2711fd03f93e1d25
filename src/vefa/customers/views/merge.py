"""Merging customers: the side-by-side merge page and the merge history.

URL forms (names in the ``customers`` namespace):

- ``customers:merge`` — ``/customers/merge/?ids=12,34,56`` (2 to 10 customer ids, comma
  separated; the first id is the proposed survivor). ``reverse("customers:merge")`` plus the
  ``ids`` query. GET shows the records side by side, POST merges.
- ``customers:merge_detail`` — ``/customers/merges/<merge id>/``: one recorded merge.
- ``customers:merge_undo`` — ``/customers/merges/<merge id>/undo/`` (POST): undo it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can
from vefa.common.errors import NotFound, ValidationFailed
from vefa.customers.models import Customer, CustomerMerge
from vefa.customers.services import merge as merging
from vefa.customers.views._helpers import actor_of, hidden_as_404
from vefa.platform.custom_fields import definitions_for, display_value

CUSTOMER_MODEL = "customers.customer"


def _ids_param(raw: str) -> list[str]:
    return [part.strip() for part in raw[:400].split(",") if part.strip()]


def _display(customer: Customer, name: str) -> str:
    """The value of ``name`` as people read it (choices by label, dates localised)."""
    if name in ("owner", "team"):
        related = getattr(customer, name)
        return "" if related is None else str(related)
    value = getattr(customer, name)
    if value is None or value == "":
        return ""
    field = Customer._meta.get_field(name)
    if getattr(field, "choices", None):
        return str(getattr(customer, f"get_{name}_display")())
    return str(formats.localize(value, use_l10n=True))


def _rows(records: list[Customer], choices: dict[str, int]) -> list[dict[str, Any]]:
    """One row per field with a value in some record: a cell per record."""
    rows: list[dict[str, Any]] = []
    for name in merging.PICKABLE_FIELDS:
        cells = [{"record": r, "value": _display(r, name)} for r in records]
        if not any(c["value"] for c in cells):
            continue
        rows.append(
            {
                "name": name,
                "label": str(getattr(Customer._meta.get_field(name), "verbose_name", name)),
                "cells": cells,
                "chosen": choices.get(name),
                "same": len({c["value"] for c in cells}) == 1,
            }
        )
    for definition in definitions_for(CUSTOMER_MODEL):
        key = merging.CUSTOM_PREFIX + definition.key
        cells = []
        for record in records:
            raw = (record.custom_fields or {}).get(definition.key)
            cells.append(
                {
                    "record": record,
                    "value": "" if raw in (None, "") else display_value(definition, raw),
                }
            )
        if not any(c["value"] for c in cells):
            continue
        rows.append(
            {
                "name": key,
                "label": definition.label,
                "cells": cells,
                "chosen": choices.get(key),
                "same": len({c["value"] for c in cells}) == 1,
            }
        )
    return rows


def _counts(records: list[Customer]) -> list[dict[str, Any]]:
    return [
        {"label": c.label, "cells": [c.counts.get(r.pk, 0) for r in records]}
        for c in merging.related_counts([r.pk for r in records])
    ]


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def merge(request: HttpRequest) -> HttpResponse:
    """The side-by-side merge page: a column per record, a choice per field, then merge."""
    actor = actor_of(request)
    source = request.POST if request.method == "POST" else request.GET
    raw_ids = _ids_param(source.get("ids", ""))
    added = request.GET.get("to_customer", "")
    if request.method == "GET" and added.isdigit() and added not in raw_ids:
        raw_ids.append(added)
    errors: list[str] = []
    if request.method == "GET" and len(raw_ids) < 2:
        # Started from one record's page: pick the others first.
        return render(
            request,
            "customers/merge.html",
            {"rows": [], "errors": [], "ids": ",".join(raw_ids), "max_merge": merging.MAX_MERGE},
        )
    try:
        records = merging.merge_candidates(actor=actor, ids=raw_ids)
    except ValidationFailed as exc:
        messages_ = [m for ms in exc.fields.values() for m in ms] or [exc.message]
        return render(
            request,
            "customers/merge.html",
            {
                "rows": [],
                "errors": messages_,
                "ids": ",".join(raw_ids),
                "max_merge": merging.MAX_MERGE,
            },
            status=422,
        )
    survivor_id = source.get("survivor") or str(records[0].pk)
    by_id = {str(r.pk): r for r in records}
    survivor = by_id.get(survivor_id, records[0])
    ordered = [survivor, *[r for r in records if r.pk != survivor.pk]]
    choices = merging.default_choices(ordered)
    if request.method == "POST":
        picks = {
            key.removeprefix("pick_"): value
            for key, value in request.POST.items()
            if key.startswith("pick_") and len(key) < 120
        }
        try:
            done = merging.merge_customers(actor, survivor, list(ordered[1:]), picks)
        except ValidationFailed as exc:
            errors = [m for ms in exc.fields.values() for m in ms] or [exc.message]
            choices.update({k: int(str(v)) for k, v in picks.items() if str(v).isdigit()})
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)d record was merged into this customer.",
                    "%(n)d records were merged into this customer.",
                    len(done.merged_ids),
                )
                % {"n": len(done.merged_ids)},
            )
            return HttpResponseRedirect(reverse("customers:detail", args=[survivor.pk]))
    context = {
        "records": records,
        "survivor": survivor,
        "rows": _rows(records, choices),
        "counts": _counts(records),
        "ids": ",".join(str(r.pk) for r in records),
        "errors": errors,
        "max_merge": merging.MAX_MERGE,
    }
    return render(request, "customers/merge.html", context, status=422 if errors else 200)


@login_required
@require_GET
@hidden_as_404
def merge_history(request: HttpRequest, pk: int) -> HttpResponse:
    """The merges into a customer, for its page (loaded by htmx)."""
    actor = actor_of(request)
    merges = merging.merges_of(actor=actor, customer_id=pk)
    customer = Customer.objects.get(pk=pk)
    return render(
        request,
        "customers/merge_history.html",
        {"merges": merges, "customer": customer, "can_change": can(actor, "change", customer)},
    )


def _merge_context(actor: Any, merge: CustomerMerge) -> dict[str, Any]:
    from django.apps import apps

    def label(model: str) -> str:
        try:
            return str(apps.get_model(model)._meta.verbose_name_plural)
        except LookupError:
            return model

    moved: dict[str, int] = {}
    for key, count in merging.moved_counts(merge).items():
        model = key.rsplit(".", 1)[0]
        moved[label(model)] = moved.get(label(model), 0) + count
    return {
        "merge": merge,
        "moved": sorted(moved.items()),
        "collapsed": [(label(c["model"]), c["pk"], c["reason"]) for c in merge.collapsed],
        "kept": [(label(k["model"]), k["pk"], k["customer"]) for k in merge.kept],
        "can_undo": merge.undone_at is None
        and can(actor, "change", merge.survivor)
        and merge.survivor.merged_into_id is None,
    }


@login_required
@require_GET
@hidden_as_404
def merge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One merge: what moved, what was removed as a duplicate, what stayed; undo."""
    actor = actor_of(request)
    merge = merging.merge_get(actor=actor, merge_id=pk)
    return render(request, "customers/merge_detail.html", _merge_context(actor, merge))


@login_required
@require_POST
@hidden_as_404
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo a merge; when it cannot be exact, say why and offer to undo what can be."""
    actor = actor_of(request)
    merge = merging.merge_get(actor=actor, merge_id=pk)
    partial = request.POST.get("partial") == "1"
    try:
        result = merging.undo_merge(actor, merge, partial=partial)
    except ValidationFailed as exc:
        context = _merge_context(actor, merge)
        context["problems"] = [m for ms in exc.fields.values() for m in ms] or [exc.message]
        context["headline"] = exc.message
        return render(request, "customers/merge_detail.html", context, status=422)
    if result.problems:
        messages.warning(
            request,
            _("The merge was undone except: %(problems)s")
            % {"problems": "; ".join(result.problems[:20])},
        )
    else:
        messages.success(request, _("The merge was undone."))
    return HttpResponseRedirect(reverse("customers:detail", args=[merge.survivor_id]))


def redirect_if_merged(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a visit of a merged customer to the record it was merged into (else 404)."""
    target = merging.merged_survivor(actor=actor_of(request), customer_id=pk)
    if target is None:
        raise NotFound(_("Not found."))
    messages.info(request, _("That customer was merged into this one."))
    return HttpResponseRedirect(reverse("customers:detail", args=[target.pk]))

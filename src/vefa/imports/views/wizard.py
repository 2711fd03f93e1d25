"""The import wizard: upload → mapping → preview → run, and the list of runs.

1. ``upload``: what the file holds (customers, leads, products, orders …) and the file;
2. ``mapping``: the detected encoding and delimiter (correctable), one field picker per
   column with a filter box, the match key, update or skip on a match, the source name the
   mapping is remembered for;
3. ``preview``: the first rows validated exactly as the run will, errors shown on their cell,
   the counts of what would be created, updated, skipped or refused;
4. ``run_detail``: the background job's progress (the page polls ``run_progress``), then the
   counts, the error file and the undo button.

Every page needs the ``imports.importrun`` policy; a run the user may not see is a 404.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, scope_for
from vefa.accounts.choices import Scope
from vefa.common.errors import ApplicationError, PermissionDenied, ValidationFailed
from vefa.imports import selectors, services
from vefa.imports.entities import adapter_for
from vefa.imports.forms import LayoutForm, MappingForm, UploadForm, importable_entities
from vefa.imports.models import ImportRun, RunStatus
from vefa.imports.readers import ENCODING_LABELS
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx

POLICY = "imports.importrun"
PAGE_SIZE = 50
UNFINISHED = (RunStatus.UPLOADED, RunStatus.QUEUED, RunStatus.RUNNING)
STATUS_BADGES = {
    RunStatus.UPLOADED: "secondary",
    RunStatus.QUEUED: "info",
    RunStatus.RUNNING: "primary",
    RunStatus.DONE: "success",
    RunStatus.FAILED: "danger",
    RunStatus.UNDONE: "dark",
    RunStatus.PARTLY_UNDONE: "warning",
}
ACTION_BADGES = {
    "create": "success",
    "update": "info",
    "skip": "secondary",
    "unchanged": "light",
    "error": "danger",
}


def text_direction(text: str) -> str:
    """``rtl`` or ``ltr`` by the first strong character; text without one (numbers, phone
    numbers, dates) reads left to right, also on a right-to-left page."""
    for char in text[:200]:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return "ltr"


def _require_imports(request: HttpRequest) -> None:
    """A role without the imports pages (sales reps, service agents …) gets a 404."""
    if scope_for(actor_of(request), POLICY, "view") == Scope.NONE:
        raise Http404(_("No such page."))


def _labels() -> dict[str, str]:
    from vefa.imports.entities import entities

    return {name: str(adapter_for(name).label) for name in entities()}


def _step_context(run: ImportRun | None, step: int) -> dict[str, Any]:
    labels = [_("Upload"), _("Columns"), _("Preview"), _("Import")]
    return {"run": run, "step": step, "step_labels": list(enumerate(labels, start=1))}


# --- the list ----------------------------------------------------------------------------------


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    _require_imports(request)
    actor = actor_of(request)
    before: int | None
    try:
        before = int(request.GET["before"]) if request.GET.get("before") else None
    except ValueError:
        before = None
    runs = selectors.run_list(actor, limit=PAGE_SIZE + 1, before=before)
    more = len(runs) > PAGE_SIZE
    runs = runs[:PAGE_SIZE]
    context = {
        "runs": runs,
        "next_before": runs[-1].pk if more and runs else None,
        "labels": _labels(),
        "badges": STATUS_BADGES,
        "can_import": bool(importable_entities(actor)),
        "unfinished": UNFINISHED,
    }
    if is_htmx(request) and before is not None:
        return render(request, "imports/list.html#run-rows", context)
    return render(request, "imports/list.html", context)


# --- 1. upload ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    _require_imports(request)
    actor = actor_of(request)
    if not importable_entities(actor):
        raise Http404(_("No such page."))
    initial = {"entity": request.GET.get("entity", "")}
    form = UploadForm(request.POST or None, request.FILES or None, actor=actor, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            file = data["file"]
            try:
                run = services.upload(
                    actor=actor,
                    entity=data["entity"],
                    name=file.name or "",
                    stream=file,
                    source=data.get("source", ""),
                )
            except PermissionDenied:
                raise Http404(_("No such page.")) from None
            except ValidationFailed as exc:
                _form_errors(form, exc, default="file")
            else:
                return HttpResponseRedirect(reverse("imports:mapping", args=[run.pk]))
        status = 422
    context = {"form": form, **_step_context(None, 1)}
    return render(request, "imports/upload.html", context, status=status)


def _form_errors(form: Any, exc: ApplicationError, default: str) -> None:
    fields = exc.fields or {default: [str(exc.message)]}
    for name, problems in fields.items():
        target = name if name in form.fields else None
        for problem in problems:
            form.add_error(target, str(problem))


# --- 2. mapping --------------------------------------------------------------------------------


def _mapping_form(run: ImportRun, data: Any = None) -> MappingForm:
    adapter = adapter_for(run.entity)
    initial: dict[str, Any] = {
        "match_key": run.match_key,
        "on_match": run.on_match,
        "source": run.source,
    }
    for index, header in enumerate(run.headers):
        initial[f"col-{index}"] = (run.columns or {}).get(header, "")
    return MappingForm(data, adapter=adapter, headers=list(run.headers), initial=initial)


def _mapping_context(
    run: ImportRun, form: MappingForm, layout_form: LayoutForm | None
) -> dict[str, Any]:
    samples = selectors.sample_rows(run)
    examples = [
        [
            (value, text_direction(value))
            for value in (row[i] if i < len(row) else "" for row in samples)
        ]
        for i in range(len(run.headers))
    ]
    adapter = adapter_for(run.entity)
    return {
        **_step_context(run, 2),
        "form": form,
        "layout_form": layout_form,
        "columns": [
            (index, header, field, examples[index] if index < len(examples) else [])
            for index, header, field in form.column_fields()
        ],
        "entity_label": str(adapter.label),
        "required": [str(f.label) for f in adapter.fields if f.required],
        "encoding_label": ENCODING_LABELS.get(run.encoding, run.encoding),
        "delimiter_label": dict(LayoutForm.base_fields["delimiter"].choices).get(  # type: ignore[attr-defined]
            run.delimiter, run.delimiter
        ),
        "is_orders": run.entity == "orders",
    }


def _editable_run(request: HttpRequest, pk: int) -> ImportRun:
    run = selectors.run_for(actor_of(request), pk)
    if not can(actor_of(request), "change", run):
        raise Http404(_("No such import."))
    return run


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def mapping(request: HttpRequest, pk: int) -> HttpResponse:
    _require_imports(request)
    actor = actor_of(request)
    run = _editable_run(request, pk)
    if run.status != RunStatus.UPLOADED:
        return HttpResponseRedirect(reverse("imports:run_detail", args=[run.pk]))
    layout_form = (
        LayoutForm(initial={"encoding": run.encoding, "delimiter": run.delimiter})
        if run.file_kind == "csv"
        else None
    )
    status = 200
    if request.method == "POST":
        form = _mapping_form(run, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            on_match = "update" if run.entity == "orders" else data["on_match"]
            try:
                services.configure(
                    actor=actor,
                    run_id=run.pk,
                    columns=form.columns(),
                    match_key=data.get("match_key") or "",
                    on_match=on_match,
                    source=data.get("source", ""),
                )
            except PermissionDenied:
                raise Http404(_("No such import.")) from None
            except ValidationFailed as exc:
                _form_errors(form, exc, default="__all__")
            else:
                return HttpResponseRedirect(reverse("imports:preview", args=[run.pk]))
        status = 422
    else:
        form = _mapping_form(run)
    return render(
        request, "imports/mapping.html", _mapping_context(run, form, layout_form), status=status
    )


@login_required
@require_POST
@hidden_as_404
def layout(request: HttpRequest, pk: int) -> HttpResponse:
    """Read the CSV again with the chosen encoding and delimiter."""
    _require_imports(request)
    run = _editable_run(request, pk)
    layout_form = LayoutForm(request.POST)
    if layout_form.is_valid():
        try:
            run = services.change_layout(
                actor=actor_of(request),
                run_id=run.pk,
                encoding=layout_form.cleaned_data["encoding"],
                delimiter=layout_form.cleaned_data["delimiter"],
            )
        except PermissionDenied:
            raise Http404(_("No such import.")) from None
        except ValidationFailed as exc:
            _form_errors(layout_form, exc, default="encoding")
        else:
            messages.success(request, _("The file was read again with the chosen layout."))
            return HttpResponseRedirect(reverse("imports:mapping", args=[run.pk]))
    return render(
        request,
        "imports/mapping.html",
        _mapping_context(run, _mapping_form(run), layout_form),
        status=422,
    )


# --- 3. preview --------------------------------------------------------------------------------


@login_required
@require_GET
@hidden_as_404
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    _require_imports(request)
    run = _editable_run(request, pk)
    if run.status != RunStatus.UPLOADED:
        return HttpResponseRedirect(reverse("imports:run_detail", args=[run.pk]))
    try:
        result = services.preview(actor=actor_of(request), run_id=run.pk)
    except PermissionDenied:
        raise Http404(_("No such import.")) from None
    except ValidationFailed as exc:
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(reverse("imports:mapping", args=[run.pk]))
    labels = dict(result.fields)
    # The mapped columns in file order: (header, field name, field label).
    shown = [
        (header, result.columns[header], labels.get(result.columns[header], ""))
        for header in result.headers
        if result.columns.get(header)
    ]
    rows = []
    for row in result.rows:
        by_column: dict[str, list[str]] = {}
        general: list[str] = []
        for error in row.errors:
            if error.column in {h for h, _n, _l in shown} or error.column in labels:
                key = error.column
                if key in labels:  # an error named by field: show it on that field's column
                    key = next((h for h, n, _l in shown if n == key), key)
                by_column.setdefault(key, []).append(error.reason)
            else:
                general.append(error.reason)
        cells = [
            (
                row.values.get(name, ""),
                by_column.get(header, []),
                text_direction(row.values.get(name, "")),
            )
            for header, name, _l in shown
        ]
        rows.append({"row": row, "cells": cells, "general": general})
    order = ["create", "update", "unchanged", "skip", "error"]
    counts = [(key, result.counts.get(key, 0)) for key in order]
    context = {
        **_step_context(run, 3),
        "result": result,
        "shown": shown,
        "rows": rows,
        "counts": counts,
        "badges": ACTION_BADGES,
        "action_labels": {
            "create": _("Create"),
            "update": _("Update"),
            "unchanged": _("Unchanged"),
            "skip": _("Skip"),
            "error": _("Error"),
        },
        "entity_label": str(adapter_for(run.entity).label),
    }
    return render(request, "imports/preview.html", context)


@login_required
@require_POST
@hidden_as_404
def start(request: HttpRequest, pk: int) -> HttpResponse:
    _require_imports(request)
    run = _editable_run(request, pk)
    try:
        services.start_import(actor=actor_of(request), run_id=run.pk)
    except PermissionDenied:
        raise Http404(_("No such import.")) from None
    except ValidationFailed as exc:
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(reverse("imports:mapping", args=[run.pk]))
    return HttpResponseRedirect(reverse("imports:run_detail", args=[run.pk]))


# --- 4. the run --------------------------------------------------------------------------------


def _run_context(request: HttpRequest, run: ImportRun) -> dict[str, Any]:
    actor = actor_of(request)
    return {
        **_step_context(run, 4),
        "entity_label": _labels().get(run.entity, run.entity),
        "badges": STATUS_BADGES,
        "finished": run.status not in (RunStatus.QUEUED, RunStatus.RUNNING),
        "can_undo": (
            run.status in (RunStatus.DONE, RunStatus.FAILED, RunStatus.PARTLY_UNDONE)
            and can(actor, "delete", run)
        ),
        "problems": selectors.problems_of(run)[:100],
        "job": run.job,
    }


@login_required
@require_GET
@hidden_as_404
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_imports(request)
    run = selectors.run_for(actor_of(request), pk)
    if run.status == RunStatus.UPLOADED and can(actor_of(request), "change", run):
        return HttpResponseRedirect(reverse("imports:mapping", args=[run.pk]))
    return render(request, "imports/detail.html", _run_context(request, run))


@login_required
@require_GET
@hidden_as_404
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress and result block; it polls itself every second until the run ends."""
    _require_imports(request)
    run = selectors.run_for(actor_of(request), pk)
    return render(request, "imports/_progress.html", _run_context(request, run))


@login_required
@require_GET
@hidden_as_404
def errors_download(request: HttpRequest, pk: int) -> FileResponse:
    _require_imports(request)
    name, handle = services.errors_file(actor=actor_of(request), run_id=pk)
    response = FileResponse(handle, as_attachment=True, filename=name, content_type="text/csv")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
@hidden_as_404
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    _require_imports(request)
    run = selectors.run_for(actor_of(request), pk)
    try:
        result = services.undo_import(actor=actor_of(request), run_id=run.pk)
    except PermissionDenied:
        raise Http404(_("No such import.")) from None
    except ValidationFailed as exc:
        messages.error(request, str(exc.message))
    else:
        if result.problems:
            messages.warning(
                request,
                _(
                    "Import undone in part: %(deleted)d records deleted, %(restored)d restored, "
                    "%(problems)d could not be undone (listed below)."
                )
                % {
                    "deleted": result.deleted,
                    "restored": result.restored,
                    "problems": len(result.problems),
                },
            )
        else:
            messages.success(
                request,
                _("Import undone: %(deleted)d records deleted, %(restored)d restored.")
                % {"deleted": result.deleted, "restored": result.restored},
            )
    return HttpResponseRedirect(reverse("imports:run_detail", args=[run.pk]))


urlpatterns = [
    path("", run_list, name="run_list"),
    path("new/", upload, name="upload"),
    path("<int:pk>/", run_detail, name="run_detail"),
    path("<int:pk>/mapping/", mapping, name="mapping"),
    path("<int:pk>/layout/", layout, name="layout"),
    path("<int:pk>/preview/", preview, name="preview"),
    path("<int:pk>/start/", start, name="start"),
    path("<int:pk>/progress/", run_progress, name="run_progress"),
    path("<int:pk>/errors.csv", errors_download, name="errors"),
    path("<int:pk>/undo/", undo, name="undo"),
]

"""The pipelines page: managers add pipelines and stages, rename, reorder, set kinds,
probabilities and stale-after days. Each small form posts and comes back to the page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vefa.common.errors import Conflict, ValidationFailed
from vefa.sales.choices import PipelineKind, StageKind
from vefa.sales.forms.catalogue import PipelineForm, StageForm, apply_errors
from vefa.sales.selectors import catalogue as selectors
from vefa.sales.services import catalogue_pipelines as services
from vefa.sales.views.catalogue_helpers import (
    actor_of,
    can_manage,
    catalogue_page,
    flash_errors,
    require_manager,
)


def _back(pipeline_id: int | None = None) -> HttpResponseRedirect:
    url = reverse("sales:pipeline_list")
    return HttpResponseRedirect(f"{url}#pipeline-{pipeline_id}" if pipeline_id else url)


def _invalid_form(request: HttpRequest, form: PipelineForm | StageForm) -> None:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


@login_required
@require_http_methods(["GET", "POST"])
@catalogue_page
def pipeline_list(request: HttpRequest) -> HttpResponse:
    """Every pipeline with its stages; managers add a pipeline with the form at the end."""
    actor = actor_of(request)
    form = PipelineForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        require_manager(actor)
        if form.is_valid():
            data = form.cleaned_data
            try:
                pipeline = services.pipeline_create(
                    actor=actor,
                    name=data["name"],
                    kind=data["kind"],
                    is_default=data["is_default"],
                    is_active=data["is_active"],
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The pipeline was added with three stages."))
                return _back(pipeline.pk)
    return render(
        request,
        "sales/catalogue/pipeline_list.html",
        {
            "pipelines": selectors.pipeline_list(actor=actor),
            "form": form,
            "can_manage": can_manage(actor),
            "pipeline_kinds": PipelineKind.choices,
            "stage_kinds": StageKind.choices,
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
@catalogue_page
def pipeline_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    pipeline = selectors.pipeline_get(actor=actor, pk=pk)
    require_manager(actor)
    form = PipelineForm(request.POST)
    if not form.is_valid():
        _invalid_form(request, form)
        return _back(pipeline.pk)
    data = form.cleaned_data
    try:
        services.pipeline_update(
            actor=actor,
            pipeline_id=pipeline.pk,
            data={
                "name": data["name"],
                "kind": data["kind"],
                "is_default": data["is_default"] or pipeline.is_default,
                "is_active": data["is_active"],
            },
            expected_version=data.get("version"),
        )
    except Conflict:
        messages.error(request, _("Someone else changed this pipeline. Check it and try again."))
    except ValidationFailed as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("The pipeline was saved."))
    return _back(pipeline.pk)


@login_required
@require_POST
@catalogue_page
def pipeline_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    pipeline = selectors.pipeline_get(actor=actor, pk=pk)
    try:
        services.pipeline_delete(actor=actor, pipeline_id=pipeline.pk)
    except ValidationFailed as exc:
        flash_errors(request, exc)
        return _back(pipeline.pk)
    messages.success(request, _("The pipeline was deleted."))
    return _back()


@login_required
@require_POST
@catalogue_page
def stage_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    pipeline = selectors.pipeline_get(actor=actor, pk=pk)
    require_manager(actor)
    form = StageForm(request.POST)
    if not form.is_valid():
        _invalid_form(request, form)
        return _back(pipeline.pk)
    data = form.cleaned_data
    try:
        services.stage_create(
            actor=actor,
            pipeline_id=pipeline.pk,
            name=data["name"],
            kind=data["kind"],
            probability=data["probability"],
            stale_after_days=data["stale_after_days"],
        )
    except ValidationFailed as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("The stage was added."))
    return _back(pipeline.pk)


@login_required
@require_POST
@catalogue_page
def stage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    stage = selectors.stage_get(actor=actor, pk=pk)
    require_manager(actor)
    form = StageForm(request.POST)
    if not form.is_valid():
        _invalid_form(request, form)
        return _back(stage.pipeline_id)
    data = form.cleaned_data
    values = {
        "name": data["name"],
        "kind": data["kind"],
        "stale_after_days": data["stale_after_days"],
    }
    if data["probability"] is not None:
        values["probability"] = data["probability"]
    try:
        services.stage_update(
            actor=actor, stage_id=stage.pk, data=values, expected_version=data.get("version")
        )
    except Conflict:
        messages.error(request, _("Someone else changed this stage. Check it and try again."))
    except ValidationFailed as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("The stage was saved."))
    return _back(stage.pipeline_id)


@login_required
@require_POST
@catalogue_page
def stage_move(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    stage = selectors.stage_get(actor=actor, pk=pk)
    require_manager(actor)
    offset = -1 if request.POST.get("direction") == "up" else 1
    services.stage_move(actor=actor, stage_id=stage.pk, offset=offset)
    return _back(stage.pipeline_id)


@login_required
@require_POST
@catalogue_page
def stage_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    stage = selectors.stage_get(actor=actor, pk=pk)
    try:
        services.stage_delete(actor=actor, stage_id=stage.pk)
    except ValidationFailed as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("The stage was deleted."))
    return _back(stage.pipeline_id)

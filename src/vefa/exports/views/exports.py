"""Pages of exports: the list of the person's exports with downloads, starting an export of a
list (the list page's "Export" button posts its filters here), the download and delete."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vefa.accounts.models import User
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.exports import selectors, services
from vefa.exports.entities import ENTITIES, entity_choices
from vefa.exports.models import ExportFormat, ExportStatus

V = TypeVar("V", bound=Callable[..., Any])
R = TypeVar("R", HttpResponse, StreamingHttpResponse, FileResponse)

CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


_UNFINISHED = (ExportStatus.QUEUED, ExportStatus.RUNNING)


def actor_of(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def hidden_as_404(view: V) -> V:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except (NotFound, PermissionDenied) as exc:
            raise Http404(str(exc.message)) from exc

    return wrapper  # type: ignore[return-value]


@login_required
@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    exports = selectors.export_list(actor=actor)
    labels = dict(entity_choices())
    for export in exports:
        export.entity_label = labels.get(export.entity, export.entity)  # type: ignore[attr-defined]
    return render(
        request,
        "exports/export_list.html",
        {
            "exports": exports,
            "entities": entity_choices(),
            "formats": ExportFormat.choices,
            "running": any(
                e.status in (ExportStatus.QUEUED, ExportStatus.RUNNING) for e in exports
            ),
        },
    )


def _attachment(response: R, name: str) -> R:
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
@hidden_as_404
def export_start(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Export a list: ``entity`` and ``format`` from the form, the filters from the query
    string (the list page's own)."""
    actor = actor_of(request)
    entity = request.POST.get("entity") or request.GET.get("entity") or ""
    format = request.POST.get("format") or ExportFormat.CSV
    filters = {key: request.GET.getlist(key) for key in request.GET if key != "entity"}
    flat = {k: (v[0] if len(v) == 1 else v) for k, v in filters.items()}
    try:
        export = services.export_create(actor=actor, entity=entity, format=format, filters=flat)
    except ValidationFailed as exc:
        text = "; ".join(f"{k}: {m}" for k, ms in exc.fields.items() for m in ms)
        messages.error(request, text or exc.message)
        back = reverse(ENTITIES[entity].list_url) if entity in ENTITIES else None
        return HttpResponseRedirect(back or reverse("exports:export_list"))
    if export.streamed:
        response = StreamingHttpResponse(
            services.export_stream(export), content_type=CONTENT_TYPES[ExportFormat.CSV]
        )
        return _attachment(response, services.download_name(export))
    if export.status == ExportStatus.DONE and export.file:
        return _file_response(export)
    messages.info(
        request, _("The export runs in the background; it appears here when it is ready.")
    )
    return HttpResponseRedirect(reverse("exports:export_list"))


def _file_response(export: Any) -> FileResponse:
    name = export.file
    if not name or not default_storage.exists(name):
        raise NotFound(_("Not found."))
    handle = open(default_storage.path(name), "rb")  # noqa: SIM115 - closed by the response
    response = FileResponse(handle, content_type=CONTENT_TYPES.get(export.format))
    response["Content-Length"] = str(os.path.getsize(default_storage.path(name)))
    return _attachment(response, services.download_name(export))


@login_required
@require_GET
@hidden_as_404
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    """The export's file, for its owner or an administrator only (others: 404)."""
    export = selectors.export_get(actor=actor_of(request), pk=pk)
    if export.status != ExportStatus.DONE:
        raise NotFound(_("Not found."))
    return _file_response(export)


@login_required
@require_POST
@hidden_as_404
def export_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.export_delete(actor=actor_of(request), pk=pk)
    messages.success(request, _("The export was deleted."))
    return HttpResponseRedirect(reverse("exports:export_list"))


urlpatterns = [
    path("", export_list, name="export_list"),
    path("start/", export_start, name="export_start"),
    path("<int:pk>/download/", export_download, name="export_download"),
    path("<int:pk>/delete/", export_delete, name="export_delete"),
]

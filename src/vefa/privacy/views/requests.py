"""The privacy request pages: list and record, detail with export and erasure, legal holds."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import scope_for
from vefa.accounts.choices import Scope
from vefa.common.errors import NotFound, ValidationFailed
from vefa.common.paging import keyset_page
from vefa.interactions.views._helpers import actor_of, hidden_as_404
from vefa.privacy import selectors, services
from vefa.privacy.choices import RequestKind, RequestStatus, SubjectKind


def _admin_only(request: HttpRequest) -> None:
    if scope_for(actor_of(request), services.POLICY, "view") != Scope.ALL:
        raise NotFound(_("Not found."))


def _list(request: HttpRequest, *, errors: dict[str, list[str]] | None = None) -> HttpResponse:
    actor = actor_of(request)
    status = request.GET.get("status", "")
    status = status if status in RequestStatus.values else ""
    qs = selectors.request_list(actor=actor, status=status)
    page = keyset_page(qs, ordering="-received_at", cursor=request.GET.get("cursor"), size=50)
    rows = [(row, services.describe_subject(row)) for row in page.items]
    posted = request.POST if request.method == "POST" else request.GET
    return render(
        request,
        "privacy/request_list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": RequestStatus.choices,
            "kinds": RequestKind.choices,
            "subject_kinds": SubjectKind.choices,
            "errors": errors or {},
            "posted": posted,
        },
        status=422 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def request_list(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    if request.method == "POST":
        try:
            row = services.request_create(
                actor=actor_of(request),
                kind=request.POST.get("kind", ""),
                subject_kind=request.POST.get("subject_kind", ""),
                subject_id=request.POST.get("subject_id", ""),
                note=request.POST.get("note", ""),
            )
        except ValidationFailed as exc:
            return _list(request, errors=exc.fields)
        messages.success(request, _("The request is recorded."))
        return HttpResponseRedirect(reverse("privacy:request_detail", args=[row.pk]))
    return _list(request)


def _detail(
    request: HttpRequest, pk: int, *, errors: dict[str, list[str]] | None = None
) -> HttpResponse:
    actor = actor_of(request)
    row = selectors.request_get(actor=actor, pk=pk)
    return render(
        request,
        "privacy/request_detail.html",
        {
            "row": row,
            "subject": services.describe_subject(row),
            "phrase": services.confirmation_phrase(row),
            "holds": selectors.legal_holds(
                actor=actor, subject_kind=row.subject_kind, subject_id=row.subject_id
            ),
            "has_export": services.export_file_path(row) is not None,
            "errors": errors or {},
        },
        status=422 if errors else 200,
    )


@login_required
@require_GET
@hidden_as_404
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, pk)


@login_required
@require_POST
@hidden_as_404
def request_export(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        job = services.export_prepare(actor=actor_of(request), request_id=pk)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("privacy:request_detail", args=[pk]))
    messages.success(request, _("The export is being prepared."))
    return HttpResponseRedirect(reverse("platform:job_detail", args=[job.pk]))


@login_required
@require_GET
@hidden_as_404
def request_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    row = selectors.request_get(actor=actor_of(request), pk=pk)
    found = services.export_file_path(row)
    if found is None:
        raise NotFound(_("Not found."))
    return FileResponse(
        open(found, "rb"),
        as_attachment=True,
        filename=f"data-subject-export-{row.pk}.zip",
        content_type="application/zip",
    )


@login_required
@require_POST
@hidden_as_404
def request_erase(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        job = services.erasure_start(
            actor=actor_of(request),
            request_id=pk,
            confirmation=request.POST.get("confirmation", ""),
        )
    except ValidationFailed as exc:
        fields = exc.fields or {"confirmation": [exc.message]}
        return _detail(request, pk, errors=fields)
    messages.success(request, _("The erasure has started."))
    return HttpResponseRedirect(reverse("platform:job_detail", args=[job.pk]))


@login_required
@require_POST
@hidden_as_404
def request_reject(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.request_reject(
            actor=actor_of(request), request_id=pk, reason=request.POST.get("reason", "")
        )
    except ValidationFailed as exc:
        return _detail(request, pk, errors=exc.fields or {"reason": [exc.message]})
    messages.success(request, _("The request is rejected."))
    return HttpResponseRedirect(reverse("privacy:request_detail", args=[pk]))


@login_required
@require_POST
@hidden_as_404
def hold_place(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.request_get(actor=actor_of(request), pk=pk)
    try:
        services.legal_hold_place(
            actor=actor_of(request),
            subject_kind=row.subject_kind,
            subject_id=row.subject_id,
            reason=request.POST.get("reason", ""),
        )
    except ValidationFailed as exc:
        return _detail(request, pk, errors={"hold": exc.fields.get("reason", [exc.message])})
    messages.success(request, _("The legal hold is in place."))
    return HttpResponseRedirect(reverse("privacy:request_detail", args=[pk]))


@login_required
@require_POST
@hidden_as_404
def hold_release(request: HttpRequest, pk: int, hold_pk: int) -> HttpResponse:
    selectors.request_get(actor=actor_of(request), pk=pk)
    services.legal_hold_release(actor=actor_of(request), hold_id=hold_pk)
    messages.success(request, _("The legal hold is released."))
    return HttpResponseRedirect(reverse("privacy:request_detail", args=[pk]))


urlpatterns = [
    path("requests/", request_list, name="request_list"),
    path("requests/<int:pk>/", request_detail, name="request_detail"),
    path("requests/<int:pk>/export/", request_export, name="request_export"),
    path("requests/<int:pk>/export.zip", request_download, name="request_download"),
    path("requests/<int:pk>/erase/", request_erase, name="request_erase"),
    path("requests/<int:pk>/reject/", request_reject, name="request_reject"),
    path("requests/<int:pk>/holds/", hold_place, name="hold_place"),
    path("requests/<int:pk>/holds/<int:hold_pk>/release/", hold_release, name="hold_release"),
]

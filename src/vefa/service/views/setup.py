"""The service settings page: queues, categories, calendars with holidays, SLA policies and
assignment rules. Every service user reads it; administrators add, edit and deactivate
(anyone else gets 404 on the edit pages and on every write)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vefa.common.errors import Conflict, NotFound, ValidationFailed
from vefa.interactions.views._helpers import actor_of, hidden_as_404
from vefa.service.forms.setup import FORMS, HolidayForm, SetupForm
from vefa.service.selectors.setup import setup_get, setup_overview
from vefa.service.services import setup as services

SECTIONS = {
    "queue": "queues",
    "category": "categories",
    "calendar": "calendars",
    "policy": "policies",
    "rule": "rules",
}


def _back(kind: str = "", pk: int | None = None) -> HttpResponseRedirect:
    url = reverse("service:setup")
    anchor = f"{kind}-{pk}" if pk else SECTIONS.get(kind, "")
    return HttpResponseRedirect(f"{url}#{anchor}" if anchor else url)


def _form_class(kind: str) -> type[SetupForm]:
    if kind not in FORMS:
        raise NotFound(_("No such page."))
    return FORMS[kind]


def _page(
    request: HttpRequest, *, kind: str = "", form: SetupForm | None = None, status: int = 200
) -> HttpResponse:
    actor = actor_of(request)
    overview = setup_overview(actor=actor)
    forms: dict[str, Any] = {}
    if overview.can_change:
        forms = {name: cls(prefix=f"new-{name}") for name, cls in FORMS.items()}
        if form is not None:
            forms[kind] = form
    return render(
        request,
        "service/setup/page.html",
        {
            "overview": overview,
            "forms": forms,
            "holiday_form": HolidayForm(),
            "open_kind": kind,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def setup_page(request: HttpRequest) -> HttpResponse:
    """The settings; a POST adds a row to the section named by ``kind``."""
    if request.method == "GET":
        return _page(request)
    actor = actor_of(request)
    services.require_admin(actor)
    kind = request.POST.get("kind", "")
    form = _form_class(kind)(request.POST, prefix=f"new-{kind}")
    if form.is_valid():
        try:
            created = services.setup_create(actor=actor, kind=kind, data=form.to_data())
        except ValidationFailed as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return _back(kind, created.pk)
    return _page(request, kind=kind, form=form, status=422)


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def setup_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Edit one row (deactivate by clearing "active"); administrators only."""
    actor = actor_of(request)
    form_class = _form_class(kind)
    obj = setup_get(actor=actor, kind=kind, pk=pk)
    services.require_admin(actor)
    status = 200
    if request.method == "POST":
        form = form_class(request.POST)
        version = request.POST.get("version", "")
        if form.is_valid():
            try:
                saved = services.setup_update(
                    actor=actor,
                    kind=kind,
                    pk=obj.pk,
                    data=form.to_data(),
                    expected_version=int(version) if version.isdigit() else None,
                )
            except Conflict:
                form.add_error(
                    None, _("Someone else changed this in the meantime. Reload and try again.")
                )
            except ValidationFailed as exc:
                form.apply_errors(exc)
            else:
                messages.success(request, _("Saved."))
                return _back(kind, saved.pk)
        status = 422
    else:
        form = form_class(initial=form_class.initial_of(obj))
    return render(
        request,
        "service/setup/edit.html",
        {"obj": obj, "kind": kind, "form": form, "section": SECTIONS[kind]},
        status=status,
    )


@login_required
@require_POST
@hidden_as_404
def holiday_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    calendar = setup_get(actor=actor, kind="calendar", pk=pk)
    services.require_admin(actor)
    form = HolidayForm(request.POST)
    if form.is_valid():
        try:
            services.holiday_add(
                actor=actor,
                calendar_id=calendar.pk,
                date=form.cleaned_data["date"],
                name=form.cleaned_data["name"],
            )
        except ValidationFailed as exc:
            for texts in exc.fields.values():
                for text in texts:
                    messages.error(request, text)
        else:
            messages.success(request, _("The holiday was added."))
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else str(error))
    return _back("calendar", calendar.pk)


@login_required
@require_POST
@hidden_as_404
def holiday_remove(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    calendar_id = services.holiday_remove(actor=actor, holiday_id=pk)
    messages.success(request, _("The holiday was removed."))
    return _back("calendar", calendar_id)


urlpatterns = [
    path("setup/", setup_page, name="setup"),
    path("setup/<str:kind>/<int:pk>/", setup_edit, name="setup_edit"),
    path("setup/calendar/<int:pk>/holidays/", holiday_add, name="setup_holiday_add"),
    path("setup/holidays/<int:pk>/remove/", holiday_remove, name="setup_holiday_remove"),
]

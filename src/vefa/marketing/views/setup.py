"""The marketing settings page: read by everyone, changed by administrators and marketers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from vefa.accounts.access import can_create
from vefa.common.errors import Conflict, NotFound, ValidationFailed
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404
from vefa.marketing.forms_campaigns import SettingsForm
from vefa.marketing.models import MarketingSettings
from vefa.marketing.services import setup as services


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def marketing_setup(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    row = services.marketing_settings()
    may_change = can_create(actor, MarketingSettings)
    if request.method == "POST":
        if not may_change:
            raise NotFound(_("Not found."))
        form = SettingsForm(request.POST)
        if form.is_valid():
            try:
                services.settings_update(
                    actor=actor,
                    data=form.service_data(),
                    expected_version=form.cleaned_data.get("version"),
                )
            except Conflict as exc:
                form.add_error(None, str(exc.message))
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The marketing settings were saved."))
                return HttpResponseRedirect(reverse("marketing:setup"))
    else:
        form = SettingsForm(
            initial={
                **{name: getattr(row, name) for name in services.FIELDS},
                "version": row.version,
            }
        )
    if not may_change:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "marketing/setup/setup.html",
        {"form": form, "may_change": may_change},
        status=422 if form.errors else 200,
    )


urlpatterns = [
    path("settings/", marketing_setup, name="setup"),
]

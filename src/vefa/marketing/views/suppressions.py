"""The suppressed addresses: list, add by hand, remove with a reason."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.interactions.views._helpers import actor_of, hidden_as_404
from vefa.marketing.choices import CampaignChannel
from vefa.marketing.selectors.sending import suppression_page
from vefa.marketing.services import suppressions as services
from vefa.marketing.services.suppressions import SUPPRESSIBLE


def _render(
    request: HttpRequest, *, errors: dict[str, list[str]] | None = None, status: int = 200
) -> HttpResponse:
    actor = actor_of(request)
    page = suppression_page(
        actor=actor,
        cursor=request.GET.get("cursor"),
        query=request.GET.get("q", ""),
        channel=request.GET.get("channel", ""),
    )
    template = (
        "marketing/suppressions/_rows.html"
        if getattr(request, "htmx", False) and request.GET.get("cursor")
        else "marketing/suppressions/list.html"
    )
    return render(
        request,
        template,
        {
            "page": page,
            "q": request.GET.get("q", ""),
            "channel": request.GET.get("channel", ""),
            "channels": [(c, CampaignChannel(c).label) for c in SUPPRESSIBLE],
            "errors": errors or {},
            "posted": request.POST if request.method == "POST" else {},
        },
        status=status,
    )


@login_required
@require_GET
@hidden_as_404
def suppression_list(request: HttpRequest) -> HttpResponse:
    return _render(request)


@login_required
@require_POST
@hidden_as_404
def suppression_add(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    try:
        services.suppression_add(
            actor=actor,
            channel=request.POST.get("channel", ""),
            address=request.POST.get("address", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationFailed as exc:
        return _render(request, errors=exc.fields, status=422)
    except PermissionDenied:
        raise NotFound(_("Not found.")) from None
    messages.success(request, _("The address is suppressed."))
    return HttpResponseRedirect(reverse("marketing:suppression_list"))


@login_required
@require_POST
@hidden_as_404
def suppression_remove(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        services.suppression_remove(
            actor=actor, suppression_id=pk, reason=request.POST.get("reason", "")
        )
    except ValidationFailed as exc:
        messages.error(request, " ".join(exc.fields.get("reason", [exc.message])))
    except PermissionDenied:
        raise NotFound(_("Not found.")) from None
    else:
        messages.success(request, _("The address may receive messages again."))
    return HttpResponseRedirect(reverse("marketing:suppression_list"))


urlpatterns = [
    path("suppressions/", suppression_list, name="suppression_list"),
    path("suppressions/add/", suppression_add, name="suppression_add"),
    path("suppressions/<int:pk>/remove/", suppression_remove, name="suppression_remove"),
]

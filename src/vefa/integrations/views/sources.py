"""Order-source pages (administrators): the list, the form, the detail with the latest
orders and how to post, and a new secret (shown once)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can_create
from vefa.accounts.models import User
from vefa.common.errors import Conflict, NotFound, ValidationFailed
from vefa.integrations import selectors
from vefa.integrations.forms import OrderSourceForm
from vefa.integrations.models import OrderSource
from vefa.integrations.services import sources as services
from vefa.integrations.services.sources import SourceWithSecret
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404


def _admin_only(request: HttpRequest) -> None:
    if not can_create(actor_of(request), OrderSource):
        raise NotFound(_("Not found."))


def _form(data: object = None, initial: dict[str, object] | None = None) -> OrderSourceForm:
    from vefa.sales.models import PriceList

    owners = [
        (u.pk, str(u))
        for u in User.objects.filter(is_active=True).order_by("full_name", "id")[:500]
    ]
    lists = [
        (p.pk, str(p)) for p in PriceList.objects.filter(is_active=True).order_by("name")[:500]
    ]
    return OrderSourceForm(data, initial=initial, owners=owners, price_lists=lists)


def _secret_page(request: HttpRequest, made: SourceWithSecret) -> HttpResponse:
    response = render(
        request,
        "integrations/source_secret.html",
        {
            "source": made.source,
            "secret": made.secret,
            "endpoint": request.build_absolute_uri(
                f"/api/v1/integrations/orders/{made.source.key}"
            ),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
@hidden_as_404
def source_list(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    return render(
        request,
        "integrations/source_list.html",
        {"sources": selectors.source_list(actor=actor_of(request))},
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def source_create(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    form = _form(request.POST if request.method == "POST" else None, {"owner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        try:
            made = services.source_create(actor=actor_of(request), data=form.service_data())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            return _secret_page(request, made)
    return render(
        request,
        "integrations/source_form.html",
        {"form": form, "source": None},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    actor = actor_of(request)
    source = selectors.source_get(actor=actor, pk=pk)
    if request.method == "POST":
        form = _form(request.POST)
        if form.is_valid():
            try:
                services.source_update(
                    actor=actor,
                    source_id=source.pk,
                    data=form.service_data(),
                    expected_version=form.cleaned_data.get("version"),
                )
            except Conflict as exc:
                form.add_error(None, str(exc.message))
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The order source was saved."))
                return HttpResponseRedirect(reverse("integrations:source_detail", args=[pk]))
    else:
        form = _form(
            initial={
                "name": source.name,
                "key": source.key,
                "kind": source.kind,
                "default_currency": source.default_currency,
                "price_list": source.price_list_id or "",
                "owner": source.owner_id,
                "is_active": source.is_active,
                "version": source.version,
            }
        )
    return render(
        request,
        "integrations/source_form.html",
        {"form": form, "source": source},
        status=422 if form.errors else 200,
    )


@login_required
@require_GET
@hidden_as_404
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    actor = actor_of(request)
    source = selectors.source_get(actor=actor, pk=pk)
    return render(
        request,
        "integrations/source_detail.html",
        {
            "source": source,
            "orders": selectors.source_recent_orders(actor=actor, source=source),
            "endpoint": request.build_absolute_uri(f"/api/v1/integrations/orders/{source.key}"),
        },
    )


@login_required
@require_POST
@hidden_as_404
def source_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    return _secret_page(
        request, services.source_rotate_secret(actor=actor_of(request), source_id=pk)
    )


@login_required
@require_POST
@hidden_as_404
def source_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    services.source_delete(actor=actor_of(request), source_id=pk)
    messages.success(request, _("The order source was deleted."))
    return HttpResponseRedirect(reverse("integrations:source_list"))


urlpatterns = [
    path("sources/", source_list, name="source_list"),
    path("sources/new/", source_create, name="source_create"),
    path("sources/<int:pk>/", source_detail, name="source_detail"),
    path("sources/<int:pk>/edit/", source_edit, name="source_edit"),
    path("sources/<int:pk>/secret/", source_rotate, name="source_rotate"),
    path("sources/<int:pk>/delete/", source_delete, name="source_delete"),
]

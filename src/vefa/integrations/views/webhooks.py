"""Webhook pages (administrators): the list, the form, the detail with its delivery log, and
the actions (rotate secret, reset circuit, redeliver, delete). A new secret is shown once, on
the page that answers the action that made it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can_create
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.integrations import selectors
from vefa.integrations.choices import DeliveryStatus
from vefa.integrations.forms import WebhookForm
from vefa.integrations.models import Webhook
from vefa.integrations.services import delivery as delivery_services
from vefa.integrations.services import webhooks as services
from vefa.integrations.services.webhooks import WebhookWithSecret
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx

PAGE_SIZE = 25
RULE_FIELD = {"event": "event", "condition_field": "field", "condition_operator": "operator"}


def _admin_only(request: HttpRequest) -> None:
    if not can_create(actor_of(request), Webhook):
        raise NotFound(_("Not found."))


def _apply(form: WebhookForm, exc: ValidationFailed) -> None:
    """Service errors on the form; ``rules.<i>.<field>`` lands on that rule row's field."""
    for name, texts in list(exc.fields.items()):
        parts = name.split(".")
        if parts[0] == "rules" and len(parts) == 3 and parts[1].isdigit():
            target = f"rule_{parts[1]}_{RULE_FIELD.get(parts[2], 'value')}"
            if target in form.fields:
                for text in texts:
                    form.add_error(target, text)
                exc.fields.pop(name)
    if exc.fields or not form.errors:
        apply_errors(form, exc)


def _secret_page(request: HttpRequest, made: WebhookWithSecret) -> HttpResponse:
    response = render(
        request,
        "integrations/webhook_secret.html",
        {"webhook": made.webhook, "secret": made.secret},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
@hidden_as_404
def webhook_list(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    return render(
        request,
        "integrations/webhook_list.html",
        {"webhooks": selectors.webhook_list(actor=actor_of(request))},
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def webhook_create(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    form = WebhookForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            made = services.webhook_create(actor=actor_of(request), data=form.service_data())
        except ValidationFailed as exc:
            _apply(form, exc)
        else:
            return _secret_page(request, made)
    return render(
        request,
        "integrations/webhook_form.html",
        {"form": form, "webhook": None},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    actor = actor_of(request)
    webhook = selectors.webhook_get(actor=actor, pk=pk)
    if request.method == "POST":
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                services.webhook_update(
                    actor=actor,
                    webhook_id=webhook.pk,
                    data=form.service_data(),
                    expected_version=form.cleaned_data.get("version"),
                )
            except Conflict as exc:
                form.add_error(None, str(exc.message))
            except ValidationFailed as exc:
                _apply(form, exc)
            else:
                messages.success(request, _("The webhook was saved."))
                return HttpResponseRedirect(reverse("integrations:webhook_detail", args=[pk]))
    else:
        form = WebhookForm(initial=WebhookForm.initial_for(webhook))
    return render(
        request,
        "integrations/webhook_form.html",
        {"form": form, "webhook": webhook},
        status=422 if form.errors else 200,
    )


@login_required
@require_GET
@hidden_as_404
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    actor = actor_of(request)
    webhook = selectors.webhook_get(actor=actor, pk=pk)
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    page = selectors.delivery_list(
        actor=actor,
        webhook=webhook,
        cursor=request.GET.get("cursor"),
        limit=PAGE_SIZE,
        status=status,
    )
    context = {
        "webhook": webhook,
        "rules": list(webhook.rules.all()),
        "page": page,
        "status": status,
        "statuses": DeliveryStatus.choices,
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "integrations/webhook_detail.html#delivery-rows", context)
    return render(request, "integrations/webhook_detail.html", context)


@login_required
@require_POST
@hidden_as_404
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    made = services.webhook_rotate_secret(actor=actor_of(request), webhook_id=pk)
    return _secret_page(request, made)


@login_required
@require_POST
@hidden_as_404
def webhook_reset(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    services.webhook_reset_circuit(actor=actor_of(request), webhook_id=pk)
    messages.success(request, _("The webhook delivers again."))
    return HttpResponseRedirect(reverse("integrations:webhook_detail", args=[pk]))


@login_required
@require_POST
@hidden_as_404
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    services.webhook_delete(actor=actor_of(request), webhook_id=pk)
    messages.success(request, _("The webhook was deleted."))
    return HttpResponseRedirect(reverse("integrations:webhook_list"))


@login_required
@require_POST
@hidden_as_404
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    try:
        copy = delivery_services.delivery_redeliver(actor=actor_of(request), delivery_id=pk)
    except PermissionDenied:
        raise NotFound(_("Not found.")) from None
    messages.success(request, _("The delivery was queued again."))
    return HttpResponseRedirect(reverse("integrations:webhook_detail", args=[copy.webhook_id]))


urlpatterns = [
    path("webhooks/", webhook_list, name="webhook_list"),
    path("webhooks/new/", webhook_create, name="webhook_create"),
    path("webhooks/<int:pk>/", webhook_detail, name="webhook_detail"),
    path("webhooks/<int:pk>/edit/", webhook_edit, name="webhook_edit"),
    path("webhooks/<int:pk>/secret/", webhook_rotate, name="webhook_rotate"),
    path("webhooks/<int:pk>/reset/", webhook_reset, name="webhook_reset"),
    path("webhooks/<int:pk>/delete/", webhook_delete, name="webhook_delete"),
    path("deliveries/<int:pk>/redeliver/", delivery_redeliver, name="delivery_redeliver"),
]

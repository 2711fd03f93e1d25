"""Webhook pages (administrators): the list, the form, the detail with its delivery log, and
the actions (rotate secret, reset circuit, redeliver, delete). A new secret is shown once, on
the page that answers the action that made it. The pages every integration record has come
from ``_crud``; the detail page, the circuit reset and the redelivery are the webhook's own."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.integrations import selectors
from vefa.integrations.choices import DeliveryStatus
from vefa.integrations.forms import WebhookForm
from vefa.integrations.models import Webhook
from vefa.integrations.services import delivery as delivery_services
from vefa.integrations.services import webhooks as services
from vefa.integrations.views._crud import AdminPages, page
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import is_htmx

PAGE_SIZE = 25
RULE_FIELD = {"event": "event", "condition_field": "field", "condition_operator": "operator"}


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


def _form(data: object = None, initial: dict[str, Any] | None = None) -> WebhookForm:
    return WebhookForm(data, initial=initial)


PAGES = AdminPages(
    model=Webhook,
    name="webhook",
    prefix="webhooks",
    select_list=selectors.webhook_list,
    select_get=selectors.webhook_get,
    create=services.webhook_create,
    update=services.webhook_update,
    rotate_secret=services.webhook_rotate_secret,
    delete=services.webhook_delete,
    make_form=_form,
    initial_for=WebhookForm.initial_for,
    saved_message=lambda: _("The webhook was saved."),
    deleted_message=lambda: _("The webhook was deleted."),
    apply_errors=_apply,
)


@page("GET")
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = PAGES.admin_only(request)
    webhook = PAGES.get(actor, pk)
    status = request.GET.get("status", "")
    if status not in DeliveryStatus.values:
        status = ""
    page_ = selectors.delivery_list(
        actor=actor,
        webhook=webhook,
        cursor=request.GET.get("cursor"),
        limit=PAGE_SIZE,
        status=status,
    )
    context = {
        "webhook": webhook,
        "rules": list(webhook.rules.all()),
        "page": page_,
        "status": status,
        "statuses": DeliveryStatus.choices,
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "integrations/webhook_detail.html#delivery-rows", context)
    return render(request, "integrations/webhook_detail.html", context)


@page("POST")
def webhook_reset(request: HttpRequest, pk: int) -> HttpResponse:
    actor = PAGES.admin_only(request)
    services.webhook_reset_circuit(actor=actor, webhook_id=pk)
    messages.success(request, _("The webhook delivers again."))
    return HttpResponseRedirect(reverse("integrations:webhook_detail", args=[pk]))


@page("POST")
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    actor = PAGES.admin_only(request)
    try:
        copy = delivery_services.delivery_redeliver(actor=actor, delivery_id=pk)
    except PermissionDenied:
        raise NotFound(_("Not found.")) from None
    messages.success(request, _("The delivery was queued again."))
    return HttpResponseRedirect(reverse("integrations:webhook_detail", args=[copy.webhook_id]))


urlpatterns = PAGES.urlpatterns(
    webhook_detail,
    path("webhooks/<int:pk>/reset/", webhook_reset, name="webhook_reset"),
    path("deliveries/<int:pk>/redeliver/", delivery_redeliver, name="delivery_redeliver"),
)

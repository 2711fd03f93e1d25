"""Message-template pages: the list, one template with its versions and a preview as any
customer, the form with one version per language, copy and archive."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.customers import selectors as customer_selectors
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.marketing.choices import CampaignChannel
from vefa.marketing.forms_campaigns import TemplateForm
from vefa.marketing.models import MessageTemplate
from vefa.marketing.selectors import templates as selectors
from vefa.marketing.services import templates as services

PAGE_SIZE = 25


@login_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    q = request.GET.get("q", "")[:200]
    channel = request.GET.get("channel", "")
    archived = request.GET.get("archived") == "1"
    page = selectors.template_list(
        actor=actor,
        q=q,
        channel=channel,
        archived=archived,
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
    )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "page": page,
        "q": q,
        "channel": channel,
        "archived": archived,
        "channels": CampaignChannel.choices,
        "base_query": params.urlencode(),
        "can_create": can_create(actor, MessageTemplate),
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "marketing/templates/template_list.html#template-rows", context)
    return render(request, "marketing/templates/template_list.html", context)


@login_required
@require_GET
@hidden_as_404
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    template = selectors.template_get(actor=actor, pk=pk)
    return render(
        request,
        "marketing/templates/template_detail.html",
        {
            "template": template,
            "versions": list(template.versions.all()),
            "can_change": can(actor, "change", template),
            "can_copy": can_create(actor, MessageTemplate),
            "in_use": services.template_in_use(template.pk),
        },
    )


@login_required
@require_GET
@hidden_as_404
def template_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The message as one customer would get it: the HTML in a sandboxed frame and the
    plain-text part (an htmx fragment)."""
    from vefa.marketing.rendering import render_message

    actor = actor_of(request)
    template = selectors.template_get(actor=actor, pk=pk)
    context: dict[str, Any] = {"template": template}
    raw = request.GET.get("to_customer") or request.GET.get("customer") or ""
    if not raw.isdigit():
        context["error"] = _("Choose a customer to preview the message as.")
        return render(request, "marketing/templates/_preview.html", context)
    try:
        customer = customer_selectors.customer_get(actor=actor, pk=raw)
    except NotFound:
        context["error"] = _("Choose a customer to preview the message as.")
        return render(request, "marketing/templates/_preview.html", context)
    language = request.GET.get("language") or getattr(customer, "language", "") or ""
    version = selectors.version_for(template, language)
    if version is None:
        context["error"] = _("The template has no version yet.")
        return render(request, "marketing/templates/_preview.html", context)
    try:
        message = render_message(version=version, customer=customer)
    except ValidationFailed as exc:
        context["error"] = str(exc.message)
        context["problems"] = [m for ms in exc.fields.values() for m in ms]
        return render(request, "marketing/templates/_preview.html", context)
    context.update({"customer": customer, "version": version, "message": message})
    return render(request, "marketing/templates/_preview.html", context)


def _render_form(
    request: HttpRequest, form: TemplateForm, template: MessageTemplate | None
) -> HttpResponse:
    return render(
        request,
        "marketing/templates/template_form.html",
        {"form": form, "template": template},
        status=422 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def template_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not can_create(actor, MessageTemplate):
        raise NotFound(_("Not found."))
    form = TemplateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            template = services.template_create(actor=actor, data=form.service_data())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The template was saved."))
            return HttpResponseRedirect(reverse("marketing:template_detail", args=[template.pk]))
    return _render_form(request, form, None)


def _initial(template: MessageTemplate) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "name": template.name,
        "channel": template.channel,
        "default_language": template.default_language,
        "description": template.description,
        "version": template.version,
    }
    for version in template.versions.all():
        for key in services.VERSION_FIELDS:
            initial[f"{key}_{version.language}"] = getattr(version, key)
    return initial


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    template = selectors.template_get(actor=actor, pk=pk)
    if not can(actor, "change", template):
        raise NotFound(_("Not found."))
    if request.method != "POST":
        return _render_form(request, TemplateForm(initial=_initial(template)), template)
    form = TemplateForm(request.POST)
    if form.is_valid():
        try:
            services.template_update(
                actor=actor,
                template_id=template.pk,
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
            )
        except Conflict as exc:
            form.add_error(None, str(exc.message))
        except PermissionDenied:
            raise NotFound(_("Not found.")) from None
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The template was saved."))
            return HttpResponseRedirect(reverse("marketing:template_detail", args=[template.pk]))
    return _render_form(request, form, template)


@login_required
@require_POST
@hidden_as_404
def template_copy(request: HttpRequest, pk: int) -> HttpResponse:
    copy = services.template_copy(actor=actor_of(request), template_id=pk)
    messages.success(request, _("A copy of the template was made."))
    return HttpResponseRedirect(reverse("marketing:template_edit", args=[copy.pk]))


@login_required
@require_POST
@hidden_as_404
def template_archive(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    template = selectors.template_get(actor=actor, pk=pk)
    archive = request.POST.get("archive") != "0"
    try:
        services.template_update(
            actor=actor, template_id=template.pk, data={"is_archived": archive}
        )
    except PermissionDenied:
        raise NotFound(_("Not found.")) from None
    except ValidationFailed as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("The template was archived.") if archive else _("The template was restored."),
        )
    return HttpResponseRedirect(reverse("marketing:template_detail", args=[template.pk]))


urlpatterns = [
    path("templates/", template_list, name="template_list"),
    path("templates/new/", template_create, name="template_create"),
    path("templates/<int:pk>/", template_detail, name="template_detail"),
    path("templates/<int:pk>/edit/", template_edit, name="template_edit"),
    path("templates/<int:pk>/preview/", template_preview, name="template_preview"),
    path("templates/<int:pk>/copy/", template_copy, name="template_copy"),
    path("templates/<int:pk>/archive/", template_archive, name="template_archive"),
]

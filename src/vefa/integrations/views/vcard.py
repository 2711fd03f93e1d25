"""vCard pages: export one customer or the customers of a list filter, and import a .vcf
file (a background job; its page shows progress and the cards that could not be read)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vefa.accounts.access import can_create
from vefa.common.errors import PermissionDenied, ValidationFailed
from vefa.customers.models import Customer
from vefa.integrations.forms import VCardImportForm
from vefa.integrations.services import vcards as services
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404

CONTENT_TYPE = "text/vcard; charset=utf-8"


@login_required
@require_http_methods(["GET", "POST"])
def vcard_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = VCardImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size is not None and upload.size > services.MAX_FILE_BYTES:
            form.add_error("file", _("The file is larger than 20 MB."))
        else:
            try:
                job = services.vcard_import_start(
                    actor=actor, name=upload.name or "", raw=upload.read()
                )
            except (ValidationFailed, PermissionDenied) as exc:
                apply_errors(form, exc)
            else:
                return HttpResponseRedirect(reverse("platform:job_detail", args=[job.pk]))
    return render(
        request,
        "integrations/vcard.html",
        {
            "form": form,
            "can_import": can_create(actor, Customer),
            "export_query": request.GET.urlencode(),
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_GET
def vcard_export(request: HttpRequest) -> StreamingHttpResponse:
    """The customers of the list filter in the query string as one .vcf (at most 10 000)."""
    filters = {k: v for k, v in request.GET.items() if k not in ("cursor",)}
    try:
        cards = services.vcard_export_many(actor=actor_of(request), filters=filters)
        first = next(cards, "")
    except ValidationFailed:
        cards, first = iter(()), ""

    def stream() -> object:
        if first:
            yield first.encode("utf-8")
        for item in cards:
            yield item.encode("utf-8")

    response = StreamingHttpResponse(stream(), content_type=CONTENT_TYPE)  # type: ignore[arg-type]
    response["Content-Disposition"] = 'attachment; filename="customers.vcf"'
    return response


@login_required
@require_GET
@hidden_as_404
def vcard_customer(request: HttpRequest, pk: int) -> HttpResponse:
    name, text = services.vcard_export_one(actor=actor_of(request), customer_id=pk)
    response = HttpResponse(text.encode("utf-8"), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns = [
    path("vcard/", vcard_page, name="vcard"),
    path("vcard/export/", vcard_export, name="vcard_export"),
    path("vcard/customers/<int:pk>/", vcard_customer, name="vcard_customer"),
]

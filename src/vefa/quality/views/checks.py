"""The instant duplicate check of the customer and lead forms (an htmx partial)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_POST

from vefa.common.errors import ValidationFailed
from vefa.quality import selectors


@login_required
@require_POST
def duplicate_check(request: HttpRequest) -> HttpResponse:
    """The warnings shown under a customer or lead form while it is typed in.

    The form posts all its fields (``hx-include``); only the ones the check reads are used.
    Bad input is answered with its message in the warnings slot (status 200, so htmx swaps).
    """
    data = {
        name: request.POST.get(name)
        for name in (*selectors.TEXT_FIELDS, "exclude_customer", "exclude_lead")
        if name in request.POST
    }
    context: dict[str, object] = {"matches": [], "error": None}
    try:
        result = selectors.duplicate_check(actor=request.user, data=data)  # type: ignore[arg-type]
    except ValidationFailed as exc:
        messages = [m for field in exc.fields.values() for m in field] or [exc.message]
        context["error"] = " ".join(str(m) for m in dict.fromkeys(messages))
    else:
        context["matches"] = result.matches
    return render(request, "quality/_duplicate_warnings.html", context)


urlpatterns = [
    path("duplicates/check/", duplicate_check, name="duplicate_check"),
]

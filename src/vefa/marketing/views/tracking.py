"""Public endpoints of the messages: click redirect, open pixel, the message in the browser,
the unsubscribe page and the RFC 8058 one-click unsubscribe.

They need no sign-in (the recipient's random token and, for clicks, the link's signature
identify everything); none of them takes a decorator that asks for a login. Only the
one-click endpoint is exempt from CSRF: a mail client posts to it without a token.
"""

from __future__ import annotations

import base64

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from vefa.marketing.selectors.sending import recipient_for_token
from vefa.marketing.services import tracking

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _not_found() -> HttpResponse:
    return HttpResponse(status=404, content_type="text/plain")


@never_cache
@require_GET
def track_click(request: HttpRequest, token: str, link_id: int, signature: str) -> HttpResponse:
    url = tracking.record_click(token=token, link_id=link_id, signature=signature)
    if url is None:
        return _not_found()
    response = HttpResponseRedirect(url)
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_GET
def track_open(request: HttpRequest, token: str) -> HttpResponse:
    tracking.record_open(token=token)
    return HttpResponse(PIXEL, content_type="image/gif")


def _language(recipient: object) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    wanted = getattr(recipient, "language", "") or getattr(
        getattr(recipient, "customer", None), "language", ""
    )
    if wanted in codes:
        return str(wanted)
    return translation.get_language() or settings.LANGUAGE_CODE


def _page(
    request: HttpRequest, recipient: object, *, done: bool, status: int = 200
) -> HttpResponse:
    company = str(getattr(settings, "VEFA_COMPANY_NAME", "") or "Vefa")
    response = render(
        request,
        "marketing/tracking/unsubscribe.html",
        {"recipient": recipient, "done": done, "company": company},
        status=status,
    )
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    recipient = recipient_for_token(token)
    with translation.override(_language(recipient)):
        if recipient is None:
            return _page(request, None, done=False, status=404)
        if request.method == "POST":
            tracking.unsubscribe(token=token)
            return _page(request, recipient, done=True)
        return _page(request, recipient, done=recipient.unsubscribed_at is not None)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe_one_click(request: HttpRequest, token: str) -> HttpResponse:
    """RFC 8058: ``POST`` with ``List-Unsubscribe=One-Click`` unsubscribes at once; a
    ``GET`` (a person following the link) shows the confirmation page."""
    if request.method == "GET":
        return unsubscribe(request, token)
    if request.POST.get("List-Unsubscribe") != "One-Click":
        return HttpResponse(status=400, content_type="text/plain")
    if not tracking.unsubscribe(token=token):
        return _not_found()
    return HttpResponse(b"", status=200, content_type="text/plain")


@never_cache
@require_GET
def view_message(request: HttpRequest, token: str) -> HttpResponse:
    """The message as it was sent, for a reader whose mail client shows it badly."""
    from vefa.marketing.services.sending import rendered_for_recipient

    recipient = recipient_for_token(token)
    if recipient is None:
        return _not_found()
    rendered = rendered_for_recipient(recipient)
    if rendered is None:
        return _not_found()
    with translation.override(_language(recipient)):
        response = render(
            request,
            "marketing/tracking/message.html",
            {"subject": rendered.subject, "body": rendered.html, "text": rendered.text},
        )
    response["X-Robots-Tag"] = "noindex"
    response["Content-Security-Policy"] = "script-src 'none'; object-src 'none'; base-uri 'none'"
    return response


urlpatterns = [
    path("r/<str:token>/<int:link_id>/<str:signature>/", track_click, name="track_click"),
    path("o/<str:token>.gif", track_open, name="track_open"),
    path("m/<str:token>/", view_message, name="view_message"),
    path("u/<str:token>/", unsubscribe, name="unsubscribe"),
    path("u/<str:token>/one-click/", unsubscribe_one_click, name="unsubscribe_one_click"),
]

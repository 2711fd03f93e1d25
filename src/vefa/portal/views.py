"""Pages of the customer portal, the public web form, and the two staff pages that manage
portal accounts and web forms.

Portal pages read only through ``vefa.portal.selectors`` and write only through
``vefa.portal.services``; both take the signed-in ``PortalAccount``.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can
from vefa.accounts.models import User
from vefa.accounts.views import client_ip
from vefa.common.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from vefa.customers.choices import Channel, ConsentPurpose
from vefa.customers.models import Customer
from vefa.portal import selectors, services
from vefa.portal.auth import (
    account_of,
    current_account,
    portal_login,
    portal_login_required,
    portal_logout,
)
from vefa.portal.choices import WebFormTarget
from vefa.portal.models import PortalAccount, WebForm
from vefa.service.choices import ReturnReason, TicketType

HONEYPOT = "website"


def _safe_next(request: HttpRequest, value: Any, default: str) -> str:
    if (
        isinstance(value, str)
        and value.startswith("/portal/")
        and url_has_allowed_host_and_scheme(
            value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return value
    return default


def _link_base(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("portal:login_link", args=["T"]))[:-2]


def _error_page(request: HttpRequest, exc: ApplicationError) -> dict[str, Any]:
    return {"errors": exc.fields, "error": exc.message}


# --- sign-in -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Ask for a sign-in link, or sign in with a password. One answer for every address."""
    next_url = _safe_next(request, request.GET.get("next") or request.POST.get("next"), "")
    context: dict[str, Any] = {"next": next_url, "email": ""}
    if request.method == "POST":
        email = request.POST.get("email", "")
        context["email"] = email[:254]
        try:
            if request.POST.get("password"):
                account = services.login_password(
                    email=email,
                    password=request.POST.get("password"),
                    ip_address=client_ip(request),
                )
                portal_login(request, account)
                return HttpResponseRedirect(next_url or reverse("portal:home"))
            services.login_link_request(
                email=email, ip_address=client_ip(request), link_base=_link_base(request)
            )
            return HttpResponseRedirect(reverse("portal:login_sent"))
        except services.Throttled as exc:
            context["error"] = exc.message
            return render(request, "portal/login.html", context, status=429)
        except ValidationFailed as exc:
            context["error"] = exc.message
            return render(request, "portal/login.html", context, status=400)
    return render(request, "portal/login.html", context)


@require_GET
def login_sent_view(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/login_sent.html", {})


@require_http_methods(["GET", "POST"])
def login_link_view(request: HttpRequest, token: str) -> HttpResponse:
    """Opening the link shows a button; the link is used only when it is pressed, so a mail
    scanner that follows links cannot use it up."""
    try:
        if request.method == "POST":
            account = services.login_link_consume(token=token)
            portal_login(request, account)
            if account.language:
                redirect = HttpResponseRedirect(reverse("portal:home"))
                redirect.set_cookie(settings.LANGUAGE_COOKIE_NAME, account.language, samesite="Lax")
                return redirect
            return HttpResponseRedirect(reverse("portal:home"))
        services.login_link_peek(token=token)
    except NotFound:
        return render(request, "portal/login_link_invalid.html", {}, status=404)
    # The page sends no third-party requests; the site-wide "same-origin" referrer policy
    # keeps the token in the address out of other sites (and a "no-referrer" policy would
    # make the browser send "Origin: null", which the CSRF check refuses).
    return render(request, "portal/login_link.html", {})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    portal_logout(request)
    return HttpResponseRedirect(reverse("portal:login"))


@require_POST
def set_language_view(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    response: HttpResponse = HttpResponseRedirect(
        _safe_next(request, request.POST.get("next"), reverse("portal:home"))
    )
    if language not in dict(settings.LANGUAGES):
        return response
    account = current_account(request)
    if account is not None:
        services.account_set_language(account=account, language=language)
    translation.activate(language)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    return response


# --- home, orders, documents -------------------------------------------------------------


@portal_login_required
@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    return render(
        request,
        "portal/home.html",
        {
            "account": account,
            "open_tickets": selectors.open_tickets(account=account),
            "recent_orders": selectors.recent_orders(account=account),
            "surveys": selectors.pending_surveys(account=account, limit=5),
            "nav": "home",
        },
    )


@portal_login_required
@require_GET
def orders_view(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    page = selectors.order_page(account=account, cursor=request.GET.get("cursor"))
    return render(request, "portal/orders.html", {"page": page, "nav": "orders"})


@portal_login_required
@require_GET
def order_view(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_of(request)
    order = selectors.order_get(account=account, pk=pk)
    return render(
        request,
        "portal/order.html",
        {
            "order": order,
            "lines": selectors.order_lines(account=account, order=order),
            "shipments": selectors.order_shipments(account=account, order=order),
            "nav": "orders",
        },
    )


@portal_login_required
@require_GET
def points_view(request: HttpRequest) -> HttpResponse:
    """The loyalty points of the signed-in contact's customer: balance, tier, history and the
    customer's referral code."""
    from vefa.marketing.services.referrals import referral_code

    account = account_of(request)
    summary = selectors.points_summary(account=account)
    page = selectors.points_page(account=account, cursor=request.GET.get("cursor"))
    return render(
        request,
        "portal/points.html",
        {
            "summary": summary,
            "page": page,
            "referral_code": referral_code(account.customer_id),
            "nav": "points",
        },
    )


@portal_login_required
@require_GET
def documents_view(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    return render(
        request,
        "portal/documents.html",
        {
            "quotes": selectors.quotes(account=account),
            "contracts": selectors.contracts(account=account),
            "nav": "documents",
        },
    )


# --- tickets -----------------------------------------------------------------------------


@portal_login_required
@require_GET
def tickets_view(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    page = selectors.ticket_page(account=account, cursor=request.GET.get("cursor"))
    return render(request, "portal/tickets.html", {"page": page, "nav": "tickets"})


def _ticket_form_context(account: PortalAccount, **extra: Any) -> dict[str, Any]:
    return {
        "types": [(t.value, t.label) for t in services.PORTAL_TICKET_TYPES],
        "orders": selectors.recent_orders(account=account, limit=50),
        "products": selectors.ordered_products(account=account),
        "nav": "tickets",
        **extra,
    }


@portal_login_required
@require_http_methods(["GET", "POST"])
def ticket_new_view(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    values: dict[str, Any] = {
        "type": request.GET.get("type", TicketType.COMPLAINT),
        "order": request.GET.get("order", ""),
    }
    if request.method == "POST":
        values = {
            k: request.POST.get(k, "")
            for k in ("type", "subject", "description", "order", "product")
        }
        try:
            ticket = services.ticket_open(
                account=account,
                data=values,
                attachments=request.FILES.getlist("attachments"),
            )
        except ValidationFailed as exc:
            return render(
                request,
                "portal/ticket_new.html",
                _ticket_form_context(account, values=values, **_error_page(request, exc)),
                status=422,
            )
        messages.success(request, _("Thank you. We have received your message."))
        return HttpResponseRedirect(reverse("portal:ticket", args=[ticket.pk]))
    return render(request, "portal/ticket_new.html", _ticket_form_context(account, values=values))


@portal_login_required
@require_http_methods(["GET", "POST"])
def ticket_view(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_of(request)
    ticket = selectors.ticket_get(account=account, pk=pk)
    if ticket.pk != pk:
        return HttpResponseRedirect(reverse("portal:ticket", args=[ticket.pk]))
    context: dict[str, Any] = {"ticket": ticket, "nav": "tickets", "body": ""}
    status = 200
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            services.ticket_reply(
                account=account,
                ticket_id=ticket.pk,
                body=body,
                attachments=request.FILES.getlist("attachments"),
            )
        except ValidationFailed as exc:
            context.update(_error_page(request, exc), body=body)
            status = 422
        else:
            messages.success(request, _("Your message was added."))
            return HttpResponseRedirect(reverse("portal:ticket", args=[ticket.pk]))
    context["conversation"] = selectors.ticket_messages(account=account, ticket=ticket)
    return render(request, "portal/ticket.html", context, status=status)


@portal_login_required
@require_GET
def attachment_view(request: HttpRequest, pk: int) -> HttpResponse:
    from vefa.interactions.views._files import attachment_response

    attachment = selectors.attachment_get(account=account_of(request), pk=pk)
    return attachment_response(attachment)  # type: ignore[return-value]


# --- returns -----------------------------------------------------------------------------


@portal_login_required
@require_GET
def returns_view(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    return render(
        request,
        "portal/returns.html",
        {"returns": selectors.returns(account=account), "nav": "returns"},
    )


@portal_login_required
@require_GET
def return_view(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_of(request)
    record = selectors.return_get(account=account, pk=pk)
    return render(
        request,
        "portal/return.html",
        {
            "record": record,
            "lines": selectors.return_lines(account=account, return_request=record),
            "nav": "returns",
        },
    )


@portal_login_required
@require_http_methods(["GET", "POST"])
def return_new_view(request: HttpRequest, order_pk: int) -> HttpResponse:
    account = account_of(request)
    order = selectors.order_get(account=account, pk=order_pk)
    lines = selectors.order_lines(account=account, order=order)
    context: dict[str, Any] = {
        "order": order,
        "lines": lines,
        "reasons": ReturnReason.choices,
        "values": {},
        "nav": "returns",
    }
    if request.method == "POST":
        quantities = {
            str(line.pk): request.POST.get(f"qty_{line.pk}", "").strip()[:30] for line in lines
        }
        values = {
            "reason": request.POST.get("reason", ""),
            "reason_detail": request.POST.get("reason_detail", ""),
            "quantities": quantities,
        }
        try:
            record = services.return_open(
                account=account,
                order_id=order.pk,
                reason=values["reason"],
                reason_detail=values["reason_detail"],
                quantities=quantities,
            )
        except ValidationFailed as exc:
            context.update(_error_page(request, exc), values=values)
            return render(request, "portal/return_new.html", context, status=422)
        messages.success(request, _("Your return request was received."))
        return HttpResponseRedirect(reverse("portal:return", args=[record.pk]))
    return render(request, "portal/return_new.html", context)


# --- surveys and the knowledge base ------------------------------------------------------


@portal_login_required
@require_http_methods(["GET", "POST"])
def surveys_view(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    context: dict[str, Any] = {"nav": "surveys", "scores": range(0, 11)}
    status = 200
    if request.method == "POST":
        try:
            services.survey_answer(
                account=account,
                invitation_id=request.POST.get("invitation"),
                score=request.POST.get("score"),
                comment=request.POST.get("comment", ""),
            )
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc
        except ValidationFailed as exc:
            context.update(_error_page(request, exc), failed=request.POST.get("invitation"))
            status = 422
        else:
            messages.success(request, _("Thank you for your answer."))
            return HttpResponseRedirect(reverse("portal:surveys"))
    context["surveys"] = selectors.pending_surveys(account=account)
    return render(request, "portal/surveys.html", context, status=status)


@portal_login_required
@require_GET
def help_view(request: HttpRequest) -> HttpResponse:
    from vefa.service.selectors.knowledge import article_search

    query = request.GET.get("q", "")[:200]
    results = (
        article_search(
            query=query, language=translation.get_language() or "en", public_only=True, limit=20
        )
        if query.strip()
        else []
    )
    return render(request, "portal/help.html", {"q": query, "results": results, "nav": "help"})


@portal_login_required
@require_GET
def help_article_view(request: HttpRequest, slug: str) -> HttpResponse:
    from vefa.service.selectors.knowledge import public_article_get
    from vefa.service.services.knowledge import render_article_body

    article = public_article_get(slug=slug, language=translation.get_language() or "en")
    return render(
        request,
        "portal/help_article.html",
        {"article": article, "body": render_article_body(article.body), "nav": "help"},
    )


# --- my details, consents, password, data download ---------------------------------------


def _details_values(contact: Customer) -> dict[str, Any]:
    from vefa.customers.models import Address

    address = Address.objects.filter(customer_id=contact.pk, is_primary=True).first()
    return {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "phone": contact.primary_phone,
        "line1": address.line1 if address else "",
        "line2": address.line2 if address else "",
        "postal_code": address.postal_code if address else "",
        "city": address.city if address else "",
        "country": address.country if address else "",
        "preferred_channel": contact.preferred_channel,
    }


def _consent_rows(account: PortalAccount) -> list[dict[str, Any]]:
    current = services.consents_current(account=account)
    return [
        {
            "key": f"{channel}:{purpose}",
            "label": f"{Channel(channel).label} · {ConsentPurpose(purpose).label}",
            "granted": current[(channel, purpose)],
        }
        for channel, purpose in services.PORTAL_CONSENTS
    ]


@portal_login_required
@require_http_methods(["GET", "POST"])
def details_view(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    context: dict[str, Any] = {"nav": "details", "account": account}
    status = 200
    values = _details_values(account.contact)
    if request.method == "POST":
        form = request.POST.get("form")
        try:
            if form == "details":
                values = {k: request.POST.get(k, "") for k in values}
                services.details_update(account=account, data=values)
                messages.success(request, _("Your details were saved."))
            elif form == "consents":
                services.consents_set(account=account, granted=request.POST.getlist("consent"))
                messages.success(request, _("Your choices were saved."))
            elif form == "password":
                updated = services.account_set_password(
                    account=account,
                    password=request.POST.get("password"),
                    confirm=request.POST.get("confirm"),
                )
                portal_login(request, updated)
                messages.success(request, _("Your password was set."))
            else:
                return HttpResponse(status=400)
            return HttpResponseRedirect(reverse("portal:details"))
        except ValidationFailed as exc:
            context.update(_error_page(request, exc), failed_form=form)
            status = 422
    context["values"] = values
    context["channels"] = Channel.choices
    context["consents"] = _consent_rows(account)
    return render(request, "portal/details.html", context, status=status)


@portal_login_required
@require_GET
def export_view(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    data = selectors.data_export(account=account)
    data["exported_at"] = timezone.now().isoformat()
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the public web form -----------------------------------------------------------------


def _frame_headers(response: HttpResponse, form: WebForm) -> HttpResponse:
    origins = " ".join(form.origins)
    response["Content-Security-Policy"] = f"frame-ancestors 'self' {origins}".strip()
    return response


@xframe_options_exempt
@csrf_exempt
@require_http_methods(["GET", "POST"])
def webform_view(request: HttpRequest, key: str) -> HttpResponse:
    """The embeddable form. Framed only by the sites the form names (CSP frame-ancestors).

    A browser in a third-party frame does not send the Lax CSRF cookie, so this anonymous
    form is exempt from CSRF; abuse is held off by the honeypot and the per-address limit.
    """
    try:
        form = services.webform_get_active(key=key)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    # Attribution comes with the frame's address (?utm_source=…) and is posted back hidden.
    tracking = {k: request.GET.get(k, "")[:200] for k in services.UTM_FIELDS}
    tracking["page_url"] = (request.GET.get("page_url") or request.headers.get("Referer", ""))[
        :2000
    ]
    context: dict[str, Any] = {
        "form": form,
        "values": {},
        "honeypot": HONEYPOT,
        "tracking": tracking,
    }
    status = 200
    if request.method == "POST":
        fields = ("name", "email", "phone", "company", "subject", "message", "consent")
        values = {k: request.POST.get(k, "") for k in fields}
        tracking = {k: request.POST.get(k, "") for k in (*services.UTM_FIELDS, "page_url")}
        context["tracking"] = tracking
        values.update(tracking)
        if request.POST.get(HONEYPOT):
            # A robot filled the hidden field: it is thanked and nothing is kept.
            return HttpResponseRedirect(reverse("portal:webform_thanks", args=[form.key]))
        try:
            services.webform_submit(form=form, data=values, ip_address=client_ip(request))
        except services.Throttled as exc:
            context.update(error=exc.message, values=values)
            status = 429
        except ValidationFailed as exc:
            context.update(_error_page(request, exc), values=values)
            status = 422
        else:
            return HttpResponseRedirect(reverse("portal:webform_thanks", args=[form.key]))
    response = render(request, "portal/webform.html", context, status=status)
    return _frame_headers(response, form)


@xframe_options_exempt
@require_GET
def webform_thanks_view(request: HttpRequest, key: str) -> HttpResponse:
    try:
        form = services.webform_get_active(key=key)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    return _frame_headers(render(request, "portal/webform_thanks.html", {"form": form}), form)


# --- staff pages -------------------------------------------------------------------------


def _staff(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
@require_http_methods(["GET", "POST"])
def staff_accounts_view(request: HttpRequest) -> HttpResponse:
    """Portal accounts of one customer: invite a contact person, switch accounts off/on."""
    actor = _staff(request)
    raw = request.GET.get("customer") or request.POST.get("customer")
    try:
        customer_pk = selectors._pk(raw)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    customer = Customer.objects.filter(pk=customer_pk, merged_into__isnull=True).first()
    if customer is None or not can(actor, "change", customer):
        raise Http404(_("Not found."))
    context: dict[str, Any] = {"customer": customer, "values": {}}
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "invite":
                values = {k: request.POST.get(k, "") for k in ("contact", "email", "language")}
                context["values"] = values
                account = services.account_invite(
                    actor=actor,
                    customer_id=customer.pk,
                    contact_id=values["contact"],
                    email=values["email"],
                    language=values["language"],
                    link_base=_link_base(request),
                )
                messages.success(
                    request, _("An invitation was sent to %(email)s.") % {"email": account.email}
                )
            elif request.POST.get("action") in ("deactivate", "activate"):
                account_pk = request.POST.get("account")
                if not PortalAccount.objects.filter(
                    pk=selectors._pk(account_pk), customer=customer
                ).exists():
                    raise Http404(_("Not found."))
                services.account_set_active(
                    actor=actor,
                    account_id=account_pk,
                    active=request.POST.get("action") == "activate",
                )
                messages.success(request, _("The account was changed."))
            else:
                return HttpResponse(status=400)
            return HttpResponseRedirect(
                f"{reverse('portal:staff_accounts')}?customer={customer.pk}"
            )
        except (NotFound, PermissionDenied) as exc:
            raise Http404(str(exc.message)) from exc
        except ValidationFailed as exc:
            context.update(_error_page(request, exc))
            status = 422
    context["accounts"] = list(
        PortalAccount.objects.filter(customer=customer).select_related("contact").order_by("email")
    )
    context["contacts"] = services.contacts_for(customer)
    context["languages"] = settings.LANGUAGES
    return render(request, "portal/staff_accounts.html", context, status=status)


def _webform_choices() -> dict[str, Any]:
    from vefa.customers.choices import Source
    from vefa.marketing.models import Campaign
    from vefa.service.models import Queue

    return {
        "targets": WebFormTarget.choices,
        "ticket_types": TicketType.choices,
        "queues": list(Queue.objects.filter(is_active=True).order_by("name")[:200]),
        "people": list(
            User.objects.filter(is_active=True)
            .order_by("full_name")
            .only("pk", "full_name", "email")[:300]
        ),
        "lead_sources": Source.choices,
        "campaigns": list(
            Campaign.objects.filter(journey__isnull=True)
            .order_by("-created_at", "-id")
            .values_list("pk", "name")[:300]
        ),
    }


@login_required
@require_http_methods(["GET", "POST"])
def staff_forms_view(request: HttpRequest) -> HttpResponse:
    """The web forms: the list with each form's embed snippet, and a form to add one."""
    actor = _staff(request)
    if not can(actor, "change", WebForm(key="x")):
        raise Http404(_("Not found."))
    context: dict[str, Any] = {
        "values": {"target": "ticket", "is_active": True},
        **_webform_choices(),
    }
    status = 200
    edit_pk = request.GET.get("edit") or request.POST.get("form_id")
    editing = None
    if edit_pk:
        try:
            editing = WebForm.objects.filter(pk=selectors._pk(edit_pk)).first()
        except NotFound:
            editing = None
        if editing is None:
            raise Http404(_("Not found."))
        context["editing"] = editing
        context["values"] = {
            "name": editing.name,
            "target": editing.target,
            "ticket_type": editing.ticket_type,
            "queue": editing.queue_id,
            "lead_owner": editing.lead_owner_id,
            "allowed_origins": editing.allowed_origins,
            "is_active": editing.is_active,
            "consent_text": editing.consent_text,
            "consent_version": editing.consent_version,
            "lead_source": editing.lead_source,
            "campaign": editing.campaign_id,
        }
    if request.method == "POST":
        keys = (
            "name",
            "target",
            "ticket_type",
            "queue",
            "lead_owner",
            "allowed_origins",
            "consent_text",
            "consent_version",
            "lead_source",
            "campaign",
        )
        values: dict[str, Any] = {k: request.POST.get(k, "") for k in keys}
        values["is_active"] = request.POST.get("is_active") == "on"
        try:
            if editing is not None:
                services.webform_update(actor=actor, form_id=editing.pk, data=values)
            else:
                services.webform_create(actor=actor, data=values)
        except ValidationFailed as exc:
            context.update(_error_page(request, exc), values=values)
            status = 422
        else:
            messages.success(request, _("The form was saved."))
            return HttpResponseRedirect(reverse("portal:staff_forms"))
    forms = list(WebForm.objects.select_related("queue").order_by("name"))
    for form in forms:
        url = request.build_absolute_uri(reverse("portal:webform", args=[form.key]))
        form.embed = (  # type: ignore[attr-defined]
            f'<iframe src="{escape(url)}" title="{escape(form.name)}" '
            'style="width:100%;min-height:640px;border:0" loading="lazy"></iframe>'
        )
    context["forms"] = forms
    return render(request, "portal/staff_forms.html", context, status=status)

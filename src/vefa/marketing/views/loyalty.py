"""Loyalty pages: the programme's settings (programme, earning rules, tiers) and the points
card of a customer (an htmx fragment on the customer page: balance, tier, latest entries,
redeeming and adjusting for those allowed, the referral code and referrals)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create
from vefa.common.errors import ApplicationError, NotFound, PermissionDenied
from vefa.customers.selectors import customer_get
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404
from vefa.marketing.forms_loyalty import (
    EarningRuleForm,
    PointsForm,
    ProgramForm,
    ReferralForm,
    TierForm,
)
from vefa.marketing.models import LoyaltyProgram
from vefa.marketing.selectors.loyalty import customer_points, program_setup
from vefa.marketing.selectors.referrals import customer_referrals
from vefa.marketing.services import loyalty as services
from vefa.marketing.services.loyalty import ladder_step_labels
from vefa.marketing.services.referrals import referral_code, referral_create
from vefa.sales.selectors.catalogue import category_choices

RECENT = 10


def _setup_context(request: HttpRequest, **forms: Any) -> dict[str, Any]:
    actor = actor_of(request)
    setup = program_setup()
    may_change = can_create(actor, LoyaltyProgram)
    program = setup.program
    initial = (
        {
            "name": program.name,
            "currency": program.currency,
            "point_value": program.point_value,
            "min_redeem": program.min_redeem,
            "expiry_months": program.expiry_months,
            "is_active": program.is_active,
        }
        if program
        else {"currency": "TRY", "is_active": True}
    )
    return {
        "setup": setup,
        "may_change": may_change,
        "ladder_labels": ladder_step_labels(),
        "program_form": forms.get("program_form") or ProgramForm(initial=initial),
        "rule_form": forms.get("rule_form")
        or EarningRuleForm(categories=category_choices(actor=actor_of(request))),
        "tier_form": forms.get("tier_form") or TierForm(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def loyalty(request: HttpRequest) -> HttpResponse:
    """The programme's settings; POST saves the programme, adds a rule or a tier."""
    actor = actor_of(request)
    if request.method == "GET":
        return render(request, "marketing/loyalty/settings.html", _setup_context(request))
    if not can_create(actor, LoyaltyProgram):
        raise Http404
    part = request.POST.get("part", "")
    forms: dict[str, Any] = {}
    try:
        if part == "program":
            form: Any = ProgramForm(request.POST)
            forms["program_form"] = form
            if form.is_valid():
                services.program_save(actor=actor, data=form.cleaned_data)
                messages.success(request, _("The loyalty programme was saved."))
                return HttpResponseRedirect(reverse("marketing:loyalty"))
        elif part == "rule":
            form = EarningRuleForm(
                request.POST, categories=category_choices(actor=actor_of(request))
            )
            forms["rule_form"] = form
            if form.is_valid():
                services.earning_rule_add(
                    actor=actor,
                    kind=form.cleaned_data["kind"],
                    points=form.cleaned_data["points"],
                    per_amount=form.cleaned_data["per_amount"],
                    category_id=form.cleaned_data["category"],
                )
                messages.success(request, _("The earning rule was added."))
                return HttpResponseRedirect(reverse("marketing:loyalty"))
        elif part == "tier":
            form = TierForm(request.POST)
            forms["tier_form"] = form
            if form.is_valid():
                services.tier_add(actor=actor, **form.cleaned_data)
                messages.success(request, _("The tier was added."))
                return HttpResponseRedirect(reverse("marketing:loyalty"))
        else:
            raise Http404
    except PermissionDenied:
        raise Http404 from None
    except ApplicationError as exc:
        apply_errors(form, exc)
    context = _setup_context(request, **forms)
    return render(request, "marketing/loyalty/settings.html", context, status=400)


@login_required
@require_POST
def loyalty_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.earning_rule_delete(actor=actor_of(request), rule_id=pk)
    except (NotFound, PermissionDenied):
        raise Http404 from None
    messages.success(request, _("The earning rule was removed."))
    return HttpResponseRedirect(reverse("marketing:loyalty"))


@login_required
@require_POST
def loyalty_tier_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.tier_delete(actor=actor_of(request), tier_id=pk)
    except (NotFound, PermissionDenied):
        raise Http404 from None
    messages.success(request, _("The tier was removed."))
    return HttpResponseRedirect(reverse("marketing:loyalty"))


def _points_card(
    request: HttpRequest,
    customer_pk: int,
    *,
    redeem_form: PointsForm | None = None,
    adjust_form: PointsForm | None = None,
    referral_form: ReferralForm | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    actor = actor_of(request)
    customer, summary = customer_points(actor=actor, customer_id=customer_pk, limit=RECENT)
    may_redeem = summary.program is not None and can(actor, "change", customer)
    may_adjust = summary.program is not None and can_create(actor, LoyaltyProgram)
    may_refer = can(actor, "change", customer)
    referrals = customer_referrals(actor=actor, customer=customer)
    return render(
        request,
        "marketing/loyalty/_customer_points.html",
        {
            "customer": customer,
            "summary": summary,
            "ladder_labels": ladder_step_labels(),
            "redeem_form": (redeem_form or PointsForm(prefix="redeem")) if may_redeem else None,
            "adjust_form": (adjust_form or PointsForm(prefix="adjust")) if may_adjust else None,
            "referral_form": (referral_form or ReferralForm(prefix="referral"))
            if may_refer and referrals["referred_by"] is None
            else None,
            "referral_code": referral_code(customer.pk),
            "referrals": referrals,
            "notice": notice,
        },
        status=status,
    )


@login_required
@require_GET
@hidden_as_404
def customer_points_card(request: HttpRequest, customer_pk: int) -> HttpResponse:
    return _points_card(request, customer_pk)


@login_required
@require_POST
@hidden_as_404
def customer_points_change(request: HttpRequest, customer_pk: int, what: str) -> HttpResponse:
    """Redeem or adjust a customer's points; answers the card again."""
    actor = actor_of(request)
    if what not in ("redeem", "adjust"):
        raise Http404
    form = PointsForm(request.POST, prefix=what)
    forms: dict[str, Any] = {f"{what}_form": form}
    if not form.is_valid():
        return _points_card(request, customer_pk, status=400, **forms)
    service = services.points_redeem if what == "redeem" else services.points_adjust
    try:
        service(
            actor=actor,
            customer_id=customer_pk,
            points=form.cleaned_data["points"],
            reason=form.cleaned_data["reason"],
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        apply_errors(form, exc)
        return _points_card(request, customer_pk, status=400, **forms)
    notice = _("The points were redeemed.") if what == "redeem" else _("The points were adjusted.")
    return _points_card(request, customer_pk, notice=notice)


@login_required
@require_POST
@hidden_as_404
def customer_referral_add(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """Record who referred this customer, by the referrer's code; answers the card again."""
    actor = actor_of(request)
    form = ReferralForm(request.POST, prefix="referral")
    if not form.is_valid():
        return _points_card(request, customer_pk, referral_form=form, status=400)
    customer_get(actor=actor, pk=customer_pk)
    try:
        referral_create(actor=actor, referred_id=customer_pk, code=form.cleaned_data["code"])
    except NotFound:
        # The referrer is out of the actor's reach: the code does not name anyone they know.
        form.add_error("code", _("This referral code is not valid."))
        return _points_card(request, customer_pk, referral_form=form, status=400)
    except ApplicationError as exc:
        apply_errors(form, exc)
        return _points_card(request, customer_pk, referral_form=form, status=400)
    return _points_card(request, customer_pk, notice=_("The referral was recorded."))


urlpatterns = [
    path("loyalty/", loyalty, name="loyalty"),
    path("loyalty/rules/<int:pk>/delete/", loyalty_rule_delete, name="loyalty_rule_delete"),
    path("loyalty/tiers/<int:pk>/delete/", loyalty_tier_delete, name="loyalty_tier_delete"),
    path("loyalty/customer/<int:customer_pk>/", customer_points_card, name="customer_points"),
    path(
        "loyalty/customer/<int:customer_pk>/<str:what>/",
        customer_points_change,
        name="customer_points_change",
    ),
    path(
        "loyalty/customer/<int:customer_pk>/referral/add/",
        customer_referral_add,
        name="customer_referral_add",
    ),
]

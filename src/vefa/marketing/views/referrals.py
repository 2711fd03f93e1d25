"""The referral list: who brought whom, and whether the referrer was rewarded."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from vefa.interactions.views._helpers import actor_of, is_htmx
from vefa.marketing.selectors.referrals import referral_list as select_referrals

PAGE_SIZE = 25


@login_required
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    rewarded = request.GET.get("rewarded", "")
    page = select_referrals(
        actor=actor_of(request),
        rewarded=rewarded if rewarded in ("true", "false") else "",
        cursor=request.GET.get("cursor"),
        limit=PAGE_SIZE,
    )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {"page": page, "rewarded": rewarded, "base_query": params.urlencode()}
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "marketing/referrals/list.html#referral-rows", context)
    return render(request, "marketing/referrals/list.html", context)


urlpatterns = [path("referrals/", referral_list, name="referral_list")]

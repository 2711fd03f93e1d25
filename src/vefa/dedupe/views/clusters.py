"""The duplicate review: the clusters by match probability, one cluster side by side with
its differing fields highlighted, "merge" (to the merge page with the chosen customer kept)
and "not duplicates"; starting a duplicate search and following it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vefa.accounts.access import can, can_create
from vefa.common.errors import Conflict, PermissionDenied, ValidationFailed
from vefa.dedupe import linkage, selectors, services
from vefa.dedupe.models import ClusterStatus, DuplicateCluster
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx

PAGE_SIZE = 25


def _merge_page(ids: list[int]) -> str | None:
    """The customer merge page for ``ids`` (the first is kept), if this version has it."""
    try:
        base = reverse("customers:merge")
    except NoReverseMatch:
        return None
    return f"{base}?{urlencode({'ids': ','.join(str(i) for i in ids)})}"


@login_required
@require_GET
def cluster_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    status = request.GET.get("status", ClusterStatus.OPEN)
    if status not in ClusterStatus.values and status != "all":
        status = ClusterStatus.OPEN
    run = request.GET.get("run", "")[:20]
    page = selectors.cluster_list(
        actor=actor,
        status="" if status == "all" else status,
        run=run,
        cursor=request.GET.get("cursor"),
        limit=PAGE_SIZE,
    )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "page": page,
        "status": status,
        "run": run,
        "statuses": ClusterStatus.choices,
        "runs": selectors.run_list(actor=actor, limit=10),
        "base_query": params.urlencode(),
        "can_start": can_create(actor, DuplicateCluster),
        "default_threshold": linkage.DEFAULT_THRESHOLD,
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "dedupe/cluster_list.html#cluster-rows", context)
    return render(request, "dedupe/cluster_list.html", context)


@login_required
@require_GET
@hidden_as_404
def cluster_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    cluster = selectors.cluster_get(actor=actor, pk=pk)
    context = {
        "cluster": cluster,
        "side": selectors.side_by_side(cluster),
        "can_review": cluster.status == ClusterStatus.OPEN and can(actor, "change", cluster),
        "merge_available": _merge_page([1, 2]) is not None or services.merge_service() is not None,
    }
    return render(request, "dedupe/cluster_detail.html", context)


@login_required
@require_POST
@hidden_as_404
def cluster_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    cluster = selectors.cluster_get(actor=actor, pk=pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        services.cluster_dismiss(actor=actor, cluster=cluster, expected_version=version)
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Marked as not duplicates; they will not be proposed again."))
    return HttpResponseRedirect(reverse("dedupe:cluster_detail", args=[cluster.pk]))


@login_required
@require_POST
@hidden_as_404
def cluster_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Go on to the merge page with the chosen customer kept (first) and the others."""
    actor = actor_of(request)
    cluster = selectors.cluster_get(actor=actor, pk=pk)
    detail = reverse("dedupe:cluster_detail", args=[cluster.pk])
    if cluster.status != ClusterStatus.OPEN or not can(actor, "change", cluster):
        messages.error(request, _("This cluster cannot be merged."))
        return HttpResponseRedirect(detail)
    ids = [m.customer_id for m in cluster.members.order_by("customer_id")]
    try:
        survivor = int(request.POST.get("survivor", ""))
    except ValueError:
        survivor = 0
    if survivor not in ids:
        messages.error(request, _("Choose the customer to keep."))
        return HttpResponseRedirect(detail)
    ordered = [survivor, *[i for i in ids if i != survivor]]
    target = _merge_page(ordered)
    if target is not None:
        return HttpResponseRedirect(target)
    try:
        services.cluster_merge(actor=actor, cluster=cluster, survivor_id=survivor)
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The customers were merged."))
    return HttpResponseRedirect(detail)


@login_required
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    try:
        run = services.run_start(
            actor=actor,
            threshold=request.POST.get("threshold", ""),
            engine=request.POST.get("engine", ""),
        )
    except PermissionDenied as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("dedupe:cluster_list"))
    except ValidationFailed as exc:
        details = "; ".join(m for values in exc.fields.values() for m in values)
        messages.error(request, f"{exc.message} {details}".strip())
        return HttpResponseRedirect(reverse("dedupe:cluster_list"))
    messages.success(request, _("The duplicate search has started."))
    return HttpResponseRedirect(reverse("dedupe:run_detail", args=[run.pk]))


@login_required
@require_GET
@hidden_as_404
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    run = selectors.run_get(actor=actor, pk=pk)
    return render(request, "dedupe/run_detail.html", {"run": run})


urlpatterns = [
    path("", cluster_list, name="cluster_list"),
    path("clusters/<int:pk>/", cluster_detail, name="cluster_detail"),
    path("clusters/<int:pk>/dismiss/", cluster_dismiss, name="cluster_dismiss"),
    path("clusters/<int:pk>/merge/", cluster_merge, name="cluster_merge"),
    path("runs/", run_start, name="run_start"),
    path("runs/<int:pk>/", run_detail, name="run_detail"),
]

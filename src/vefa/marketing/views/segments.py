"""Pages of segments: the list, new and edit with the rule builder and its live count, one
segment with its rules in words, size over time and members, static list members, calls."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create, sees_all
from vefa.accounts.models import User
from vefa.common import charts
from vefa.common.errors import Conflict, PermissionDenied, ValidationFailed
from vefa.customers.filters import CustomerFilterForm
from vefa.customers.models import Customer
from vefa.customers.selectors import customer_queryset, visible_customers
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.marketing.choices import RuleMatch, SegmentKind
from vefa.marketing.forms_segments import (
    SegmentForm,
    param_select,
    rule_rows,
    rules_from_filters,
    rules_from_post,
)
from vefa.marketing.models import Segment
from vefa.marketing.segment_rules import (
    MATCH_WORDS,
    clean_rules,
    definitions,
    describe_rule,
    parameter_names,
)
from vefa.marketing.selectors import segments as selectors
from vefa.marketing.selectors.campaigns import campaign_choices
from vefa.marketing.services import segments as services
from vefa.sales.selectors.catalogue import category_choices, product_choices

PAGE_SIZE = 50
PRODUCT_CHOICES = 500
_KEY = re.compile(r"[a-z0-9]{1,12}")


def _value_choices(actor: User, exclude: int | None = None) -> dict[str, list[Any]]:
    """Friendlier value widgets than an id box: segments, categories, products and campaigns
    by name (a stored value that is not among them is still offered, by its id)."""
    campaigns = campaign_choices(actor=actor)
    return {
        "segment": selectors.segment_choices(actor=actor, exclude=[exclude] if exclude else []),
        "bought_category": category_choices(actor=actor),
        "bought_product": [
            (p.pk, f"{p.sku} · {p.name}")
            for p in product_choices(actor=actor, limit=PRODUCT_CHOICES)
        ],
        "campaign_opened": campaigns,
        "campaign_clicked": campaigns,
        "campaign_ignored": campaigns,
    }


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


# --- list ---------------------------------------------------------------------------------------


@login_required
@require_GET
def segment_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    q = " ".join(request.GET.get("q", "").split())[:100]
    kind = request.GET.get("kind", "")
    archived = request.GET.get("archived") == "1"
    page = selectors.segment_list(
        actor=actor,
        q=q,
        kind=kind,
        archived=archived,
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
    )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "page": page,
        "q": q,
        "kind": kind,
        "archived": archived,
        "kinds": SegmentKind.choices,
        "base_query": params.urlencode(),
        "can_create": can_create(actor, Segment),
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "marketing/segments/list.html#segment-rows", context)
    return render(request, "marketing/segments/list.html", context)


# --- new and edit -------------------------------------------------------------------------------


def _form_context(
    actor: User,
    form: SegmentForm,
    rules: list[dict[str, str]],
    *,
    segment: Segment | None = None,
    rule_errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    choices = _value_choices(actor, exclude=segment.pk if segment else None)
    rows = rule_rows(rules, actor=actor, errors=rule_errors, choices=choices)
    return {
        "form": form,
        "segment": segment,
        "rows": [(row, param_select(row.param, row.key)) for row in rows],
        "rules_error": " ".join((rule_errors or {}).get("rules", [])),
    }


@login_required
@require_http_methods(["GET", "POST"])
def segment_new(request: HttpRequest) -> HttpResponse:
    """A new segment; the query string may carry customer list filters to start from."""
    actor = actor_of(request)
    if not can_create(actor, Segment):
        raise DjangoPermissionDenied
    if request.method == "GET":
        rules = rules_from_filters(request.GET, actor=actor)
        kind = request.GET.get("kind", SegmentKind.DYNAMIC)
        form = SegmentForm(
            initial={
                "kind": kind if kind in SegmentKind.values else SegmentKind.DYNAMIC,
                "match": RuleMatch.ALL,
            }
        )
        if not rules:
            # A dashboard tile opens the builder with its attribute chosen.
            param = request.GET.get("param", "")[:100]
            rules = [{"param": param if param in parameter_names() else "", "value": ""}]
        return render(request, "marketing/segments/form.html", _form_context(actor, form, rules))
    form = SegmentForm(request.POST)
    rules = rules_from_post(request.POST)
    rule_errors: dict[str, list[str]] = {}
    if form.is_valid():
        data = form.cleaned_data
        try:
            segment = services.segment_create(
                actor=actor,
                name=data["name"],
                kind=data["kind"],
                match=data.get("match") or RuleMatch.ALL,
                rules=rules if data["kind"] == SegmentKind.DYNAMIC else [],
                description=data.get("description", ""),
                tags=data["tags"],
            )
        except ValidationFailed as exc:
            rule_errors = {k: v for k, v in exc.fields.items() if k.startswith("rules")}
            other = {k: v for k, v in exc.fields.items() if not k.startswith("rules")}
            if other or not rule_errors:
                apply_errors(form, ValidationFailed(exc.message, fields=other))
        except PermissionDenied as exc:
            raise DjangoPermissionDenied from exc
        else:
            messages.success(request, _("The segment was saved."))
            return HttpResponseRedirect(reverse("marketing:segment_detail", args=[segment.pk]))
    context = _form_context(
        actor, form, rules or [{"param": "", "value": ""}], rule_errors=rule_errors
    )
    return render(request, "marketing/segments/form.html", context, status=422)


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    segment = selectors.segment_get(actor=actor, pk=pk)
    if not can(actor, "change", segment):
        raise DjangoPermissionDenied
    tags = ", ".join(t.name for t in segment.tags.all())
    initial = {
        "name": segment.name,
        "description": segment.description,
        "kind": segment.kind,
        "match": segment.match,
        "tags": tags,
    }
    if request.method == "GET":
        form = SegmentForm(initial=initial, editing=True)
        rules = list(segment.rules or []) or [{"param": "", "value": ""}]
        context = _form_context(actor, form, rules, segment=segment)
        return render(request, "marketing/segments/form.html", context)
    form = SegmentForm(request.POST, initial=initial, editing=True)
    rules = rules_from_post(request.POST)
    rule_errors: dict[str, list[str]] = {}
    if form.is_valid():
        data = form.cleaned_data
        changes: dict[str, Any] = {
            "name": data["name"],
            "description": data.get("description", ""),
            "match": data.get("match") or segment.match,
            "tags": data["tags"],
        }
        if segment.kind == SegmentKind.DYNAMIC:
            changes["rules"] = rules
        try:
            services.segment_update(
                actor=actor,
                segment_id=segment.pk,
                data=changes,
                expected_version=_version(request),
            )
        except Conflict as exc:
            form.add_error(None, str(exc.message))
        except ValidationFailed as exc:
            rule_errors = {k: v for k, v in exc.fields.items() if k.startswith("rules")}
            other = {k: v for k, v in exc.fields.items() if not k.startswith("rules")}
            if other or not rule_errors:
                apply_errors(form, ValidationFailed(exc.message, fields=other))
        else:
            messages.success(request, _("The segment was saved."))
            return HttpResponseRedirect(reverse("marketing:segment_detail", args=[segment.pk]))
    context = _form_context(
        actor,
        form,
        rules or [{"param": "", "value": ""}],
        segment=segment,
        rule_errors=rule_errors,
    )
    return render(request, "marketing/segments/form.html", context, status=422)


@login_required
@require_GET
def segment_rule_row(request: HttpRequest) -> HttpResponse:
    """One row of the rule builder (a new row, or a row whose filter was changed)."""
    actor = actor_of(request)
    raw_key = request.GET.get("key", "")
    key = raw_key if _KEY.fullmatch(raw_key) else "n" + secrets.token_hex(4)
    param = request.GET.get("rule_param", "")[:100]
    exclude = request.GET.get("segment", "")
    excluded = int(exclude) if exclude.isdigit() and len(exclude) < 19 else None
    choices = _value_choices(actor, exclude=excluded)
    row = rule_rows([{"param": param, "value": ""}], actor=actor, choices=choices, key=key)[0]
    return render(
        request,
        "marketing/segments/_rule_row.html",
        {"row": row, "select": param_select(param, key)},
    )


@login_required
@require_POST
def segment_count_preview(request: HttpRequest) -> HttpResponse:
    """The live count of the builder's rules (customers the person may see)."""
    actor = actor_of(request)
    rules = rules_from_post(request.POST)
    match = request.POST.get("match", RuleMatch.ALL)
    match = match if match in RuleMatch.values else RuleMatch.ALL
    raw_segment = request.POST.get("segment", "")
    segment_id = int(raw_segment) if raw_segment.isdigit() and len(raw_segment) < 19 else None
    context: dict[str, Any] = {"count": None, "errors": []}
    if not rules:
        context["errors"] = [_("Add a rule to see how many customers match.")]
    else:
        try:
            cleaned = clean_rules(rules, actor=actor, segment_id=segment_id)
        except ValidationFailed as exc:
            context["errors"] = [m for messages_ in exc.fields.values() for m in messages_]
        else:
            context["count"] = selectors.count_rules(
                actor=actor, rules=cleaned, match=match, segment_id=segment_id
            )
    return render(request, "marketing/segments/_count.html", context)


# --- one segment ----------------------------------------------------------------------------------


def _size_chart(segment: Segment) -> Any:
    sizes = selectors.segment_sizes(segment=segment)
    bars = [
        charts.Bar(label=charts.fmt_date(s.day), value=s.count, text=charts.fmt_int(s.count))
        for s in sizes
    ]
    return charts.time_bars(
        chart_id=f"segment-size-{segment.pk}",
        title=_("Customers in the segment by day"),
        description=_("The number of customers in the segment at each daily count."),
        bars=bars,
        rtl=bool(translation.get_language_bidi()),
        empty=_("No daily counts yet: the segment is counted once a day."),
    ), sizes


@login_required
@require_GET
@hidden_as_404
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    segment = selectors.segment_get(actor=actor, pk=pk)
    defs = definitions()
    chart, sizes = _size_chart(segment)
    page = selectors.segment_members(actor=actor, segment=segment, size=PAGE_SIZE)
    context = {
        "segment": segment,
        "rules_in_words": [describe_rule(r, defs=defs) for r in segment.rules or []],
        "match_words": MATCH_WORDS.get(segment.match, ""),
        "chart": chart,
        "sizes": sizes[-14:],
        "page": page,
        "can_change": can(actor, "change", segment),
        "can_plan_calls": _can_plan_calls(actor),
        "is_static": segment.kind == SegmentKind.STATIC,
        "sees_all": sees_all(actor, Customer),
    }
    return render(request, "marketing/segments/detail.html", context)


def _can_plan_calls(actor: User) -> bool:
    from vefa.interactions.models import Activity

    return can_create(actor, Activity)


@login_required
@require_GET
@hidden_as_404
def segment_members(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page of members (htmx), or the members page on its own."""
    actor = actor_of(request)
    segment = selectors.segment_get(actor=actor, pk=pk)
    page = selectors.segment_members(
        actor=actor, segment=segment, cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    context = {
        "segment": segment,
        "page": page,
        "can_change": can(actor, "change", segment),
        "is_static": segment.kind == SegmentKind.STATIC,
    }
    if is_htmx(request):
        return render(request, "marketing/segments/_members.html#member-rows", context)
    return render(request, "marketing/segments/members.html", context)


@login_required
@require_GET
@hidden_as_404
def segment_count(request: HttpRequest, pk: int) -> HttpResponse:
    """The segment's count for this person; kept as the latest size when they see everyone."""
    actor = actor_of(request)
    segment = selectors.segment_get(actor=actor, pk=pk)
    count = selectors.visible_members(actor=actor, segment=segment).count()
    if sees_all(actor, Customer):
        services.segment_record_count(segment=segment, count=count)
    return render(request, "marketing/segments/_count.html", {"count": count, "errors": []})


@login_required
@require_POST
@hidden_as_404
def segment_archive(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    restore = request.POST.get("restore") == "1"
    try:
        if restore:
            services.segment_restore(actor=actor, segment_id=pk)
            messages.success(request, _("The segment is active again."))
        else:
            services.segment_archive(actor=actor, segment_id=pk)
            messages.success(request, _("The segment was archived."))
    except PermissionDenied as exc:
        raise DjangoPermissionDenied from exc
    return HttpResponseRedirect(reverse("marketing:segment_detail", args=[pk]))


def _ids(data: QueryDict) -> list[str]:
    return [v for v in data.getlist("ids")[:1001] if v]


@login_required
@require_POST
@hidden_as_404
def segment_remove_members(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        removed = services.static_members_remove(
            actor=actor, segment_id=pk, customer_ids=_ids(request.POST)
        )
    except PermissionDenied as exc:
        raise DjangoPermissionDenied from exc
    except ValidationFailed as exc:
        for messages_ in exc.fields.values():
            for message in messages_:
                messages.error(request, message)
    else:
        messages.success(request, _("%(n)d customers were taken off the list.") % {"n": removed})
    return HttpResponseRedirect(reverse("marketing:segment_detail", args=[pk]))


@login_required
@require_POST
@hidden_as_404
def segment_call_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        job = services.segment_call_tasks_start(actor=actor, segment_id=pk)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied from exc
    except ValidationFailed as exc:
        for messages_ in exc.fields.values():
            for message in messages_:
                messages.error(request, message)
        return HttpResponseRedirect(reverse("marketing:segment_detail", args=[pk]))
    messages.success(
        request,
        _("The calls are being planned (%(title)s); you will be told when they are ready.")
        % {"title": job.title},
    )
    return HttpResponseRedirect(reverse("marketing:segment_detail", args=[pk]))


# --- adding customers from the customer list ----------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def segment_add_customers(request: HttpRequest) -> HttpResponse:
    """Put customers on a static list: the selected ones (``ids``) or every customer matching
    the customer list's filters (the query string), after choosing the list."""
    actor = actor_of(request)
    source = request.POST if request.method == "POST" else request.GET
    ids = _ids(source)
    filter_params = QueryDict(mutable=True)
    # Selected customers come from the list's bulk form, whose fields are not filters.
    form = CustomerFilterForm({} if ids else source, actor=actor)
    form.is_valid()
    for name, value in form.filters_dict().items():
        if name != "sort":
            filter_params[name] = value
    lists = selectors.segment_choices(actor=actor, kind=SegmentKind.STATIC, changeable=True)
    target = source.get("target_list", "")
    if request.method == "POST" and target:
        try:
            if ids:
                added = services.static_members_add(
                    actor=actor, segment_id=target, customer_ids=ids
                )
            else:
                if form.errors:
                    raise ValidationFailed(
                        _("Some filters are not valid."),
                        fields={"customer_ids": [_("Some filters are not valid.")]},
                    )
                added = services.static_members_add_matching(
                    actor=actor, segment_id=target, customers=form.apply(customer_queryset())
                )
        except PermissionDenied as exc:
            raise DjangoPermissionDenied from exc
        except ValidationFailed as exc:
            for messages_ in exc.fields.values():
                for message in messages_:
                    messages.error(request, message)
        else:
            messages.success(request, _("%(n)d customers were added to the list.") % {"n": added})
            return HttpResponseRedirect(
                reverse("marketing:segment_detail", args=[int(target)])
                if target.isdigit()
                else reverse("marketing:segment_list")
            )
    matching = None
    if not ids and not form.errors:
        limit = services.MAX_STATIC_ADD
        matching = form.apply(visible_customers(actor)).order_by()[: limit + 1].count()
    context = {
        "ids": ids,
        "lists": lists,
        "filters": filter_params,
        "filters_query": urlencode(list(filter_params.items())),
        "matching": matching,
        "limit": services.MAX_STATIC_ADD,
        "filter_errors": form.error_dict(),
    }
    return render(request, "marketing/segments/add_customers.html", context)


urlpatterns = [
    path("segments/", segment_list, name="segment_list"),
    path("segments/new/", segment_new, name="segment_new"),
    path("segments/rule-row/", segment_rule_row, name="segment_rule_row"),
    path("segments/count/", segment_count_preview, name="segment_count_preview"),
    path("segments/add-customers/", segment_add_customers, name="segment_add_customers"),
    path("segments/<int:pk>/", segment_detail, name="segment_detail"),
    path("segments/<int:pk>/edit/", segment_edit, name="segment_edit"),
    path("segments/<int:pk>/members/", segment_members, name="segment_members"),
    path("segments/<int:pk>/members/remove/", segment_remove_members, name="segment_remove"),
    path("segments/<int:pk>/count/", segment_count, name="segment_count"),
    path("segments/<int:pk>/archive/", segment_archive, name="segment_archive"),
    path("segments/<int:pk>/calls/", segment_call_tasks, name="segment_call_tasks"),
]

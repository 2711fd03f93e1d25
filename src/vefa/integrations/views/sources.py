"""Order-source pages (administrators): the list, the form, the detail with the latest
orders and how to post, and a new secret (shown once). The pages every integration record
has come from ``_crud``; the detail page is the source's own."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from vefa.accounts.models import User
from vefa.integrations import selectors
from vefa.integrations.forms import OrderSourceForm
from vefa.integrations.models import OrderSource
from vefa.integrations.services import sources as services
from vefa.integrations.services.sources import SourceWithSecret
from vefa.integrations.views._crud import AdminPages, page


def _form(data: object = None, initial: dict[str, Any] | None = None) -> OrderSourceForm:
    from vefa.sales.models import PriceList

    owners = [
        (u.pk, str(u))
        for u in User.objects.filter(is_active=True).order_by("full_name", "id")[:500]
    ]
    lists = [
        (p.pk, str(p)) for p in PriceList.objects.filter(is_active=True).order_by("name")[:500]
    ]
    return OrderSourceForm(data, initial=initial, owners=owners, price_lists=lists)


def _initial(source: OrderSource) -> dict[str, Any]:
    return {
        "name": source.name,
        "key": source.key,
        "kind": source.kind,
        "default_currency": source.default_currency,
        "price_list": source.price_list_id or "",
        "owner": source.owner_id,
        "is_active": source.is_active,
        "version": source.version,
    }


def _endpoint(request: HttpRequest, source: OrderSource) -> str:
    return request.build_absolute_uri(f"/api/v1/integrations/orders/{source.key}")


def _secret_context(request: HttpRequest, made: SourceWithSecret) -> dict[str, Any]:
    return {"endpoint": _endpoint(request, made.source)}


PAGES = AdminPages(
    model=OrderSource,
    name="source",
    prefix="sources",
    select_list=selectors.source_list,
    select_get=selectors.source_get,
    create=services.source_create,
    update=services.source_update,
    rotate_secret=services.source_rotate_secret,
    delete=services.source_delete,
    make_form=_form,
    initial_for=_initial,
    saved_message=lambda: _("The order source was saved."),
    deleted_message=lambda: _("The order source was deleted."),
    initial_new=lambda request: {"owner": request.user.pk},
    secret_context=_secret_context,
)


@page("GET")
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = PAGES.admin_only(request)
    source = PAGES.get(actor, pk)
    return render(
        request,
        "integrations/source_detail.html",
        {
            "source": source,
            "orders": selectors.source_recent_orders(actor=actor, source=source),
            "endpoint": _endpoint(request, source),
        },
    )


urlpatterns = PAGES.urlpatterns(source_detail)

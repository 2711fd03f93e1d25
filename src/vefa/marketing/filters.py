"""Behaviour rules: filters of every customer list (page and API) and of segment rules.

Registered as a ``FilterExtension`` of ``customers.customer`` when the app is ready, so the
customer list offers them and a segment rule can use them, without the customer app
importing marketing:

- ``bought_product`` / ``bought_category``: has an order line of the product, or of a product
  in the category or one of its subcategories, on an order that is not cancelled;
- ``no_purchase_days``: no order (not cancelled) in the last N days, customers who never
  ordered included;
- ``campaign_opened`` / ``campaign_clicked`` / ``campaign_ignored``: opened or clicked a
  campaign's message, or was sent it and neither opened, clicked, replied nor bought;
- ``open_complaint``: has (or has no) complaint ticket that is not resolved or closed;
- ``segment``: is in another segment (a segment that would reach itself matches nobody).

Each is one ``id IN (subquery)`` over an indexed column, so the database reads the matching
customers once, whatever the number of customers.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django import forms
from django.apps import apps
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vefa.customers.filters import register_filter_extension

YES_NO = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
MAX_DAYS = 3650
# A category with more products than this is matched by a subquery instead of a list.
MAX_LISTED_PRODUCTS = 2000

PARAMETERS = (
    "bought_product",
    "bought_category",
    "no_purchase_days",
    "campaign_opened",
    "campaign_clicked",
    "campaign_ignored",
    "open_complaint",
    "segment",
)


class RecordField(forms.IntegerField):
    """The id of an existing record of ``model_label`` (checked only when a value is given)."""

    def __init__(self, *, model_label: str, missing: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(**kwargs)
        self.model_label = model_label
        self.missing = missing

    def clean(self, value: Any) -> int | None:
        number = super().clean(value)
        if number is None:
            return None
        model = apps.get_model(self.model_label)
        if not model._default_manager.filter(pk=number).exists():
            raise forms.ValidationError(self.missing)
        return int(number)

    def describe(self, value: Any) -> str:
        """The record's name for a rule in words ("#12" when it is gone)."""
        model = apps.get_model(self.model_label)
        try:
            record = model._default_manager.filter(pk=int(value)).first()
        except (TypeError, ValueError):
            record = None
        return str(record) if record is not None else f"#{value}"


def _not_cancelled_orders() -> QuerySet[Any]:
    from vefa.sales.choices import OrderStatus
    from vefa.sales.models import Order

    return Order.objects.exclude(status=OrderStatus.CANCELLED).filter(customer__isnull=False)


def category_and_children(category_id: int) -> list[int]:
    """The category and every category below it."""
    from vefa.sales.models import ProductCategory

    children: dict[int | None, list[int]] = {}
    for pk, parent in ProductCategory.objects.values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    found: list[int] = []
    frontier = [category_id]
    while frontier:
        found.extend(frontier)
        frontier = [c for pk in frontier for c in children.get(pk, ()) if c not in found]
    return found


def buyers_of(*, product_id: int | None = None, category_id: int | None = None) -> QuerySet[Any]:
    """Customer ids with an order line of the product or category (orders not cancelled).

    The lines are found by product through the ``orderline_product`` index (the category's
    products are listed first: a catalogue's categories hold few enough), then their orders
    by primary key.
    """
    from vefa.sales.models import OrderLine, Product

    lines = OrderLine.objects.all()
    if product_id is not None:
        lines = lines.filter(product_id=product_id)
    if category_id is not None:
        products = Product.objects.filter(category_id__in=category_and_children(category_id))
        listed = list(products.values_list("pk", flat=True)[: MAX_LISTED_PRODUCTS + 1])
        if len(listed) > MAX_LISTED_PRODUCTS:
            lines = lines.filter(product_id__in=products.values("pk"))
        else:
            lines = lines.filter(product_id__in=listed)
    return _not_cancelled_orders().filter(pk__in=lines.values("order_id")).values("customer_id")


def recent_buyers(days: int) -> QuerySet[Any]:
    since = timezone.now() - datetime.timedelta(days=days)
    return _not_cancelled_orders().filter(ordered_at__gte=since).values("customer_id")


def campaign_responders(campaign_id: int, response: str) -> QuerySet[Any]:
    """Customer ids of a campaign's recipients who ``opened``, ``clicked`` or ``ignored`` it."""
    from vefa.marketing.models import CampaignRecipient

    rows = CampaignRecipient.objects.filter(campaign_id=campaign_id)
    if response == "opened":
        rows = rows.filter(opened_at__isnull=False)
    elif response == "clicked":
        rows = rows.filter(clicked_at__isnull=False)
    else:
        rows = rows.filter(
            sent_at__isnull=False,
            opened_at__isnull=True,
            clicked_at__isnull=True,
            replied_at__isnull=True,
            converted_at__isnull=True,
        )
    return rows.values("customer_id")


def open_complainers() -> QuerySet[Any]:
    from vefa.service.choices import OPEN_STATUSES, TicketType
    from vefa.service.models import Ticket

    return Ticket.objects.filter(
        type=TicketType.COMPLAINT, status__in=OPEN_STATUSES, customer__isnull=False
    ).values("customer_id")


class CustomerBehaviourFilters:
    """What customers bought, how they answered campaigns, complaints, other segments."""

    title = _("Behaviour")

    def form_fields(self) -> dict[str, forms.Field]:
        return {
            "bought_product": RecordField(
                label=_("Bought product (id)"),
                model_label="sales.Product",
                missing=_("No such product."),
            ),
            "bought_category": RecordField(
                label=_("Bought in category (id)"),
                model_label="sales.ProductCategory",
                missing=_("No such category."),
            ),
            "no_purchase_days": forms.IntegerField(
                label=_("No purchase for days"),
                required=False,
                min_value=1,
                max_value=MAX_DAYS,
                help_text=_("Includes customers who never bought."),
            ),
            "campaign_opened": RecordField(
                label=_("Opened campaign (id)"),
                model_label="marketing.Campaign",
                missing=_("No such campaign."),
            ),
            "campaign_clicked": RecordField(
                label=_("Clicked in campaign (id)"),
                model_label="marketing.Campaign",
                missing=_("No such campaign."),
            ),
            "campaign_ignored": RecordField(
                label=_("Ignored campaign (id)"),
                model_label="marketing.Campaign",
                missing=_("No such campaign."),
                help_text=_("Sent the message, and neither opened, clicked, replied nor bought."),
            ),
            "open_complaint": forms.ChoiceField(
                label=_("Has an open complaint"), required=False, choices=YES_NO
            ),
            "segment": RecordField(
                label=_("In segment (id)"),
                model_label="marketing.Segment",
                missing=_("No such segment."),
            ),
        }

    def apply(self, queryset: QuerySet[Any], data: Mapping[str, Any]) -> QuerySet[Any]:
        if data.get("bought_product"):
            queryset = queryset.filter(pk__in=buyers_of(product_id=int(data["bought_product"])))
        if data.get("bought_category"):
            queryset = queryset.filter(pk__in=buyers_of(category_id=int(data["bought_category"])))
        if data.get("no_purchase_days"):
            queryset = queryset.exclude(pk__in=recent_buyers(int(data["no_purchase_days"])))
        for name, response in (
            ("campaign_opened", "opened"),
            ("campaign_clicked", "clicked"),
            ("campaign_ignored", "ignored"),
        ):
            if data.get(name):
                queryset = queryset.filter(pk__in=campaign_responders(int(data[name]), response))
        if data.get("open_complaint") == "true":
            queryset = queryset.filter(pk__in=open_complainers())
        elif data.get("open_complaint") == "false":
            queryset = queryset.exclude(pk__in=open_complainers())
        if data.get("segment"):
            queryset = queryset.filter(self._in_segment(int(data["segment"])))
        return queryset

    @staticmethod
    def _in_segment(segment_id: int) -> Q:
        from vefa.marketing.models import Segment
        from vefa.marketing.selectors.segments import segment_ids_condition

        segment = Segment.objects.select_related("owner").filter(pk=segment_id).first()
        if segment is None:
            return Q(pk__in=[])
        return segment_ids_condition(segment)

    def __repr__(self) -> str:
        return "CustomerBehaviourFilters()"


register_filter_extension("customers.customer", CustomerBehaviourFilters())

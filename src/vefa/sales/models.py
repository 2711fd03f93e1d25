"""The sales records (MISSION §3 "Sales" and the sales half of §4).

Money columns are ``Decimal`` with four places next to an ISO 4217 currency (see
``vefa.sales.money``); derived figures (line and document totals) are stored so lists and
reports read them without recomputing, and only services write them.

Access: catalogue records (products, categories, price lists, competitors, exchange rates,
pipelines) are company-wide under the ``sales.product`` policy; opportunities, quotes,
orders and contracts have an owner and a team; child records (lines, shipments, payments,
competitor bids) follow their parent's policy through the parent.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vefa.common.models import CustomFieldsMixin, TaggableMixin, VefaModel
from vefa.customers.choices import Source
from vefa.sales.choices import (
    BillingPeriod,
    ContractStatus,
    ForecastCategory,
    LostReason,
    OpportunityStatus,
    OrderSource,
    OrderStatus,
    PaymentMethod,
    PeriodKind,
    PipelineKind,
    QuoteStatus,
    ShipmentStatus,
    StageKind,
    TargetMetric,
    Unit,
)
from vefa.sales.money import MONEY_DIGITS, MONEY_PLACES


def money_field(verbose_name: str | object, **kwargs: object) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,  # type: ignore[arg-type]
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        **kwargs,  # type: ignore[arg-type]
    )


def currency_field(verbose_name: str | object = None, **kwargs: object) -> models.CharField:
    return models.CharField(verbose_name or _("currency"), max_length=3, **kwargs)  # type: ignore[arg-type]


def percent_field(verbose_name: str | object, **kwargs: object) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,  # type: ignore[arg-type]
        max_digits=6,
        decimal_places=3,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        **kwargs,  # type: ignore[arg-type]
    )


def quantity_field(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(
        _("quantity"),
        max_digits=14,
        decimal_places=3,
        default=1,
        **kwargs,  # type: ignore[arg-type]
    )


class CatalogueModel(VefaModel):
    """A company-wide record: everyone may read it, managers and admins change it."""

    access_owner_paths = ("created_by",)
    access_team_paths = ()
    access_policy = "sales.product"

    class Meta:
        abstract = True


# --- Products and prices ------------------------------------------------------------------


class ProductCategory(CatalogueModel):
    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    class Meta:
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Product(CatalogueModel, CustomFieldsMixin, TaggableMixin):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        ProductCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
    )
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    list_price = money_field(_("list price"), default=0)
    unit_cost = money_field(_("unit cost"), null=True, blank=True)
    currency = currency_field(default="TRY")
    tax_rate = percent_field(_("tax rate (%)"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            models.Index(fields=["name", "id"], name="product_name"),
            models.Index(fields=["category", "name"], name="product_category"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("sales:product_detail", args=[self.pk])


class PriceList(CatalogueModel):
    """Prices in one currency, for everyone or for the customers carrying a tag (a group)."""

    name = models.CharField(_("name"), max_length=120)
    currency = currency_field()
    customer_group = models.ForeignKey(
        "platform.Tag",
        verbose_name=_("customer group (tag)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Leave empty for a price list that applies to every customer."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class PriceListItem(CatalogueModel):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="prices"
    )
    min_quantity = models.DecimalField(
        _("from quantity"), max_digits=14, decimal_places=3, default=1
    )
    unit_price = money_field(_("unit price"))

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "min_quantity"], name="price_unique_tier"
            ),
        ]


class ExchangeRate(CatalogueModel):
    """On ``day``, one unit of ``currency`` was worth ``rate`` units of ``quote_currency``."""

    day = models.DateField(_("date"))
    currency = currency_field()
    quote_currency = currency_field(_("in currency"))
    rate = models.DecimalField(_("rate"), max_digits=24, decimal_places=10)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "quote_currency", "day"], name="rate_unique_day"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.day}: 1 {self.currency} = {self.rate} {self.quote_currency}"


class Competitor(CatalogueModel):
    name = models.CharField(_("name"), max_length=200, unique=True)
    website = models.CharField(_("web site"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Pipelines and opportunities ------------------------------------------------------------


class Pipeline(CatalogueModel):
    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=PipelineKind.choices, default=PipelineKind.NEW_BUSINESS
    )
    is_default = models.BooleanField(_("default for its kind"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Stage(CatalogueModel):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=120)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(
        _("kind"), max_length=8, choices=StageKind.choices, default=StageKind.OPEN
    )
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=10, validators=[MaxValueValidator(100)]
    )
    stale_after_days = models.PositiveSmallIntegerField(
        _("stale after (days)"),
        default=30,
        help_text=_("An opportunity that stays longer in this stage is highlighted."),
    )

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Opportunity(VefaModel, CustomFieldsMixin, TaggableMixin):
    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    contact = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("contact person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact_for_opportunities",
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities"
    )
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=OpportunityStatus.choices,
        default=OpportunityStatus.OPEN,
        editable=False,
    )
    amount = money_field(_("amount"), default=0)
    currency = currency_field(default="TRY")
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=10, validators=[MaxValueValidator(100)]
    )
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=10,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    follow_up_date = models.DateField(_("follow up on"), null=True, blank=True)
    follow_up_activity = models.ForeignKey(
        "interactions.Activity",
        verbose_name=_("follow-up activity"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    lost_reason = models.CharField(
        _("lost reason"), max_length=20, choices=LostReason.choices, blank=True
    )
    lost_note = models.CharField(_("why it was lost"), max_length=500, blank=True)
    lost_to = models.ForeignKey(
        Competitor,
        verbose_name=_("lost to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="won_against_us",
    )
    stage_changed_at = models.DateTimeField(_("in stage since"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed on"), null=True, blank=True)
    # The contract whose renewal this opportunity is.
    renewal_of = models.ForeignKey(
        "sales.Contract",
        verbose_name=_("renewal of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="renewal_opportunities",
    )

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["pipeline", "status", "stage"], name="opp_board"),
            models.Index(fields=["owner", "status", "expected_close_date"], name="opp_owner"),
            models.Index(fields=["team", "status", "expected_close_date"], name="opp_team"),
            models.Index(fields=["status", "expected_close_date"], name="opp_close"),
            models.Index(fields=["customer", "-created_at"], name="opp_customer"),
            models.Index(fields=["status", "closed_at"], name="opp_closed"),
            # The list's sorts, each with the id that breaks ties for keyset paging.
            models.Index(fields=["created_at", "id"], name="opp_created"),
            models.Index(fields=["amount", "id"], name="opp_amount"),
            models.Index(fields=["name", "id"], name="opp_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sales:opportunity_detail", args=[self.pk])


class OpportunityLine(VefaModel):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, null=True, blank=True
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = quantity_field()
    unit_price = money_field(_("unit price"), default=0)
    discount_percent = percent_field(_("discount (%)"))
    total = money_field(_("total"), default=0, editable=False)

    access_owner_paths = ("opportunity__owner",)
    access_team_paths = ("opportunity__team",)
    access_policy = "sales.opportunity"

    class Meta:
        verbose_name = _("opportunity line")
        verbose_name_plural = _("opportunity lines")
        ordering = ["opportunity", "position", "id"]


class OpportunityCompetitor(VefaModel):
    """Who else is bidding for an opportunity, and at what price."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="competitor_bids"
    )
    competitor = models.ForeignKey(
        Competitor, verbose_name=_("competitor"), on_delete=models.PROTECT, related_name="bids"
    )
    price = money_field(_("their price"), null=True, blank=True)
    currency = currency_field(blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    access_owner_paths = ("opportunity__owner",)
    access_team_paths = ("opportunity__team",)
    access_policy = "sales.opportunity"

    class Meta:
        verbose_name = _("competing bid")
        verbose_name_plural = _("competing bids")
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "competitor"], name="opp_competitor_once"
            ),
        ]


# --- Quotes ---------------------------------------------------------------------------------


class Quote(VefaModel, CustomFieldsMixin, TaggableMixin):
    number = models.CharField(_("number"), max_length=32, editable=False)
    revision = models.PositiveSmallIntegerField(_("version"), default=1, editable=False)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("replaces"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="next_revision",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    contact = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("contact person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact_for_quotes",
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quotes",
    )
    price_list = models.ForeignKey(
        PriceList,
        verbose_name=_("price list"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quotes",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quotes",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    currency = currency_field(default="TRY")
    language = models.CharField(_("language"), max_length=10, default="en")
    issued_on = models.DateField(_("date"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    subtotal = money_field(_("subtotal"), default=0, editable=False)
    discount_total = money_field(_("discount"), default=0, editable=False)
    tax_total = money_field(_("tax"), default=0, editable=False)
    total = money_field(_("total"), default=0, editable=False)
    notes = models.TextField(_("notes"), blank=True)
    terms = models.TextField(_("terms"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    decided_at = models.DateTimeField(_("accepted or rejected"), null=True, blank=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        indexes = [
            models.Index(fields=["owner", "-issued_on", "-id"], name="quote_owner"),
            models.Index(fields=["team", "-issued_on", "-id"], name="quote_team"),
            models.Index(fields=["status", "-issued_on", "-id"], name="quote_status"),
            models.Index(fields=["customer", "-issued_on"], name="quote_customer"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="quote_number_revision"),
        ]

    def __str__(self) -> str:
        return f"{self.number}/{self.revision}"

    def get_absolute_url(self) -> str:
        return reverse("sales:quote_detail", args=[self.pk])


class DocumentLine(VefaModel):
    """A line of a quote or an order: product, quantity, price, discount, tax and totals."""

    position = models.PositiveSmallIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=300)
    quantity = quantity_field()
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    unit_price = money_field(_("unit price"))
    discount_percent = percent_field(_("discount (%)"))
    tax_rate = percent_field(_("tax rate (%)"))
    gross = money_field(_("amount"), default=0, editable=False)
    discount = money_field(_("discount"), default=0, editable=False)
    net = money_field(_("net"), default=0, editable=False)
    tax = money_field(_("tax"), default=0, editable=False)
    total = money_field(_("total"), default=0, editable=False)

    class Meta:
        abstract = True


class QuoteLine(DocumentLine):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    access_owner_paths = ("quote__owner",)
    access_team_paths = ("quote__team",)
    access_policy = "sales.quote"

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["quote", "position", "id"]


# --- Orders ---------------------------------------------------------------------------------


class Order(VefaModel, CustomFieldsMixin, TaggableMixin):
    number = models.CharField(_("number"), max_length=32, unique=True, editable=False)
    source = models.CharField(
        _("source"), max_length=10, choices=OrderSource.choices, default=OrderSource.MANUAL
    )
    # The order number in the outside system (web shop, till); a re-sent order is recognised.
    external_id = models.CharField(_("external order number"), max_length=100, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    quote = models.ForeignKey(
        Quote,
        verbose_name=_("quote"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.DRAFT
    )
    ordered_at = models.DateTimeField(_("ordered"), default=timezone.now)
    currency = currency_field(default="TRY")
    subtotal = money_field(_("subtotal"), default=0, editable=False)
    discount_total = money_field(_("discount"), default=0, editable=False)
    tax_total = money_field(_("tax"), default=0, editable=False)
    total = money_field(_("total"), default=0, editable=False)
    paid_total = money_field(_("paid"), default=0, editable=False)
    cost_total = money_field(_("cost"), null=True, blank=True, editable=False)
    shipping_address = models.TextField(_("shipping address"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    invoiced_at = models.DateTimeField(_("invoiced"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("sales document", "order")
        verbose_name_plural = pgettext_lazy("sales document", "orders")
        indexes = [
            models.Index(fields=["-ordered_at", "-id"], name="order_recent"),
            models.Index(fields=["owner", "-ordered_at", "-id"], name="order_owner"),
            models.Index(fields=["team", "-ordered_at", "-id"], name="order_team"),
            models.Index(fields=["status", "-ordered_at", "-id"], name="order_status"),
            models.Index(fields=["customer", "-ordered_at"], name="order_customer"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="order_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("sales:order_detail", args=[self.pk])


class OrderLine(DocumentLine):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    unit_cost = money_field(_("unit cost"), null=True, blank=True)

    access_owner_paths = ("order__owner",)
    access_team_paths = ("order__team",)
    access_policy = "sales.order"

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position", "id"]
        indexes = [models.Index(fields=["product", "order"], name="orderline_product")]


class Shipment(VefaModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(_("carrier"), max_length=100)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ShipmentStatus.choices,
        default=ShipmentStatus.PREPARING,
    )
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    access_owner_paths = ("order__owner",)
    access_team_paths = ("order__team",)
    access_policy = "sales.order"

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["order", "id"]


class Payment(VefaModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    amount = money_field(_("amount"))
    currency = currency_field()
    paid_at = models.DateTimeField(_("paid"), default=timezone.now)
    method = models.CharField(
        _("method"), max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)

    access_owner_paths = ("order__owner",)
    access_team_paths = ("order__team",)
    access_policy = "sales.order"

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["order", "paid_at", "id"]


# --- Contracts, targets, numbering ----------------------------------------------------------


class Contract(VefaModel, CustomFieldsMixin, TaggableMixin):
    number = models.CharField(_("number"), max_length=32, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contracts",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contracts",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    value = money_field(_("value"), default=0)
    currency = currency_field(default="TRY")
    billing_period = models.CharField(
        _("billing period"),
        max_length=10,
        choices=BillingPeriod.choices,
        default=BillingPeriod.YEARLY,
    )
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True)
    remind_days_before = models.PositiveSmallIntegerField(
        _("remind days before renewal"), default=30, validators=[MaxValueValidator(365)]
    )
    auto_renew = models.BooleanField(_("renews automatically"), default=False)
    reminded_at = models.DateTimeField(_("renewal reminder sent"), null=True, blank=True)
    renewed_by = models.OneToOneField(
        "self",
        verbose_name=_("renewed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="renews",
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        indexes = [
            models.Index(fields=["status", "renewal_date"], name="contract_renewal"),
            models.Index(fields=["owner", "end_date"], name="contract_owner"),
            models.Index(fields=["team", "end_date"], name="contract_team"),
            models.Index(fields=["customer", "-start_date"], name="contract_customer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="contract_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("sales:contract_detail", args=[self.pk])


class SalesTarget(VefaModel):
    """A revenue or deal-count target for one user or one team over one period."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sales_targets",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sales_targets",
    )
    period_kind = models.CharField(
        _("period"), max_length=8, choices=PeriodKind.choices, default=PeriodKind.MONTH
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    metric = models.CharField(
        _("measure"), max_length=8, choices=TargetMetric.choices, default=TargetMetric.REVENUE
    )
    amount = money_field(_("target"))
    currency = currency_field(blank=True)

    access_owner_paths = ("user",)
    access_team_paths = ("team", "user__team")

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        indexes = [models.Index(fields=["period_start", "period_end"], name="target_period")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, team__isnull=True)
                    | models.Q(user__isnull=True, team__isnull=False)
                ),
                name="target_user_or_team",
            ),
            models.UniqueConstraint(
                fields=["user", "period_start", "metric"],
                condition=models.Q(user__isnull=False),
                name="target_user_once",
            ),
            models.UniqueConstraint(
                fields=["team", "period_start", "metric"],
                condition=models.Q(team__isnull=False),
                name="target_team_once",
            ),
        ]

    def __str__(self) -> str:
        who = self.user or self.team
        return f"{who} · {self.period_start:%Y-%m}"


class NumberSequence(models.Model):
    """The last number given out per document kind and year (Q-2026-000042)."""

    kind = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="sequence_kind_year"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last}"

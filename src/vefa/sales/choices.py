"""The fixed lists of the sales app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Unit(models.TextChoices):
    PIECE = "piece", _("piece")
    HOUR = "hour", _("hour")
    DAY = "day", _("day")
    MONTH = "month", _("month")
    YEAR = "year", _("year")
    KG = "kg", _("kilogram")
    GRAM = "g", _("gram")
    LITRE = "l", _("litre")
    METRE = "m", _("metre")
    SQUARE_METRE = "m2", _("square metre")
    BOX = "box", _("box")
    PACKAGE = "package", _("package")
    SERVICE = "service", _("service")


class PipelineKind(models.TextChoices):
    NEW_BUSINESS = "new_business", _("New business")
    RENEWAL = "renewal", _("Renewals")
    UPSELL = "upsell", _("Upsell and cross-sell")
    OTHER = "other", _("Other")


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class OpportunityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    OMITTED = "omitted", _("Omitted")


class LostReason(models.TextChoices):
    PRICE = "price", _("Price")
    COMPETITOR = "competitor", _("Chose a competitor")
    NO_BUDGET = "no_budget", _("No budget")
    NO_DECISION = "no_decision", _("No decision")
    TIMING = "timing", _("Timing")
    FEATURES = "features", _("Missing features")
    NO_RESPONSE = "no_response", _("Stopped responding")
    OTHER = "other", _("Other")


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", pgettext_lazy("quote status", "Accepted")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded by a newer version")


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    INVOICED = "invoiced", _("Invoiced")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


# The order an order moves through; cancelled is reachable from any status before "paid".
ORDER_FLOW: tuple[str, ...] = (
    OrderStatus.DRAFT,
    OrderStatus.CONFIRMED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.INVOICED,
    OrderStatus.PAID,
)


class OrderSource(models.TextChoices):
    MANUAL = "manual", _("Entered in Vefa")
    QUOTE = "quote", _("Accepted quote")
    ECOMMERCE = "ecommerce", _("E-commerce site")
    EPOS = "epos", _("Point of sale")
    API = "api", _("API")
    IMPORT = "import", _("File import")


class ShipmentStatus(models.TextChoices):
    PREPARING = "preparing", _("Preparing")
    IN_TRANSIT = "in_transit", _("In transit")
    DELIVERED = "delivered", _("Delivered")
    RETURNED = "returned", _("Returned to sender")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    TRANSFER = "transfer", _("Bank transfer")
    CHEQUE = "cheque", _("Cheque")
    OTHER = "other", _("Other")


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RENEWED = "renewed", _("Renewed")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


class BillingPeriod(models.TextChoices):
    ONCE = "once", _("Once")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


class TargetMetric(models.TextChoices):
    REVENUE = "revenue", _("Revenue")
    COUNT = "count", _("Number of won deals")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")

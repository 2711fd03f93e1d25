"""What the analytical CRM keeps in the operational database.

The analytical store itself (facts, dimensions, metric results, snapshots) is Parquet in the
data directory; only three things live here:

- ``AnalyticsSettings``: the one row of settings an administrator edits (windows, cut-offs,
  unit costs, the reporting currency);
- ``Refresh``: one row per refresh run, with its progress job and figures;
- ``CustomerScore``: each customer's current results, written back by
  ``analytics.services.scores_write`` and filterable in every customer list and the API.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RfmSegment(models.TextChoices):
    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALISTS = "potential_loyalists", _("Potential loyalists")
    NEW = "new", _("New customers")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANNOT_LOSE = "cannot_lose", _("Cannot lose them")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class LadderStep(models.TextChoices):
    ONE_TIME = "one_time", _("One-time buyer")
    OCCASIONAL = "occasional", _("Occasional buyer")
    REGULAR = "regular", _("Regular buyer")
    LOYAL = "loyal", _("Loyal customer")


class ValueClass(models.TextChoices):
    A = "A", _("A (top value)")
    B = "B", _("B")
    C = "C", _("C")


class ChurnRisk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class AnalyticsSettings(models.Model):
    """The settings of the analytical CRM (one row, ``pk = 1``)."""

    reporting_currency = models.CharField(_("reporting currency"), max_length=3, default="TRY")
    rfm_window_days = models.PositiveIntegerField(_("RFM window (days)"), default=365)
    ladder_window_days = models.PositiveIntegerField(_("ladder window (days)"), default=365)
    ladder_occasional_orders = models.PositiveSmallIntegerField(
        _("orders to be an occasional buyer"), default=2
    )
    ladder_regular_orders = models.PositiveSmallIntegerField(
        _("orders to be a regular buyer"), default=4
    )
    ladder_loyal_orders = models.PositiveSmallIntegerField(
        _("orders to be a loyal customer"), default=10
    )
    value_basis = models.CharField(
        _("value classes by"),
        max_length=10,
        choices=[("revenue", _("Revenue")), ("margin", _("Margin"))],
        default="revenue",
    )
    value_a_share = models.DecimalField(
        _("A class: share of value"), max_digits=4, decimal_places=3, default=Decimal("0.800")
    )
    value_b_share = models.DecimalField(
        _("A and B classes: share of value"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.950"),
    )
    decline_share = models.DecimalField(
        _("decline: drop against the year before"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.300"),
    )
    overdue_factor = models.DecimalField(
        _("overdue: times the usual gap"), max_digits=5, decimal_places=2, default=Decimal("1.50")
    )
    churn_p_alive = models.DecimalField(
        _("churn risk: P(alive) below"), max_digits=4, decimal_places=3, default=Decimal("0.500")
    )
    clv_horizon_months = models.PositiveSmallIntegerField(_("CLV horizon (months)"), default=36)
    clv_annual_discount = models.DecimalField(
        _("CLV yearly discount rate"), max_digits=4, decimal_places=3, default=Decimal("0.150")
    )
    cost_per_activity = models.DecimalField(
        _("sales cost per activity"), max_digits=12, decimal_places=2, default=Decimal("25.00")
    )
    cost_per_ticket = models.DecimalField(
        _("service cost per ticket"), max_digits=12, decimal_places=2, default=Decimal("40.00")
    )
    cost_per_return = models.DecimalField(
        _("service cost per return"), max_digits=12, decimal_places=2, default=Decimal("60.00")
    )
    cost_per_message = models.DecimalField(
        _("marketing cost per message"), max_digits=12, decimal_places=2, default=Decimal("0.50")
    )
    basket_min_support = models.DecimalField(
        _("basket rules: minimum support"),
        max_digits=6,
        decimal_places=5,
        default=Decimal("0.00100"),
    )
    basket_min_confidence = models.DecimalField(
        _("basket rules: minimum confidence"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.100"),
    )
    nightly = models.BooleanField(_("refresh every night"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("analytics settings")
        verbose_name_plural = _("analytics settings")

    def __str__(self) -> str:
        return str(_("Analytics settings"))

    @classmethod
    def current(cls) -> AnalyticsSettings:
        instance, _created = cls.objects.get_or_create(pk=1)
        return instance


class Refresh(models.Model):
    """One run of the analytics refresh: extract, metrics, write-back, snapshot."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    full = models.BooleanField(_("full refresh"), default=False)
    as_of = models.DateField(_("as of"))
    job = models.ForeignKey(
        "platform.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Seconds per step and row counts, for the page and the benchmark.
    figures = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("analytics refresh")
        verbose_name_plural = _("analytics refreshes")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.as_of} ({self.status})"


class CustomerScore(models.Model):
    """A customer's current analytic results (one row per customer with any purchase data).

    Money is in the reporting currency of the refresh (``currency``). ``reasons`` keeps the
    numbers behind the flags (e.g. orders this year and last year) for the customer page.
    """

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="analytics_score",
    )
    refresh = models.ForeignKey(
        Refresh, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    computed_at = models.DateTimeField(_("computed"))
    currency = models.CharField(_("currency"), max_length=3)
    # The day, not the number of days, so an unchanged customer's row stays unchanged.
    last_purchase_on = models.DateField(_("last purchase"), null=True, blank=True)
    frequency = models.IntegerField(_("purchases in the RFM window"), null=True, blank=True)
    monetary = models.DecimalField(
        _("spend in the RFM window"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    r_score = models.PositiveSmallIntegerField(_("R score"), null=True, blank=True)
    f_score = models.PositiveSmallIntegerField(_("F score"), null=True, blank=True)
    m_score = models.PositiveSmallIntegerField(_("M score"), null=True, blank=True)
    rfm_segment = models.CharField(
        _("RFM segment"), max_length=24, choices=RfmSegment.choices, blank=True
    )
    previous_rfm_segment = models.CharField(
        _("previous RFM segment"), max_length=24, choices=RfmSegment.choices, blank=True
    )
    ladder_step = models.CharField(
        _("ladder step"), max_length=12, choices=LadderStep.choices, blank=True
    )
    previous_ladder_step = models.CharField(
        _("previous ladder step"), max_length=12, choices=LadderStep.choices, blank=True
    )
    value_class = models.CharField(
        _("value class"), max_length=1, choices=ValueClass.choices, blank=True
    )
    revenue = models.DecimalField(
        _("revenue (12 months)"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    margin = models.DecimalField(
        _("net margin (12 months)"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    clv = models.DecimalField(
        _("customer lifetime value"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    p_alive = models.FloatField(_("P(alive)"), null=True, blank=True)
    expected_purchases = models.FloatField(_("expected purchases"), null=True, blank=True)
    declining = models.BooleanField(_("declining"), default=False)
    overdue = models.BooleanField(_("overdue"), default=False)
    churn_risk = models.CharField(
        _("churn risk"), max_length=8, choices=ChurnRisk.choices, blank=True
    )
    share_of_wallet = models.FloatField(_("share of wallet"), null=True, blank=True)
    next_best = models.JSONField(_("next best products"), default=list, blank=True)
    reasons = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        indexes = [
            models.Index(fields=["rfm_segment", "customer"], name="score_rfm"),
            models.Index(fields=["ladder_step", "customer"], name="score_ladder"),
            models.Index(fields=["value_class", "customer"], name="score_value"),
            models.Index(fields=["churn_risk", "customer"], name="score_churn"),
            models.Index(fields=["r_score", "f_score", "customer"], name="score_rf"),
            models.Index(
                fields=["customer"],
                condition=models.Q(declining=True),
                name="score_declining",
            ),
            models.Index(fields=["clv", "customer"], name="score_clv"),
            # PostgreSQL: a list filtered by scores walks customers in their sort order and
            # looks each score up; with the filter columns in the index the lookup never
            # visits the table (other databases ignore INCLUDE).
            models.Index(
                fields=["customer"],
                include=[
                    "rfm_segment",
                    "r_score",
                    "f_score",
                    "ladder_step",
                    "value_class",
                    "churn_risk",
                    "declining",
                    "overdue",
                    "clv",
                    "p_alive",
                ],
                name="score_cover",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.rfm_segment or '-'} / {self.value_class or '-'}"

"""Models of dedupe: a linkage run, the duplicate clusters it found and the pairs a person
said are not duplicates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from vefa.common.models import VefaModel

POLICY = "dedupe.cluster"


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class ClusterStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not duplicates")
    # A later run found the customers again (or no longer): its clusters replace these.
    SUPERSEDED = "superseded", _("Superseded")


class DedupeRun(VefaModel):
    """One batch linkage of all customers (the "spring cleaning")."""

    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    engine = models.CharField(_("engine"), max_length=10, default="duckdb")
    threshold = models.FloatField(_("threshold"), default=0.9)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    customers_count = models.PositiveIntegerField(_("customers"), default=0)
    pairs_count = models.PositiveIntegerField(_("pairs"), default=0)
    clusters_count = models.PositiveIntegerField(_("clusters"), default=0)
    duplicates_count = models.PositiveIntegerField(_("customers in clusters"), default=0)
    timings = models.JSONField(_("timings"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    job = models.ForeignKey(
        "platform.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    access_policy = POLICY
    access_owner_paths = ("created_by",)
    access_team_paths = ()

    class Meta:
        verbose_name = _("duplicate search")
        verbose_name_plural = _("duplicate searches")
        ordering = ["-id"]

    def __str__(self) -> str:
        return str(_("Duplicate search %(id)s") % {"id": self.pk})


class DuplicateCluster(VefaModel):
    """Customers a run found to be one and the same, for a person to review."""

    run = models.ForeignKey(DedupeRun, on_delete=models.CASCADE, related_name="clusters")
    status = models.CharField(
        _("status"), max_length=10, choices=ClusterStatus.choices, default=ClusterStatus.OPEN
    )
    # The weakest member's best pair: the cluster holds together at least this strongly.
    probability = models.FloatField(_("match probability"))
    size = models.PositiveSmallIntegerField(_("customers"))
    # The member ids in ascending order, comma separated: the same group found again.
    key = models.CharField(max_length=400)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    survivor = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("kept customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    access_policy = POLICY
    access_owner_paths = ("reviewed_by",)
    access_team_paths = ()

    class Meta:
        verbose_name = _("duplicate cluster")
        verbose_name_plural = _("duplicate clusters")
        indexes = [
            models.Index(fields=["status", "-probability", "id"], name="dedupe_cluster_review"),
            models.Index(fields=["run", "-probability", "id"], name="dedupe_cluster_run"),
            models.Index(fields=["key"], name="dedupe_cluster_key"),
        ]

    def __str__(self) -> str:
        return str(_("Duplicate cluster %(id)s") % {"id": self.pk})

    def get_absolute_url(self) -> str:
        return reverse("dedupe:cluster_detail", args=[self.pk])


class ClusterMember(models.Model):
    """One customer of a cluster and the probability of its best pair in the cluster."""

    cluster = models.ForeignKey(DuplicateCluster, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField(_("match probability"))

    class Meta:
        verbose_name = _("cluster member")
        verbose_name_plural = _("cluster members")
        constraints = [
            models.UniqueConstraint(fields=["cluster", "customer"], name="dedupe_member_unique")
        ]
        indexes = [models.Index(fields=["customer"], name="dedupe_member_customer")]

    def __str__(self) -> str:
        return f"{self.cluster_id}: {self.customer_id}"


class DismissedPair(models.Model):
    """Two customers a person said are not duplicates: never proposed together again.

    Written with the lower id first; read both ways (a customer merge moves the rows of the
    merged customer to the survivor, which may turn the order round).
    """

    customer_low = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+"
    )
    customer_high = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+"
    )
    cluster = models.ForeignKey(
        DuplicateCluster, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pair that is not a duplicate")
        verbose_name_plural = _("pairs that are not duplicates")
        constraints = [
            models.UniqueConstraint(
                fields=["customer_low", "customer_high"], name="dedupe_dismissed_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_low_id} ≠ {self.customer_high_id}"

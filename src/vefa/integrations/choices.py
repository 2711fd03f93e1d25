"""Choices of the integrations app: what a webhook rule listens to and how deliveries go."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Entity(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    LEAD = "lead", _("Lead")
    ORDER = "order", _("Order")
    TICKET = "ticket", _("Ticket")
    OPPORTUNITY = "opportunity", _("Opportunity")


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    DELETED = "deleted", _("Deleted")
    STATUS_CHANGED = "status_changed", _("Status changed")
    STAGE_CHANGED = "stage_changed", _("Stage changed")
    ASSIGNED = "assigned", _("Assigned")
    CONVERTED = "converted", _("Converted")


class Operator(models.TextChoices):
    EQ = "eq", _("equals")
    NE = "ne", _("does not equal")
    CONTAINS = "contains", _("contains")
    GT = "gt", _("greater than")
    GTE = "gte", _("at least")
    LT = "lt", _("less than")
    LTE = "lte", _("at most")
    IN = "in", _("is one of")
    EMPTY = "empty", _("is empty")
    NOT_EMPTY = "not_empty", _("is not empty")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Given up")


class CircuitState(models.TextChoices):
    CLOSED = "closed", _("Closed (delivering)")
    OPEN = "open", _("Open (paused after failures)")
    HALF_OPEN = "half_open", _("Half-open (probing)")


class SourceKind(models.TextChoices):
    ECOMMERCE = "ecommerce", _("E-commerce site")
    EPOS = "epos", _("Point of sale")

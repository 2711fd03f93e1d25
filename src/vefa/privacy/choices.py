"""Choices of the privacy app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestKind(models.TextChoices):
    EXPORT = "export", _("Data export")
    ERASURE = "erasure", _("Erasure")


class SubjectKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer or contact person")
    LEAD = "lead", _("Lead")
    PORTAL_ACCOUNT = "portal_account", _("Portal account")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected")

"""The fixed vocabularies of the customer portal."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TokenPurpose(models.TextChoices):
    LOGIN = "login", _("Sign-in link")
    INVITE = "invite", _("Invitation")


class WebFormTarget(models.TextChoices):
    TICKET = "ticket", _("Ticket")
    LEAD = "lead", _("Lead")

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SALES_REP = "sales_rep", _("Sales representative")
    SERVICE_AGENT = "service_agent", _("Service agent")
    MARKETER = "marketer", _("Marketer")
    READ_ONLY = "read_only", _("Read-only")


class Scope(models.TextChoices):
    """How far a role reaches for one model and action."""

    NONE = "none", _("None")
    OWN = "own", _("Own records")
    TEAM = "team", _("Own team's records")
    ALL = "all", _("All records")

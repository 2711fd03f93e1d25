"""The data-quality issues of a customer, each defined once as a queryset condition.

The page counts them, the customer list filters by them (``?quality_issue=<code>``, a filter
extension of the customer list) and the nightly snapshot records them.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vefa.customers.choices import CustomerKind
from vefa.customers.models import Address
from vefa.quality.models import CustomerFinding

# A customer is a likely duplicate when its best instant-check score reaches this.
DUPLICATE_THRESHOLD = 85
# The instant check shows candidates from this score up.
SHOW_THRESHOLD = 65

ISSUES: list[tuple[str, object]] = [
    ("no_contact", _("No e-mail and no phone")),
    ("no_owner", _("No owner")),
    ("no_address", _("No address")),
    ("no_tax_number", _("Organisation without tax number")),
    ("invalid_email", _("Invalid e-mail")),
    ("invalid_phone", _("Invalid phone")),
    ("stale", _("Stale (no contact and no change)")),
    ("duplicate", _("Likely duplicate")),
]
ISSUE_CODES = [code for code, _label in ISSUES]


def stale_months() -> int:
    return int(getattr(settings, "VEFA_QUALITY_STALE_MONTHS", 12))


def stale_cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=30 * stale_months())


def issue_condition(code: str, now: datetime.datetime | None = None) -> Q:
    """The condition a customer row meets when it has issue ``code``."""
    if code == "no_contact":
        return Q(primary_email="", primary_phone="")
    if code == "no_owner":
        return Q(owner__isnull=True)
    if code == "no_address":
        return ~Q(Exists(Address.objects.filter(customer_id=OuterRef("pk"))))
    if code == "no_tax_number":
        return Q(kind=CustomerKind.ORGANISATION, tax_number="")
    if code == "invalid_email":
        return Q(
            Exists(CustomerFinding.objects.filter(customer_id=OuterRef("pk"), invalid_email=True))
        )
    if code == "invalid_phone":
        return Q(
            Exists(CustomerFinding.objects.filter(customer_id=OuterRef("pk"), invalid_phone=True))
        )
    if code == "stale":
        cutoff = stale_cutoff(now)
        return (Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lt=cutoff)) & Q(
            updated_at__lt=cutoff
        )
    if code == "duplicate":
        return Q(
            Exists(
                CustomerFinding.objects.filter(
                    customer_id=OuterRef("pk"), duplicate_score__gte=DUPLICATE_THRESHOLD
                )
            )
        )
    raise ValueError(code)

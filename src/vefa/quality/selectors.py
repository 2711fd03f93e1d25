"""Reads of data quality for a person: the instant duplicate check and the page's figures.

Invisible records never leak: candidates are looked up through the blocking keys, then
read again through ``vefa.accounts.access.restrict`` with the actor, and only records the
actor may see are scored and shown. Nothing is said about the others, not even a count: a
count would tell a sales representative that a colleague of another team already has this
phone number as a customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from vefa.accounts.access import restrict, scope_for, sees_all
from vefa.accounts.choices import Scope
from vefa.common.errors import PermissionDenied, ValidationFailed
from vefa.customers.choices import LeadStatus
from vefa.customers.models import Customer, Lead
from vefa.quality.issues import ISSUE_CODES, SHOW_THRESHOLD, issue_condition
from vefa.quality.matching import Profile, Reason, blocking_keys, profile_of, score
from vefa.quality.models import MatchKey, QualitySnapshot, RecordKind
from vefa.quality.profiles import customer_profiles, lead_profiles

if TYPE_CHECKING:
    from vefa.accounts.models import User

# At most this many records per blocking key are scored: a key shared by thousands of
# records ("n:mehmet yilmaz") says little, and the check must stay instant.
PER_KEY = 40
MAX_MATCHES = 5
MAX_FIELD = 300
TEXT_FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "legal_name",
    "trade_name",
    "email",
    "phone",
    "tax_number",
    "postal_code",
    "street",
    "country",
)
DASHBOARD_POLICY = "dedupe.cluster"


@dataclass(frozen=True)
class CheckInput:
    """What is typed into a customer or lead form, and the record being edited (if any)."""

    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    legal_name: str = ""
    trade_name: str = ""
    email: str = ""
    phone: str = ""
    tax_number: str = ""
    postal_code: str = ""
    street: str = ""
    country: str = ""
    exclude_customer: int | None = None
    exclude_lead: int | None = None

    def profile(self) -> Profile:
        return profile_of(
            first_name=self.first_name,
            last_name=self.last_name,
            organisation_names=[self.company_name, self.legal_name, self.trade_name],
            emails=[self.email],
            phones=[self.phone],
            tax_number=self.tax_number,
            postal_code=self.postal_code,
            street=self.street,
            region=self.country or None,
        )


def check_input(data: Mapping[str, Any]) -> CheckInput:
    """Validated input of the check; ``ValidationFailed`` names each bad field.

    Texts longer than ``MAX_FIELD`` characters are refused (nothing is checked), not cut:
    a cut value could match a record the full value does not.
    """
    if not isinstance(data, Mapping):
        raise ValidationFailed(_("Expected an object of field values."))
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            errors[name] = [_("Expected text.")]
        elif len(value) > MAX_FIELD:
            errors[name] = [_("At most %(n)d characters; nothing was checked.") % {"n": MAX_FIELD}]
        else:
            values[name] = value.strip()
    for name in ("exclude_customer", "exclude_lead"):
        value = data.get(name)
        if value in (None, ""):
            continue
        if isinstance(value, bool):
            errors[name] = [_("Expected a record id.")]
            continue
        try:
            number = int(str(value))
        except (TypeError, ValueError):
            errors[name] = [_("Expected a record id.")]
            continue
        if not 0 < number < 2**63:
            errors[name] = [_("Expected a record id.")]
        else:
            values[name] = number
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return CheckInput(**values)


@dataclass(frozen=True)
class Match:
    kind: str  # "customer" or "lead"
    id: int
    name: str
    url: str
    score: int
    reasons: tuple[Reason, ...]

    @property
    def reason_labels(self) -> list[str]:
        return [reason_label(r) for r in self.reasons]


@dataclass
class CheckResult:
    matches: list[Match] = field(default_factory=list)
    keys: int = 0  # how many blocking keys the input gave (0: too little typed to check)


def reason_label(reason: Reason) -> str:
    labels = {
        "same_email": _("same e-mail"),
        "same_phone": _("same phone"),
        "same_tax_number": _("same tax number"),
        "same_address": _("same address"),
        "same_email_name": _("same e-mail name"),
        "same_name": _("same name"),
    }
    if reason.code == "similar_name":
        return _("similar name %(n)d%%") % {"n": reason.value or 0}
    return labels.get(reason.code, reason.code)


def _split(
    found: Mapping[str, list[tuple[str, int]]], keys: list[str]
) -> tuple[set[int], set[int]]:
    """The customers and leads ``found`` holds for ``keys``."""
    customers: set[int] = set()
    leads: set[int] = set()
    for key in keys:
        for kind, record_id in found.get(key, ()):
            (customers if kind == RecordKind.CUSTOMER else leads).add(record_id)
    return customers, leads


def _candidates(keys: list[str]) -> tuple[set[int], set[int]]:
    """The customers and leads sharing a key, at most ``PER_KEY`` per key."""
    return _split(_candidates_by_key(keys), keys)


def _scored(
    profile: Profile,
    customers: Mapping[int, tuple[Customer, Profile]],
    leads: Mapping[int, tuple[Lead, Profile]],
    threshold: int,
) -> list[Match]:
    """The stored records scoring at least ``threshold`` against ``profile``."""
    matches: list[Match] = []
    for pk, (customer, stored) in customers.items():
        result = score(profile, stored)
        if result.score >= threshold:
            url = customer.get_absolute_url()
            matches.append(
                Match("customer", pk, customer.display_name, url, result.score, result.reasons)
            )
    for pk, (lead, stored) in leads.items():
        result = score(profile, stored)
        if result.score >= threshold:
            url = lead.get_absolute_url()
            matches.append(Match("lead", pk, str(lead), url, result.score, result.reasons))
    return matches


def find_matches(
    profile: Profile,
    *,
    actor: User | None,
    exclude_customer: int | None = None,
    exclude_lead: int | None = None,
    threshold: int = SHOW_THRESHOLD,
    limit: int = MAX_MATCHES,
) -> CheckResult:
    """The records most like ``profile``; with ``actor=None`` (the nightly check only)
    every record, else only those the actor may see."""
    keys = blocking_keys(profile)
    if not keys:
        return CheckResult()
    customer_ids, lead_ids = _candidates(keys)
    customer_ids.discard(exclude_customer or 0)
    lead_ids.discard(exclude_lead or 0)
    customers: QuerySet[Customer] = Customer.objects.filter(
        pk__in=customer_ids, merged_into__isnull=True
    )
    leads: QuerySet[Lead] = Lead.objects.filter(pk__in=lead_ids).exclude(
        status=LeadStatus.CONVERTED
    )
    if actor is not None:
        customers = restrict(customers, actor, "view")
        leads = restrict(leads, actor, "view")
    matches = _scored(
        profile,
        customer_profiles(customers) if customer_ids else {},
        lead_profiles(leads) if lead_ids else {},
        threshold,
    )
    matches.sort(key=lambda m: (-m.score, m.kind, m.id))
    return CheckResult(matches=matches[:limit], keys=len(keys))


# SQLite allows 500 terms in one compound SELECT; a batch's keys are read in parts of this.
KEYS_PER_QUERY = 400


def _candidates_by_key(keys: list[str]) -> dict[str, list[tuple[str, int]]]:
    """``{key: [(kind, record id), …]}``, at most ``PER_KEY`` per key: one limited read of
    the ``(key, kind, record_id)`` index per key, joined with ``UNION ALL`` (wrapped as
    subqueries, which SQLite and PostgreSQL both allow to carry their own ``LIMIT``), one
    query per ``KEYS_PER_QUERY`` keys."""
    table = connection.ops.quote_name(MatchKey._meta.db_table)
    column = connection.ops.quote_name("key")
    # Only the table name and the limit (constants) are written in; the keys are parameters.
    part = (
        f"SELECT * FROM (SELECT {column}, kind, record_id FROM {table} "  # noqa: S608
        f"WHERE {column} = %s LIMIT {int(PER_KEY)})"
    )
    found: dict[str, list[tuple[str, int]]] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(keys), KEYS_PER_QUERY):
            chunk = keys[start : start + KEYS_PER_QUERY]
            cursor.execute(" UNION ALL ".join(f"{part} AS k{n}" for n in range(len(chunk))), chunk)
            for key, kind, record_id in cursor.fetchall():
                found.setdefault(key, []).append((kind, int(record_id)))
    return found


def best_matches(
    profiles: Mapping[int, Profile], *, threshold: int = SHOW_THRESHOLD
) -> dict[int, Match | None]:
    """For each customer of ``profiles`` (by id) its best match among every other record:
    what ``find_matches(profile, actor=None, exclude_customer=pk, limit=1)`` gives, for a
    whole batch of customers in a handful of queries (the nightly check)."""
    keys_of = {pk: blocking_keys(profile) for pk, profile in profiles.items()}
    found = _candidates_by_key(sorted({k for keys in keys_of.values() for k in keys}))
    wanted = {pk: _split(found, keys) for pk, keys in keys_of.items()}
    for pk, (customers, _leads) in wanted.items():
        customers.discard(pk)
    every_customer = sorted({c for customers, _l in wanted.values() for c in customers})
    every_lead = sorted({x for _c, leads in wanted.values() for x in leads})
    stored_customers: dict[int, tuple[Customer, Profile]] = {}
    stored_leads: dict[int, tuple[Lead, Profile]] = {}
    for start in range(0, max(len(every_customer), len(every_lead)), 5000):
        part = slice(start, start + 5000)
        stored_customers.update(
            customer_profiles(
                Customer.objects.filter(pk__in=every_customer[part], merged_into__isnull=True)
            )
        )
        stored_leads.update(
            lead_profiles(
                Lead.objects.filter(pk__in=every_lead[part]).exclude(status=LeadStatus.CONVERTED)
            )
        )
    best: dict[int, Match | None] = {}
    for pk, profile in profiles.items():
        customers, leads = wanted[pk]
        matches = _scored(
            profile,
            {c: stored_customers[c] for c in customers if c in stored_customers},
            {x: stored_leads[x] for x in leads if x in stored_leads},
            threshold,
        )
        best[pk] = min(matches, key=lambda m: (-m.score, m.kind, m.id)) if matches else None
    return best


def duplicate_check(*, actor: User, data: Mapping[str, Any]) -> CheckResult:
    """The instant duplicate check of what is typed into a customer or lead form."""
    checked = check_input(data)
    return find_matches(
        checked.profile(),
        actor=actor,
        exclude_customer=checked.exclude_customer,
        exclude_lead=checked.exclude_lead,
    )


# --- the data-quality page ---------------------------------------------------------------


def dashboard_allowed(actor: User) -> bool:
    return scope_for(actor, DASHBOARD_POLICY, "view") != Scope.NONE


def quality_figures(*, actor: User | None) -> dict[str, int]:
    """The number of customers (not merged) with each issue, and ``total``: one query.

    ``actor=None`` counts every customer (the nightly snapshot); else those the actor sees.
    """
    customers: QuerySet[Customer] = Customer.objects.filter(merged_into__isnull=True)
    if actor is not None:
        customers = restrict(customers, actor, "view")
    aggregates: dict[str, Any] = {"total": Count("pk")}
    for code in ISSUE_CODES:
        aggregates[code] = Count("pk", filter=issue_condition(code))
    figures = customers.aggregate(**aggregates)
    return {key: int(value or 0) for key, value in figures.items()}


def quality_dashboard(*, actor: User) -> dict[str, Any]:
    """The figures the actor may see and, for those who see every customer, the trend."""
    if not dashboard_allowed(actor):
        raise PermissionDenied(_("You may not open the data-quality page."))
    figures = quality_figures(actor=actor)
    snapshots: list[QualitySnapshot] = []
    if sees_all(actor, Customer):
        snapshots = list(QualitySnapshot.objects.order_by("-day")[:90])[::-1]
    return {"figures": figures, "snapshots": snapshots}

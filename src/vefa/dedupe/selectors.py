"""Reads of the duplicate review for a person: clusters and runs under the
``dedupe.cluster`` policy, and only clusters whose every member the person may see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vefa.accounts.access import restrict, scope_for, scope_q
from vefa.accounts.choices import Scope
from vefa.common.errors import NotFound
from vefa.common.paging import Page, keyset_page
from vefa.dedupe import features
from vefa.dedupe.models import ClusterMember, ClusterStatus, DedupeRun, DuplicateCluster

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Address, Customer

MAX_MEMBERS_SHOWN = 20


def _members_visible(
    queryset: QuerySet[DuplicateCluster], actor: User | None
) -> QuerySet[DuplicateCluster]:
    """Leave out clusters with a member the actor may not see."""
    from vefa.customers.models import Customer

    scope = scope_for(actor, "customers.customer", "view")
    if scope == Scope.ALL:
        return queryset
    if scope == Scope.NONE or actor is None:
        return queryset.none()
    condition = scope_q(Customer, actor, scope)
    visible = (
        Customer.objects.filter(condition) if condition is not None else Customer.objects.all()
    )
    hidden_member = ClusterMember.objects.filter(cluster=OuterRef("pk")).exclude(
        customer_id__in=visible.values("pk")
    )
    return queryset.exclude(Exists(hidden_member))


def clusters_for(actor: User | None) -> QuerySet[DuplicateCluster]:
    """Every cluster ``actor`` may see."""
    return _members_visible(restrict(DuplicateCluster.objects.all(), actor, "view"), actor)


def cluster_list(
    *,
    actor: User | None,
    status: str = "",
    run: int | str | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> Page[DuplicateCluster]:
    """Clusters by match probability, the most certain first; filtered by status and run."""
    queryset = clusters_for(actor).select_related("run", "reviewed_by")
    if status in ClusterStatus.values:
        queryset = queryset.filter(status=status)
    if run not in (None, ""):
        try:
            queryset = queryset.filter(run_id=int(str(run)))
        except ValueError:
            queryset = queryset.none()
    members = ClusterMember.objects.select_related("customer").order_by(
        "-probability", "customer_id"
    )
    queryset = queryset.prefetch_related(Prefetch("members", queryset=members))
    return keyset_page(queryset, ordering="-probability", cursor=cursor, size=limit)


def cluster_get(*, actor: User | None, pk: Any) -> DuplicateCluster:
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("Not found.")) from None
    cluster = (
        clusters_for(actor)
        .select_related("run", "reviewed_by", "survivor")
        .filter(pk=number)
        .first()
    )
    if cluster is None:
        raise NotFound(_("Not found."))
    return cluster


def run_list(*, actor: User | None, limit: int = 10) -> list[DedupeRun]:
    return list(
        restrict(DedupeRun.objects.all(), actor, "view")
        .select_related("job")
        .order_by("-id")[:limit]
    )


def run_get(*, actor: User | None, pk: Any) -> DedupeRun:
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("Not found.")) from None
    run = (
        restrict(DedupeRun.objects.all(), actor, "view")
        .select_related("job")
        .filter(pk=number)
        .first()
    )
    if run is None:
        raise NotFound(_("Not found."))
    return run


# --- side by side ----------------------------------------------------------------------------


@dataclass
class FieldRow:
    """One field across the members: the values as shown and whether they differ."""

    label: str
    values: list[str]
    differs: bool


@dataclass
class SideBySide:
    members: list[tuple[ClusterMember, Customer]]
    rows: list[FieldRow] = field(default_factory=list)


_FIELDS: list[tuple[str, Any]] = [
    ("kind", gettext_lazy("Kind")),
    ("display_name", gettext_lazy("Name")),
    ("first_name", gettext_lazy("First name")),
    ("last_name", gettext_lazy("Last name")),
    ("primary_email", gettext_lazy("E-mail")),
    ("primary_phone", gettext_lazy("Phone")),
    ("tax_number", gettext_lazy("Tax number")),
    ("birth_date", gettext_lazy("Birth date")),
    ("address", gettext_lazy("Address")),
    ("city", gettext_lazy("City")),
    ("postcode", gettext_lazy("Postal code")),
    ("country", gettext_lazy("Country")),
    ("lifecycle_stage", gettext_lazy("Lifecycle stage")),
    ("owner", gettext_lazy("Owner")),
    ("created_at", gettext_lazy("Created")),
]
# Fields compared as the linkage compares them (folded, E.164), so "AYŞE" and "Ayse" or two
# spellings of one phone number are not flagged as different.
_COMPARE: dict[str, Callable[[str], str]] = {
    "display_name": features.latin,
    "first_name": features.latin,
    "last_name": features.latin,
    "primary_email": features.email_key,
    "primary_phone": features.phone_key,
    "tax_number": features.code_key,
    "city": features.latin,
    "postcode": features.code_key,
    "address": features.latin,
}


def _value(customer: Customer, address: Address | None, name: str) -> str:
    from django.utils.formats import date_format, localize

    if name == "address":
        return str(address.line1) if address else ""
    if name == "city":
        return str(address.city if address and address.city else customer.city)
    if name == "postcode":
        return str(address.postal_code) if address else ""
    if name == "kind":
        return str(customer.get_kind_display())
    if name == "lifecycle_stage":
        return str(customer.get_lifecycle_stage_display())
    if name == "owner":
        return str(customer.owner) if customer.owner_id else ""
    if name == "birth_date":
        return date_format(customer.birth_date) if customer.birth_date else ""
    if name == "created_at":
        return str(localize(customer.created_at))
    return str(getattr(customer, name) or "")


def side_by_side(cluster: DuplicateCluster) -> SideBySide:
    """The members of ``cluster`` (best match first) and each field across them."""
    from vefa.customers.models import Address

    members = list(
        cluster.members.select_related("customer", "customer__owner").order_by(
            "-probability", "customer_id"
        )[:MAX_MEMBERS_SHOWN]
    )
    ids = [m.customer_id for m in members]
    addresses = {
        a.customer_id: a for a in Address.objects.filter(customer_id__in=ids, is_primary=True)
    }
    result = SideBySide(members=[(m, m.customer) for m in members])
    for name, label in _FIELDS:
        if name in ("first_name", "last_name") and all(
            c.kind == "organisation" for _, c in result.members
        ):
            continue
        values = [_value(c, addresses.get(c.pk), name) for _, c in result.members]
        if name == "created_at":
            differs = False
        elif name == "primary_phone":
            keys = {
                features.phone_key(v, features.calling_code(c.country))
                for v, (_, c) in zip(values, result.members, strict=True)
            }
            differs = len(keys) > 1
        else:
            compare = _COMPARE.get(name, str.strip)
            differs = len({compare(v) for v in values}) > 1
        result.rows.append(FieldRow(label=str(label), values=values, differs=differs))
    return result

"""Finding everything Vefa holds about one person, generically.

Starting from the subject's row (a customer, a lead or a portal account) the walk follows
every reverse relation (``ForeignKey`` / ``OneToOneField`` pointing at a reached model,
hidden ``related_name="+"`` ones included) recursively, so a model added later that points
at a customer, at one of its interactions, tickets or orders is found without a list to keep
up to date. Links that are not foreign keys are added by ``INDIRECT`` rules: change-log
entries and search-index rows by record or customer id, notifications by record, marketing
suppressions and campaign recipients by address.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Q

from vefa.privacy.choices import SubjectKind

# Subject kind → the model its id names.
SUBJECT_MODELS = {
    SubjectKind.CUSTOMER: "customers.Customer",
    SubjectKind.LEAD: "customers.Lead",
    SubjectKind.PORTAL_ACCOUNT: "portal.PortalAccount",
}

# Models never walked into: people working with Vefa (not data subjects), framework tables
# and this app's own records (which hold no personal values).
NOT_WALKED = frozenset(
    {
        "accounts.user",
        "accounts.team",
        "auth.group",
        "auth.permission",
        "contenttypes.contenttype",
        "privacy.privacyrequest",
        "privacy.deletionlog",
        "privacy.legalhold",
        "platform.job",
    }
)

# How deep the walk goes from the subject (customer → order → ticket → message → …).
MAX_DEPTH = 6


def model_of(label: str) -> type[models.Model]:
    return apps.get_model(label)


def reverse_relations(model: type[models.Model]) -> list[models.ForeignObjectRel]:
    """Every relation pointing at ``model`` from another model's foreign key or one-to-one."""
    found = []
    for rel in model._meta.get_fields(include_hidden=True):
        if not isinstance(rel, models.ForeignObjectRel) or isinstance(rel, models.ManyToManyRel):
            continue
        related = rel.related_model
        if related is None or not isinstance(related, type):
            continue
        if related._meta.label_lower in NOT_WALKED:
            continue
        found.append(rel)
    return found


def reachable_models(start: str = "customers.Customer") -> set[str]:
    """The models (lower-case labels) the walk can reach from ``start``, rows or not."""
    seen = {model_of(start)._meta.label_lower}
    frontier = [model_of(start)]
    depth = 0
    while frontier and depth < MAX_DEPTH:
        following = []
        for model in frontier:
            for rel in reverse_relations(model):
                related = rel.related_model
                assert isinstance(related, type)
                label = related._meta.label_lower
                if label not in seen:
                    seen.add(label)
                    following.append(related)
        frontier = following
        depth += 1
    return seen


@dataclass
class Found:
    """The reached rows: model label → primary keys, in the order they were reached."""

    rows: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def add(self, label: str, ids: Iterable[Any]) -> set[int]:
        before = self.rows[label]
        new = {int(i) for i in ids} - before
        before |= new
        return new

    def labels(self) -> list[str]:
        return [label for label, ids in self.rows.items() if ids]

    def ids(self, label: str) -> set[int]:
        return self.rows.get(label, set())

    def pairs(self) -> Iterator[tuple[str, int]]:
        for label, ids in self.rows.items():
            for pk in ids:
                yield label, pk

    def queryset(self, label: str) -> models.QuerySet[Any]:
        model = model_of(label)
        return model._base_manager.filter(pk__in=sorted(self.ids(label))).order_by("pk")


def _chunks(ids: Iterable[int], size: int = 500) -> Iterator[list[int]]:
    batch: list[int] = []
    for pk in sorted(ids):
        batch.append(pk)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def walk(start_label: str, start_id: int) -> Found:
    """Every row reachable from the subject through reverse relations."""
    found = Found()
    start = model_of(start_label)
    found.add(start._meta.label_lower, [start_id])
    frontier: dict[str, set[int]] = {start._meta.label_lower: {int(start_id)}}
    depth = 0
    while frontier and depth < MAX_DEPTH:
        following: dict[str, set[int]] = defaultdict(set)
        for label, ids in frontier.items():
            model = model_of(label)
            for rel in reverse_relations(model):
                related = rel.related_model
                assert isinstance(related, type)
                target = related._meta.label_lower
                name = rel.field.name
                for chunk in _chunks(ids):
                    pks = related._base_manager.filter(**{f"{name}__in": chunk}).values_list(
                        "pk", flat=True
                    )
                    new = found.add(target, pks)
                    following[target] |= new
        frontier = {k: v for k, v in following.items() if v}
        depth += 1
    return found


# --- links that are not foreign keys ------------------------------------------------------

IndirectRule = Callable[[Found, "Identifiers"], None]
INDIRECT: list[IndirectRule] = []


def indirect(func: IndirectRule) -> IndirectRule:
    INDIRECT.append(func)
    return func


@dataclass
class Identifiers:
    """What identifies the person: e-mail addresses, phone numbers (E.164) and names."""

    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def addresses(self) -> set[str]:
        return self.emails | self.phones


def _customer_ids(found: Found) -> set[int]:
    return found.ids("customers.customer")


@indirect
def _change_log(found: Found, ids: Identifiers) -> None:
    from vefa.platform.models import ChangeLogEntry

    customers = _customer_ids(found)
    q = Q(customer_id__in=customers) if customers else Q(pk__in=[])
    by_model: dict[str, set[int]] = defaultdict(set)
    for label, pk in found.pairs():
        by_model[label].add(pk)
    label = "platform.changelogentry"
    for model, pks in by_model.items():
        if model == label:
            continue
        for chunk in _chunks(pks):
            found.add(
                label,
                ChangeLogEntry.objects.filter(model=model, object_id__in=chunk).values_list(
                    "pk", flat=True
                ),
            )
    found.add(label, ChangeLogEntry.objects.filter(q).values_list("pk", flat=True))


@indirect
def _notifications(found: Found, ids: Identifiers) -> None:
    from vefa.platform.models import Notification

    for model, pks in list(found.rows.items()):
        if model.startswith("platform."):
            continue
        for chunk in _chunks(pks):
            found.add(
                "platform.notification",
                Notification.objects.filter(model=model, object_id__in=chunk).values_list(
                    "pk", flat=True
                ),
            )


def _by_address(label: str, column: str, ids: Identifiers, found: Found) -> None:
    addresses = sorted(ids.addresses())
    if not addresses:
        return
    model = model_of(label)
    for start in range(0, len(addresses), 200):
        chunk = addresses[start : start + 200]
        rows = model._base_manager.filter(**{f"{column}__in": chunk})
        found.add(label, rows.values_list("pk", flat=True))


@indirect
def _marketing_addresses(found: Found, ids: Identifiers) -> None:
    if not apps.is_installed("vefa.marketing"):
        return
    _by_address("marketing.suppression", "address", ids, found)
    before = set(found.ids("marketing.campaignrecipient"))
    _by_address("marketing.campaignrecipient", "address", ids, found)
    new = found.ids("marketing.campaignrecipient") - before
    if new:
        events = model_of("marketing.MessageEvent")._base_manager.filter(recipient_id__in=new)
        found.add("marketing.messageevent", events.values_list("pk", flat=True))


@indirect
def _portal_accounts(found: Found, ids: Identifiers) -> None:
    if not apps.is_installed("vefa.portal") or not ids.emails:
        return
    _by_address("portal.portalaccount", "email", Identifiers(emails=ids.emails), found)
    accounts = found.ids("portal.portalaccount")
    if accounts:
        tokens = model_of("portal.PortalToken")._base_manager.filter(account_id__in=accounts)
        found.add("portal.portaltoken", tokens.values_list("pk", flat=True))


def indirect_links(found: Found, ids: Identifiers) -> None:
    """Add the rows linked by id or address rather than by a foreign key.

    Notifications and change-log entries come last: they follow every other reached row.
    """
    last = (_notifications, _change_log)
    for rule in INDIRECT:
        if rule not in last:
            rule(found, ids)
    for rule in last:
        rule(found, ids)

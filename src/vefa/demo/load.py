"""Loading the demo company: staff, customers, history, work, change log and search index.

One transaction writes every row (in bulk: the history goes back three years, so the
records carry their own creation times, which ``save()`` would overwrite), then the search
index is rebuilt through ``vefa.platform.search.rebuild``. Loading twice does nothing the
second time: the demo manager's account marks a loaded demo.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from vefa.accounts.models import User
from vefa.customers.models import (
    Address,
    Consent,
    ContactPoint,
    Customer,
    CustomerRelationship,
    Lead,
)
from vefa.demo import activities, marketing, portal, relations, sales, service
from vefa.demo.bench.generate import ts
from vefa.demo.bench.loaders import Loader, loader_for
from vefa.demo.bench.tables import TableSpec
from vefa.demo.build import TAGS, DemoBuilder, Ids, to_datetime
from vefa.demo.company import MARKER_EMAIL, ensure_staff, login_lines
from vefa.interactions.models import Activity, ActivityAttendee, Interaction, Reminder, TimeEntry
from vefa.platform.audit import customer_id_of, snapshot
from vefa.platform.models import ChangeLogEntry, Tag
from vefa.platform.services import tags_resolve

# In the order they are written (parents first).
MODELS: tuple[type[models.Model], ...] = (
    Customer, ContactPoint, Address, Consent, CustomerRelationship, Lead, Interaction,
    Activity, Reminder, ActivityAttendee, TimeEntry,
)  # fmt: skip

Report = Callable[[str], None]


@dataclass
class DemoResult:
    loaded: bool
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def demo_exists() -> bool:
    return User.objects.filter(email=MARKER_EMAIL).exists() and Customer.objects.exists()


def load_demo(*, report: Report = print) -> DemoResult:
    """Load the demo company unless it is there already; print the logins either way."""
    from vefa.platform.search import rebuild

    started = time.perf_counter()
    if demo_exists():
        report("The demo company is already loaded; nothing to do.")
        _print_logins(report)
        return DemoResult(loaded=False)
    loader = loader_for(connection)
    with transaction.atomic():
        staff = ensure_staff()
        tag_ids = {tag.name: tag.pk for tag in tags_resolve(list(TAGS))}
        ids = Ids({m._meta.db_table: _max_id(loader, m) for m in MODELS})
        now = int(timezone.now().timestamp())
        builder = DemoBuilder(staff=staff, now=now, ids=ids, tag_ids=tag_ids)
        builder.customers_all()
        relations.relationships(builder)
        relations.leads(builder)
        builder.histories()
        activities.work(builder)
        sales.load_sales(builder, loader)
        counts = _write(loader, builder)
        _change_log(loader, builder, staff.users)
        service.load_service(staff, loader, timezone.now())
        marketing.load_marketing(staff, timezone.now())
        portal.load_portal_account()
        loader.reset_sequences([*MODELS, ChangeLogEntry])
    report("Demo data written; rebuilding the search index …")
    rebuild()
    report("Computing the analytics (RFM, ladder, value classes, lifetime value …) …")
    from vefa.analytics.refresh import run_now

    try:
        run_now(full=True)
    except Exception as exc:  # the demo still serves; the page shows the failed refresh
        report(f"The analytics refresh failed: {type(exc).__name__}: {exc}")
    result = DemoResult(loaded=True, seconds=time.perf_counter() - started, counts=counts)
    report(
        f"Loaded the demo company in {result.seconds:.1f} s: "
        f"{counts.get('customers_customer', 0):,} customers, "
        f"{counts.get('interactions_interaction', 0):,} interactions, "
        f"{counts.get('interactions_activity', 0):,} activities, "
        f"{counts.get('customers_lead', 0):,} leads."
    )
    _print_logins(report)
    return result


def _print_logins(report: Report) -> None:
    report("Demo logins (e-mail, password, role):")
    for line in login_lines():
        report(line)
    if portal.PortalAccount.objects.filter(email__iexact=portal.PORTAL_EMAIL).exists():
        report("Customer portal (/portal/login/):")
        report(f"  {portal.PORTAL_EMAIL:<26} {portal.PORTAL_PASSWORD:<22} contact person")


def _max_id(loader: Loader, model: type[models.Model]) -> int:
    table = model._meta.db_table
    return int(loader.scalar(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"'))  # noqa: S608


class _Converter:
    """Turns a row of Python values (times as Unix seconds) into what the loader takes."""

    def __init__(self, model: type[models.Model], suffix: str) -> None:
        self.spec = TableSpec.of(model)
        self.suffix = suffix
        self.times = {
            f.attname for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)
        }

    def __call__(self, row: dict[str, Any]) -> tuple[Any, ...]:
        values: dict[str, Any] = {}
        for key, value in row.items():
            if key in self.times and isinstance(value, int):
                value = ts(value) + self.suffix
            elif isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, dict):
                value = json.dumps(value, ensure_ascii=False)
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            values[key] = value
        return self.spec.row(values)


def _write(loader: Loader, builder: DemoBuilder) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model in MODELS:
        table = model._meta.db_table
        rows = builder.data.rows.get(table, [])
        if rows:
            convert = _Converter(model, loader.ts_suffix)
            counts[table] = loader.copy(table, convert.spec.columns, [convert(r) for r in rows])
    tags = Customer.tags.through._meta.db_table
    loader.copy(tags, ("customer_id", "tag_id"), sorted(set(builder.data.tags)))
    return counts


def _instance(model: type[models.Model], row: dict[str, Any]) -> Any:
    values = {}
    times = {f.attname for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)}
    for key, value in row.items():
        values[key] = to_datetime(value) if key in times and isinstance(value, int) else value
    return model(**values)


def _change_log(loader: Loader, builder: DemoBuilder, users: dict[str, User]) -> None:
    """One "created" change-log row per customer and lead, as ``log_change`` writes it,
    dated when the record was created and by its owner."""
    by_id = {u.pk: u for u in users.values()}
    tags_by_id = {t.pk: t for t in Tag.objects.all()}
    customer_tags: dict[int, list[Tag]] = {}
    for customer_id, tag_id in builder.data.tags:
        customer_tags.setdefault(customer_id, []).append(tags_by_id[tag_id])
    entries: list[tuple[Any, ...]] = []
    spec = TableSpec.of(ChangeLogEntry, skip=("id",))
    for model, table in ((Customer, "customers_customer"), (Lead, "customers_lead")):
        for row in builder.data.rows.get(table, []):
            instance = _instance(model, row)
            tags = customer_tags.get(row["id"], []) if model is Customer else []
            instance._prefetched_objects_cache = {"tags": sorted(set(tags), key=lambda t: t.pk)}
            actor = by_id.get(row.get("created_by_id") or 0)
            entries.append(
                spec.row(
                    {
                        "time": ts(row["created_at"]) + loader.ts_suffix,
                        "action": ChangeLogEntry.Action.CREATE,
                        "model": model._meta.label_lower,
                        "object_id": row["id"],
                        "object_repr": str(instance)[:200],
                        "customer_id": customer_id_of(instance),
                        "actor_id": actor.pk if actor else None,
                        "actor_name": (str(actor) if actor else "system")[:200],
                        "request_id": "",
                        "before": None,
                        "after": json.dumps(snapshot(instance), ensure_ascii=False),
                    }
                )
            )
    loader.copy(ChangeLogEntry._meta.db_table, spec.columns, entries)

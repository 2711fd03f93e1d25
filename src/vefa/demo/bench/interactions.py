"""Millions of interactions, expanded by the database from a plan row per customer.

Python writes one *plan* row per customer (how many interactions, from when, over how long,
who owns the customer, its language and currency) and a table of interaction *templates*
(1,024 per language and history profile, laid out in the kinds' shares); one ``INSERT …
SELECT`` per round then writes the n-th interaction of every customer that has one. Every
value comes from integer hashes of (customer id, n, seed) that Python can compute too, so the
customer's ``last_interaction_at`` is known before the rows exist and the same seed gives the
same rows on SQLite and PostgreSQL.

Interaction n of a customer with k interactions over ``span`` seconds from ``start`` falls in
the n-th of k equal slots: ``start + n·⌊span/k⌋ + h1 mod ⌊span/k⌋``, so the newest one is in
the last slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vefa.demo.bench.loaders import Loader
from vefa.demo.history import BUYER_KINDS, PROSPECT_KINDS, kind_slots, shape
from vefa.demo.people import FastRandom
from vefa.demo.pools import Texts, locales

SLOTS = 1024
LANGUAGES = ("en", "tr", "sr-latn", "fa")
BUYER, PROSPECT = 0, 1
TEMPLATE_TABLE = "vefa_bench_template"
PLAN_TABLE = "vefa_bench_plan"
_MASK32 = 4294967296
_MASK31 = 2147483648


def seed_mix(seed: int) -> int:
    return (seed * 7919 + 104729) % _MASK32


def h1(customer_id: int, n: int, mix: int) -> int:
    """The first hash of interaction ``n`` of a customer (same formula as the SQL)."""
    return (customer_id * 2654435761 + n * 40503 + mix) % _MASK32


def slot_length(span: int, k: int) -> int:
    return max(1, span // k)


def last_epoch(customer_id: int, start: int, span: int, k: int, mix: int) -> int:
    """When the newest of a customer's ``k`` interactions happens."""
    length = slot_length(span, k)
    return start + (k - 1) * length + h1(customer_id, k - 1, mix) % length


def template_key(language: str, profile: int) -> int:
    return (LANGUAGES.index(language) * 2 + profile) * SLOTS


@dataclass(frozen=True)
class PlanRow:
    """One customer's history plan (a row of ``PLAN_TABLE``)."""

    customer_id: int
    position: int  # 0-based index of the customer in this load; orders rows within a round
    count: int
    start: int
    span: int
    owner_id: int | None
    service_id: int | None
    marketer_id: int | None
    template_key: int
    scale: int
    currency: str

    def values(self) -> tuple[Any, ...]:
        return (
            self.position,
            self.customer_id,
            self.count,
            self.start,
            slot_length(self.span, self.count) if self.count else 1,
            self.owner_id,
            self.service_id,
            self.marketer_id,
            self.template_key,
            self.scale,
            self.currency,
        )


PLAN_COLUMNS = (
    "position", "customer_id", "k", "start_epoch", "slot", "owner_id", "service_id",
    "marketer_id", "tkey", "scale", "currency",
)  # fmt: skip
TEMPLATE_COLUMNS = (
    "id", "kind", "direction", "initiated_by", "channel", "subject_pre", "subject_post",
    "has_ref", "body", "outcome", "status", "duration", "price", "recorded_by",
)  # fmt: skip


def template_rows(seed: int) -> list[tuple[Any, ...]]:
    """Every template, for every language and profile, in id order."""
    rng = FastRandom(seed * 31 + 7)
    texts: dict[str, Texts] = {}
    for locale in locales():
        texts.setdefault(locale.language, locale.texts)
    rows: list[tuple[Any, ...]] = []
    for language in LANGUAGES:
        for profile, kinds in ((BUYER, BUYER_KINDS), (PROSPECT, PROSPECT_KINDS)):
            base = template_key(language, profile)
            for slot, kind in enumerate(kind_slots(kinds, SLOTS)):
                made = shape(rng, texts[language], kind)
                pre, has_ref, post = made.subject.partition("{ref}")
                rows.append(
                    (
                        base + slot,
                        made.kind,
                        made.direction,
                        made.initiated_by,
                        made.channel,
                        pre,
                        post,
                        1 if has_ref else 0,
                        made.body,
                        made.outcome,
                        made.status,
                        made.duration_minutes,
                        made.price_cents,
                        made.recorded_by,
                    )
                )
    return rows


def create_work_tables(loader: Loader, seed: int) -> None:
    """The temporary template and plan tables (gone when the connection closes)."""
    loader.execute(
        f"CREATE TEMPORARY TABLE {TEMPLATE_TABLE} (id INTEGER PRIMARY KEY, kind VARCHAR(12), "
        "direction VARCHAR(10), initiated_by VARCHAR(10), channel VARCHAR(15), "
        "subject_pre VARCHAR(300), subject_post VARCHAR(300), has_ref INTEGER, body TEXT, "
        "outcome VARCHAR(300), status VARCHAR(12), duration INTEGER, price BIGINT, "
        "recorded_by INTEGER)"
    )
    loader.execute(
        # ``position`` is SQLite's rowid, so a scan returns the plan in position order.
        f"CREATE TEMPORARY TABLE {PLAN_TABLE} (position INTEGER PRIMARY KEY, customer_id BIGINT, "
        "k INTEGER, start_epoch BIGINT, slot BIGINT, owner_id BIGINT, service_id BIGINT, "
        "marketer_id BIGINT, tkey BIGINT, scale BIGINT, currency VARCHAR(3))"
    )
    loader.copy(TEMPLATE_TABLE, TEMPLATE_COLUMNS, template_rows(seed))


def drop_work_tables(loader: Loader) -> None:
    loader.execute(f"DROP TABLE IF EXISTS {PLAN_TABLE}")
    loader.execute(f"DROP TABLE IF EXISTS {TEMPLATE_TABLE}")


def insert_round(
    loader: Loader, *, round_number: int, stride: int, id_base: int, seed: int, table: str
) -> None:
    """Write interaction ``round_number`` of every customer that has that many.

    Interaction ids are ``id_base + round·stride + position + 1``: unique, rising within a
    round (cheap appends to SQLite's table b-tree), and spread over the table the way a real
    history is, rather than clustered per customer.
    """
    n = int(round_number)
    mix = seed_mix(seed)
    hash1 = f"((p.customer_id * 2654435761 + {n * 40503 + mix}) % {_MASK32})"
    hash2 = f"((({hash1}) * 1103515245 + 12345) % {_MASK31})"
    epoch = f"(p.start_epoch + {n} * p.slot + {hash1} % p.slot)"
    when = loader.timestamp_sql(epoch)
    new_id = f"({int(id_base) + n * int(stride) + 1} + p.position)"
    user = (
        "CASE t.recorded_by WHEN 0 THEN p.owner_id WHEN 1 THEN p.service_id "
        "WHEN 2 THEN p.marketer_id END"
    )
    amount = (
        f"CASE WHEN t.price > 0 THEN (t.price * p.scale * (50 + {hash2} % 200) / 100) / 100.0 END"
    )
    sql = f"""
        INSERT INTO "{table}" (
            id, created_at, updated_at, created_by_id, updated_by_id, version, custom_fields,
            customer_id, kind, direction, initiated_by, channel, occurred_at, subject, body,
            outcome, status, duration_minutes, amount, currency, user_id, related_model,
            related_id, external_id
        )
        SELECT {new_id}, {when}, {when}, {user}, {user}, 1, '{{}}',
            p.customer_id, t.kind, t.direction, t.initiated_by, t.channel, {when},
            t.subject_pre || CASE WHEN t.has_ref = 1 THEN 'SO-' || CAST({new_id} AS TEXT)
                ELSE '' END || t.subject_post,
            t.body, t.outcome, t.status, t.duration, {amount},
            CASE WHEN t.price > 0 THEN p.currency ELSE '' END, {user}, '', NULL, ''
        FROM {PLAN_TABLE} p JOIN {TEMPLATE_TABLE} t ON t.id = p.tkey + {hash2} % {SLOTS}
        WHERE p.k > {n}
        {"ORDER BY p.position" if loader.vendor == "sqlite" else ""}
    """  # noqa: S608 (only integers and fixed names are formatted in)
    loader.execute(sql)

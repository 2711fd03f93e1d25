"""Rows of customers and everything that hangs off them, one chunk of customers at a time.

A chunk is made from its own random stream (seed and chunk number), so the same seed always
gives the same rows however the work is split. Times are Unix seconds until written out as
UTC text.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vefa.demo.bench.interactions import PlanRow, last_epoch, seed_mix, slot_length, template_key
from vefa.demo.bench.staff import BenchTeam, Staff
from vefa.demo.history import CURRENCY_SCALE
from vefa.demo.people import CustomerMaker, FastRandom, pick, weighted

DAY = 86_400
HISTORY_DAYS = 3 * 365
STAGES = weighted((("customer", 58), ("prospect", 14), ("lead", 6), ("inactive", 13), ("lost", 9)))
# How much history each kind of customer has, relative to the average.
TIERS = ((0.4, 0.25), (0.9, 0.35), (1.6, 0.25), (3.0, 0.15))
BENCH_TAGS = ("VIP", "Newsletter", "Key account", "Wholesale")
REMINDER_MINUTES = (24 * 60, 60)
# Contact point ids reserved per customer (a generated customer has at most four).
POINT_STRIDE = 8
_EPOCH = datetime.date(1970, 1, 1)
# Generated customer fields that are not text or numbers.
_TYPED_FIELDS = ("birth_date", "annual_revenue", "quiet_hours_start", "quiet_hours_end")
_days: dict[int, str] = {}


def ts(epoch: int) -> str:
    """Unix seconds as "YYYY-MM-DD HH:MM:SS" (UTC)."""
    day, seconds = divmod(int(epoch), DAY)
    text = _days.get(day)
    if text is None:
        text = _days[day] = (_EPOCH + datetime.timedelta(days=day)).isoformat()
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{text} {hours:02d}:{minutes:02d}:{secs:02d}"


@dataclass
class Chunk:
    """The rows of one chunk, per table (dicts keyed by column) plus the history plans."""

    customers: list[dict[str, Any]] = field(default_factory=list)
    contact_points: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    consents: list[dict[str, Any]] = field(default_factory=list)
    tags: list[tuple[int, int]] = field(default_factory=list)
    relationships: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    reminders: list[dict[str, Any]] = field(default_factory=list)
    plans: list[PlanRow] = field(default_factory=list)


class ChunkMaker:
    """Makes chunk ``i`` of a load of ``customers`` customers."""

    def __init__(
        self,
        *,
        seed: int,
        customers: int,
        interactions_per_customer: int,
        chunk_size: int,
        staff: Staff,
        anchor: int,
        now: int,
        customer_base: int,
        point_base: int,
        activity_base: int,
        tag_ids: dict[str, int],
        ts_suffix: str,
    ) -> None:
        self.seed = seed
        self.total = customers
        self.per_customer = interactions_per_customer
        self.chunk_size = chunk_size
        self.staff = staff
        self.anchor = anchor
        self.now = now
        self.history_start = anchor - HISTORY_DAYS * DAY
        self.customer_base = customer_base
        self.point_base = point_base
        self.activity_base = activity_base
        self.tag_ids = tag_ids
        self.suffix = ts_suffix
        self.mix = seed_mix(seed)

    def chunks(self) -> int:
        return (self.total + self.chunk_size - 1) // self.chunk_size

    def t(self, epoch: int | None) -> str | None:
        return None if epoch is None else ts(epoch) + self.suffix

    def make(self, index: int) -> Chunk:
        rng = FastRandom(self.seed * 1_000_003 + index)
        maker = CustomerMaker(rng, today=datetime.date.fromtimestamp(self.anchor), fast=True)
        first = index * self.chunk_size
        count = min(self.chunk_size, self.total - first)
        chunk = Chunk()
        # The latest organisation of each market in this chunk, for "works at" links.
        self._orgs: dict[str, int] = {}
        drafts = [self._draft(rng, maker, first + i) for i in range(count)]
        for draft, k in zip(drafts, self._allocate(rng, [d.weight for d in drafts]), strict=True):
            self._emit(rng, chunk, draft, k)
        # Ids other rows (and search entries) point at depend only on the chunk number, so
        # chunks can be made in any order or process: a chunk owns a fixed range of ids.
        first_point = self.point_base + index * self.chunk_size * POINT_STRIDE
        for number, point in enumerate(chunk.contact_points, start=1):
            point["id"] = first_point + number
        first_activity = self.activity_base + index * self.chunk_size
        for number, activity in enumerate(chunk.activities, start=1):
            activity["id"] = first_activity + number
        for reminder in chunk.reminders:
            reminder["activity_id"] = reminder.pop("activity")["id"]
        return chunk

    # --- one customer ---------------------------------------------------------------------

    def _draft(self, rng: FastRandom, maker: CustomerMaker, position: int) -> _Draft:
        made = maker.make(serial=self.customer_base + position + 1)
        stage = pick(rng, STAGES)
        span_total = self.anchor - DAY - self.history_start
        created = self.history_start + int(span_total * rng.random() ** 0.75)
        remaining = self.anchor - created
        lost_at = None
        if stage == "lead":
            end, weight = self.anchor - rng.randrange(0, 20 * DAY), 0.3
        elif stage == "prospect":
            end, weight = self.anchor - rng.randrange(0, 30 * DAY), 0.8
        elif stage == "inactive":
            end, weight = created + int(remaining * rng.uniform(0.3, 0.7)), 1.0
        elif stage == "lost":
            lost_at = created + int(remaining * rng.uniform(0.5, 0.9))
            end, weight = lost_at, 0.9
        else:
            roll, weight = rng.random(), TIERS[-1][0]
            for tier_weight, share in TIERS:
                if roll < share:
                    weight = tier_weight
                    break
                roll -= share
            end = self.anchor - rng.randrange(0, 45 * DAY)
        end = max(end, created + DAY)
        team = rng.choice(self.staff.teams)
        roll = rng.random()
        owner = (
            None if roll < 0.03 else team.manager_id if roll < 0.08 else rng.choice(team.rep_ids)
        )
        return _Draft(
            position=position,
            customer_id=self.customer_base + position + 1,
            made=made,
            stage=stage,
            created=created,
            end=end,
            lost_at=lost_at,
            weight=weight,
            # A customer has its owner's team; a few unowned ones have no team either.
            team=None if owner is None and rng.random() < 0.3 else team,
            owner_id=owner,
            service_id=rng.choice(team.service_ids),
            marketer_id=rng.choice(self.staff.marketer_ids),
        )

    def _allocate(self, rng: FastRandom, weights: list[float]) -> list[int]:
        """Whole interaction counts in proportion to ``weights``, summing exactly to
        ``per_customer`` × customers (largest remainders get the leftovers)."""
        total = self.per_customer * len(weights)
        scale = total / sum(weights) if weights and total else 0.0
        raw = [w * scale for w in weights]
        counts = [int(r) for r in raw]
        leftover = total - sum(counts)
        by_fraction = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
        for i in by_fraction[:leftover]:
            counts[i] += 1
        return counts

    def _emit(self, rng: FastRandom, chunk: Chunk, draft: _Draft, k: int) -> None:
        made, cid, created = draft.made, draft.customer_id, draft.created
        span = draft.end - created
        last = last_epoch(cid, created, span, k, self.mix) if k else None
        became = None
        if draft.stage in ("customer", "inactive", "lost"):
            became = created + slot_length(span, max(k, 1)) // 2
        changed = {
            "lead": created,
            "prospect": created,
            "customer": became,
            "inactive": min(draft.end + 180 * DAY, self.anchor - DAY),
            "lost": draft.lost_at,
        }[draft.stage] or created
        owner, team = draft.owner_id, draft.team
        stamps = {
            "created_at": self.t(created),
            "updated_at": self.t(max(created, changed)),
            "created_by_id": owner,
            "updated_by_id": owner,
            "version": 1,
        }
        values = dict(made.fields)
        for key in _TYPED_FIELDS:
            if values.get(key) is not None:
                values[key] = _plain(values[key])
        values.update(
            stamps,
            id=cid,
            custom_fields="{}",
            lifecycle_stage=draft.stage,
            stage_changed_at=self.t(changed),
            became_customer_at=self.t(became),
            lost_at=self.t(draft.lost_at),
            owner_id=owner,
            team_id=team.team_id if team else None,
            last_interaction_at=self.t(last),
        )
        chunk.customers.append(values)
        child = {**stamps, "customer_id": cid}
        for point in made.contact_points:
            chunk.contact_points.append({**child, **point})
        chunk.addresses.append({**child, **made.address})
        texts = made.locale.texts
        if made.fields["primary_email"] and rng.random() < 0.4:
            purpose = rng.choice(("newsletter", "marketing"))
            chunk.consents.append(
                {**child, "channel": "email", "purpose": purpose, "status": "granted",
                 "source": rng.choice(texts.consent_sources), "text_version": "2023-01",
                 "recorded_at": self.t(created)}
            )  # fmt: skip
            if purpose == "newsletter":
                chunk.tags.append((cid, self.tag_ids["Newsletter"]))
        if rng.random() < 0.03:
            chunk.tags.append((cid, self.tag_ids["VIP"]))
        if made.fields["kind"] == "organisation":
            if rng.random() < 0.05:
                chunk.tags.append((cid, self.tag_ids["Wholesale"]))
            if rng.random() < 0.03:
                chunk.tags.append((cid, self.tag_ids["Key account"]))
            self._orgs[made.locale.key] = cid
        elif rng.random() < 0.12 and made.locale.key in self._orgs:
            chunk.relationships.append(
                {**stamps, "from_customer_id": cid, "to_customer_id": self._orgs[made.locale.key],
                 "kind": "works_at", "job_title": rng.choice(texts.job_titles)}
            )  # fmt: skip
        lang = made.locale.language
        chunk.plans.append(
            PlanRow(
                customer_id=cid,
                position=draft.position,
                count=k,
                start=created,
                span=span,
                owner_id=owner,
                service_id=draft.service_id,
                marketer_id=draft.marketer_id,
                template_key=template_key(lang, 0 if became else 1),
                scale=CURRENCY_SCALE.get(made.locale.currency, 1),
                currency=made.locale.currency,
            )
        )
        if draft.stage not in ("lost", "inactive") and rng.random() < 0.05:
            self._activity(rng, chunk, draft, texts)

    def _activity(self, rng: FastRandom, chunk: Chunk, draft: _Draft, texts: Any) -> None:
        team = draft.team or self.staff.teams[0]
        owner = draft.owner_id or rng.choice(team.rep_ids)
        roll = rng.random()
        hour = rng.randrange(9, 18) * 3600
        due = start = end = None
        status, completed = "planned", None
        if roll < 0.35:
            kind = rng.choice(("meeting", "appointment"))
            start = self.anchor + rng.randrange(1, 31) * DAY + hour
            end = start + rng.choice((30, 60, 90)) * 60
        elif roll < 0.55:
            kind, due = "call", self.anchor - rng.randrange(1, 21) * DAY + hour
        elif roll < 0.7:
            kind, due = rng.choice(("task", "call")), self.anchor + hour
        else:
            kind, due = "task", self.anchor - rng.randrange(1, 200) * DAY + hour
            status, completed = "done", due + 2 * 3600
        when = start if start is not None else due
        assert when is not None
        subject = rng.choice(texts.activities[kind]).replace(
            "{product}", rng.choice(texts.products)
        )
        created = max(draft.created, min(when, self.now) - rng.randrange(1, 15) * DAY)
        activity = {
            "created_at": self.t(created),
            "updated_at": self.t(completed or created),
            "created_by_id": owner,
            "updated_by_id": owner,
            "version": 2 if completed else 1,
            "custom_fields": "{}",
            "kind": kind,
            "subject": subject,
            "customer_id": draft.customer_id,
            "owner_id": owner,
            "team_id": team.team_id,
            "due_at": self.t(due),
            "start_at": self.t(start),
            "end_at": self.t(end),
            "status": status,
            "priority": rng.choice(("normal", "normal", "high", "low")),
            "completed_at": self.t(completed),
            "scheduled_at": self.t(when),
        }
        chunk.activities.append(activity)
        if status == "planned":
            for minutes in REMINDER_MINUTES:
                remind = when - minutes * 60
                chunk.reminders.append(
                    {"activity": activity, "minutes_before": minutes, "remind_at": self.t(remind),
                     "sent_at": self.t(remind) if remind <= self.now else None}
                )  # fmt: skip


@dataclass
class _Draft:
    position: int
    customer_id: int
    made: Any
    stage: str
    created: int
    end: int
    lost_at: int | None
    weight: float
    team: BenchTeam | None
    owner_id: int | None
    service_id: int
    marketer_id: int


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value

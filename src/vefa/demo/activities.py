"""The demo staff's work: done calls and meetings (with the interactions they recorded and the
time spent), overdue work, today's work and upcoming meetings with reminders and attendees.

Planned activities carry the default reminders (1 day and 1 hour before); reminders whose
time has passed are marked sent, as the worker would have done. Completed calls and meetings
recorded their interaction, as ``activity_complete`` does.
"""

from __future__ import annotations

from typing import Any

from vefa.demo.build import DAY, HOUR, UTC_OFFSET, Customer, DemoBuilder
from vefa.demo.history import Shape
from vefa.demo.pools import Texts

REMINDER_MINUTES = (24 * 60, 60)
# Tasks of the marketing team, in the marketer's language and in English.
MARKETING_TASKS = {
    "fa": (
        "آماده‌سازی خبرنامه فصل بعد",
        "بررسی نتایج کمپین حراج بهاره",
        "به‌روزرسانی کاتالوگ آنلاین",
    ),
    "en": (
        "Prepare next season's newsletter",
        "Review the spring sale results",
        "Update the online catalogue",
    ),
}


def _local(b: DemoBuilder, customer: Customer | None, day: int, hour: float) -> int:
    """``hour`` o'clock local time, ``day`` days from today (negative: in the past)."""
    country = customer.made.locale.country if customer else "TR"
    offset = int(UTC_OFFSET.get(country, 0.0) * HOUR)
    today = (b.now + offset) // DAY
    return (today + day) * DAY + int(hour * HOUR) - offset


def activity(
    b: DemoBuilder,
    *,
    owner: Any,
    kind: str,
    subject: str,
    when: int,
    customer: Customer | None = None,
    lead_id: int | None = None,
    minutes: int = 60,
    done: bool = False,
    location: str = "",
    outcome: str = "",
    interaction_id: int | None = None,
    priority: str = "normal",
) -> dict[str, Any]:
    timed = kind in ("meeting", "appointment")
    created = min(b.now, when - b.rng.randrange(1, 10) * DAY)
    if customer is not None:
        created = max(created, customer.created)
    row = {
        "id": b.ids("interactions_activity"),
        "kind": kind,
        "subject": subject[:300],
        "description": "",
        "customer_id": customer.row["id"] if customer else None,
        "lead_id": lead_id,
        "owner_id": owner.pk,
        "team_id": owner.team_id,
        "due_at": None if timed else when,
        "start_at": when if timed else None,
        "end_at": when + minutes * 60 if timed else None,
        "all_day": False,
        "location": location,
        "status": "done" if done else "planned",
        "priority": priority,
        "completed_at": when + minutes * 60 if done else None,
        "outcome": outcome,
        "interaction_id": interaction_id,
        "scheduled_at": when,
        "created_at": created,
        "updated_at": when + minutes * 60 if done else created,
        "created_by_id": owner.pk,
        "updated_by_id": owner.pk,
        "version": 2 if done else 1,
        "custom_fields": {},
    }
    b.data.add("interactions_activity", row)
    if not done:
        for before in REMINDER_MINUTES:
            remind = when - before * 60
            b.data.add(
                "interactions_reminder",
                {
                    "id": b.ids("interactions_reminder"),
                    "activity_id": row["id"],
                    "minutes_before": before,
                    "remind_at": remind,
                    "sent_at": remind if remind <= b.now else None,
                },
            )
    return row


def _subject(b: DemoBuilder, texts: Texts, kind: str) -> str:
    return b.rng.choice(texts.activities[kind]).replace("{product}", b.rng.choice(texts.products))


def _complete(b: DemoBuilder, owner: Any, customer: Customer, kind: str, when: int) -> None:
    """A call or meeting done in the past, with the interaction it recorded and time spent."""
    rng, texts = b.rng, customer.made.locale.texts
    subject = _subject(b, texts, kind)
    minutes = rng.randrange(5, 25) if kind == "call" else rng.choice((45, 60, 90))
    outcome = rng.choice(texts.outcomes["call" if kind == "call" else "meeting"])
    recorded = Shape(
        kind="call" if kind == "call" else "meeting",
        direction="outbound",
        initiated_by="company",
        channel="phone" if kind == "call" else "face_to_face",
        subject=subject,
        body="",
        outcome=outcome,
        status="done",
        duration_minutes=minutes,
        price_cents=0,
        recorded_by=0,
    )
    interaction = b.interaction(customer, recorded, when)
    interaction["user_id"] = interaction["created_by_id"] = interaction["updated_by_id"] = owner.pk
    row = activity(
        b,
        owner=owner,
        kind=kind,
        subject=subject,
        when=when,
        customer=customer,
        minutes=minutes,
        done=True,
        outcome=outcome,
        interaction_id=interaction["id"],
        location=rng.choice(texts.meeting_places) if kind != "call" else "",
    )
    b.data.add(
        "interactions_timeentry",
        {
            "id": b.ids("interactions_timeentry"),
            "user_id": owner.pk,
            "customer_id": customer.row["id"],
            "activity_id": row["id"],
            "started_at": when,
            "minutes": minutes,
            "note": subject[:300],
            "billable": kind != "call",
            "created_at": row["completed_at"],
            "updated_at": row["completed_at"],
            "created_by_id": owner.pk,
            "updated_by_id": owner.pk,
            "version": 1,
        },
    )


def _meeting(b: DemoBuilder, owner: Any, customer: Customer, when: int) -> None:
    rng, texts = b.rng, customer.made.locale.texts
    kind = rng.choice(("meeting", "meeting", "appointment"))
    row = activity(
        b,
        owner=owner,
        kind=kind,
        subject=_subject(b, texts, kind),
        when=when,
        customer=customer,
        minutes=rng.choice((30, 60, 90)),
        location=rng.choice(texts.meeting_places),
    )
    email = customer.row["primary_email"]
    if email:
        b.data.add(
            "interactions_activityattendee",
            {
                "id": b.ids("interactions_activityattendee"),
                "activity_id": row["id"],
                "user_id": None,
                "customer_id": None,
                "email": email,
                "response": rng.choice(("pending", "accepted", "accepted", "tentative")),
            },
        )


def work(b: DemoBuilder) -> None:
    """Every demo user's activities."""
    rng = b.rng
    active = [
        c for c in b.customers if c.row["lifecycle_stage"] in ("customer", "prospect", "lead")
    ]
    for login_user in b.staff.users.values():
        own = [c for c in active if c.owner_id == login_user.pk]
        if not own:
            continue
        for _ in range(10):
            customer = rng.choice(own)
            kind = rng.choice(("call", "call", "meeting"))
            day = -rng.randrange(1, 60)
            _complete(b, login_user, customer, kind, _local(b, customer, day, rng.randrange(9, 17)))
        for _ in range(3):
            customer = rng.choice(own)
            kind = rng.choice(("call", "task"))
            when = _local(b, customer, -rng.randrange(1, 8), rng.randrange(9, 17))
            activity(
                b,
                owner=login_user,
                kind=kind,
                subject=_subject(b, customer.made.locale.texts, kind),
                when=when,
                customer=customer,
                priority="high",
            )
        for hour in (10, 11.5, 16):
            customer = rng.choice(own)
            kind = rng.choice(("call", "task"))
            activity(
                b,
                owner=login_user,
                kind=kind,
                subject=_subject(b, customer.made.locale.texts, kind),
                when=_local(b, customer, 0, hour),
                customer=customer,
            )
        _meeting(b, login_user, rng.choice(own), _local(b, own[0], 0, 14))
        for _ in range(6):
            customer = rng.choice(own)
            _meeting(
                b,
                login_user,
                customer,
                _local(b, customer, rng.randrange(1, 22), rng.randrange(9, 17)),
            )
    _service(b)
    _marketing(b)
    _leads(b)


def _service(b: DemoBuilder) -> None:
    rng = b.rng
    agent = next(u for u in b.staff.users.values() if u.pk == b.service_id)
    open_complaints = {
        i["customer_id"]
        for i in b.data.rows.get("interactions_interaction", [])
        if i["kind"] == "complaint" and i["status"] != "done"
    }
    by_id = {c.row["id"]: c for c in b.customers}
    for number, customer_id in enumerate(sorted(open_complaints)[:8]):
        customer = by_id[customer_id]
        texts = customer.made.locale.texts
        day = (-1, 0, 0, 1, 2)[number % 5]
        activity(
            b,
            owner=agent,
            kind="call",
            subject=texts.activities["call"][2],
            when=_local(b, customer, day, 10 + number % 6),
            customer=customer,
            priority="high",
        )
    complained = [by_id[i] for i in sorted(open_complaints)] or b.customers
    for _ in range(5):
        customer = rng.choice(complained)
        _complete(b, agent, customer, "call", _local(b, customer, -rng.randrange(1, 20), 11))


def _marketing(b: DemoBuilder) -> None:
    marketer = next(u for u in b.staff.users.values() if u.pk == b.marketer_id)
    tasks = MARKETING_TASKS.get(marketer.language, MARKETING_TASKS["en"])
    for day, subject in zip((0, 2, 6), tasks, strict=True):
        activity(b, owner=marketer, kind="task", subject=subject, when=_local(b, None, day, 11))


def _leads(b: DemoBuilder) -> None:
    rng = b.rng
    users = {u.pk: u for u in b.staff.users.values()}
    open_leads = [
        lead
        for lead in b.data.rows.get("customers_lead", [])
        if lead["status"] in ("new", "contacted") and lead["owner_id"] in users
    ]
    for lead in open_leads[:24]:
        owner = users[lead["owner_id"]]
        when = _local(b, None, rng.choice((-2, 0, 0, 1, 3)), rng.randrange(9, 17))
        subject = f"{lead['first_name']} {lead['last_name']}".strip()
        activity(
            b,
            owner=owner,
            kind="call",
            subject=subject,
            when=max(when, lead["created_at"] + HOUR),
            lead_id=lead["id"],
        )

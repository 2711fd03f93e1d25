"""Importing leads: people or companies not yet qualified, matched on e-mail or phone.

Leads without an owner column belong to the person importing (assignment rules are for leads
arriving one by one from forms and campaigns, not for a list loaded at once). A lead cannot be
imported as converted: converting makes a customer and is done on the lead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vefa.accounts.access import can
from vefa.customers.choices import LeadStatus, Source
from vefa.customers.models import Lead
from vefa.imports.entities import register
from vefa.imports.entities.base import Field, ImportContext, Outcome, Row, Written
from vefa.imports.entities.customers import (
    COMPANY,
    EMAIL,
    FIRST_NAME,
    FULL_NAME,
    LAST_NAME,
    NOTES,
    PHONE,
    SOURCE_WORDS,
    DuplicateKeysFollowUndo,
    _choices,
    changelog_rows,
    index_now,
    index_soon,
    jsonable,
    owner_field,
    quality_keys,
    resolve_owner,
    split_full_name,
)

LEAD = "customers.lead"
DIRECT = (
    "first_name",
    "last_name",
    "company_name",
    "job_title",
    "email",
    "phone",
    "source",
    "status",
    "score",
    "notes",
)
JOB_TITLE = ("job title", "title", "position", "unvan", "görev", "pozisyon", "radno mesto",
             "funkcija", "سمت", "عنوان شغلی")  # fmt: skip


# Words for the choices in Turkish, Serbian and Persian (the labels in English are known).
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "new": ("yeni", "novo", "novi", "нови", "جدید"),
    "contacted": ("iletişime geçildi", "arandı", "kontaktiran", "تماس گرفته شده"),
    "qualified": ("nitelikli", "uygun", "kvalifikovan", "واجد شرایط"),
    "unqualified": ("niteliksiz", "uygun değil", "nekvalifikovan", "فاقد شرایط"),
}


class LeadAdapter(DuplicateKeysFollowUndo):
    entity = "leads"
    label = gettext_lazy("Leads")
    model = Lead
    fields = (
        Field("full_name", gettext_lazy("full name"), max_length=201, aliases=FULL_NAME),
        Field("first_name", gettext_lazy("first name"), max_length=100, aliases=FIRST_NAME),
        Field("last_name", gettext_lazy("last name"), max_length=100, aliases=LAST_NAME),
        Field("company_name", gettext_lazy("company"), max_length=200, aliases=COMPANY),
        Field("job_title", gettext_lazy("job title"), max_length=100, aliases=JOB_TITLE),
        Field("email", gettext_lazy("e-mail"), kind="email", aliases=EMAIL),
        Field("phone", gettext_lazy("phone"), kind="phone", aliases=PHONE),
        Field("source", gettext_lazy("source"), kind="choice",
              choices=_choices(Source, SOURCE_WORDS),
              aliases=("kaynak", "izvor", "منبع")),
        Field("status", gettext_lazy("status"), kind="choice",
              choices=tuple(
                  c for c in _choices(LeadStatus, STATUS_WORDS) if c[0] != LeadStatus.CONVERTED
              ),
              aliases=("durum", "status", "وضعیت")),
        Field("score", gettext_lazy("score"), kind="int",
              aliases=("puan", "skor", "bodovi", "امتیاز")),
        Field("notes", gettext_lazy("notes"), aliases=NOTES),
        owner_field(),
    )  # fmt: skip
    match_keys = {"email": "email", "phone": "phone"}
    default_match_key = "email"

    def clean(self, row: Row, ctx: ImportContext) -> None:
        values = row.values
        full = values.pop("full_name", "")
        if full and not values.get("first_name") and not values.get("last_name"):
            values["first_name"], values["last_name"] = split_full_name(full)
            values["first_name"] = values["first_name"][:100]
            values["last_name"] = values["last_name"][:100]
        score = values.get("score")
        if score is not None and not 0 <= score <= 100:
            row.error("score", _("Enter a score from 0 to 100."))
        resolve_owner(row, ctx)

    def validate_create(self, row: Row, ctx: ImportContext) -> None:
        if not any(
            row.values.get(k) for k in ("first_name", "last_name", "company_name", "email", "phone")
        ):
            row.error(
                "last_name", _("Enter a name, a company, an e-mail address or a phone number.")
            )

    def create(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        from vefa.customers.services.leads import lead_name_key
        from vefa.imports.bulk import insert_objects

        outcomes: list[Outcome] = []
        leads: list[Lead] = []
        for row in rows:
            values = {k: row.values[k] for k in DIRECT if k in row.values}
            values.setdefault("source", Source.IMPORT)
            owner_id = row.values.get("owner_id", ctx.actor.pk)
            team_id = row.values["team_id"] if "owner_id" in row.values else ctx.actor.team_id
            lead = Lead(
                owner_id=owner_id,
                team_id=team_id,
                name_key=lead_name_key(values),
                created_by_id=ctx.actor.pk,
                updated_by_id=ctx.actor.pk,
                **values,
            )
            if not can(ctx.actor, "change", lead):
                row.error("owner", _("You may not create a lead for this owner or team."))
                outcomes.append(Outcome("error", errors=list(row.errors)))
                continue
            leads.append(lead)
            outcomes.append(Outcome("created"))
        insert_objects(Lead, leads)
        made = iter(leads)
        for outcome in outcomes:
            if outcome.action == "created":
                outcome.records.append(Written(LEAD, next(made).pk, "created"))
        changelog_rows(
            ctx,
            leads,
            "create",
            [
                (
                    None,
                    {k: jsonable(getattr(x, k)) for k in DIRECT if getattr(x, k) not in ("", None)},
                )
                for x in leads
            ],
        )
        index_now(LEAD, leads)
        quality_keys(LEAD, [x.pk for x in leads])
        return outcomes

    def update(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        from vefa.customers.services.leads import lead_name_key

        current = Lead.objects.in_bulk([r.existing_id for r in rows if r.existing_id])
        outcomes: list[Outcome] = []
        changed: list[Lead] = []
        changes: list[tuple[dict[str, Any], dict[str, Any]]] = []
        now = timezone.now()
        for row in rows:
            lead = current.get(row.existing_id or 0)
            if lead is None:
                row.error("", _("The matching record is gone."))
                outcomes.append(Outcome("error", errors=list(row.errors)))
                continue
            if lead.status == LeadStatus.CONVERTED:
                outcomes.append(Outcome("skipped"))
                continue
            new = {k: row.values[k] for k in DIRECT if k in row.values}
            if "owner_id" in row.values:
                new["owner_id"], new["team_id"] = row.values["owner_id"], row.values["team_id"]
            diff = {k: v for k, v in new.items() if getattr(lead, k) != v}
            if not diff:
                outcomes.append(Outcome("unchanged"))
                continue
            previous = {k: jsonable(getattr(lead, k)) for k in diff}
            for key, value in diff.items():
                setattr(lead, key, value)
            if not can(ctx.actor, "change", lead):
                row.error("owner", _("You may not give the lead to this owner or team."))
                outcomes.append(Outcome("error", errors=list(row.errors)))
                continue
            key = lead_name_key(lead.__dict__)
            if key != lead.name_key:
                previous["name_key"] = lead.name_key
                diff["name_key"] = lead.name_key = key
            Lead.objects.filter(pk=lead.pk).update(
                version=F("version") + 1, updated_at=now, updated_by_id=ctx.actor.pk, **diff
            )
            outcomes.append(
                Outcome("updated", records=[Written(LEAD, lead.pk, "updated", previous)])
            )
            changed.append(lead)
            changes.append((previous, {k: jsonable(diff[k]) for k in previous}))
        if changed:
            changelog_rows(ctx, changed, "update", changes)
            index_soon(ctx, LEAD, [x.pk for x in changed])
            quality_keys(LEAD, [x.pk for x in changed])
        return outcomes


register(LeadAdapter)

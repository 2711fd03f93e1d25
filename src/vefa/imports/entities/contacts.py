"""Importing contact people: persons who work at an organisation already in Vefa.

Each row is a person (created, or matched on e-mail or phone and updated) and a "works at"
relationship to the organisation named by its tax number, Vefa id or exact name (a name two
organisations share is refused rather than guessed). The relationship carries the job title
and role; undo deletes the people and relationships the import created.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vefa.accounts.access import restrict
from vefa.common.text import fold
from vefa.customers.choices import CustomerKind, RelationshipKind
from vefa.customers.models import Customer, CustomerRelationship
from vefa.imports.entities import register
from vefa.imports.entities.base import Field, ImportContext, Outcome, Row, Written
from vefa.imports.entities.customers import (
    COMPANY,
    CONTACT_POINT,
    EMAIL,
    FIRST_NAME,
    FULL_NAME,
    LAST_NAME,
    NOTES,
    PHONE,
    CustomerAdapter,
    index_soon,
    owner_field,
)
from vefa.imports.entities.leads import JOB_TITLE

RELATIONSHIP = "customers.customerrelationship"


class ContactAdapter(CustomerAdapter):
    entity = "contacts"
    label = gettext_lazy("Contact people")
    model = Customer
    fields = (
        Field("full_name", gettext_lazy("full name"), max_length=201, aliases=FULL_NAME),
        Field("first_name", gettext_lazy("first name"), max_length=100, aliases=FIRST_NAME),
        Field("last_name", gettext_lazy("last name"), max_length=100, aliases=LAST_NAME),
        Field("email", gettext_lazy("e-mail"), kind="email", aliases=EMAIL),
        Field("phone", gettext_lazy("phone"), kind="phone", aliases=PHONE),
        Field("job_title", gettext_lazy("job title"), max_length=100, aliases=JOB_TITLE),
        Field("role", gettext_lazy("role"), max_length=100, aliases=("rol", "uloga", "نقش")),
        Field("organisation", gettext_lazy("organisation"), max_length=200, aliases=COMPANY),
        Field("organisation_tax_number", gettext_lazy("organisation tax number"), max_length=40,
              aliases=("vergi no", "vergi numarası", "vkn", "tax number", "vat", "pib",
                       "poreski broj", "کد اقتصادی", "شناسه ملی")),
        Field("organisation_id", gettext_lazy("organisation Vefa id"), kind="int",
              aliases=("organisation id", "company id", "şirket id")),
        Field("notes", gettext_lazy("notes"), aliases=NOTES),
        owner_field(),
    )  # fmt: skip
    match_keys = {"email": "email", "phone": "phone"}
    default_match_key = "email"
    owned_children = (CONTACT_POINT, RELATIONSHIP, "customers.address", "customers.consent")

    def clean(self, row: Row, ctx: ImportContext) -> None:
        row.values["kind"] = CustomerKind.PERSON
        super().clean(row, ctx)
        organisation = self._organisation(row, ctx)
        if organisation is not None:
            row.values["organisation_pk"] = organisation

    def _organisation(self, row: Row, ctx: ImportContext) -> int | None:
        values = row.values
        cache: dict[tuple[str, str], int | str] = ctx.cache.setdefault("organisations", {})
        organisations = restrict(
            Customer.objects.filter(kind=CustomerKind.ORGANISATION, merged_into__isnull=True),
            ctx.actor,
            "view",
        )
        for name, lookup in (
            ("organisation_id", "pk"),
            ("organisation_tax_number", "tax_number"),
            ("organisation", "name_key"),
        ):
            value = values.get(name)
            if value in (None, ""):
                continue
            key = fold(str(value))[:300] if lookup == "name_key" else str(value)
            if (name, key) not in cache:
                found = list(organisations.filter(**{lookup: key}).values_list("pk", flat=True)[:2])
                if not found:
                    cache[(name, key)] = _("No organisation found.")
                elif len(found) > 1:
                    cache[(name, key)] = _(
                        "More than one organisation matches; use the tax number."
                    )
                else:
                    cache[(name, key)] = found[0]
            result = cache[(name, key)]
            if isinstance(result, str):
                row.error(name, result)
                return None
            return result
        row.error("organisation", _("Name the organisation (tax number, Vefa id or name)."))
        return None

    def _relationships(self, pairs: list[tuple[Outcome, Row, int]], ctx: ImportContext) -> None:
        if not pairs:
            return
        existing = set(
            CustomerRelationship.objects.filter(
                from_customer_id__in=[p for _o, _r, p in pairs], kind=RelationshipKind.WORKS_AT
            ).values_list("from_customer_id", "to_customer_id")
        )
        made: list[tuple[Outcome, CustomerRelationship]] = []
        for outcome, row, person in pairs:
            organisation = row.values["organisation_pk"]
            if (person, organisation) in existing:
                continue
            existing.add((person, organisation))
            made.append(
                (
                    outcome,
                    CustomerRelationship(
                        from_customer_id=person,
                        to_customer_id=organisation,
                        kind=RelationshipKind.WORKS_AT,
                        job_title=row.values.get("job_title", ""),
                        role=row.values.get("role", ""),
                        created_by_id=ctx.actor.pk,
                        updated_by_id=ctx.actor.pk,
                    ),
                )
            )
        CustomerRelationship.objects.bulk_create([r for _o, r in made], batch_size=500)
        for outcome, relation in made:
            outcome.records.append(Written(RELATIONSHIP, relation.pk, "created"))
            if outcome.action == "unchanged":
                outcome.action = "updated"
        index_soon(ctx, CUSTOMER_LABEL, sorted({r.to_customer_id for _o, r in made}))

    def create(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        outcomes = super().create(rows, ctx)
        self._relationships(
            [
                (o, r, o.records[0].object_id)
                for o, r in zip(outcomes, rows, strict=True)
                if o.action == "created"
            ],
            ctx,
        )
        return outcomes

    def update(self, rows: Sequence[Row], ctx: ImportContext) -> list[Outcome]:
        for row in rows:
            row.values.pop("kind", None)
        outcomes = super().update(rows, ctx)
        pairs: list[tuple[Outcome, Row, Any]] = [
            (o, r, r.existing_id)
            for o, r in zip(outcomes, rows, strict=True)
            if o.action != "error" and r.existing_id is not None
        ]
        self._relationships(pairs, ctx)
        return outcomes


CUSTOMER_LABEL = "customers.customer"

register(ContactAdapter)

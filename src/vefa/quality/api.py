"""The data-quality API: the instant duplicate check (``POST /quality/duplicates/check``).

The answer is the one the customer and lead forms show: the best matches the caller may see,
each with its score and reasons. Records the caller may not see are never mentioned.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import actor_of, json_response
from vefa.quality import selectors
from vefa.quality.selectors import MAX_FIELD

router = Router(tags=["quality"])

_TEXT = f"At most {MAX_FIELD} characters; a longer value is refused and nothing is checked."


class DuplicateCheckIn(Schema):
    """What is typed into a customer or lead form; every field is optional."""

    first_name: str | None = Field(default=None, description=_TEXT)
    last_name: str | None = Field(default=None, description=_TEXT)
    company_name: str | None = Field(default=None, description="A lead's company. " + _TEXT)
    legal_name: str | None = Field(default=None, description=_TEXT)
    trade_name: str | None = Field(default=None, description=_TEXT)
    email: str | None = Field(default=None, description=_TEXT)
    phone: str | None = Field(default=None, description=_TEXT)
    tax_number: str | None = Field(default=None, description=_TEXT)
    postal_code: str | None = Field(default=None, description=_TEXT)
    street: str | None = Field(default=None, description="The first address line. " + _TEXT)
    country: str | None = Field(
        default=None, description="ISO country code for reading national phone numbers"
    )
    exclude_customer: int | None = Field(
        default=None, ge=1, description="The customer being edited (left out of the answer)"
    )
    exclude_lead: int | None = Field(
        default=None, ge=1, description="The lead being edited (left out of the answer)"
    )


class ReasonOut(Schema):
    code: str = Field(
        description="same_email, same_phone, same_tax_number, same_address, "
        "same_email_name, same_name or similar_name"
    )
    value: int | None = Field(description="The name similarity in percent (similar_name)")
    label: str


class MatchOut(Schema):
    kind: str = Field(description="customer or lead")
    id: int
    name: str
    url: str
    score: int = Field(description="0–100")
    reasons: list[ReasonOut]


class DuplicateCheckOut(Schema):
    matches: list[MatchOut]
    checked: bool = Field(description="False when too little was given to look for anything")


@router.post(
    "/quality/duplicates/check",
    response={200: DuplicateCheckOut, **ERRORS},
    url_name="quality_duplicates_check",
)
def duplicates_check(request: HttpRequest, payload: DuplicateCheckIn) -> HttpResponse:
    """The customers and leads most like the given values, best first (at most five)."""
    result = selectors.duplicate_check(
        actor=actor_of(request), data=payload.model_dump(exclude_none=True)
    )
    return json_response(
        {
            "matches": [
                {
                    "kind": m.kind,
                    "id": m.id,
                    "name": m.name,
                    "url": m.url,
                    "score": m.score,
                    "reasons": [
                        {"code": r.code, "value": r.value, "label": selectors.reason_label(r)}
                        for r in m.reasons
                    ],
                }
                for m in result.matches
            ],
            "checked": result.keys > 0,
        }
    )

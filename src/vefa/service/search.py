"""How tickets and returns appear in the global search index.

A ticket is found by its number, subject, requester and customer; a return by its number, its
customer, its order's number, the tracking number, the reason (its label in every language
of the site, so "defective" and "kusurlu" both find it) and the customer's own words about
it. Who may find either follows its policy
(``POLICIES["service.ticket"]``, ``POLICIES["service.returnrequest"]``) through its owner and
team: the index computes that, not these builders, and the search re-checks every hit with
``restrict``.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.utils import translation

from vefa.platform import search
from vefa.service.choices import ReturnReason
from vefa.service.models import ReturnRequest, Ticket

# The part of a free text a document carries (the index keeps a bounded number of terms).
TEXT_CHARS = 500


def ticket_document(ticket: Ticket) -> search.SearchDocument | None:
    customer = ticket.customer if ticket.customer_id else None
    who = customer.display_name if customer is not None else ticket.requester_name
    subtitle = " · ".join(
        p for p in (who, ticket.requester_email, ticket.get_status_display()) if p
    )
    return search.SearchDocument(
        title=f"{ticket.number} · {ticket.subject}",
        subtitle=subtitle,
        text=" ".join(
            p
            for p in (
                ticket.number,
                ticket.subject,
                ticket.requester_name,
                ticket.requester_email,
                customer.display_name if customer is not None else "",
                ticket.description[:TEXT_CHARS],
            )
            if p
        ),
        owner_id=ticket.owner_id,
        team_id=ticket.team_id,
        customer_id=ticket.customer_id,
    )


@lru_cache(maxsize=64)
def reason_words(reason: str) -> str:
    """The reason's label in each language of the site (and its code), once per reason."""
    if reason not in ReturnReason.values:
        return ""
    words = [reason]
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            label = str(ReturnReason(reason).label)
        if label not in words:
            words.append(label)
    return " ".join(words)


def return_document(return_request: ReturnRequest) -> search.SearchDocument | None:
    customer = return_request.customer
    order = return_request.order if return_request.order_id else None
    order_number = order.number if order is not None else ""
    subtitle = " · ".join(
        p
        for p in (
            order_number,
            return_request.get_reason_display(),
            return_request.get_status_display(),
        )
        if p
    )
    return search.SearchDocument(
        title=f"{return_request.number} · {customer.display_name}",
        subtitle=subtitle,
        text=" ".join(
            p
            for p in (
                return_request.number,
                customer.display_name,
                order_number,
                return_request.tracking_number,
                reason_words(return_request.reason),
                return_request.reason_detail[:TEXT_CHARS],
            )
            if p
        ),
        owner_id=return_request.owner_id,
        team_id=return_request.team_id,
        customer_id=return_request.customer_id,
    )


search.register("service.ticket", ticket_document, select_related=("customer",))
search.register("service.returnrequest", return_document, select_related=("customer", "order"))

"""How tickets appear in the global search index.

A ticket is found by its number, subject, requester and customer; who may find it follows
``POLICIES["service.ticket"]`` through its owner and team (the index computes that, not this
builder).
"""

from __future__ import annotations

from vefa.platform import search
from vefa.service.models import Ticket


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
                ticket.description[:500],
            )
            if p
        ),
        owner_id=ticket.owner_id,
        team_id=ticket.team_id,
        customer_id=ticket.customer_id,
    )


search.register("service.ticket", ticket_document, select_related=("customer",))

"""How an interaction appears in the global search index.

Results are filtered by the index's owner/team/customer columns and re-checked by the search
selector, so an interaction is found only by those who may see its customer's history.
"""

from __future__ import annotations

from vefa.interactions.choices import InteractionKind
from vefa.interactions.models import Interaction
from vefa.platform import search

# get_kind_display() translates every kind label on each call; a rebuild makes millions.
_KIND_LABELS = dict(InteractionKind.choices)


def interaction_search_document(interaction: Interaction) -> search.SearchDocument:
    """Subject, details and outcome; owner and team are the customer's."""
    customer = interaction.customer
    kind = interaction.kind
    return search.SearchDocument(
        title=interaction.subject,
        subtitle=f"{customer.display_name} · {_KIND_LABELS.get(kind, kind)!s}",
        text=" ".join(p for p in (interaction.body, interaction.outcome) if p),
        owner_id=customer.owner_id,
        team_id=customer.team_id,
        customer_id=customer.pk,
    )


search.register(
    "interactions.interaction", interaction_search_document, select_related=("customer",)
)

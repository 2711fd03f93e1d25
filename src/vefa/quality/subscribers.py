"""Keep the blocking keys (and a customer's findings) in step with customers and leads.

A contact point or address that is deleted cannot be traced back to its customer once gone;
when it was the primary one the customer's own ``updated`` event follows (its primary
e-mail, phone or city changes) and rebuilds the keys. Any key left behind only adds a
candidate that then scores low, and ``vefa quality_keys`` rebuilds everything.
"""

from __future__ import annotations

from vefa.common.events import DomainEvent, subscribe
from vefa.quality import services
from vefa.quality.models import RecordKind


@subscribe("customers.customer.created", "customers.customer.updated")
def customer_changed(event: DomainEvent) -> None:
    # Once per customer and commit: every event of a commit sees its final state.
    if event.first_in_commit("quality.keys", event.object_id):
        services.customer_keys_rebuild([event.object_id])
    if event.first_in_commit("quality.findings", event.object_id):
        services.findings_refresh([event.object_id])


@subscribe("customers.customer.merged", "customers.customer.merge_undone")
def customers_merged(event: DomainEvent) -> None:
    """A merge moves contact points and addresses to the kept customer and archives the
    others (no keys); its undo brings them back: keys and findings of all of them."""
    payload = event.payload or {}
    others = payload.get("merged") or payload.get("unmerged") or []
    ids = [event.object_id, *(int(i) for i in others if str(i).isdigit())]
    fresh = [pk for pk in ids if event.first_in_commit("quality.keys", pk)]
    services.customer_keys_rebuild(fresh)
    services.findings_refresh([pk for pk in ids if event.first_in_commit("quality.findings", pk)])


@subscribe("customers.customer.deleted")
def customer_deleted(event: DomainEvent) -> None:
    services.keys_forget(RecordKind.CUSTOMER, event.object_id)


@subscribe("customers.lead.created", "customers.lead.updated", "customers.lead.converted")
def lead_changed(event: DomainEvent) -> None:
    if event.first_in_commit("quality.lead_keys", event.object_id):
        services.lead_keys_rebuild([event.object_id])


@subscribe("customers.lead.deleted")
def lead_deleted(event: DomainEvent) -> None:
    services.keys_forget(RecordKind.LEAD, event.object_id)


@subscribe(
    "customers.contactpoint.created",
    "customers.contactpoint.updated",
    "customers.address.created",
    "customers.address.updated",
)
def customer_child_changed(event: DomainEvent) -> None:
    from vefa.customers.models import Address, ContactPoint

    model = ContactPoint if event.model == "customers.contactpoint" else Address
    customer_id = (
        model.objects.filter(pk=event.object_id).values_list("customer_id", flat=True).first()
    )
    if customer_id is not None and event.first_in_commit("quality.keys", customer_id):
        services.customer_keys_rebuild([customer_id])

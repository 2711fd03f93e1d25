"""Every write of the customers app: customers, relationships, addresses, contact points,
consent and leads. Views, the API, tasks and the admin call these, never ``save()``.
"""

from vefa.customers.services.consent import consent_grant, consent_withdraw
from vefa.customers.services.contact_points import (
    address_create,
    address_delete,
    address_update,
    contact_point_create,
    contact_point_delete,
    contact_point_update,
)
from vefa.customers.services.customers import (
    BulkResult,
    customer_bulk_assign,
    customer_bulk_tag,
    customer_create,
    customer_delete,
    customer_refresh_contact_summary,
    customer_update,
    derive_display_name,
)
from vefa.customers.services.leads import (
    LeadConversion,
    lead_assignment_rule_create,
    lead_assignment_rule_delete,
    lead_assignment_rule_update,
    lead_convert,
    lead_create,
    lead_delete,
    lead_update,
)
from vefa.customers.services.relationships import (
    relationship_create,
    relationship_delete,
    relationship_update,
)

__all__ = [
    "BulkResult",
    "LeadConversion",
    "address_create",
    "address_delete",
    "address_update",
    "consent_grant",
    "consent_withdraw",
    "contact_point_create",
    "contact_point_delete",
    "contact_point_update",
    "customer_bulk_assign",
    "customer_bulk_tag",
    "customer_create",
    "customer_delete",
    "customer_refresh_contact_summary",
    "customer_update",
    "derive_display_name",
    "lead_assignment_rule_create",
    "lead_assignment_rule_delete",
    "lead_assignment_rule_update",
    "lead_convert",
    "lead_create",
    "lead_delete",
    "lead_update",
    "relationship_create",
    "relationship_delete",
    "relationship_update",
]

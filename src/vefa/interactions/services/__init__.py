"""Writes of the contact history and activities (all through ``vefa.platform.records``).

Every service is keyword-only, takes the acting user and runs in one transaction; records a
user may not change are reported as not found. One module per topic:
``interactions`` (the contact history), ``attachments``, ``activities`` (with reminders and
completion), ``reminders`` (the periodic sender), ``time_entries`` and ``feeds``.
"""

from vefa.interactions.services.activities import (
    ActivityData,
    activity_cancel,
    activity_complete,
    activity_create,
    activity_delete,
    activity_update,
    default_reminder_minutes,
    reminders_sync,
)
from vefa.interactions.services.attachments import (
    ALLOWED_TYPES,
    attachment_add,
    attachment_delete,
    attachment_open,
    clean_file_name,
)
from vefa.interactions.services.feeds import ics_token_reset
from vefa.interactions.services.interactions import (
    InteractionData,
    customer_recompute_last_interaction,
    customer_touch_last_interaction,
    interaction_create,
    interaction_delete,
    interaction_update,
)
from vefa.interactions.services.reminders import reminders_send_due
from vefa.interactions.services.time_entries import time_entry_create, time_entry_delete

__all__ = [
    "ALLOWED_TYPES",
    "ActivityData",
    "InteractionData",
    "activity_cancel",
    "activity_complete",
    "activity_create",
    "activity_delete",
    "activity_update",
    "attachment_add",
    "attachment_delete",
    "attachment_open",
    "clean_file_name",
    "customer_recompute_last_interaction",
    "customer_touch_last_interaction",
    "default_reminder_minutes",
    "ics_token_reset",
    "interaction_create",
    "interaction_delete",
    "interaction_update",
    "reminders_send_due",
    "reminders_sync",
    "time_entry_create",
    "time_entry_delete",
]

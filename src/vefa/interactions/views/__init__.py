"""Pages of the interactions app (one module per topic)."""

from vefa.interactions.views.activities import (
    activity_cancel,
    activity_complete,
    activity_create,
    activity_detail,
    activity_edit,
    activity_list,
)
from vefa.interactions.views.calendar import calendar, ics_feed, ics_info, ics_reset
from vefa.interactions.views.interactions import (
    attachment_add,
    attachment_delete,
    attachment_download,
    customer_activities,
    customer_timeline,
    interaction_create,
    interaction_delete,
    interaction_detail,
    interaction_edit,
    interaction_list,
    quick_add,
    time_entry_create,
    time_entry_delete,
)

__all__ = [
    "activity_cancel",
    "activity_complete",
    "activity_create",
    "activity_detail",
    "activity_edit",
    "activity_list",
    "attachment_add",
    "attachment_delete",
    "attachment_download",
    "calendar",
    "customer_activities",
    "customer_timeline",
    "ics_feed",
    "ics_info",
    "ics_reset",
    "interaction_create",
    "interaction_delete",
    "interaction_detail",
    "interaction_edit",
    "interaction_list",
    "quick_add",
    "time_entry_create",
    "time_entry_delete",
]

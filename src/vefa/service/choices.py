"""The fixed vocabularies of the service app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TicketType(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    REQUEST = "request", _("Request")
    QUESTION = "question", _("Question")
    RETURN_REQUEST = "return_request", _("Return request")
    PRAISE = "praise", _("Praise")


class TicketChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WEB_FORM = "web_form", _("Web form")
    PORTAL = "portal", _("Customer portal")
    SOCIAL = "social", _("Social media")
    WALK_IN = "walk_in", _("Walk-in")
    CALL_CENTRE = "call_centre", _("Call centre")


class TicketPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TicketStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("ticket status", "New")
    OPEN = "open", pgettext_lazy("ticket status", "Open")
    WAITING = "waiting", _("Waiting on customer")
    RESOLVED = "resolved", pgettext_lazy("ticket status", "Resolved")
    CLOSED = "closed", pgettext_lazy("ticket status", "Closed")


# Statuses in which a ticket still needs work (the SLA clocks run or are paused).
OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING)


class MessageKind(models.TextChoices):
    CUSTOMER = "customer", _("From the customer")
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")
    SYSTEM = "system", _("System")


class DeliveryStatus(models.TextChoices):
    NONE = "", _("Not sent")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class AssignmentMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_OPEN = "least_open", _("Fewest open tickets")
    MANUAL = "manual", _("Manual")


class EscalationAction(models.TextChoices):
    NOTIFY = "notify", _("Notify")
    REASSIGN = "reassign", _("Reassign")


class SlaState(models.TextChoices):
    NONE = "", _("No SLA")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    WARNING = "warning", _("Breach soon")
    BREACHED = "breached", _("Breached")
    MET = "met", _("Met")


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    PICKUP = "pickup", _("Pickup arranged")
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", _("Received")
    INSPECTED = "inspected", _("Inspected")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class ReturnReason(models.TextChoices):
    DAMAGED = "damaged", _("Arrived damaged")
    DEFECTIVE = "defective", _("Defective")
    WRONG_ITEM = "wrong_item", _("Wrong item sent")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")
    LATE = "late", _("Arrived too late")
    OTHER = "other", _("Other")


class Disposition(models.TextChoices):
    RESTOCK = "restock", _("Restock")
    REPAIR = "repair", _("Repair")
    REPLACE = "replace", _("Replace")
    REFUND = "refund", _("Refund")
    RECYCLE = "recycle", _("Recycle")
    DISPOSE = "dispose", _("Dispose")


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("Satisfaction (CSAT)")
    NPS = "nps", _("Net Promoter Score (NPS)")


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")


class ArticleVisibility(models.TextChoices):
    INTERNAL = "internal", _("Internal")
    PUBLIC = "public", _("Public")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")

from django.db import models
from django.utils.translation import gettext_lazy as _


class InteractionKind(models.TextChoices):
    PURCHASE = "purchase", _("Purchase")
    CALL = "call", _("Call")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    COMMENT = "comment", _("Comment")
    COMPLAINT = "complaint", _("Complaint")
    RETURN = "return", _("Return")
    OFFER = "offer", _("Promotional offer")
    SOCIAL = "social", _("Social message")
    WEB = "web", _("Web visit or form")
    FAX = "fax", _("Fax")
    POS = "pos", _("Point of sale")
    NOTE = "note", _("Note")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    INTERNAL = "internal", _("Internal")


class InitiatedBy(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    COMPANY = "company", _("Company")


class InteractionChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    POST = "post", _("Post")
    FACE_TO_FACE = "face_to_face", _("Face to face")
    WEB = "web", _("Web")
    SOCIAL = "social", _("Social media")
    CALL_CENTRE = "call_centre", _("Call centre")
    POINT_OF_SALE = "point_of_sale", _("Point of sale")
    FAX = "fax", _("Fax")
    EVENT = "event", _("Conference or event")
    MEDIA = "media", _("Media")
    OTHER = "other", _("Other")


class InteractionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class ActivityKind(models.TextChoices):
    TASK = "task", _("Task")
    CALL = "call", _("Call to make")
    MEETING = "meeting", _("Meeting")
    APPOINTMENT = "appointment", _("Appointment")
    VISIT = "visit", _("Customer visit")


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class AttendeeResponse(models.TextChoices):
    PENDING = "pending", _("No answer yet")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    TENTATIVE = "tentative", _("Tentative")

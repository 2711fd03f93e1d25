from django.db import models
from django.utils.translation import gettext_lazy as _


class SegmentKind(models.TextChoices):
    DYNAMIC = "dynamic", _("Dynamic (rules)")
    STATIC = "static", _("Static list")


class RuleMatch(models.TextChoices):
    ALL = "all", _("All rules")
    ANY = "any", _("Any rule")


class CampaignObjective(models.TextChoices):
    ACQUISITION = "acquisition", _("Acquisition")
    PROSPECTING = "prospecting", _("Prospecting")
    WIN_BACK = "win_back", _("Win-back")
    RETENTION = "retention", _("Retention")
    LOYALTY = "loyalty", _("Loyalty")
    CROSS_SELL = "cross_sell", _("Cross-sell")
    UP_SELL = "up_sell", _("Up-sell")


class CampaignChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Letter or catalogue")
    PHONE = "phone", _("Phone calls")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class RecipientStatus(models.TextChoices):
    """Where one recipient of a campaign stands; every state but ``pending`` is final."""

    PENDING = "pending", _("Waiting")
    CONTROL = "control", _("Control group")
    SENT = "sent", _("Sent")
    NO_CONSENT = "no_consent", _("No consent")
    NO_ADDRESS = "no_address", _("No address")
    SUPPRESSED = "suppressed", _("Suppressed")
    CAPPED = "capped", _("Over the contact cap")
    FAILED = "failed", _("Failed")


class MessageEventKind(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    OPENED = "opened", _("Opened")
    CLICKED = "clicked", _("Clicked")
    REPLIED = "replied", _("Replied")
    CONVERTED = "converted", _("Converted")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Marked as spam")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    HARD_BOUNCE = "hard_bounce", _("Hard bounce")
    SOFT_BOUNCES = "soft_bounces", _("Repeated soft bounces")
    COMPLAINT = "complaint", _("Spam complaint")
    MANUAL = "manual", _("Added by hand")


class JourneyTrigger(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    NEW_CUSTOMER = "new_customer", _("New customer (welcome series)")
    DECLINING = "declining", _("Customer declining or P(alive) dropping (win-back)")
    PURCHASE = "purchase", _("After a purchase (cross-sell)")
    COMPLAINT_RESOLVED = "complaint_resolved", _("Complaint resolved (thank-you and survey)")


class JourneyAction(models.TextChoices):
    SEND_EMAIL = "send_email", _("Send an e-mail")
    SEND_SMS = "send_sms", _("Send an SMS")
    CALL_TASK = "call_task", _("Create a call task for the owner")
    AWARD_POINTS = "award_points", _("Award loyalty points")
    SEND_SURVEY = "send_survey", _("Send a satisfaction survey")


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", _("In progress")
    COMPLETED = "completed", _("Completed")
    EXITED = "exited", _("Left the journey")


class PointsKind(models.TextChoices):
    EARN = "earn", _("Earned")
    REDEEM = "redeem", _("Redeemed")
    EXPIRE = "expire", _("Expired")
    ADJUST = "adjust", _("Adjusted")
    REFERRAL = "referral", _("Referral reward")


class EarningRuleKind(models.TextChoices):
    SPEND = "spend", _("Per amount spent")
    BIRTHDAY = "birthday", _("Birthday")
    REFERRAL = "referral", _("Bringing a new customer")
    SURVEY = "survey", _("Answering a survey")
    SIGN_UP = "sign_up", _("Joining the programme")

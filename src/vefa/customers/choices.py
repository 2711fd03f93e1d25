from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")


class LifecycleStage(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    INACTIVE = "inactive", _("Inactive")
    LOST = "lost", _("Lost")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNDISCLOSED = "undisclosed", _("Prefers not to say")


class IncomeBand(models.TextChoices):
    LOW = "low", _("Low")
    LOWER_MIDDLE = "lower_middle", _("Lower middle")
    MIDDLE = "middle", _("Middle")
    UPPER_MIDDLE = "upper_middle", _("Upper middle")
    HIGH = "high", _("High")


class MaritalStatus(models.TextChoices):
    SINGLE = "single", _("Single")
    MARRIED = "married", _("Married")
    PARTNERED = "partnered", _("In a partnership")
    DIVORCED = "divorced", _("Divorced")
    WIDOWED = "widowed", _("Widowed")


class HomeOwnership(models.TextChoices):
    OWNER = "owner", _("Owns home")
    TENANT = "tenant", _("Rents")
    WITH_FAMILY = "with_family", _("Lives with family")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    POST = "post", _("Post")


class ConsentPurpose(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    NEWSLETTER = "newsletter", _("Newsletter")
    SERVICE = "service", _("Service messages")
    PROFILING = "profiling", _("Analysis and profiling")
    THIRD_PARTY = "third_party", _("Sharing with partners")


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RelationshipKind(models.TextChoices):
    WORKS_AT = "works_at", _("Works at")
    SPOUSE = "spouse", _("Spouse")
    HOUSEHOLD = "household", _("Same household")
    PARENT_OF = "parent_of", _("Parent of")
    PARENT_COMPANY = "parent_company", _("Parent company of")
    REFERRED_BY = "referred_by", _("Referred by")


class AddressKind(models.TextChoices):
    BILLING = "billing", _("Billing")
    SHIPPING = "shipping", _("Shipping")
    HOME = "home", pgettext_lazy("address type", "Home")
    OFFICE = "office", _("Office")


class ContactPointKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    MOBILE = "mobile", _("Mobile")
    FAX = "fax", _("Fax")
    SOCIAL = "social", _("Social media")
    WEBSITE = "website", _("Web site")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    QUALIFIED = "qualified", _("Qualified")
    UNQUALIFIED = "unqualified", _("Unqualified")
    CONVERTED = "converted", _("Converted")


class Source(models.TextChoices):
    WEB = "web", _("Web site")
    REFERRAL = "referral", _("Referral")
    CAMPAIGN = "campaign", _("Campaign")
    EVENT = "event", _("Event or fair")
    COLD_CALL = "cold_call", _("Cold call")
    SOCIAL = "social", _("Social media")
    PARTNER = "partner", _("Partner")
    WALK_IN = "walk_in", _("Walk-in")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")

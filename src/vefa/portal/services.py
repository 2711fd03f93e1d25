"""Writes of the customer portal: accounts and sign-in, the portal's own requests, web forms.

Portal writes call the same service functions as the staff pages with ``actor=None`` (the
change log says "system") and the contact person as the author (ADR 0009). Every function
that acts for a signed-in contact takes the ``PortalAccount`` and checks any id it is given
through ``vefa.portal.selectors``, so another customer's record is simply not found.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vefa.accounts.access import can
from vefa.common.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from vefa.common.text import fold
from vefa.customers.choices import (
    AddressKind,
    Channel,
    ConsentPurpose,
    ConsentStatus,
    ContactPointKind,
    CustomerKind,
    RelationshipKind,
)
from vefa.customers.models import Address, Consent, ContactPoint, Customer, CustomerRelationship
from vefa.customers.normalize import normalize_email, normalize_phone
from vefa.platform.audit import log_change
from vefa.platform.models import ChangeLogEntry
from vefa.platform.records import record_create, record_update
from vefa.portal import selectors
from vefa.portal.choices import TokenPurpose, WebFormTarget
from vefa.portal.models import PortalAccount, PortalToken, WebForm
from vefa.portal.tasks import send_portal_link, send_sign_in_link
from vefa.service.choices import ReturnReason, TicketChannel, TicketType

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.service.models import ReturnRequest, SurveyInvitation, Ticket, TicketMessage

LOGIN_LINK_MINUTES = 15
INVITE_LINK_DAYS = 3
# Sign-in attempts (links asked for, passwords tried) per e-mail and per address, per window.
LOGIN_PER_EMAIL = 5
LOGIN_PER_IP = 20
LOGIN_WINDOW_SECONDS = 15 * 60
# Public form submissions per address per window.
FORM_PER_IP = 5
FORM_WINDOW_SECONDS = 10 * 60
MAX_SUBJECT = 300
MAX_BODY = 20_000
MAX_FILES = 5
# The consents a contact keeps in the portal: (channel, purpose) pairs.
PORTAL_CONSENTS: tuple[tuple[str, str], ...] = (
    (Channel.EMAIL, ConsentPurpose.NEWSLETTER),
    (Channel.EMAIL, ConsentPurpose.MARKETING),
    (Channel.SMS, ConsentPurpose.MARKETING),
    (Channel.PHONE, ConsentPurpose.MARKETING),
    (Channel.EMAIL, ConsentPurpose.SERVICE),
)
PORTAL_TICKET_TYPES = (
    TicketType.COMPLAINT,
    TicketType.REQUEST,
    TicketType.QUESTION,
    TicketType.RETURN_REQUEST,
    TicketType.PRAISE,
)
CONSENT_SOURCE = "portal"
# Compared against when no account has the e-mail, so both answers take as long.
_DUMMY_HASH = make_password("not a real password, only for constant time")


class Throttled(ApplicationError):
    """Too many attempts from this e-mail address or network address; try again later."""

    status_code = 429
    code = "throttled"


def _invalid(fields: dict[str, list[str]]) -> ValidationFailed:
    return ValidationFailed(_("Please correct the errors below."), fields=fields)


def _text(value: Any, *, field: str, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _invalid({field: [_("Enter text.")]})
    value = value.strip()
    if required and not value:
        raise _invalid({field: [_("This field is required.")]})
    if len(value) > max_length:
        raise _invalid({field: [_("Enter at most %(n)d characters.") % {"n": max_length}]})
    if "\x00" in value:
        raise _invalid({field: [_("Enter text without control characters.")]})
    return value


def _email(value: Any, *, field: str = "email") -> str:
    if not isinstance(value, str):
        raise _invalid({field: [_("Enter a valid e-mail address.")]})
    try:
        return normalize_email(value)
    except ValueError as exc:
        raise _invalid({field: [str(exc)]}) from None


def _optional_id(value: Any, *, field: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise _invalid({field: [_("Choose a valid option.")]})
    try:
        key = int(value)
    except (TypeError, ValueError):
        raise _invalid({field: [_("Choose a valid option.")]}) from None
    if key <= 0 or key > 2**63 - 1:
        raise _invalid({field: [_("Choose a valid option.")]})
    return key


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


# --- throttling (Django cache) -----------------------------------------------------------


def _count(key: str, window: int) -> int:
    """Add one to a counter that lives ``window`` seconds from its first hit."""
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return 1


def _throttle(keys: Sequence[tuple[str, int]], window: int) -> None:
    """Count one attempt on every key; refuse when any went over its limit."""
    over = False
    for key, limit in keys:
        if _count(key, window) > limit:
            over = True
    if over:
        raise Throttled(_("Too many attempts. Please wait a few minutes and try again."))


def _login_keys(email: str, ip_address: str) -> list[tuple[str, int]]:
    folded = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return [
        (f"portal:login:email:{folded}", LOGIN_PER_EMAIL),
        (f"portal:login:ip:{ip_address[:45]}", LOGIN_PER_IP),
    ]


# --- accounts ----------------------------------------------------------------------------


def contacts_for(customer: Customer) -> list[Customer]:
    """The people who may get a portal account for ``customer``: those who work there (now),
    or the customer themself when a person."""
    if customer.kind == CustomerKind.PERSON:
        return [customer]
    today = timezone.localdate()
    ids = CustomerRelationship.objects.filter(
        to_customer=customer, kind=RelationshipKind.WORKS_AT, from_customer__kind="person"
    ).exclude(end_date__lt=today)
    return list(
        Customer.objects.filter(pk__in=ids.values("from_customer_id"), merged_into__isnull=True)
        .order_by("name_key", "pk")
        .only("pk", "display_name", "primary_email", "kind")[:500]
    )


def _issue_token(account: PortalAccount, purpose: str, lifetime: datetime.timedelta) -> str:
    token = secrets.token_urlsafe(32)
    PortalToken.objects.create(
        account=account,
        purpose=purpose,
        token_hash=token_hash(token),
        expires_at=timezone.now() + lifetime,
    )
    return token


def _send(account: PortalAccount, subject: str, body: str) -> None:
    send_mail(subject, body, None, [account.email], fail_silently=False)


def _link_mail(account: PortalAccount, link: str, *, invite: bool) -> tuple[str, str]:
    with translation.override(account.language or settings.LANGUAGE_CODE):
        company = settings.VEFA_COMPANY_NAME
        if invite:
            subject = _("Your access to the %(company)s customer portal") % {"company": company}
            body = _(
                "Hello %(name)s,\n\nyou have been invited to the %(company)s customer portal. "
                "Open this link to sign in (valid for %(days)d days, once):\n\n%(link)s\n"
            ) % {
                "name": account.contact.display_name,
                "company": company,
                "days": INVITE_LINK_DAYS,
                "link": link,
            }
        else:
            subject = _("Your sign-in link for the %(company)s customer portal") % {
                "company": company
            }
            body = _(
                "Open this link to sign in (valid for %(minutes)d minutes, once):\n\n%(link)s\n\n"
                "If you did not ask for it, ignore this message."
            ) % {"minutes": LOGIN_LINK_MINUTES, "link": link}
    return str(subject), str(body)


def account_invite(
    *,
    actor: User,
    customer_id: int,
    contact_id: Any,
    email: Any,
    language: Any = "",
    link_base: str,
) -> PortalAccount:
    """Give a contact person of a customer the actor may change a portal account and e-mail
    them an invitation link. Inviting an existing account again sends a fresh link."""
    customer = Customer.objects.filter(pk=customer_id, merged_into__isnull=True).first()
    if customer is None or not can(actor, "view", customer):
        raise NotFound(_("Not found."))
    if not can(actor, "change", customer):
        raise PermissionDenied(_("You may not change this customer."))
    address = _email(email)
    contact_pk = _optional_id(contact_id, field="contact")
    contacts = {c.pk: c for c in contacts_for(customer)}
    if contact_pk is None or contact_pk not in contacts:
        raise _invalid({"contact": [_("Choose a person who works at this customer.")]})
    lang = language if isinstance(language, str) else ""
    if lang and lang not in dict(settings.LANGUAGES):
        raise _invalid({"language": [_("Choose one of the offered languages.")]})
    with transaction.atomic():
        existing = PortalAccount.objects.select_for_update().filter(email__iexact=address).first()
        if existing is not None and (
            existing.customer_id != customer.pk or existing.contact_id != contact_pk
        ):
            raise _invalid({"email": [_("This e-mail address already has a portal account.")]})
        if existing is None:
            account = record_create(
                PortalAccount(
                    contact=contacts[contact_pk],
                    customer=customer,
                    email=address,
                    language=lang,
                    invited_at=timezone.now(),
                ),
                actor=actor,
            )
        else:
            account = record_update(
                existing,
                actor=actor,
                data={
                    "is_active": True,
                    "invited_at": timezone.now(),
                    **({"language": lang} if lang else {}),
                },
            )
        account_id = account.pk
        transaction.on_commit(
            lambda: send_portal_link.enqueue(
                account_id=account_id, purpose=TokenPurpose.INVITE, link_base=link_base
            )
        )
    return account


def account_set_active(*, actor: User, account_id: Any, active: bool) -> PortalAccount:
    """Switch a portal account on or off; an inactive account's sessions end at once."""
    key = _optional_id(account_id, field="account")
    with transaction.atomic():
        account = (
            PortalAccount.objects.select_for_update()
            .select_related("customer")
            .filter(pk=key or 0)
            .first()
        )
        if account is None or not can(actor, "view", account.customer):
            raise NotFound(_("Not found."))
        if not can(actor, "change", account.customer):
            raise PermissionDenied(_("You may not change this customer."))
        updated = record_update(account, actor=actor, data={"is_active": bool(active)})
        if not active:
            PortalToken.objects.filter(account=account, used_at__isnull=True).update(
                used_at=timezone.now()
            )
    return updated


def login_link_request(*, email: Any, ip_address: str, link_base: str) -> None:
    """Have a sign-in link e-mailed when an active account has this address; answer the
    same (nothing) either way. Throttled per e-mail and per address.

    The request does the same work whatever the address: it hands the address to a
    background task, which looks the account up, makes the link and sends it. So neither the
    answer nor its time tells whether an account exists, and the link's token is never
    written anywhere but into the e-mail (the task's arguments hold no token).
    """
    text = email if isinstance(email, str) else ""
    _throttle(_login_keys(text, ip_address), LOGIN_WINDOW_SECONDS)
    try:
        address = normalize_email(text)
    except ValueError:
        return
    send_sign_in_link.enqueue(email=address, link_base=link_base)


def link_send(*, account: PortalAccount, purpose: str, link_base: str) -> None:
    """Make a single-use link for ``account`` and e-mail it (run by the background task)."""
    if purpose == TokenPurpose.INVITE:
        lifetime = datetime.timedelta(days=INVITE_LINK_DAYS)
    else:
        lifetime = datetime.timedelta(minutes=LOGIN_LINK_MINUTES)
    token = _issue_token(account, purpose, lifetime)
    subject, body = _link_mail(
        account, f"{link_base}{token}/", invite=purpose == TokenPurpose.INVITE
    )
    _send(account, subject, body)


def sign_in_link_send(*, email: str, link_base: str) -> bool:
    """E-mail a sign-in link to the active account with this address; ``False`` if none."""
    account = (
        PortalAccount.objects.select_related("contact")
        .filter(email__iexact=email, is_active=True)
        .first()
    )
    if account is None:
        return False
    link_send(account=account, purpose=TokenPurpose.LOGIN, link_base=link_base)
    return True


def links_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete links used or expired more than a day ago; returns how many went."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=1)
    deleted, _rows = PortalToken.objects.filter(
        Q(expires_at__lt=cutoff) | Q(used_at__lt=cutoff)
    ).delete()
    return deleted


def login_link_peek(*, token: Any) -> PortalToken:
    """The unused, unexpired token (without using it), else ``NotFound``."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise NotFound(_("This link is not valid any more."))
    found = (
        PortalToken.objects.select_related("account")
        .filter(
            token_hash=token_hash(token),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            account__is_active=True,
        )
        .first()
    )
    if found is None:
        raise NotFound(_("This link is not valid any more."))
    return found


def login_link_consume(*, token: Any) -> PortalAccount:
    """Use a sign-in or invitation link once; a used, expired or unknown link is not found."""
    found = login_link_peek(token=token)
    now = timezone.now()
    with transaction.atomic():
        taken = PortalToken.objects.filter(pk=found.pk, used_at__isnull=True).update(used_at=now)
        if taken != 1:
            raise NotFound(_("This link is not valid any more."))
        PortalAccount.objects.filter(pk=found.account_id).update(last_login_at=now)
    account = found.account
    account.last_login_at = now
    return account


def login_password(*, email: Any, password: Any, ip_address: str) -> PortalAccount:
    """The account for a correct e-mail and password; one answer for every failure."""
    text = email if isinstance(email, str) else ""
    _throttle(_login_keys(text, ip_address), LOGIN_WINDOW_SECONDS)
    secret = password if isinstance(password, str) else ""
    account = (
        PortalAccount.objects.filter(email__iexact=text.strip(), is_active=True).first()
        if text.strip() and len(text) <= 254
        else None
    )
    if account is None or not account.password:
        check_password(secret, _DUMMY_HASH)
        raise ValidationFailed(_("The e-mail address or the password is not right."))
    if not secret or not check_password(secret, account.password):
        raise ValidationFailed(_("The e-mail address or the password is not right."))
    now = timezone.now()
    PortalAccount.objects.filter(pk=account.pk).update(last_login_at=now)
    account.last_login_at = now
    return account


def account_set_password(*, account: PortalAccount, password: Any, confirm: Any) -> PortalAccount:
    """Set (or replace) the account's password; the other sessions of the account end."""
    if not isinstance(password, str) or not password:
        raise _invalid({"password": [_("This field is required.")]})
    if password != confirm:
        raise _invalid({"confirm": [_("The two passwords differ.")]})
    if len(password) > 200:
        raise _invalid({"password": [_("Enter at most %(n)d characters.") % {"n": 200}]})
    try:
        validate_password(password)
    except ValidationError as exc:
        raise _invalid({"password": [str(m) for m in exc.messages]}) from None
    with transaction.atomic():
        current = PortalAccount.objects.select_for_update().get(pk=account.pk)
        had = bool(current.password)
        # The hash is a credential, not a field of the record: it is written on its own and
        # the change log says only that a password was set.
        current.password = make_password(password)
        current.version += 1
        PortalAccount.objects.filter(pk=current.pk).update(
            password=current.password, version=current.version, updated_at=timezone.now()
        )
        log_change(
            actor=None,
            instance=current,
            action=ChangeLogEntry.Action.UPDATE,
            before={"password_set": had},
            after={"password_set": True},
        )
    return current


def account_set_language(*, account: PortalAccount, language: str) -> PortalAccount:
    if language not in dict(settings.LANGUAGES):
        raise _invalid({"language": [_("Choose one of the offered languages.")]})
    if account.language == language:
        return account
    with transaction.atomic():
        current = PortalAccount.objects.select_for_update().get(pk=account.pk)
        return record_update(current, actor=None, data={"language": language})


# --- the contact's own requests ----------------------------------------------------------


def _files(attachments: Sequence[UploadedFile]) -> list[UploadedFile]:
    files = [f for f in attachments if f]
    if len(files) > MAX_FILES:
        raise _invalid({"attachments": [_("Attach at most %(n)d files.") % {"n": MAX_FILES}]})
    return files


def ticket_open(
    *,
    account: PortalAccount,
    data: Mapping[str, Any],
    attachments: Sequence[UploadedFile] = (),
) -> Ticket:
    """Open a complaint or request for the account's customer (channel "portal")."""
    from vefa.service.services.tickets import ticket_create

    kind = data.get("type")
    errors: dict[str, list[str]] = {}
    if kind not in PORTAL_TICKET_TYPES:
        errors["type"] = [_("Choose a valid type.")]
    subject = description = ""
    try:
        subject = _text(data.get("subject"), field="subject", max_length=MAX_SUBJECT, required=True)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        description = _text(
            data.get("description"), field="description", max_length=MAX_BODY, required=True
        )
    except ValidationFailed as exc:
        errors.update(exc.fields)
    values: dict[str, Any] = {}
    try:
        order_id = _optional_id(data.get("order"), field="order")
        if order_id is not None:
            values["order"] = selectors.order_get(account=account, pk=order_id).pk
    except (ValidationFailed, NotFound):
        errors["order"] = [_("Choose one of your orders.")]
    try:
        product_id = _optional_id(data.get("product"), field="product")
        if product_id is not None:
            if product_id not in {p.pk for p in selectors.ordered_products(account=account)}:
                raise NotFound("")
            values["product"] = product_id
    except (ValidationFailed, NotFound):
        errors["product"] = [_("Choose a product you ordered.")]
    if errors:
        raise _invalid(errors)
    files = _files(attachments)
    contact = account.contact
    return ticket_create(
        actor=None,
        data={
            "subject": subject,
            "description": description,
            "type": kind,
            "channel": TicketChannel.PORTAL,
            "customer": account.customer_id,
            "contact": account.contact_id,
            "requester_email": account.email,
            "requester_name": contact.display_name,
            **values,
        },
        attachments=files,
        author_contact=contact,
        author_email=account.email,
        author_name=contact.display_name,
    )


def ticket_reply(
    *,
    account: PortalAccount,
    ticket_id: Any,
    body: Any,
    attachments: Sequence[UploadedFile] = (),
) -> TicketMessage:
    """Add the contact's message to one of their customer's tickets (reopens a solved one)."""
    from vefa.service.choices import MessageKind
    from vefa.service.services.tickets import ticket_message_add

    ticket = selectors.ticket_get(account=account, pk=ticket_id)
    text = _text(body, field="body", max_length=MAX_BODY, required=True)
    files = _files(attachments)
    contact = account.contact
    return ticket_message_add(
        actor=None,
        ticket_id=ticket.pk,
        kind=MessageKind.CUSTOMER,
        body=text,
        attachments=files,
        author_contact=contact,
        author_email=account.email,
        author_name=contact.display_name,
    )


def return_open(
    *,
    account: PortalAccount,
    order_id: Any,
    reason: Any,
    reason_detail: Any,
    quantities: Mapping[Any, Any],
) -> ReturnRequest:
    """Ask to return lines of one of the customer's orders; ``quantities`` maps an order
    line id to the quantity to return (blank or zero: not returned)."""
    from decimal import Decimal, InvalidOperation

    from vefa.service.services.returns import return_create

    order = selectors.order_get(account=account, pk=order_id)
    errors: dict[str, list[str]] = {}
    if reason not in ReturnReason.values:
        errors["reason"] = [_("Choose a valid reason.")]
    detail = ""
    try:
        detail = _text(reason_detail, field="reason_detail", max_length=MAX_BODY)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    lines_by_id = {line.pk: line for line in selectors.order_lines(account=account, order=order)}
    lines: list[dict[str, Any]] = []
    for raw_id, raw_quantity in quantities.items():
        if raw_quantity in (None, "", "0"):
            continue
        try:
            line_id = int(raw_id)
            quantity = Decimal(str(raw_quantity).strip().replace(",", "."))
        except (TypeError, ValueError, InvalidOperation):
            errors["lines"] = [_("Enter a number for each quantity.")]
            continue
        line = lines_by_id.get(line_id)
        if line is None:
            errors["lines"] = [_("Choose lines of this order.")]
            continue
        if not quantity.is_finite() or quantity <= 0 or quantity > line.quantity:
            errors["lines"] = [_("Enter a quantity between 0 and the quantity ordered.")]
            continue
        lines.append({"order_line": line.pk, "quantity": quantity, "reason": reason})
    if not lines and "lines" not in errors:
        errors["lines"] = [_("Choose at least one line to return.")]
    if errors:
        raise _invalid(errors)
    return return_create(
        actor=None,
        data={
            "order": order.pk,
            "reason": reason,
            "reason_detail": detail,
            "contact": account.contact_id,
        },
        lines=lines,
        author_contact=account.contact,
    )


def survey_answer(
    *, account: PortalAccount, invitation_id: Any, score: Any, comment: Any = ""
) -> SurveyInvitation:
    """Answer one of the customer's pending surveys, without the e-mailed link."""
    from vefa.service.services.surveys import survey_answer_invitation

    key = _optional_id(invitation_id, field="invitation")
    if key is None:
        raise NotFound(_("Not found."))
    if key not in {inv.pk for inv in selectors.pending_surveys(account=account, limit=500)}:
        raise NotFound(_("Not found."))
    text = _text(comment, field="comment", max_length=MAX_BODY)
    return survey_answer_invitation(
        invitation_id=key, customer_id=account.customer_id, score=score, comment=text
    )


# --- the contact's details and consents --------------------------------------------------


def details_update(*, account: PortalAccount, data: Mapping[str, Any]) -> Customer:
    """Change the contact person's own name, phone number, primary address and the channel
    they prefer to be contacted on (blank: no preference).

    Follows the customers services' rules: the display name and its folded key follow the
    name, the phone is stored in E.164 as the primary mobile number, the address as the
    primary one; the customer's list columns are refreshed. The change log says "system".
    """
    from vefa.customers.services._common import clean_country
    from vefa.customers.services.customers import (
        customer_refresh_contact_summary,
        derive_display_name,
    )

    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for key, limit, required in (
        ("first_name", 100, True),
        ("last_name", 100, True),
        ("phone", 64, False),
        ("line1", 200, False),
        ("line2", 200, False),
        ("postal_code", 20, False),
        ("city", 100, False),
        ("country", 2, False),
    ):
        try:
            values[key] = _text(data.get(key), field=key, max_length=limit, required=required)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    channel = data.get("preferred_channel") or ""
    if channel not in ("", *Channel.values):
        errors["preferred_channel"] = [_("Choose a valid channel.")]
    contact = Customer.objects.get(pk=account.contact_id)
    phone = ""
    if values.get("phone"):
        try:
            phone = normalize_phone(values["phone"], contact.country or None).value
        except ValueError as exc:
            errors["phone"] = [str(exc)]
    address_given = any(values.get(k) for k in ("line1", "city", "country", "postal_code"))
    if address_given:
        for key in ("line1", "city"):
            if not values.get(key):
                errors[key] = [_("This field is required.")]
        try:
            values["country"] = clean_country(values.get("country", "").upper(), required=True)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        contact = Customer.objects.select_for_update().get(pk=account.contact_id)
        names = {"first_name": values["first_name"], "last_name": values["last_name"]}
        changes: dict[str, Any] = {}
        if any(getattr(contact, k) != v for k, v in names.items()):
            display = derive_display_name(CustomerKind.PERSON, names)
            changes.update(names, display_name=display, name_key=fold(display)[:300])
        if "preferred_channel" in data and contact.preferred_channel != channel:
            changes["preferred_channel"] = channel
        if changes:
            contact = record_update(contact, actor=None, data=changes)
        if phone:
            current = ContactPoint.objects.filter(
                customer=contact, kind__in=(ContactPointKind.MOBILE, ContactPointKind.PHONE)
            ).order_by("-is_primary", "pk")
            same = current.filter(normalized=phone).first()
            primary = current.filter(is_primary=True, kind=ContactPointKind.MOBILE).first()
            if same is None and primary is not None:
                record_update(primary, actor=None, data={"value": phone, "normalized": phone})
            elif same is None:
                record_create(
                    ContactPoint(
                        customer=contact,
                        kind=ContactPointKind.MOBILE,
                        value=phone,
                        normalized=phone,
                        is_primary=not ContactPoint.objects.filter(
                            customer=contact, kind=ContactPointKind.MOBILE, is_primary=True
                        ).exists(),
                        label=CONSENT_SOURCE,
                    ),
                    actor=None,
                )
        if address_given:
            fields = {k: values.get(k, "") for k in ("line1", "line2", "postal_code", "city")}
            fields["country"] = values["country"]
            primary_address = Address.objects.filter(customer=contact, is_primary=True).first()
            if primary_address is None:
                record_create(
                    Address(customer=contact, kind=AddressKind.HOME, is_primary=True, **fields),
                    actor=None,
                )
            elif any(getattr(primary_address, k) != v for k, v in fields.items()):
                record_update(primary_address, actor=None, data=fields)
        customer_refresh_contact_summary(customer_id=contact.pk, actor=None)
    contact.refresh_from_db()
    return contact


def consents_current(*, account: PortalAccount) -> dict[tuple[str, str], bool]:
    """Whether each portal consent of the contact is granted now (the latest row wins)."""
    state: dict[tuple[str, str], bool] = {}
    rows = Consent.objects.filter(customer_id=account.contact_id).order_by("recorded_at", "id")
    for row in rows.only("channel", "purpose", "status"):
        state[(row.channel, row.purpose)] = row.status == ConsentStatus.GRANTED
    return {pair: state.get(pair, False) for pair in PORTAL_CONSENTS}


def consents_set(*, account: PortalAccount, granted: Sequence[str]) -> int:
    """Grant the listed ``"channel:purpose"`` consents and withdraw the other portal ones.

    Appends a row only where the state changes (source "portal"); returns how many rows.
    """
    wanted = set()
    for item in granted:
        channel, _sep, purpose = str(item).partition(":")
        if (channel, purpose) not in PORTAL_CONSENTS:
            raise _invalid({"consents": [_("Choose valid consents.")]})
        wanted.add((channel, purpose))
    written = 0
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=account.contact_id).first()
        current = consents_current(account=account)
        for pair in PORTAL_CONSENTS:
            want = pair in wanted
            if current[pair] == want:
                continue
            last = (
                Consent.objects.filter(
                    customer_id=account.contact_id, channel=pair[0], purpose=pair[1]
                )
                .order_by("-recorded_at", "-id")
                .first()
            )
            record_create(
                Consent(
                    customer_id=account.contact_id,
                    channel=pair[0],
                    purpose=pair[1],
                    status=ConsentStatus.GRANTED if want else ConsentStatus.WITHDRAWN,
                    source=CONSENT_SOURCE,
                    text_version=last.text_version if last else "1",
                    recorded_at=timezone.now(),
                ),
                actor=None,
            )
            written += 1
    return written


# --- public web forms --------------------------------------------------------------------


def _origins(value: Any) -> str:
    from urllib.parse import urlsplit

    text = _text(value, field="allowed_origins", max_length=2000)
    cleaned = []
    for line in text.splitlines():
        line = line.strip().rstrip("/")
        if not line:
            continue
        parts = urlsplit(line)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.path
            or parts.query
            or parts.fragment
            or any(ch in line for ch in " ;,'\"")
        ):
            raise _invalid(
                {"allowed_origins": [_("Enter one address per line, like https://www.example.com")]}
            )
        cleaned.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return "\n".join(cleaned)


def _webform_values(data: Mapping[str, Any]) -> dict[str, Any]:
    from vefa.accounts.models import User
    from vefa.service.models import Queue

    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    try:
        values["name"] = _text(data.get("name"), field="name", max_length=100, required=True)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    target = data.get("target") or WebFormTarget.TICKET
    if target not in WebFormTarget.values:
        errors["target"] = [_("Choose a valid option.")]
    values["target"] = target
    kind = data.get("ticket_type") or TicketType.REQUEST
    if kind not in TicketType.values:
        errors["ticket_type"] = [_("Choose a valid type.")]
    values["ticket_type"] = kind
    try:
        queue_id = _optional_id(data.get("queue"), field="queue")
        values["queue"] = None
        if queue_id is not None:
            values["queue"] = Queue.objects.filter(pk=queue_id, is_active=True).first()
            if values["queue"] is None:
                errors["queue"] = [_("Choose a valid option.")]
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        owner_id = _optional_id(data.get("lead_owner"), field="lead_owner")
        values["lead_owner"] = None
        if owner_id is not None:
            values["lead_owner"] = User.objects.filter(pk=owner_id, is_active=True).first()
            if values["lead_owner"] is None:
                errors["lead_owner"] = [_("Choose a valid option.")]
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if target == WebFormTarget.LEAD and not values.get("lead_owner") and "lead_owner" not in errors:
        errors["lead_owner"] = [_("Choose who records the leads of this form.")]
    try:
        values["allowed_origins"] = _origins(data.get("allowed_origins"))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    values["is_active"] = bool(data.get("is_active", True))
    _web_to_lead_values(data, values, errors)
    if errors:
        raise _invalid(errors)
    return values


UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
MAX_CONSENT_TEXT = 2000


def _web_to_lead_values(
    data: Mapping[str, Any], values: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    """The web-to-lead settings: consent wording and version, lead source, campaign."""
    from vefa.customers.choices import Source
    from vefa.marketing.models import Campaign

    for field, limit in (("consent_text", MAX_CONSENT_TEXT), ("consent_version", 50)):
        try:
            values[field] = _text(data.get(field), field=field, max_length=limit)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if values.get("consent_text") and not values.get("consent_version"):
        errors["consent_version"] = [_("Give the consent text a version (e.g. the date).")]
    source = data.get("lead_source") or Source.WEB
    if source not in Source.values:
        errors["lead_source"] = [_("Choose a valid option.")]
    values["lead_source"] = source
    try:
        campaign_id = _optional_id(data.get("campaign"), field="campaign")
        values["campaign"] = None
        if campaign_id is not None:
            values["campaign"] = Campaign.objects.filter(pk=campaign_id).first()
            if values["campaign"] is None:
                errors["campaign"] = [_("Choose a valid option.")]
    except ValidationFailed as exc:
        errors.update(exc.fields)


def _require_admin(actor: User) -> None:
    if not can(actor, "change", WebForm(key="x")):
        raise PermissionDenied(_("Only administrators keep the web forms."))


def webform_create(*, actor: User, data: Mapping[str, Any]) -> WebForm:
    _require_admin(actor)
    values = _webform_values(data)
    return record_create(WebForm(key=secrets.token_urlsafe(16), **values), actor=actor)


def webform_update(
    *, actor: User, form_id: Any, data: Mapping[str, Any], expected_version: int | None = None
) -> WebForm:
    _require_admin(actor)
    values = _webform_values(data)
    key = _optional_id(form_id, field="form")
    with transaction.atomic():
        form = WebForm.objects.select_for_update().filter(pk=key or 0).first()
        if form is None:
            raise NotFound(_("Not found."))
        return record_update(form, actor=actor, data=values, expected_version=expected_version)


def webform_get_active(*, key: Any) -> WebForm:
    if not isinstance(key, str) or not 10 <= len(key) <= 40:
        raise NotFound(_("Not found."))
    form = WebForm.objects.filter(key=key, is_active=True).first()
    if form is None:
        raise NotFound(_("Not found."))
    return form


def _clean_attribution(value: Any, limit: int) -> str:
    """A tracking parameter as text: control characters dropped, cut to ``limit``."""
    if not isinstance(value, str):
        return ""
    text = "".join(ch for ch in value if ch.isprintable())
    return text.strip()[:limit]


def _web_form_lead(form: WebForm, lead: Any, data: Mapping[str, Any], ip_address: str) -> None:
    """Keep the lead's attribution (campaign, utm_* parameters, page) and consent evidence."""
    import ipaddress

    from vefa.portal.models import WebFormLead

    try:
        address: str | None = str(ipaddress.ip_address(ip_address))
    except ValueError:
        address = None
    given = bool(form.consent_text) and str(data.get("consent") or "") in ("1", "on", "true", "yes")
    WebFormLead.objects.create(
        form=form,
        lead=lead,
        campaign_id=form.campaign_id,
        page_url=_clean_attribution(data.get("page_url"), 2000),
        consent_given=given,
        consent_text=form.consent_text if given else "",
        consent_version=form.consent_version if given else "",
        ip_address=address,
        submitted_at=timezone.now(),
        **{field: _clean_attribution(data.get(field), 200) for field in UTM_FIELDS},
    )


def webform_consent_to_customer(*, lead_id: int, actor: User) -> bool:
    """Record a converted lead's web-form consent for its new customer, once.

    E-mail consent when the lead gave an address, SMS when they gave a phone number, for
    marketing, with the form's consent text version and the time the box was ticked.
    """
    from vefa.customers.models import Lead
    from vefa.customers.services.consent import consent_grant
    from vefa.portal.models import WebFormLead

    with transaction.atomic():
        entry = (
            WebFormLead.objects.select_for_update(of=("self",))
            .select_related("form")
            .filter(lead_id=lead_id, consent_given=True, consent_recorded_at__isnull=True)
            .first()
        )
        lead = Lead.objects.filter(pk=lead_id, converted_customer__isnull=False).first()
        if entry is None or lead is None or lead.converted_customer_id is None:
            return False
        source = _("Web form: %(name)s") % {"name": entry.form.name if entry.form else "—"}
        channels = [c for c, v in (("email", lead.email), ("sms", lead.phone)) if v]
        for channel in channels:
            consent_grant(
                actor=actor,
                customer_id=lead.converted_customer_id,
                channel=channel,
                purpose="marketing",
                source=source[:100],
                text_version=entry.consent_version,
                recorded_at=entry.submitted_at,
            )
        WebFormLead.objects.filter(pk=entry.pk).update(consent_recorded_at=timezone.now())
    return bool(channels)


def webform_submit(*, form: WebForm, data: Mapping[str, Any], ip_address: str) -> Any:
    """Take one submission of a public form: a ticket (channel "web_form") or a lead.

    Throttled per address. The honeypot field is checked by the caller (a filled honeypot is
    answered as if it had worked, without creating anything).
    """
    errors: dict[str, list[str]] = {}
    name = email = subject = message = phone = company = ""
    try:
        name = _text(data.get("name"), field="name", max_length=200, required=True)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        email = _email(data.get("email") or "")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        phone = _text(data.get("phone"), field="phone", max_length=64)
        if phone:
            phone = normalize_phone(phone).value
    except ValidationFailed as exc:
        errors.update(exc.fields)
    except ValueError as exc:
        errors["phone"] = [str(exc)]
    try:
        company = _text(data.get("company"), field="company", max_length=200)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        subject = _text(data.get("subject"), field="subject", max_length=MAX_SUBJECT, required=True)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        message = _text(data.get("message"), field="message", max_length=MAX_BODY, required=True)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise _invalid(errors)
    _throttle([(f"portal:form:ip:{ip_address[:45]}", FORM_PER_IP)], FORM_WINDOW_SECONDS)
    if form.target == WebFormTarget.LEAD:
        from vefa.customers.services.leads import lead_create

        if form.lead_owner is None:
            raise NotFound(_("Not found."))
        first, _sep, last = name.rpartition(" ")
        with transaction.atomic():
            lead = lead_create(
                actor=form.lead_owner,
                data={
                    "first_name": first or name,
                    "last_name": last if first else "",
                    "email": email,
                    "phone": phone,
                    "company_name": company,
                    "source": form.lead_source or "web",
                    "notes": f"{subject}\n\n{message}",
                },
            )
            _web_form_lead(form, lead, data, ip_address)
        return lead
    from vefa.service.services.tickets import ticket_create

    ticket_data: dict[str, Any] = {
        "subject": subject,
        "description": message,
        "type": form.ticket_type,
        "channel": TicketChannel.WEB_FORM,
        "requester_email": email,
        "requester_name": name,
    }
    if form.queue_id is not None:
        ticket_data["queue"] = form.queue_id
    return ticket_create(
        actor=None,
        data=ticket_data,
        author_email=email,
        author_name=name,
    )

"""Satisfaction surveys: CSAT after a resolved ticket, NPS to a chosen audience.

Links
-----
Each invitation is answered through ``/service/survey/<token>/``. The token is
``secrets.token_urlsafe(32)``; only its SHA-256 (``token_hash``) is stored, so whoever reads
the database cannot answer for anyone. The plain token exists only in the process that
issued it (``invitation_token``): the e-mail task issues the token it sends, which replaces
any token issued before, so exactly one link works per invitation. An unknown, answered or
expired token is simply not found (the page says "this link is no longer valid").

Answering is one conditional ``UPDATE … WHERE responded_at IS NULL AND expires_at > now``:
of two concurrent submits exactly one changes the row, the other is told the link is no
longer valid. The answer lands in the customer's contact history (kind comment, channel web)
with the score.

CSAT
----
``csat_request(ticket_id=…)`` runs after a ticket is resolved. It creates at most one
invitation per ticket (a unique constraint), only when the ticket has a known customer and
an e-mail address (the requester's, else the contact's, else the customer's), and e-mails the
link through a task after commit. The portal lists open invitations (``pending_invitations``)
and answers them without a token (``survey_answer_invitation``).

NPS
---
``survey_create`` stores a survey whose audience is a customer-list query string, checked
with the customer list's own filter form. ``survey_send`` starts a background job
(``service.survey_send``, with progress) that invites every matching customer once (a unique
constraint on survey and customer), skipping customers without an e-mail address and those
whose current e-mail consent for service messages or marketing is not granted.

Scores: NPS = % promoters (9–10) − % detractors (0–6); CSAT = share of 4–5 answers.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create
from vefa.common.errors import NotFound, ValidationFailed
from vefa.common.events import DomainEvent, emit
from vefa.customers.choices import Channel, ConsentPurpose, ConsentStatus
from vefa.customers.models import Consent, Customer
from vefa.customers.services._common import as_pk, as_text, denied, get_for, invalid
from vefa.platform.audit import log_change, snapshot
from vefa.platform.models import ChangeLogEntry
from vefa.platform.records import record_create, record_update
from vefa.service.choices import SurveyKind, SurveyStatus
from vefa.service.models import Survey, SurveyInvitation, Ticket

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.platform.jobs import Progress
    from vefa.platform.models import Job

logger = logging.getLogger(__name__)

CSAT_VALID_DAYS = 30
NPS_VALID_DAYS = 30
MAX_COMMENT = 5_000
MAX_AUDIENCE = 4_000
SEND_BATCH = 200
SCALES: dict[str, tuple[int, int]] = {SurveyKind.CSAT: (1, 5), SurveyKind.NPS: (0, 10)}
# The e-mail consents (their latest grant or withdrawal) that allow an NPS invitation.
NPS_CONSENT_PURPOSES = (ConsentPurpose.SERVICE, ConsentPurpose.MARKETING)
_LOCAL_DIGITS = {ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")} | {
    ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")
}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
INTERACTION_MODEL = "service.surveyinvitation"
JOB_KIND = "service.survey_send"


# --- tokens ---------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def invitation_token(invitation: SurveyInvitation) -> str:
    """The plain token issued to ``invitation`` in this process (at creation or when sent).

    It is never stored, so an invitation read from the database has none: ``ValueError``.
    """
    token = getattr(invitation, "_plain_token", None)
    if not token:
        raise ValueError("the token of a survey invitation is only known when it is issued")
    return str(token)


def answer_url(token: str) -> str:
    """The absolute link of the answer page (``VEFA_BASE_URL`` + path)."""
    path = reverse("service:survey_answer", kwargs={"token": token})
    base = str(getattr(settings, "VEFA_BASE_URL", "") or "").rstrip("/")
    return base + path


def _language(*customers: Customer | None) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    for customer in customers:
        value = (getattr(customer, "language", "") or "").lower()
        if value in codes:
            return value
        if value and value.split("-")[0] in codes:
            return value.split("-")[0]
    return settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in codes else codes[0]


# --- CSAT -----------------------------------------------------------------------------------


def ticket_email(ticket: Ticket) -> str:
    """Where a ticket's CSAT invitation goes: the requester, the contact, the customer."""
    for value in (
        ticket.requester_email,
        ticket.contact.primary_email if ticket.contact is not None else "",
        ticket.customer.primary_email if ticket.customer is not None else "",
    ):
        if value and "@" in value:
            return str(value).strip()
    return ""


def csat_request(*, ticket_id: int) -> SurveyInvitation | None:
    """Invite the ticket's customer to rate the service, once per ticket.

    Returns the (new or existing) invitation, or ``None`` when the ticket is unknown, has no
    customer or no e-mail address. The e-mail is sent by a task after commit.
    """
    try:
        key = as_pk(ticket_id)
    except NotFound:
        return None
    ticket = Ticket.objects.select_related("customer", "contact").filter(pk=key).first()
    if ticket is None or ticket.customer is None:
        return None
    existing = SurveyInvitation.objects.filter(ticket_id=ticket.pk).first()
    if existing is not None:
        return existing
    email = ticket_email(ticket)
    if not email:
        return None
    token, hashed = _new_token()
    invitation = SurveyInvitation(
        kind=SurveyKind.CSAT,
        ticket=ticket,
        customer=ticket.customer,
        contact=ticket.contact,
        email=email[:254],
        language=_language(ticket.contact, ticket.customer),
        token_hash=hashed,
        expires_at=timezone.now() + datetime.timedelta(days=CSAT_VALID_DAYS),
        owner=ticket.owner,
        team=ticket.team,
    )
    try:
        with transaction.atomic():
            record_create(invitation, actor=None)
            transaction.on_commit(lambda: _enqueue_send(invitation.pk))
    except IntegrityError:
        # A concurrent request for the same ticket won: that one is the invitation.
        return SurveyInvitation.objects.filter(ticket_id=ticket.pk).first()
    except ValidationFailed:
        # The unique check of ``full_clean`` saw the other invitation first.
        existing = SurveyInvitation.objects.filter(ticket_id=ticket.pk).first()
        if existing is not None:
            return existing
        logger.warning("could not create the CSAT invitation of ticket %s", ticket.pk)
        return None
    invitation._plain_token = token  # type: ignore[attr-defined]
    return invitation


def _enqueue_send(invitation_id: int) -> None:
    from vefa.service.tasks_surveys import send_survey_invitation

    try:
        send_survey_invitation.enqueue(invitation_id=invitation_id)
    except Exception:
        logger.warning("could not queue survey invitation %s", invitation_id, exc_info=True)


def _message(invitation: SurveyInvitation, token: str) -> EmailMessage:
    company = str(getattr(settings, "VEFA_COMPANY_NAME", "") or "Vefa")
    with translation.override(invitation.language or settings.LANGUAGE_CODE):
        if invitation.kind == SurveyKind.CSAT:
            reference = invitation.ticket.number if invitation.ticket is not None else ""
            subject = _("How did we do? Your request %(reference)s") % {"reference": reference}
            question = _("How satisfied are you with how we handled your request?")
            scale = _("Choose from 1 (very unsatisfied) to 5 (very satisfied).")
        else:
            subject = _("A question from %(company)s") % {"company": company}
            question = (
                invitation.survey.question
                if invitation.survey is not None and invitation.survey.question
                else _("How likely are you to recommend us to a friend or colleague?")
            )
            scale = _("Choose from 0 (not at all likely) to 10 (extremely likely).")
        valid = _("The link works once and until %(date)s.") % {
            "date": timezone.localtime(invitation.expires_at).date().isoformat()
        }
        body = "\n\n".join([question, scale, answer_url(token), valid, company])
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
    )


def invitation_send(*, invitation_id: int, connection: Any = None) -> bool:
    """E-mail one unsent, open invitation with a freshly issued token; ``True`` when sent.

    The row is locked while the mail server is asked, and the new token's hash and the
    sending time are saved only when it accepted the message: a failed send changes nothing
    and a second run finds the invitation sent. ``connection`` (an open mail connection)
    lets a batch share one SMTP session.
    """
    now = timezone.now()
    with transaction.atomic():
        invitation = (
            SurveyInvitation.objects.select_for_update(of=("self",))
            .select_related("ticket", "survey")
            .filter(
                pk=invitation_id,
                sent_at__isnull=True,
                responded_at__isnull=True,
                expires_at__gt=now,
            )
            .exclude(email="")
            .first()
        )
        if invitation is None:
            return False
        token, hashed = _new_token()
        message = _message(invitation, token)
        try:
            if connection is not None:
                message.connection = connection
            message.send(fail_silently=False)
        except Exception:
            logger.warning("could not e-mail survey invitation %s", invitation_id, exc_info=True)
            return False
        SurveyInvitation.objects.filter(pk=invitation.pk).update(
            token_hash=hashed, sent_at=now, updated_at=now
        )
        invitation.token_hash = hashed
        invitation.sent_at = now
        invitation._plain_token = token  # type: ignore[attr-defined]
    return True


# --- answers -------------------------------------------------------------------------------


def _open(qs: QuerySet[SurveyInvitation]) -> QuerySet[SurveyInvitation]:
    return qs.filter(responded_at__isnull=True, expires_at__gt=timezone.now())


def invitation_for_token(token: str) -> SurveyInvitation:
    """The open invitation of ``token``; ``NotFound`` if unknown, expired or answered."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise NotFound(_("This link is no longer valid."))
    invitation = (
        _open(SurveyInvitation.objects.select_related("survey", "ticket", "customer"))
        .filter(token_hash=token_hash(token))
        .first()
    )
    if invitation is None:
        raise NotFound(_("This link is no longer valid."))
    return invitation


def clean_score(kind: str, score: Any) -> int:
    """``score`` as a whole number on the survey's scale, or a message naming the field."""
    low, high = SCALES.get(kind, (0, 10))
    message = _("Choose a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
    if score is None or score == "":
        raise invalid({"score": [_("Choose a score.")]})
    if isinstance(score, bool) or not isinstance(score, int | str):
        raise invalid({"score": [message]})
    if isinstance(score, str):
        # Persian and Arabic-Indic digits count as the digits they are; other scripts do not.
        text = score.strip().translate(_LOCAL_DIGITS)
        if not re.fullmatch(r"-?[0-9]{1,3}", text):
            raise invalid({"score": [message]})
        score = int(text)
    if not low <= score <= high:
        raise invalid({"score": [message]})
    return int(score)


def _clean_comment(comment: Any) -> str:
    return as_text(comment, field="comment", max_length=MAX_COMMENT)


def _record_answer(invitation: SurveyInvitation, score: int, comment: str) -> SurveyInvitation:
    """Store the answer if the invitation is still open (one conditional UPDATE)."""
    from vefa.interactions.choices import (
        Direction,
        InitiatedBy,
        InteractionChannel,
        InteractionKind,
    )
    from vefa.interactions.services.interactions import interaction_insert

    now = timezone.now()
    with transaction.atomic():
        before = snapshot(invitation)
        changed = SurveyInvitation.objects.filter(
            pk=invitation.pk, responded_at__isnull=True, expires_at__gt=now
        ).update(
            responded_at=now,
            score=score,
            comment=comment,
            version=F("version") + 1,
            updated_at=now,
        )
        if changed != 1:
            raise NotFound(_("This link is no longer valid."))
        invitation.refresh_from_db()
        log_change(
            actor=None,
            instance=invitation,
            action=ChangeLogEntry.Action.UPDATE,
            before=before,
            after=snapshot(invitation),
        )
        emit(
            DomainEvent(
                name="service.surveyinvitation.answered",
                model=INTERACTION_MODEL,
                object_id=int(invitation.pk),
                actor_id=None,
                payload={"kind": invitation.kind, "score": score},
            )
        )
        high = SCALES[invitation.kind][1]
        with translation.override(invitation.language or settings.LANGUAGE_CODE):
            label = (
                _("Satisfaction (CSAT)")
                if invitation.kind == SurveyKind.CSAT
                else _("Net Promoter Score (NPS)")
            )
            subject = _("%(survey)s answer: %(score)d of %(high)d") % {
                "survey": label,
                "score": score,
                "high": high,
            }
        interaction_insert(
            actor=None,  # type: ignore[arg-type]
            customer=invitation.customer,
            kind=InteractionKind.COMMENT,
            channel=InteractionChannel.WEB,
            direction=Direction.INBOUND,
            initiated_by=InitiatedBy.CUSTOMER,
            subject=subject[:300],
            body=comment,
            outcome=str(score),
            related_model=INTERACTION_MODEL,
            related_id=invitation.pk,
        )
    return invitation


def survey_answer(*, token: str, score: Any, comment: str = "") -> SurveyInvitation:
    """Answer through the link: ``NotFound`` when the link is no longer valid,
    ``ValidationFailed`` on ``score`` or ``comment``."""
    invitation = invitation_for_token(token)
    value = clean_score(invitation.kind, score)
    return _record_answer(invitation, value, _clean_comment(comment))


def pending_invitations(*, customer_id: int) -> QuerySet[SurveyInvitation]:
    """Open invitations of a customer or of a contact person, newest first (the portal)."""
    try:
        key = as_pk(customer_id)
    except NotFound:
        return SurveyInvitation.objects.none()
    return (
        _open(SurveyInvitation.objects.filter(Q(customer_id=key) | Q(contact_id=key)))
        .select_related("survey", "ticket")
        .order_by("-created_at", "-id")
    )


def survey_answer_invitation(
    *, invitation_id: int, customer_id: int, score: Any, comment: str = ""
) -> SurveyInvitation:
    """Answer from the portal, where the account's customer stands in for the token."""
    try:
        key = as_pk(invitation_id)
    except NotFound:
        raise NotFound(_("This link is no longer valid.")) from None
    invitation = pending_invitations(customer_id=customer_id).filter(pk=key).first()
    if invitation is None:
        raise NotFound(_("This link is no longer valid."))
    value = clean_score(invitation.kind, score)
    return _record_answer(invitation, value, _clean_comment(comment))


# --- NPS surveys -----------------------------------------------------------------------------

_SURVEY_FIELDS = frozenset({"kind", "name", "question", "audience"})


def audience_filters(audience: str) -> dict[str, list[str] | str]:
    """The customer-list query string as filter data (paging parameters dropped)."""
    from vefa.customers.filters import NON_FILTER_PARAMS

    text = (audience or "").strip().lstrip("?")
    query = QueryDict(text)
    data: dict[str, list[str] | str] = {}
    for key in query:
        if key in NON_FILTER_PARAMS:
            continue
        values = query.getlist(key)
        data[key] = values if len(values) > 1 else values[0]
    return data


def _audience_form(audience: str, actor: User) -> Any:
    from vefa.customers.filters import CustomerFilterForm

    data = QueryDict(mutable=True)
    for key, value in audience_filters(audience).items():
        if isinstance(value, list):
            data.setlist(key, value)
        else:
            data[key] = value
    return CustomerFilterForm(data, actor=actor)


def _clean_audience(value: Any, actor: User) -> str:
    text = as_text(value, field="audience", max_length=MAX_AUDIENCE).lstrip("?")
    if not text:
        return ""
    form = _audience_form(text, actor)
    # A misspelt filter would silently widen the audience: every parameter must be known.
    unknown = sorted(set(audience_filters(text)) - set(form.fields))
    if unknown:
        raise invalid(
            {"audience": [_("Unknown filter: %(names)s.") % {"names": ", ".join(unknown)[:200]}]}
        )
    if not form.is_valid():
        messages = [
            f"{key}: {'; '.join(str(m) for m in msgs)}" for key, msgs in form.errors.items()
        ]
        raise invalid({"audience": messages or [_("Some filters are not valid.")]})
    return text


def survey_create(*, actor: User, data: Mapping[str, Any]) -> Survey:
    """A draft survey. ``data``: kind (nps, csat), name, question, audience (query string)."""
    if not can_create(actor, Survey):
        raise denied()
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = [str(k) for k in data if k not in _SURVEY_FIELDS]
    if unknown:
        raise invalid({key: [_("Unknown field.")] for key in unknown})
    errors: dict[str, list[str]] = {}
    kind = data.get("kind") or SurveyKind.NPS
    if not isinstance(kind, str) or kind not in SurveyKind.values:
        errors["kind"] = [_("Choose a valid option.")]
    values: dict[str, Any] = {}
    for field, limit in (("name", 200), ("question", 500)):
        try:
            values[field] = as_text(data.get(field), field=field, max_length=limit)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if "name" not in errors and not values.get("name"):
        errors["name"] = [_("This field is required.")]
    try:
        audience = _clean_audience(data.get("audience"), actor)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        audience = ""
    if errors:
        raise invalid(errors)
    return record_create(
        Survey(
            kind=kind,
            name=values["name"],
            question=values["question"],
            audience=audience,
            owner=actor,
            team=actor.team,
        ),
        actor=actor,
    )


def survey_send(*, actor: User, survey_id: int) -> int:
    """Start sending a draft survey to its audience as a background job; the job's id.

    An empty audience means every customer the sender may see."""
    from vefa.platform.jobs import job_start

    with transaction.atomic():
        survey = get_for(Survey.objects.all(), actor=actor, pk=survey_id, action="change")
        if survey.status != SurveyStatus.DRAFT:
            raise invalid({"status": [_("This survey has already been sent.")]})
        form = _audience_form(survey.audience, actor)
        if not form.is_valid():
            raise invalid({"audience": [_("Some filters are not valid.")]})
        record_update(
            survey, actor=actor, data={"status": SurveyStatus.SENDING, "sent_at": timezone.now()}
        )
        job = job_start(
            actor=actor,
            kind=JOB_KIND,
            title=_("Send survey: %(name)s") % {"name": survey.name[:150]},
            params={"survey_id": survey.pk},
        )
    return int(job.pk)


def _email_consented(customer_ids: Iterable[int]) -> set[int]:
    """The customers whose latest e-mail consent for one of the purposes is a grant."""
    latest: dict[tuple[int, str], str] = {}
    rows = (
        Consent.objects.filter(
            customer_id__in=list(customer_ids),
            channel=Channel.EMAIL,
            purpose__in=NPS_CONSENT_PURPOSES,
        )
        .order_by("customer_id", "purpose", "-recorded_at", "-pk")
        .values_list("customer_id", "purpose", "status")
    )
    for customer_id, purpose, status in rows:
        latest.setdefault((customer_id, purpose), status)
    return {cid for (cid, _p), status in latest.items() if status == ConsentStatus.GRANTED}


def audience_queryset(survey: Survey, actor: User) -> QuerySet[Customer]:
    """The customers of the survey's audience that ``actor`` (its sender) may see."""
    from vefa.customers.selectors import visible_customers

    form = _audience_form(survey.audience, actor)
    if not form.is_valid():
        raise invalid({"audience": [_("Some filters are not valid.")]})
    return form.apply(visible_customers(actor))


def survey_send_run(job: Job, report: Progress) -> dict[str, Any]:
    """The job: invite the audience in batches by id; resumable from its checkpoint.

    When it fails the survey goes back to draft, so it can be sent again: customers already
    invited are skipped (once per customer per survey)."""
    survey = Survey.objects.select_related("created_by").filter(pk=job.params["survey_id"]).first()
    if survey is None:
        return {"invited": 0}
    actor = job.user or survey.created_by
    if actor is None:
        raise LookupError("the survey has no sender")
    try:
        return _send_run(job, report, survey, actor)
    except Exception:
        record_update(survey, actor=actor, data={"status": SurveyStatus.DRAFT})
        raise


def _send_run(job: Job, report: Progress, survey: Survey, actor: User) -> dict[str, Any]:
    qs = audience_queryset(survey, actor).order_by("pk")
    last = int(job.checkpoint.get("last_id", 0))
    counts = {
        key: int(job.checkpoint.get(key, 0))
        for key in ("invited", "no_email", "no_consent", "already", "failed")
    }
    done = sum(counts.values())
    expires = timezone.now() + datetime.timedelta(days=NPS_VALID_DAYS)
    while True:
        batch = list(qs.filter(pk__gt=last).values("pk", "primary_email", "language")[:SEND_BATCH])
        if not batch:
            break
        ids = [row["pk"] for row in batch]
        consented = _email_consented(ids)
        invited_before = set(
            SurveyInvitation.objects.filter(survey=survey, customer_id__in=ids).values_list(
                "customer_id", flat=True
            )
        )
        # One SMTP session per batch instead of one per message.
        with mail.get_connection() as connection:
            for row in batch:
                counts[_classify(survey, row, consented, invited_before, expires, connection)] += 1
        last = ids[-1]
        done += len(batch)
        report(done, None, checkpoint={"last_id": last, **counts})
    record_update(survey, actor=actor, data={"status": SurveyStatus.SENT})
    return counts


def _classify(
    survey: Survey,
    row: Mapping[str, Any],
    consented: set[int],
    invited_before: set[int],
    expires: Any,
    connection: Any,
) -> str:
    """Skip or invite one customer of the audience; the count it adds to."""
    email = (row["primary_email"] or "").strip()
    if row["pk"] in invited_before:
        return "already"
    if not email or "@" not in email:
        return "no_email"
    if row["pk"] not in consented:
        return "no_consent"
    return _invite(survey, row["pk"], email, row["language"], expires, connection)


def _invite(
    survey: Survey,
    customer_id: int,
    email: str,
    language: str,
    expires: Any,
    connection: Any = None,
) -> str:
    """Create and e-mail one invitation: "invited", "already" (a concurrent run was first)
    or "failed" (the mail server refused; the invitation stays unsent)."""
    # The token that counts is the one the e-mail carries (issued when it is sent).
    _unsent, hashed = _new_token()
    invitation = SurveyInvitation(
        kind=survey.kind,
        survey=survey,
        customer_id=customer_id,
        email=email[:254],
        language=_language(Customer(language=language or "")),
        token_hash=hashed,
        expires_at=expires,
        owner=survey.owner,
        team=survey.team,
    )
    try:
        with transaction.atomic():
            invitation = record_create(invitation, actor=None)
    except (IntegrityError, ValidationFailed):
        return "already"
    sent = invitation_send(invitation_id=invitation.pk, connection=connection)
    return "invited" if sent else "failed"

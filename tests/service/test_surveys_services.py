"""Surveys: CSAT invitations once per ticket, single-use links that cannot be forged or
reused, score checks, NPS arithmetic, the NPS audience with its e-mail and consent rules."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.customers.models import Consent
from vefa.interactions.models import Interaction
from vefa.platform.models import ChangeLogEntry, Job
from vefa.service.models import Survey, SurveyInvitation, Ticket
from vefa.service.selectors.surveys import (
    csat_value,
    customer_latest_answers,
    figures_of,
    nps_value,
    survey_figures,
    survey_get,
    survey_list,
)
from vefa.service.services import surveys as services


@pytest.fixture
def ticket(agent, team, queue, customer):
    return Ticket.objects.create(
        number="T-2026-000123",
        subject="Kargo gecikti",
        customer=customer,
        queue=queue,
        owner=agent,
        team=team,
        status="resolved",
    )


def _issue(invitation: SurveyInvitation) -> str:
    """A fresh token for ``invitation`` as the e-mail task would issue it (tests only)."""
    token, hashed = services._new_token()
    SurveyInvitation.objects.filter(pk=invitation.pk).update(token_hash=hashed)
    return token


def _csat(ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.csat_request(ticket_id=ticket.pk)
    return invitation


# --- CSAT requests -------------------------------------------------------------------------


def test_csat_request_is_idempotent_and_mails_a_working_link(
    ticket, customer, django_capture_on_commit_callbacks, settings
):
    settings.VEFA_BASE_URL = "https://crm.example.com"
    invitation = _csat(ticket, django_capture_on_commit_callbacks)
    assert invitation is not None
    assert (invitation.kind, invitation.customer_id, invitation.email) == (
        "csat",
        customer.pk,
        "ayse@example.com",
    )
    assert invitation.owner_id == ticket.owner_id and invitation.team_id == ticket.team_id
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ayse@example.com"]
    assert "T-2026-000123" in message.subject
    link = next(
        line for line in message.body.splitlines() if line.startswith("https://crm.example.com/")
    )
    token = link.rstrip("/").rsplit("/", 1)[1]
    stored = SurveyInvitation.objects.get(pk=invitation.pk)
    assert stored.sent_at is not None
    # Only the hash is stored, never the token itself.
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(SurveyInvitation.objects.values()))
    assert services.invitation_for_token(token).pk == invitation.pk
    # Again: the same invitation, no second e-mail.
    again = _csat(ticket, django_capture_on_commit_callbacks)
    assert again is not None and again.pk == invitation.pk
    assert SurveyInvitation.objects.filter(ticket=ticket).count() == 1
    assert len(mail.outbox) == 1


def test_csat_request_prefers_requester_then_contact(
    ticket, customer, agent, team, django_capture_on_commit_callbacks
):
    person = make_customer(owner=agent, team=team, primary_email="contact@example.com")
    ticket.contact = person
    ticket.requester_email = "requester@example.com"
    ticket.save()
    assert services.ticket_email(ticket) == "requester@example.com"
    ticket.requester_email = ""
    assert services.ticket_email(ticket) == "contact@example.com"
    ticket.save()
    invitation = _csat(ticket, django_capture_on_commit_callbacks)
    assert invitation.email == "contact@example.com"
    assert invitation.contact_id == person.pk


def test_no_invitation_without_address_or_customer(
    ticket, customer, agent, django_capture_on_commit_callbacks
):
    customer.primary_email = ""
    customer.save()
    assert _csat(ticket, django_capture_on_commit_callbacks) is None
    nobody = Ticket.objects.create(
        number="T-2026-000124", subject="x", requester_email="who@example.com"
    )
    assert _csat(nobody, django_capture_on_commit_callbacks) is None
    assert services.csat_request(ticket_id=999_999) is None
    assert services.csat_request(ticket_id="abc") is None  # type: ignore[arg-type]
    assert not SurveyInvitation.objects.exists()
    assert mail.outbox == []


def test_invitation_token_only_at_creation(ticket):
    invitation = services.csat_request(ticket_id=ticket.pk)
    token = services.invitation_token(invitation)
    assert services.invitation_for_token(token).pk == invitation.pk
    with pytest.raises(ValueError):
        services.invitation_token(SurveyInvitation.objects.get(pk=invitation.pk))


def test_a_refusing_mail_server_leaves_the_invitation_unsent(ticket, settings):
    settings.EMAIL_BACKEND = "tests.service.test_surveys_services.RefusingBackend"
    invitation = services.csat_request(ticket_id=ticket.pk)
    assert services.invitation_send(invitation_id=invitation.pk) is False
    invitation.refresh_from_db()
    assert invitation.sent_at is None
    # The token issued at creation still works: nothing changed.
    assert services.invitation_for_token(services.invitation_token(invitation)) is not None


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("no SMTP today")


def test_nps_send_counts_refused_mail_and_leaves_it_unsent(
    agent, team, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.service.test_surveys_services.RefusingBackend"
    person = make_customer(owner=agent, team=team, primary_email="p@example.com")
    _consent(person, "granted")
    survey = services.survey_create(actor=agent, data={"name": "Down"})
    with django_capture_on_commit_callbacks(execute=True):
        job_id = services.survey_send(actor=agent, survey_id=survey.pk)
    assert Job.objects.get(pk=job_id).result["failed"] == 1
    invitation = SurveyInvitation.objects.get(survey=survey)
    assert invitation.sent_at is None


# --- links that cannot be reused or forged -----------------------------------------------------


@pytest.fixture
def invitation(ticket):
    return services.csat_request(ticket_id=ticket.pk)


def test_answer_records_score_comment_history_and_log(invitation, customer):
    token = services.invitation_token(invitation)
    answered = services.survey_answer(token=token, score="4", comment="  Hızlıydınız, teşekkürler ")
    assert (answered.score, answered.comment) == (4, "Hızlıydınız, teşekkürler")
    assert answered.responded_at is not None
    logged = Interaction.objects.get(
        related_model="service.surveyinvitation", related_id=invitation.pk
    )
    assert (logged.kind, logged.channel, logged.customer_id) == ("comment", "web", customer.pk)
    assert "4" in logged.subject and logged.body == "Hızlıydınız, teşekkürler"
    entry = ChangeLogEntry.objects.filter(
        model="service.surveyinvitation", object_id=invitation.pk, action="update"
    ).get()
    assert entry.after["score"] == 4


def test_reused_token_is_refused(invitation):
    token = services.invitation_token(invitation)
    services.survey_answer(token=token, score=5)
    with pytest.raises(NotFound):
        services.survey_answer(token=token, score=1, comment="changed my mind")
    with pytest.raises(NotFound):
        services.invitation_for_token(token)
    invitation.refresh_from_db()
    assert (invitation.score, invitation.comment) == (5, "")
    assert Interaction.objects.filter(related_model="service.surveyinvitation").count() == 1


def test_forged_and_tampered_tokens_are_refused(invitation):
    token = services.invitation_token(invitation)
    forged = services._new_token()[0]
    tampered = ("A" if token[5] != "A" else "B").join((token[:5], token[6:]))
    assert tampered != token and len(tampered) == len(token)
    for bad in (forged, tampered, token[:-1], token + "x", "", "../../etc", "a" * 5000, None, 42):
        with pytest.raises(NotFound):
            services.survey_answer(token=bad, score=5)  # type: ignore[arg-type]
    # The hash itself is not a token either.
    with pytest.raises(NotFound):
        services.survey_answer(token=invitation.token_hash, score=5)
    invitation.refresh_from_db()
    assert invitation.responded_at is None


def test_expired_token_is_refused(invitation):
    token = services.invitation_token(invitation)
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with pytest.raises(NotFound):
        services.survey_answer(token=token, score=5)


@pytest.mark.parametrize(
    "score", ["11", "-1", "0", "6", "abc", "", None, "4.5", 4.0, True, [], "１"]
)
def test_csat_score_out_of_range_or_not_a_number(invitation, score):
    token = services.invitation_token(invitation)
    with pytest.raises(ValidationFailed) as exc:
        services.survey_answer(token=token, score=score, comment="kept")
    assert list(exc.value.fields) == ["score"]
    invitation.refresh_from_db()
    assert invitation.responded_at is None
    # The link still works after a mistake.
    assert services.survey_answer(token=token, score=" 5 ").score == 5


def test_persian_digits_are_digits(invitation):
    token = services.invitation_token(invitation)
    assert services.survey_answer(token=token, score="۴").score == 4


def test_nps_scale_is_zero_to_ten(customer, agent):
    survey = Survey.objects.create(kind="nps", name="Q3", owner=agent)
    token, hashed = services._new_token()
    invitation = SurveyInvitation.objects.create(
        kind="nps",
        survey=survey,
        customer=customer,
        token_hash=hashed,
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    for bad in ("11", "-1", "abc", ""):
        with pytest.raises(ValidationFailed):
            services.survey_answer(token=token, score=bad)
    assert services.survey_answer(token=token, score=0).score == 0
    assert invitation.pk


def test_comment_limits(invitation):
    token = services.invitation_token(invitation)
    for comment in ("x" * (services.MAX_COMMENT + 1), "a\x00b", 12):
        with pytest.raises(ValidationFailed) as exc:
            services.survey_answer(token=token, score=3, comment=comment)  # type: ignore[arg-type]
        assert "comment" in exc.value.fields


def test_portal_answers_without_token(invitation, customer, other_customer):
    assert list(services.pending_invitations(customer_id=customer.pk)) == [invitation]
    assert list(services.pending_invitations(customer_id=other_customer.pk)) == []
    with pytest.raises(NotFound):
        services.survey_answer_invitation(
            invitation_id=invitation.pk, customer_id=other_customer.pk, score=5
        )
    with pytest.raises(ValidationFailed):
        services.survey_answer_invitation(
            invitation_id=invitation.pk, customer_id=customer.pk, score="9"
        )
    services.survey_answer_invitation(
        invitation_id=invitation.pk, customer_id=customer.pk, score=2, comment="Yavaş"
    )
    assert list(services.pending_invitations(customer_id=customer.pk)) == []
    with pytest.raises(NotFound):
        services.survey_answer_invitation(
            invitation_id=invitation.pk, customer_id=customer.pk, score=5
        )


# --- figures --------------------------------------------------------------------------------


def test_nps_and_csat_arithmetic():
    # 5 promoters, 3 passives, 2 detractors of 10: 50 % − 20 % = 30.
    assert nps_value(5, 2, 10) == 30
    assert nps_value(0, 3, 3) == -100
    assert nps_value(1, 2, 6) == -17  # −16.67 rounds away from zero
    assert nps_value(1, 0, 8) == 13  # 12.5 rounds half up
    assert nps_value(0, 0, 0) is None
    assert csat_value(3, 4) == 75
    assert csat_value(2, 3) == 67
    assert csat_value(0, 0) is None


def _answered(survey, customer, score, when):
    """One answer; a fresh customer each time unless ``customer`` is given (once per survey)."""
    if customer is None:
        customer = make_customer(owner=survey.owner, team=survey.team)
    return SurveyInvitation.objects.create(
        kind=survey.kind,
        survey=survey,
        customer=customer,
        token_hash=services._new_token()[1],
        expires_at=when + datetime.timedelta(days=30),
        responded_at=when if score is not None else None,
        score=score,
        owner=survey.owner,
        team=survey.team,
    )


def test_survey_figures_on_known_answers(agent, team, customer):
    survey = Survey.objects.create(kind="nps", name="Yearly", owner=agent, team=team)
    now = timezone.now()
    last_month = now - datetime.timedelta(days=40)
    for score in (10, 9, 9, 8, 3):
        _answered(survey, None, score, now)
    for score in (0, 10):
        _answered(survey, None, score, last_month)
    _answered(survey, customer, None, now)
    figures = survey_figures(actor=agent, survey=survey)
    assert (figures.invited, figures.answers) == (8, 7)
    assert (figures.promoters, figures.passives, figures.detractors) == (4, 1, 2)
    assert figures.score == 29  # (4 − 2) / 7 = 28.57
    assert str(figures.promoter_share) == "57.1"
    assert str(figures.response_rate) == "87.5"
    assert [p.score for p in figures.trend] == [0, 40]
    assert [p.answers for p in figures.trend] == [2, 5]


def test_figures_respect_access(agent, agent_other_team, team, customer):
    survey = Survey.objects.create(kind="nps", name="Team", owner=agent, team=team)
    _answered(survey, customer, 10, timezone.now())
    rep = UserFactory(role=Role.SALES_REP, team=agent_other_team.team)
    assert figures_of(SurveyInvitation.objects.filter(survey=survey), "nps").answers == 1
    assert survey_figures(actor=rep, survey=survey).answers == 0
    with pytest.raises(NotFound):
        survey_get(actor=rep, pk=survey.pk)
    assert survey_list(actor=rep).items == []
    # Service agents see all surveys (POLICIES["service.survey"]: view all).
    assert survey_get(actor=agent_other_team, pk=survey.pk) == survey
    assert customer_latest_answers(actor=rep, customer=customer) == {}
    assert customer_latest_answers(actor=agent, customer=customer)["nps"].score == 10


# --- NPS surveys ---------------------------------------------------------------------------


def test_survey_create_validates(agent):
    survey = services.survey_create(
        actor=agent,
        data={"kind": "nps", "name": "Güz 2026", "audience": "?stage=customer"},
    )
    assert (survey.status, survey.owner_id, survey.audience) == (
        "draft",
        agent.pk,
        "stage=customer",
    )
    for data, field in [
        ({"name": ""}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "ok", "kind": "poll"}, "kind"),
        ({"name": "ok", "audience": "stage=nonsense"}, "audience"),
        ({"name": "ok", "audience": "lifecycle_stage=customer"}, "audience"),
        ({"name": "ok", "audience": "x" * 5000}, "audience"),
        ({"name": "ok", "colour": "red"}, "colour"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            services.survey_create(actor=agent, data=data)
        assert field in exc.value.fields, data


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER, Role.READ_ONLY])
def test_survey_create_needs_change_scope(db, team, role):
    user = UserFactory(role=role, team=team)
    with pytest.raises(PermissionDenied):
        services.survey_create(actor=user, data={"name": "Mine"})


def _consent(customer, status, purpose="service", days_ago=0):
    Consent.objects.create(
        customer=customer,
        channel="email",
        purpose=purpose,
        status=status,
        source="test",
        text_version="1",
        recorded_at=timezone.now() - datetime.timedelta(days=days_ago),
    )


def test_nps_send_filters_by_email_and_consent_once_per_customer(
    agent, team, django_capture_on_commit_callbacks
):
    def person(name, email, **extra):
        return make_customer(owner=agent, team=team, first_name=name, primary_email=email, **extra)

    granted = person("Granted", "granted@example.com", language="fa")
    marketing = person("Marketing", "marketing@example.com")
    withdrawn = person("Withdrawn", "withdrawn@example.com")
    no_consent = person("Silent", "silent@example.com")
    no_email = person("Noemail", "")
    lead = person("Lead", "lead@example.com", lifecycle_stage="lead")
    _consent(granted, "granted")
    _consent(marketing, "granted", purpose="marketing")
    _consent(withdrawn, "granted", days_ago=3)
    _consent(withdrawn, "withdrawn", days_ago=1)
    _consent(no_email, "granted")
    _consent(lead, "granted")
    survey = services.survey_create(actor=agent, data={"name": "NPS", "audience": "stage=customer"})
    with django_capture_on_commit_callbacks(execute=True):
        job_id = services.survey_send(actor=agent, survey_id=survey.pk)
    job = Job.objects.get(pk=job_id)
    assert job.status == "succeeded", job.message
    assert job.result == {
        "invited": 2,
        "no_email": 1,
        "no_consent": 2,
        "already": 0,
        "failed": 0,
    }
    invited = set(
        SurveyInvitation.objects.filter(survey=survey).values_list("customer_id", flat=True)
    )
    assert invited == {granted.pk, marketing.pk}
    assert sorted(m.to[0] for m in mail.outbox) == ["granted@example.com", "marketing@example.com"]
    assert SurveyInvitation.objects.get(customer=granted).language == "fa"
    survey.refresh_from_db()
    assert survey.status == "sent" and survey.sent_at is not None
    with pytest.raises(ValidationFailed):
        services.survey_send(actor=agent, survey_id=survey.pk)
    assert (
        no_consent.pk not in invited and withdrawn.pk not in invited and no_email.pk not in invited
    )
    # A re-run of the job (after an interruption) invites nobody twice.
    survey.status = "sending"
    survey.save()
    job.checkpoint = {}
    result = services.survey_send_run(job, lambda *a, **k: None)
    assert result["invited"] == 0 and result["already"] == 2
    assert SurveyInvitation.objects.filter(survey=survey).count() == 2


def test_nps_audience_is_limited_to_what_the_sender_sees(
    agent, other_customer, customer, django_capture_on_commit_callbacks, db, team
):
    _consent(customer, "granted")
    _consent(other_customer, "granted")
    other_customer.primary_email = "jovana@example.rs"
    other_customer.save()
    marketer = UserFactory(role=Role.MARKETER, team=team)
    survey = services.survey_create(actor=marketer, data={"name": "All I see", "audience": ""})
    with django_capture_on_commit_callbacks(execute=True):
        services.survey_send(actor=marketer, survey_id=survey.pk)
    invited = set(
        SurveyInvitation.objects.filter(survey=survey).values_list("customer_id", flat=True)
    )
    # What the marketer reaches in the customer list, not more.
    from vefa.customers.selectors import visible_customers

    visible = set(visible_customers(marketer).values_list("pk", flat=True))
    assert invited == visible & {customer.pk, other_customer.pk}


def test_a_failing_send_goes_back_to_draft_and_can_be_sent_again(
    agent, team, monkeypatch, django_capture_on_commit_callbacks
):
    person = make_customer(owner=agent, team=team, primary_email="p@example.com")
    _consent(person, "granted")
    survey = services.survey_create(actor=agent, data={"name": "Retry"})

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_email_consented", broken)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = services.survey_send(actor=agent, survey_id=survey.pk)
    assert Job.objects.get(pk=job_id).status == "failed"
    survey.refresh_from_db()
    assert survey.status == "draft"
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.survey_send(actor=agent, survey_id=survey.pk)
    survey.refresh_from_db()
    assert survey.status == "sent"
    assert SurveyInvitation.objects.filter(survey=survey).count() == 1


def test_send_needs_change_access(agent, agent_other_team, team):
    survey = services.survey_create(actor=agent, data={"name": "Mine"})
    rep = UserFactory(role=Role.SALES_REP, team=team)
    with pytest.raises(PermissionDenied):
        services.survey_send(actor=rep, survey_id=survey.pk)
    # Another team's agent sees every survey but changes their team's only.
    with pytest.raises(PermissionDenied):
        services.survey_send(actor=agent_other_team, survey_id=survey.pk)
    with pytest.raises(NotFound):
        services.survey_send(actor=agent, survey_id=10**9)

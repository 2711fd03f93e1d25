"""API of surveys under /api/v1/service/surveys (conventions in ``vefa.common.api``).

Surveys and their answers follow ``POLICIES["service.survey"]``: a survey the caller may not
reach is 404, and so is sending one they may read but not change. Sending starts a job whose
progress shows on the job's page (``job_url``). Answers are given through the survey link or the
portal, never through the staff API.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Schema
from pydantic import Field

from vefa.common.api import API_ERRORS as ERRORS
from vefa.common.api import (
    actor_of,
    clamp_limit,
    create_response,
    dump,
    hidden_if_denied,
    json_response,
    page_json,
    page_out,
)
from vefa.service.choices import SurveyKind
from vefa.service.selectors import surveys as selectors
from vefa.service.selectors.surveys import Figures
from vefa.service.services import surveys as services

router = Router(tags=["service"])


class SurveyIn(Schema):
    kind: SurveyKind = SurveyKind.NPS
    name: str = Field(max_length=200)
    question: str = Field(default="", max_length=500)
    audience: str = Field(default="", max_length=services.MAX_AUDIENCE)


class SurveyOut(Schema):
    id: int
    kind: str
    name: str
    question: str
    audience: str
    status: str
    sent_at: datetime.datetime | None
    owner_id: int | None
    team_id: int | None
    version: int
    created_at: datetime.datetime


class SurveyPageOut(Schema):
    items: list[SurveyOut]
    next_cursor: str | None
    previous_cursor: str | None


class MonthOut(Schema):
    month: datetime.date
    answers: int
    score: int | None


class FiguresOut(Schema):
    kind: str
    score: int | None
    invited: int
    answers: int
    response_rate: Decimal | None
    promoters: int
    passives: int
    detractors: int
    satisfied: int
    promoter_share: Decimal | None
    passive_share: Decimal | None
    detractor_share: Decimal | None
    satisfied_share: Decimal | None
    trend: list[MonthOut]


class SurveyDetailOut(SurveyOut):
    figures: FiguresOut


class AnswerOut(Schema):
    id: int
    kind: str
    survey_id: int | None
    ticket_id: int | None
    customer_id: int
    score: int | None
    comment: str
    responded_at: datetime.datetime | None


class AnswerPageOut(Schema):
    items: list[AnswerOut]
    next_cursor: str | None
    previous_cursor: str | None


class SendOut(Schema):
    job_id: int
    job_url: str


def _figures(figures: Figures) -> dict[str, object]:
    return FiguresOut(
        kind=figures.kind,
        score=figures.score,
        invited=figures.invited,
        answers=figures.answers,
        response_rate=figures.response_rate,
        promoters=figures.promoters,
        passives=figures.passives,
        detractors=figures.detractors,
        satisfied=figures.satisfied,
        promoter_share=figures.promoter_share,
        passive_share=figures.passive_share,
        detractor_share=figures.detractor_share,
        satisfied_share=figures.satisfied_share,
        trend=[MonthOut(month=p.month, answers=p.answers, score=p.score) for p in figures.trend],
    ).model_dump(mode="json")


@router.get("/surveys", response={200: SurveyPageOut, **ERRORS}, url_name="service_surveys")
def survey_list(
    request: HttpRequest, cursor: str | None = None, limit: int | None = Query(None, ge=1)
) -> HttpResponse:
    """Surveys the caller may see, newest first."""
    page = selectors.survey_list(actor=actor_of(request), cursor=cursor, limit=clamp_limit(limit))
    return json_response(page_json(page_out(page, SurveyOut)))


@router.post("/surveys", response={201: SurveyOut, **ERRORS}, url_name="service_survey_create")
def survey_create(request: HttpRequest, payload: SurveyIn) -> HttpResponse:
    """A draft survey; ``audience`` is a customer-list query string (e.g. ``stage=customer``)."""
    actor = actor_of(request)
    data = payload.model_dump()
    data["kind"] = str(data["kind"])

    def create() -> object:
        with hidden_if_denied():
            return services.survey_create(actor=actor, data=data)

    return create_response(
        request,
        create=create,  # type: ignore[arg-type]
        schema=SurveyOut,
        location=lambda obj: reverse("api:service_survey_detail", args=[obj.pk]),
    )


@router.get("/surveys/csat", response={200: FiguresOut, **ERRORS}, url_name="service_survey_csat")
def survey_csat(request: HttpRequest, days: int = Query(365, ge=1, le=3660)) -> HttpResponse:
    """The CSAT figures of tickets' invitations over the last ``days`` days."""
    return json_response(_figures(selectors.csat_figures(actor=actor_of(request), days=days)))


@router.get(
    "/surveys/csat/answers",
    response={200: AnswerPageOut, **ERRORS},
    url_name="service_survey_csat_answers",
)
def survey_csat_answers(
    request: HttpRequest, cursor: str | None = None, limit: int | None = Query(None, ge=1)
) -> HttpResponse:
    """CSAT answers with a comment, newest first."""
    page = selectors.survey_comments(
        actor=actor_of(request), kind=SurveyKind.CSAT, cursor=cursor, limit=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, AnswerOut)))


@router.get(
    "/surveys/{survey_id}",
    response={200: SurveyDetailOut, **ERRORS},
    url_name="service_survey_detail",
)
def survey_detail(request: HttpRequest, survey_id: int) -> HttpResponse:
    """One survey with its figures: score, shares and the trend by month."""
    actor = actor_of(request)
    survey = selectors.survey_get(actor=actor, pk=survey_id)
    data = dump(SurveyOut, survey)
    data["figures"] = _figures(selectors.survey_figures(actor=actor, survey=survey))
    return json_response(data, instance=survey)


@router.get(
    "/surveys/{survey_id}/answers",
    response={200: AnswerPageOut, **ERRORS},
    url_name="service_survey_answers",
)
def survey_answers(
    request: HttpRequest,
    survey_id: int,
    cursor: str | None = None,
    limit: int | None = Query(None, ge=1),
) -> HttpResponse:
    """The survey's answers with a comment, newest first."""
    actor = actor_of(request)
    survey = selectors.survey_get(actor=actor, pk=survey_id)
    page = selectors.survey_comments(
        actor=actor, survey=survey, cursor=cursor, limit=clamp_limit(limit)
    )
    return json_response(page_json(page_out(page, AnswerOut)))


@router.post(
    "/surveys/{survey_id}/send",
    response={202: SendOut, **ERRORS},
    url_name="service_survey_send",
)
def survey_send(request: HttpRequest, survey_id: int) -> HttpResponse:
    """Send a draft survey to its audience in the background; follow the job's progress."""
    with hidden_if_denied():
        job_id = services.survey_send(actor=actor_of(request), survey_id=survey_id)
    url = reverse("platform:job_detail", args=[job_id])
    return json_response({"job_id": job_id, "job_url": url}, status=202)

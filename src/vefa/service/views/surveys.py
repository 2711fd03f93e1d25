"""Survey pages: the list with the CSAT figures, one survey (NPS score, shares, the trend by
month, comments), the new-survey form, sending, and the public answer page.

The answer page needs no login: the token in the address is the only key. An unknown,
answered or expired link gets the same "no longer valid" page with status 404. The page
speaks the invitation's language (right to left for Persian).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vefa.accounts.access import can, can_create
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.interactions.forms import apply_errors
from vefa.interactions.views._helpers import actor_of, hidden_as_404, is_htmx
from vefa.service.choices import SurveyKind, SurveyStatus
from vefa.service.forms.surveys import AnswerForm, SurveyForm
from vefa.service.models import Survey, SurveyInvitation
from vefa.service.selectors import surveys as selectors
from vefa.service.selectors.surveys import Figures
from vefa.service.services import surveys as services

COMMENTS_PAGE = 25

# The trend chart (inline SVG, drawn on the server; scales through its viewBox).
WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 12, 30


def trend_svg(figures: Figures) -> SafeString:
    """The score by month as a line with a dot per month (each with a ``<title>``)."""
    points = [p for p in figures.trend if p.score is not None]
    if not points:
        return mark_safe("")
    low, high = (-100, 100) if figures.kind == SurveyKind.NPS else (0, 100)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def y(value: int) -> float:
        return TOP + plot_h - (value - low) / (high - low) * plot_h

    label = _("NPS by month") if figures.kind == SurveyKind.NPS else _("CSAT by month")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="vefa-chart w-100 h-auto" role="img" direction="ltr" '
        f'aria-label="{escape(label)}" font-size="11" font-family="system-ui, sans-serif">'
    ]
    for tick in (low, (low + high) // 2, high):
        ty = y(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="#dee2e6"/><text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" '
            f'fill="#6c757d">{tick}</text>'
        )
    coords = [(LEFT + i * step, y(int(p.score or 0))) for i, p in enumerate(points)]
    line = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords)
    parts.append(f'<polyline points="{line}" fill="none" stroke="#0d6efd" stroke-width="2"/>')
    for (x, yy), point in zip(coords, points, strict=True):
        month = date_format(point.month, "YEAR_MONTH_FORMAT")
        title = _("%(month)s: %(score)s from %(answers)d answers") % {
            "month": month,
            "score": point.score,
            "answers": point.answers,
        }
        parts.append(
            f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="4" fill="#0d6efd">'
            f"<title>{escape(title)}</title></circle>"
            f'<text x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle" fill="#6c757d">'
            f"{escape(date_format(point.month, 'm/Y'))}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (numbers and escaped text only)


# --- staff pages ---------------------------------------------------------------------------


@login_required
@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    page = selectors.survey_list(actor=actor, cursor=request.GET.get("cursor"))
    context = {
        "page": page,
        "csat": selectors.csat_figures(actor=actor),
        "can_create": can_create(actor, Survey),
        "survey_base": reverse("service:survey_list"),
    }
    if is_htmx(request):
        return render(request, "service/surveys/survey_list.html#survey-rows", context)
    return render(request, "service/surveys/survey_list.html", context)


def _comments_context(request: HttpRequest, page: Any) -> dict[str, Any]:
    params = request.GET.copy()
    params.pop("cursor", None)
    return {"comments": page, "base_query": params.urlencode()}


@login_required
@require_GET
@hidden_as_404
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    survey = selectors.survey_get(actor=actor, pk=pk)
    comments = selectors.survey_comments(
        actor=actor, survey=survey, cursor=request.GET.get("cursor"), limit=COMMENTS_PAGE
    )
    context = _comments_context(request, comments)
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "service/surveys/survey_detail.html#comment-rows", context)
    figures = selectors.survey_figures(actor=actor, survey=survey)
    context.update(
        {
            "survey": survey,
            "figures": figures,
            "chart": trend_svg(figures),
            "can_send": survey.status == SurveyStatus.DRAFT and can(actor, "change", survey),
        }
    )
    return render(request, "service/surveys/survey_detail.html", context)


@login_required
@require_GET
def survey_csat(request: HttpRequest) -> HttpResponse:
    """The CSAT answers of tickets: score, shares, trend and comments."""
    actor = actor_of(request)
    comments = selectors.survey_comments(
        actor=actor, kind=SurveyKind.CSAT, cursor=request.GET.get("cursor"), limit=COMMENTS_PAGE
    )
    context = _comments_context(request, comments)
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "service/surveys/survey_detail.html#comment-rows", context)
    figures = selectors.csat_figures(actor=actor)
    context.update({"survey": None, "figures": figures, "chart": trend_svg(figures)})
    return render(request, "service/surveys/survey_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@hidden_as_404
def survey_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not can_create(actor, Survey):
        raise NotFound(_("Not found."))
    if request.method == "POST":
        form = SurveyForm(request.POST)
        if form.is_valid():
            try:
                survey = services.survey_create(actor=actor, data=form.cleaned_data)
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                return HttpResponseRedirect(reverse("service:survey_detail", args=[survey.pk]))
    else:
        form = SurveyForm(initial={"audience": request.GET.get("audience", "")[:4000]})
    return render(
        request,
        "service/surveys/survey_form.html",
        {"form": form},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
@hidden_as_404
def survey_send(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    survey = selectors.survey_get(actor=actor, pk=pk)
    try:
        job_id = services.survey_send(actor=actor, survey_id=survey.pk)
    except ValidationFailed as exc:
        figures = selectors.survey_figures(actor=actor, survey=survey)
        comments = selectors.survey_comments(actor=actor, survey=survey, limit=COMMENTS_PAGE)
        context = _comments_context(request, comments)
        context.update(
            {
                "survey": survey,
                "figures": figures,
                "chart": trend_svg(figures),
                "can_send": False,
                "send_errors": [m for msgs in exc.fields.values() for m in msgs]
                or [str(exc.message)],
            }
        )
        return render(request, "service/surveys/survey_detail.html", context, status=422)
    except PermissionDenied:
        raise NotFound(_("Not found.")) from None
    return HttpResponseRedirect(reverse("platform:job_detail", args=[job_id]))


# --- the public answer page ------------------------------------------------------------------


def _scale(kind: str) -> list[int]:
    low, high = services.SCALES[kind]
    return list(range(low, high + 1))


def _answer_language(invitation: SurveyInvitation | None) -> str:
    codes = [code for code, _n in settings.LANGUAGES]
    if invitation is not None and invitation.language in codes:
        return invitation.language
    return translation.get_language() or settings.LANGUAGE_CODE


def _render_answer(
    request: HttpRequest,
    invitation: SurveyInvitation | None,
    form: AnswerForm | None,
    *,
    done: bool = False,
    status: int = 200,
) -> HttpResponse:
    """The page in the invitation's language (the caller has switched to it)."""
    question = ""
    if invitation is not None:
        if invitation.survey is not None and invitation.survey.question:
            question = invitation.survey.question
        elif invitation.kind == SurveyKind.CSAT:
            question = _("How satisfied are you with how we handled your request?")
        else:
            question = _("How likely are you to recommend us to a friend or colleague?")
    response = render(
        request,
        "service/surveys/answer.html",
        {
            "invitation": invitation,
            "form": form,
            "done": done,
            "question": question,
            "scale": _scale(invitation.kind) if invitation is not None else [],
            "low_label": _low_label(invitation),
            "high_label": _high_label(invitation),
            "company": str(getattr(settings, "VEFA_COMPANY_NAME", "") or "Vefa"),
        },
        status=status,
    )
    # The token must not leak to other sites; same-origin keeps the Origin header on the
    # form post (with "no-referrer" browsers send "Origin: null" and the CSRF check fails).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def _low_label(invitation: SurveyInvitation | None) -> str:
    if invitation is None:
        return ""
    if invitation.kind == SurveyKind.CSAT:
        return _("Very unsatisfied")
    return _("Not at all likely")


def _high_label(invitation: SurveyInvitation | None) -> str:
    if invitation is None:
        return ""
    if invitation.kind == SurveyKind.CSAT:
        return _("Very satisfied")
    return _("Extremely likely")


@never_cache
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation: SurveyInvitation | None = services.invitation_for_token(token)
    except NotFound:
        invitation = None
    with translation.override(_answer_language(invitation)):
        if invitation is None:
            return _render_answer(request, None, None, status=404)
        if request.method == "GET":
            return _render_answer(request, invitation, AnswerForm())
        form = AnswerForm(request.POST)
        if not form.is_valid():
            # Only a comment over the limit gets here; the score is checked by the service.
            return _render_answer(request, invitation, form, status=422)
        try:
            services.survey_answer(
                token=token,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except NotFound:
            return _render_answer(request, None, None, status=404)
        except ValidationFailed as exc:
            apply_errors(form, exc)
            return _render_answer(request, invitation, form, status=422)
        return _render_answer(request, invitation, None, done=True)


urlpatterns = [
    path("surveys/", survey_list, name="survey_list"),
    path("surveys/new/", survey_create, name="survey_create"),
    path("surveys/csat/", survey_csat, name="survey_csat"),
    path("surveys/<int:pk>/", survey_detail, name="survey_detail"),
    path("surveys/<int:pk>/send/", survey_send, name="survey_send"),
    path("survey/<str:token>/", survey_answer, name="survey_answer"),
]

"""Pages of the accounts app: log in and out, language, profile, API tokens, record access."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from vefa.accounts import selectors, services
from vefa.accounts.forms import (
    EmailChangeForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RecordAccessForm,
    TokenCreateForm,
    apply_errors,
)
from vefa.accounts.models import User
from vefa.common.errors import NotFound, ValidationFailed

THROTTLED_STATUS = 429


def client_ip(request: HttpRequest) -> str:
    """The address the request came from, as the server saw it.

    ``X-Forwarded-For`` is not trusted: anyone can send it, and a throttle keyed on it could be
    dodged by inventing addresses. A proxy in front should set ``REMOTE_ADDR`` itself.
    """
    return str(request.META.get("REMOTE_ADDR") or "unknown")[:45]


def safe_next(request: HttpRequest, candidate: object, default: str) -> str:
    """``candidate`` if it is a local URL (never another host or scheme), else ``default``."""
    if (
        isinstance(candidate, str)
        and candidate
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return default


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- log in, log out, language -------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """E-mail and password; refused for a while after repeated failures (HTTP 429)."""
    raw_next = request.POST.get("next") if request.method == "POST" else request.GET.get("next")
    next_url = safe_next(request, raw_next, "")

    def done() -> HttpResponse:
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))

    if request.user.is_authenticated and request.method == "GET":
        return done()
    form = LoginForm(request.POST if request.method == "POST" else None)
    status = 200
    alert = ""
    if request.method == "POST":
        email = str(request.POST.get("email", ""))[:254]
        address = client_ip(request)
        if services.login_is_throttled(email=email, ip_address=address):
            # The same answer whether or not the e-mail exists; the password is not checked.
            form = LoginForm(initial={"email": email})
            alert = _("Too many failed attempts. Wait %(minutes)d minutes and try again.") % {
                "minutes": max(1, settings.LOGIN_FAILURE_WINDOW_SECONDS // 60)
            }
            status = THROTTLED_STATUS
        elif form.is_valid():
            user = authenticate(
                request, username=form.cleaned_data["email"], password=form.cleaned_data["password"]
            )
            if user is None:
                services.login_failure_record(email=email, ip_address=address)
                form.add_error(None, _("The e-mail or the password is not correct."))
            else:
                services.login_failures_clear(email=email)
                # login() gives the session a new key, so a key planted before login is useless.
                login(request, user)
                response = done()
                if getattr(user, "language", ""):
                    _set_language_cookie(response, user.language)
                return response
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": next_url, "alert": alert},
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """End the session (POST only, so a link or an image cannot log anyone out)."""
    logout(request)
    messages.info(request, _("You are logged out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE or 60 * 60 * 24 * 365,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
    )


@require_POST
def set_language_view(request: HttpRequest) -> HttpResponse:
    """Switch the interface language: saved on the user (if logged in) and in a cookie."""
    default = (
        resolve_url(settings.LOGIN_REDIRECT_URL)
        if request.user.is_authenticated
        else reverse("accounts:login")
    )
    next_url = safe_next(request, request.POST.get("next"), default)
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(next_url)
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("Choose one of the offered languages."))
        return response
    if request.user.is_authenticated:
        services.user_set_language(user=_user(request), language=language)
    translation.activate(language)
    _set_language_cookie(response, language)
    return response


# --- profile -------------------------------------------------------------------------------


def _profile_forms(user: User) -> dict[str, object]:
    return {
        "profile_form": ProfileForm(
            initial={
                "full_name": user.full_name,
                "language": user.language,
                "time_zone": user.time_zone,
            }
        ),
        "email_form": EmailChangeForm(),
        "password_form": PasswordChangeForm(),
    }


@sensitive_post_parameters("password", "current_password", "new_password", "new_password_again")
@login_required
@require_http_methods(["GET", "POST"])
def profile_view(request: HttpRequest) -> HttpResponse:
    """Name, language, time zone; e-mail and password changes ask for the current password."""
    user = _user(request)
    context = _profile_forms(user)
    status = 200
    if request.method == "POST":
        which = request.POST.get("form", "")
        try:
            if which == "profile":
                form = ProfileForm(request.POST)
                context["profile_form"] = form
                if form.is_valid():
                    services.user_update_profile(
                        actor=user,
                        user=user,
                        full_name=form.cleaned_data["full_name"],
                        language=form.cleaned_data["language"],
                        time_zone=form.cleaned_data["time_zone"],
                    )
                    response = redirect("accounts:profile")
                    if form.cleaned_data["language"]:
                        _set_language_cookie(response, form.cleaned_data["language"])
                    messages.success(request, _("Your profile is saved."))
                    return response
            elif which == "email":
                email_form = EmailChangeForm(request.POST)
                context["email_form"] = email_form
                address = client_ip(request)
                if services.login_is_throttled(email=user.email, ip_address=address):
                    email_form = EmailChangeForm()
                    context["email_form"] = email_form
                    context["email_alert"] = _(
                        "Too many failed attempts. Wait a few minutes and try again."
                    )
                    status = THROTTLED_STATUS
                elif email_form.is_valid():
                    try:
                        services.user_change_email(
                            actor=user,
                            user=user,
                            email=email_form.cleaned_data["email"],
                            password=email_form.cleaned_data["password"],
                        )
                    except ValidationFailed as exc:
                        if "password" in exc.fields:
                            # A wrong password here counts like a failed login.
                            services.login_failure_record(email=user.email, ip_address=address)
                        raise
                    messages.success(request, _("Your e-mail is changed."))
                    return redirect("accounts:profile")
            elif which == "password":
                password_form = PasswordChangeForm(request.POST)
                context["password_form"] = password_form
                if password_form.is_valid():
                    updated = services.user_change_password(
                        actor=user,
                        user=user,
                        current_password=password_form.cleaned_data["current_password"],
                        new_password=password_form.cleaned_data["new_password"],
                    )
                    update_session_auth_hash(request, updated)
                    messages.success(
                        request, _("Your password is changed; your other sessions have ended.")
                    )
                    return redirect("accounts:profile")
            elif which == "sessions":
                updated = services.user_end_sessions(actor=user, user=user)
                update_session_auth_hash(request, updated)
                messages.success(request, _("You are logged out everywhere else."))
                return redirect("accounts:profile")
            else:
                messages.error(request, _("Unknown form."))
                return redirect("accounts:profile")
        except ValidationFailed as exc:
            target = {
                "profile": context["profile_form"],
                "email": context["email_form"],
                "password": context["password_form"],
            }[which]
            apply_errors(target, exc)  # type: ignore[arg-type]
    return render(request, "accounts/profile.html", context, status=status)


# --- API tokens ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def tokens_view(request: HttpRequest) -> HttpResponse:
    """The user's own API tokens; a new token's key is shown on this response only."""
    user = _user(request)
    form = TokenCreateForm(request.POST if request.method == "POST" else None)
    new_key = ""
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            new_token, new_key = services.api_token_create(
                actor=user, user=user, name=form.cleaned_data["name"], expires_at=form.expires_at()
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            form = TokenCreateForm()
    page = selectors.api_tokens_of(actor=user, cursor=request.GET.get("cursor"), size=50)
    response = render(
        request,
        "accounts/tokens.html",
        {"form": form, "page": page, "new_key": new_key, "new_token": new_token},
    )
    # The key must not linger in any cache or in the browser's back/forward history.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    try:
        token = selectors.api_token_get(actor=user, token_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    services.api_token_revoke(actor=user, token=token)
    messages.success(request, _("The token %(name)s is revoked.") % {"name": token.name})
    return redirect("accounts:tokens")


# --- who can see this record ---------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def record_access_view(request: HttpRequest) -> HttpResponse:
    """For administrators: every active user and whether they may view, change, delete a record."""
    user = _user(request)
    if not user.is_admin:
        # Not an admin: the page does not exist for them.
        raise Http404(_("Not found."))
    types = selectors.record_types()
    form = RecordAccessForm(
        request.GET if "model" in request.GET else None,
        choices=[(t.label, f"{t.name} ({t.label})") for t in types],
    )
    record = None
    record_label = ""
    table = None
    status = 200
    if form.is_bound and form.is_valid():
        try:
            record = selectors.record_for_access_check(
                actor=user,
                label=form.cleaned_data["model"],
                object_id=form.cleaned_data["object_id"],
            )
        except NotFound:
            form.add_error("object_id", _("There is no such record."))
            status = 404
        else:
            record_label = next(t.name for t in types if t.label == form.cleaned_data["model"])
            table = selectors.record_access(
                actor=user, obj=record, cursor=request.GET.get("cursor"), size=100
            )
    return render(
        request,
        "accounts/record_access.html",
        {"form": form, "record": record, "record_label": record_label, "table": table},
        status=status,
    )

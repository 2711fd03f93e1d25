"""Writes of users, teams and API tokens, and the login throttle.

Every function here is the one way to make its change: the admin, the pages, the API and the
``vefa`` command all call them. ``actor`` is the person doing it; ``None`` means the system
itself (``vefa init``, ``vefa token``, demo data), which is trusted.
"""

from __future__ import annotations

import datetime
import secrets
import zoneinfo
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vefa.accounts.choices import Role
from vefa.accounts.models import ApiToken, LoginFailure, Team, User
from vefa.common.errors import PermissionDenied, ValidationFailed
from vefa.platform.audit import log_change, snapshot
from vefa.platform.records import record_create, record_update

TOKEN_PREFIX = "vefa_"  # noqa: S105 (a public prefix that makes leaked keys easy to find)
# Last-used time is written at most this often per token, so busy clients do not turn every
# API read into a write.
TOKEN_TOUCH_INTERVAL = datetime.timedelta(minutes=1)
MAX_NAME_LENGTH = 150
MAX_TOKEN_NAME_LENGTH = 100
MAX_TEAM_NAME_LENGTH = 100

# Fields an administrator may change on another user (``user_update``).
USER_ADMIN_FIELDS = ("email", "full_name", "role", "team", "language", "time_zone")


def _invalid(fields: dict[str, list[str]]) -> ValidationFailed:
    return ValidationFailed(_("Please correct the errors below."), fields=fields)


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(_("Only administrators can manage users."))


def _require_self_or_admin(actor: User | None, user: User) -> None:
    if actor is not None and actor.pk != user.pk and not actor.is_admin:
        raise PermissionDenied(_("You can only change your own account."))


@cache
def time_zones() -> frozenset[str]:
    """Every IANA time zone name this machine knows."""
    return frozenset(zoneinfo.available_timezones())


def _clean_text(value: object) -> str:
    return " ".join(str(value or "").split()) if isinstance(value, str) else ""


def _check_full_name(value: object, errors: dict[str, list[str]]) -> str:
    if not isinstance(value, str) or not value.strip():
        errors["full_name"] = [_("This field is required.")]
        return ""
    name = _clean_text(value)
    if len(name) > MAX_NAME_LENGTH:
        errors["full_name"] = [
            _("At most %(n)d characters (it has %(length)d).")
            % {"n": MAX_NAME_LENGTH, "length": len(name)}
        ]
    return name


def _check_email(value: object, errors: dict[str, list[str]], *, field: str = "email") -> str:
    email = value.strip().lower() if isinstance(value, str) else ""
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        errors[field] = [_("Enter a valid e-mail address.")]
    return email


def _check_language(value: object, errors: dict[str, list[str]]) -> str:
    if value in ("", None):
        return ""
    if not isinstance(value, str) or value not in dict(settings.LANGUAGES):
        errors["language"] = [_("Choose one of the offered languages.")]
        return ""
    return value


def _check_time_zone(value: object, errors: dict[str, list[str]]) -> str:
    if not isinstance(value, str) or value not in time_zones():
        errors["time_zone"] = [_("Choose a time zone from the list, such as Europe/Istanbul.")]
        return "UTC"
    return value


def _check_role(value: object, errors: dict[str, list[str]]) -> str:
    if not isinstance(value, str) or value not in Role.values:
        errors["role"] = [_("Choose a valid role.")]
        return Role.READ_ONLY
    return value


def _check_password(
    password: str, user: User, errors: dict[str, list[str]], *, field: str = "password"
) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors[field] = [str(m) for m in exc.messages]


def _email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    qs = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _concrete(user: User) -> User:
    """The user as a model instance (views pass ``request.user``, a lazy proxy)."""
    return user if type(user) is User else User.objects.get(pk=user.pk)


def _user_snapshot(user: User) -> dict[str, object]:
    return snapshot(user)


# --- users -----------------------------------------------------------------------------


def user_create(
    *,
    actor: User | None,
    email: str,
    full_name: str,
    password: str | None,
    role: str = Role.SALES_REP,
    team: Team | None = None,
    language: str = "",
    time_zone: str = "UTC",
) -> User:
    """Create a user; administrators get Django admin rights with the role.

    ``password`` None or empty leaves the user without a usable password (they cannot log in
    until one is set). ``actor`` None means the system (init, demo data).
    """
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    email = _check_email(email, errors)
    full_name = _check_full_name(full_name, errors)
    role = _check_role(role, errors)
    language = _check_language(language, errors)
    time_zone = _check_time_zone(time_zone, errors)
    if "email" not in errors and _email_taken(email):
        errors["email"] = [_("A user with this e-mail already exists.")]
    if password is not None and not isinstance(password, str):
        errors["password"] = [_("Enter a valid password.")]
    elif password:
        _check_password(password, User(email=email, full_name=full_name), errors)
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        user = User.objects.create_user(
            email=email,
            password=password or None,
            full_name=full_name,
            role=role,
            team=team,
            language=language,
            time_zone=time_zone,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        log_change(
            actor=actor, instance=user, action="create", before=None, after=_user_snapshot(user)
        )
    return user


def user_update(*, actor: User | None, user: User, data: dict[str, Any]) -> User:
    """An administrator changes another user's e-mail, name, role, team, language or time zone.

    The administrator rights (``is_staff``, ``is_superuser``) follow the role. Administrators
    change their own e-mail on the profile page, which asks for the password first.
    """
    _require_admin(actor)
    unknown = sorted(set(data) - set(USER_ADMIN_FIELDS))
    if unknown:
        raise _invalid({key: [_("Unknown field.")] for key in unknown})
    errors: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    if "email" in data:
        email = _check_email(data["email"], errors)
        if "email" not in errors and email != user.email:
            if actor is not None and actor.pk == user.pk:
                errors["email"] = [
                    _("Change your own e-mail on your profile page; it asks for your password.")
                ]
            elif _email_taken(email, exclude_pk=user.pk):
                errors["email"] = [_("A user with this e-mail already exists.")]
        changes["email"] = email
    if "full_name" in data:
        changes["full_name"] = _check_full_name(data["full_name"], errors)
    if "role" in data:
        role = _check_role(data["role"], errors)
        if actor is not None and actor.pk == user.pk and role != Role.ADMIN and user.is_admin:
            errors["role"] = [_("You cannot take away your own administrator role.")]
        changes["role"] = role
        changes["is_staff"] = changes["is_superuser"] = role == Role.ADMIN
    if "team" in data:
        team = data["team"]
        if team is not None and not isinstance(team, Team):
            errors["team"] = [_("Choose a valid team.")]
        changes["team"] = team
    if "language" in data:
        changes["language"] = _check_language(data["language"], errors)
    if "time_zone" in data:
        changes["time_zone"] = _check_time_zone(data["time_zone"], errors)
    if errors:
        raise _invalid(errors)
    return record_update(_concrete(user), actor=actor, data=changes)


def user_update_profile(
    *, actor: User, user: User, full_name: str, language: str, time_zone: str
) -> User:
    """A user changes their own name, interface language and time zone."""
    _require_self_or_admin(actor, user)
    errors: dict[str, list[str]] = {}
    changes = {
        "full_name": _check_full_name(full_name, errors),
        "language": _check_language(language, errors),
        "time_zone": _check_time_zone(time_zone, errors),
    }
    if errors:
        raise _invalid(errors)
    return record_update(_concrete(user), actor=actor, data=changes)


def user_change_email(*, actor: User, user: User, email: str, password: str) -> User:
    """A user changes their own e-mail after typing their current password again.

    Re-authentication closes the takeover where a borrowed session changes the e-mail to the
    attacker's and then resets the password.
    """
    if actor.pk != user.pk:
        raise PermissionDenied(_("You can only change your own account."))
    errors: dict[str, list[str]] = {}
    if not isinstance(password, str) or not password or not user.check_password(password):
        errors["password"] = [_("Your current password is not correct.")]
    new_email = _check_email(email, errors)
    if (
        "email" not in errors
        and new_email != user.email
        and _email_taken(new_email, exclude_pk=user.pk)
    ):
        errors["email"] = [_("A user with this e-mail already exists.")]
    if errors:
        raise _invalid(errors)
    return record_update(_concrete(user), actor=actor, data={"email": new_email})


def user_change_password(
    *, actor: User, user: User, current_password: str, new_password: str
) -> User:
    """A user sets a new password after typing the current one.

    The session hash depends on the password, so every other session of the user ends; the
    caller keeps the current one with ``update_session_auth_hash``.
    """
    if actor.pk != user.pk:
        raise PermissionDenied(_("You can only change your own account."))
    errors: dict[str, list[str]] = {}
    if not isinstance(current_password, str) or not user.check_password(current_password):
        errors["current_password"] = [_("Your current password is not correct.")]
    if not isinstance(new_password, str) or not new_password:
        errors["new_password"] = [_("This field is required.")]
    else:
        _check_password(new_password, user, errors, field="new_password")
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        # The change log records that the password changed, never the hash.
        log_change(
            actor=actor,
            instance=user,
            action="update",
            before={"password": "***"},
            after={"password": "*** (changed)"},
        )
    return user


def user_set_password(*, actor: User | None, user: User, password: str) -> User:
    """An administrator (or the system) sets a user's password, e.g. after they forgot it.

    Every session of the user ends: whoever knew the old password is logged out.
    """
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    if not isinstance(password, str) or not password:
        errors["password"] = [_("This field is required.")]
    else:
        _check_password(password, user, errors)
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        user.set_password(password)
        user.session_epoch += 1
        user.save(update_fields=["password", "session_epoch"])
        log_change(
            actor=actor,
            instance=user,
            action="update",
            before={"password": "***"},
            after={"password": "*** (set by an administrator)"},
        )
    return user


def user_ensure_first_admin(*, email: str, password: str, require: bool) -> User | None:
    """Create the first administrator unless one exists (used by ``vefa init``).

    Returns ``None`` when an active administrator exists already, so running init twice is
    harmless. With ``require`` a missing e-mail or password is an error.
    """
    if User.objects.filter(role=Role.ADMIN, is_active=True).exists():
        return None
    if not email or not password:
        if require:
            fields: dict[str, list[str]] = {}
            if not email:
                fields["email"] = [_("This field is required.")]
            if not password:
                fields["password"] = [_("This field is required.")]
            raise ValidationFailed(
                _("The first administrator needs an e-mail and a password."), fields=fields
            )
        return None
    return user_create(
        actor=None,
        email=email,
        full_name=_("Administrator"),
        password=password,
        role=Role.ADMIN,
    )


def user_set_active(*, actor: User | None, user: User, active: bool) -> User:
    """Activate or deactivate a user.

    Deactivation ends every session of the user at once (the session hash contains the
    epoch and the active flag) and revokes the user's API tokens.
    """
    _require_admin(actor)
    if actor is not None and user.pk == actor.pk and not active:
        raise ValidationFailed(
            _("You cannot deactivate yourself."),
            fields={"is_active": [_("You cannot deactivate yourself.")]},
        )
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active == active:
            return user
        before = _user_snapshot(user)
        user.is_active = active
        user.session_epoch += 1
        user.save(update_fields=["is_active", "session_epoch"])
        if not active:
            ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
        log_change(
            actor=actor, instance=user, action="update", before=before, after=_user_snapshot(user)
        )
    return user


def user_end_sessions(*, actor: User | None, user: User) -> User:
    """Log the user out everywhere (a lost phone, a shared computer) without deactivating."""
    _require_self_or_admin(actor, user)
    User.objects.filter(pk=user.pk).update(session_epoch=user.session_epoch + 1)
    user.refresh_from_db(fields=["session_epoch"])
    return user


def user_set_language(*, user: User, language: str) -> User:
    """Remember the user's interface language (chosen from the user menu)."""
    if not isinstance(language, str) or language not in dict(settings.LANGUAGES):
        raise ValidationFailed(
            _("Unknown language."), fields={"language": [_("Choose one of the offered languages.")]}
        )
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


# --- teams -----------------------------------------------------------------------------


def _check_team_name(name: object, errors: dict[str, list[str]], *, exclude_pk: int | None) -> str:
    if not isinstance(name, str) or not name.strip():
        errors["name"] = [_("This field is required.")]
        return ""
    clean = _clean_text(name)
    if len(clean) > MAX_TEAM_NAME_LENGTH:
        errors["name"] = [
            _("At most %(n)d characters (it has %(length)d).")
            % {"n": MAX_TEAM_NAME_LENGTH, "length": len(clean)}
        ]
        return clean
    qs = Team.objects.filter(name__iexact=clean)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        errors["name"] = [_("A team with this name already exists.")]
    return clean


def team_create(*, actor: User | None, name: str) -> Team:
    """Create a team (administrators only)."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    clean = _check_team_name(name, errors, exclude_pk=None)
    if errors:
        raise _invalid(errors)
    return record_create(Team(name=clean), actor=actor)


def team_rename(*, actor: User | None, team: Team, name: str) -> Team:
    """Rename a team (administrators only)."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    clean = _check_team_name(name, errors, exclude_pk=team.pk)
    if errors:
        raise _invalid(errors)
    return record_update(team, actor=actor, data={"name": clean})


# --- API tokens ------------------------------------------------------------------------


def api_token_create(
    *,
    actor: User | None,
    user: User,
    name: str,
    expires_at: datetime.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a personal token; the returned key is shown once and stored only as a hash.

    Users create their own tokens; administrators and the system (``vefa token``) may create
    one for anybody active.
    """
    if actor is not None and actor.pk != user.pk:
        _require_admin(actor)
    errors: dict[str, list[str]] = {}
    if name is not None and not isinstance(name, str):
        errors["name"] = [_("Enter a valid name.")]
        name = ""
    clean = _clean_text(name) or _("API token")
    if len(clean) > MAX_TOKEN_NAME_LENGTH:
        errors["name"] = [
            _("At most %(n)d characters (it has %(length)d).")
            % {"n": MAX_TOKEN_NAME_LENGTH, "length": len(clean)}
        ]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("The expiry must be in the future.")]
    if not user.is_active:
        errors["user"] = [_("This user is inactive.")]
    if errors:
        raise _invalid(errors)
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = record_create(
        ApiToken(
            user=user,
            name=clean,
            prefix=key[: len(TOKEN_PREFIX) + 6],
            key_hash=ApiToken.hash_key(key),
            expires_at=expires_at,
        ),
        actor=actor,
    )
    return token, key


def api_token_revoke(*, actor: User | None, token: ApiToken) -> ApiToken:
    """Revoke a token at once; revoking twice is harmless."""
    if actor is not None and actor.pk != token.user_id:
        _require_admin(actor)
    if token.revoked_at is not None:
        return token
    return record_update(token, actor=actor, data={"revoked_at": timezone.now()})


def api_token_authenticate(key: str) -> User | None:
    """The active user a token belongs to, updating its last-used time (at most each minute)."""
    if not isinstance(key, str) or not key.startswith(TOKEN_PREFIX) or len(key) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if token is None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        # A plain UPDATE: last use is bookkeeping, not a change anyone edits or audits.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- login throttling ------------------------------------------------------------------


def _normal_email(email: str) -> str:
    return (email if isinstance(email, str) else "").strip().lower()[:254]


def login_is_throttled(*, email: str, ip_address: str) -> bool:
    """Too many recent failures for this e-mail or from this address.

    The address limit is higher (several people may share an office's address) but stops a
    single machine from trying passwords across many e-mails.
    """
    since = timezone.now() - datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    recent = LoginFailure.objects.filter(time__gte=since)
    limit = settings.LOGIN_MAX_FAILURES
    normal = _normal_email(email)
    by_email = bool(normal) and recent.filter(email=normal).count() >= limit
    return by_email or recent.filter(ip_address=ip_address[:45]).count() >= limit * 4


def login_failure_record(*, email: str, ip_address: str) -> None:
    """Count one failed login for the e-mail and the address."""
    LoginFailure.objects.create(email=_normal_email(email), ip_address=ip_address[:45])


def login_failures_clear(*, email: str) -> None:
    """Forget the failures of an e-mail after a successful login (or an admin unblocking it)."""
    LoginFailure.objects.filter(email=_normal_email(email)).delete()


def login_failures_purge(*, older_than: datetime.timedelta | None = None) -> int:
    """Delete failures long past the throttling window; returns how many went."""
    window = datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    cutoff = timezone.now() - (older_than or window * 4)
    deleted, _detail = LoginFailure.objects.filter(time__lt=cutoff).delete()
    return deleted

"""Services of the accounts app: users, profiles, teams, tokens and the login throttle."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.accounts.conftest import HOSTILE, PASSWORD
from vefa.accounts import services
from vefa.accounts.choices import Role
from vefa.accounts.models import ApiToken, LoginFailure, Team, User
from vefa.common.errors import PermissionDenied, ValidationFailed
from vefa.platform.models import ChangeLogEntry


def log_of(instance) -> list[ChangeLogEntry]:
    return list(
        ChangeLogEntry.objects.filter(
            model=instance._meta.label_lower, object_id=instance.pk
        ).order_by("id")
    )


# --- user_create ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_admin_creates_a_user_and_the_change_log_keeps_no_secret(admin_user, team):
    user = services.user_create(
        actor=admin_user,
        email="  Ayse.Yilmaz@Example.COM ",
        full_name="  Ayşe   Yılmaz ",
        password="a-long-enough-passphrase",
        role=Role.SALES_MANAGER,
        team=team,
        language="tr",
        time_zone="Europe/Istanbul",
    )
    assert (user.email, user.full_name, user.role, user.team, user.language, user.time_zone) == (
        "ayse.yilmaz@example.com",
        "Ayşe Yılmaz",
        Role.SALES_MANAGER,
        team,
        "tr",
        "Europe/Istanbul",
    )
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert user.check_password("a-long-enough-passphrase")
    [entry] = log_of(user)
    assert entry.action == "create"
    assert entry.actor_id == admin_user.pk
    for secret in ("password", "ics_token", "session_epoch"):
        assert secret not in entry.after


@pytest.mark.django_db
def test_an_admin_role_brings_admin_rights():
    user = services.user_create(
        actor=None, email="boss@example.com", full_name="Boss", password=None, role=Role.ADMIN
    )
    assert (user.is_staff, user.is_superuser, user.is_admin) == (True, True, True)
    assert user.has_usable_password() is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"email": None}, "email"),
        ({"email": 42}, "email"),
        ({"email": "a" * 250 + "@example.com"}, "email"),
        ({"full_name": ""}, "full_name"),
        ({"full_name": "   "}, "full_name"),
        ({"full_name": None}, "full_name"),
        ({"full_name": 123}, "full_name"),
        ({"full_name": "x" * 10_000}, "full_name"),
        ({"role": "emperor"}, "role"),
        ({"role": None}, "role"),
        ({"language": "de"}, "language"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": None}, "time_zone"),
        ({"password": "short"}, "password"),
        ({"password": "password123"}, "password"),
        ({"password": 12345678901}, "password"),
    ],
)
def test_user_create_refuses_invalid_input_and_writes_nothing(admin_user, kwargs, field):
    data = {"email": "new@example.com", "full_name": "New Person", "password": None, **kwargs}
    before = User.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(actor=admin_user, **data)
    assert field in exc.value.fields
    assert User.objects.count() == before
    assert not ChangeLogEntry.objects.filter(model="accounts.user").exists()


@pytest.mark.django_db
def test_user_create_refuses_a_taken_email_whatever_its_case(admin_user, rep):
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(
            actor=admin_user, email=rep.email.upper(), full_name="Twin", password=None
        )
    assert exc.value.fields == {"email": ["A user with this e-mail already exists."]}


@pytest.mark.django_db
def test_only_admins_create_users(rep):
    with pytest.raises(PermissionDenied):
        services.user_create(actor=rep, email="x@example.com", full_name="X", password=None)
    assert not User.objects.filter(email="x@example.com").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_and_right_to_left_names_are_stored_as_typed(admin_user, name):
    user = services.user_create(
        actor=admin_user, email="h@example.com", full_name=name, password=None
    )
    user.refresh_from_db()
    assert user.full_name == " ".join(name.split())


# --- user_update (admin) -----------------------------------------------------------------


@pytest.mark.django_db
def test_an_admin_changes_role_and_team_and_rights_follow_the_role(admin_user, rep, other_team):
    updated = services.user_update(
        actor=admin_user, user=rep, data={"role": Role.ADMIN, "team": other_team}
    )
    assert (updated.role, updated.team, updated.is_staff, updated.is_superuser) == (
        Role.ADMIN,
        other_team,
        True,
        True,
    )
    [entry] = log_of(rep)
    assert entry.before["role"] == Role.SALES_REP
    assert entry.after["role"] == Role.ADMIN
    assert "password" not in entry.before
    demoted = services.user_update(actor=admin_user, user=updated, data={"role": Role.MARKETER})
    assert (demoted.is_staff, demoted.is_superuser) == (False, False)


@pytest.mark.django_db
def test_admins_cannot_demote_themselves_or_change_their_own_email_here(admin_user):
    with pytest.raises(ValidationFailed) as exc:
        services.user_update(actor=admin_user, user=admin_user, data={"role": Role.SALES_REP})
    assert list(exc.value.fields) == ["role"]
    with pytest.raises(ValidationFailed) as exc:
        services.user_update(actor=admin_user, user=admin_user, data={"email": "me@evil.test"})
    assert list(exc.value.fields) == ["email"]
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN
    assert log_of(admin_user) == []


@pytest.mark.django_db
def test_user_update_refuses_unknown_fields_and_non_admins(admin_user, rep, read_only):
    with pytest.raises(ValidationFailed) as exc:
        services.user_update(actor=admin_user, user=rep, data={"is_superuser": True})
    assert exc.value.fields == {"is_superuser": ["Unknown field."]}
    with pytest.raises(PermissionDenied):
        services.user_update(actor=read_only, user=rep, data={"role": Role.ADMIN})
    rep.refresh_from_db()
    assert (rep.role, rep.is_superuser) == (Role.SALES_REP, False)
    assert log_of(rep) == []


@pytest.mark.django_db
def test_user_update_refuses_an_email_taken_by_someone_else(admin_user, rep, manager):
    with pytest.raises(ValidationFailed) as exc:
        services.user_update(actor=admin_user, user=rep, data={"email": manager.email})
    assert exc.value.fields == {"email": ["A user with this e-mail already exists."]}


# --- profile, e-mail and password -----------------------------------------------------------


@pytest.mark.django_db
def test_a_user_updates_their_profile(rep):
    updated = services.user_update_profile(
        actor=rep, user=rep, full_name="مریم احمدی", language="fa", time_zone="Asia/Tehran"
    )
    assert (updated.full_name, updated.language, updated.time_zone) == (
        "مریم احمدی",
        "fa",
        "Asia/Tehran",
    )
    [entry] = log_of(rep)
    assert entry.actor_id == rep.pk
    assert entry.after["time_zone"] == "Asia/Tehran"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"language": "xx"}, "language"),
        ({"full_name": "n" * 10_000}, "full_name"),
        ({"full_name": ""}, "full_name"),
    ],
)
def test_profile_updates_refuse_invalid_values_and_change_nothing(rep, kwargs, field):
    data = {"full_name": "Fine Name", "language": "en", "time_zone": "UTC", **kwargs}
    with pytest.raises(ValidationFailed) as exc:
        services.user_update_profile(actor=rep, user=rep, **data)
    assert list(exc.value.fields) == [field]
    rep.refresh_from_db()
    assert rep.full_name != "Fine Name"
    assert log_of(rep) == []


@pytest.mark.django_db
def test_nobody_edits_another_users_profile_unless_admin(rep, teammate, admin_user):
    with pytest.raises(PermissionDenied):
        services.user_update_profile(
            actor=rep, user=teammate, full_name="Hacked", language="", time_zone="UTC"
        )
    teammate.refresh_from_db()
    assert teammate.full_name == "Tülay Teammate"
    services.user_update_profile(
        actor=admin_user, user=teammate, full_name="Fixed", language="", time_zone="UTC"
    )
    teammate.refresh_from_db()
    assert teammate.full_name == "Fixed"


@pytest.mark.django_db
def test_changing_ones_email_needs_the_current_password(rep):
    with pytest.raises(ValidationFailed) as exc:
        services.user_change_email(actor=rep, user=rep, email="new@example.com", password="wrong")
    assert exc.value.fields == {"password": ["Your current password is not correct."]}
    rep.refresh_from_db()
    assert rep.email != "new@example.com"
    assert log_of(rep) == []
    changed = services.user_change_email(
        actor=rep, user=rep, email="New@Example.com", password=PASSWORD
    )
    assert changed.email == "new@example.com"
    [entry] = log_of(rep)
    assert entry.after["email"] == "new@example.com"


@pytest.mark.django_db
def test_an_email_change_cannot_take_a_colleagues_address(rep, teammate):
    with pytest.raises(ValidationFailed) as exc:
        services.user_change_email(actor=rep, user=rep, email=teammate.email, password=PASSWORD)
    assert exc.value.fields == {"email": ["A user with this e-mail already exists."]}


@pytest.mark.django_db
def test_nobody_changes_another_users_email_with_this_service(rep, admin_user):
    with pytest.raises(PermissionDenied):
        services.user_change_email(
            actor=admin_user, user=rep, email="x@example.com", password=PASSWORD
        )


@pytest.mark.django_db
def test_a_password_change_needs_the_current_one_and_a_strong_new_one(rep):
    with pytest.raises(ValidationFailed) as exc:
        services.user_change_password(
            actor=rep, user=rep, current_password="nope", new_password="123"
        )
    assert set(exc.value.fields) == {"current_password", "new_password"}
    epoch_hash = rep.get_session_auth_hash()
    services.user_change_password(
        actor=rep, user=rep, current_password=PASSWORD, new_password="a-brand-new-passphrase"
    )
    rep.refresh_from_db()
    assert rep.check_password("a-brand-new-passphrase")
    assert rep.get_session_auth_hash() != epoch_hash
    [entry] = log_of(rep)
    assert "pbkdf2" not in str(entry.after) and "md5" not in str(entry.after)


@pytest.mark.django_db
def test_an_admin_sets_a_password_and_the_users_sessions_end(admin_user, rep):
    old_hash = rep.get_session_auth_hash()
    services.user_set_password(actor=admin_user, user=rep, password="another-long-passphrase")
    rep.refresh_from_db()
    assert rep.check_password("another-long-passphrase")
    assert rep.get_session_auth_hash() != old_hash
    with pytest.raises(PermissionDenied):
        services.user_set_password(actor=rep, user=admin_user, password="another-long-passphrase")


# --- activation ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deactivation_bumps_the_epoch_revokes_tokens_and_is_logged(admin_user, rep):
    token, _key = services.api_token_create(actor=rep, user=rep, name="Zapier")
    old_hash = rep.get_session_auth_hash()
    updated = services.user_set_active(actor=admin_user, user=rep, active=False)
    assert updated.is_active is False
    assert updated.session_epoch == rep.session_epoch + 1
    assert updated.get_session_auth_hash() != old_hash
    token.refresh_from_db()
    assert token.revoked_at is not None
    entries = [e for e in log_of(rep) if e.before and "is_active" in e.before]
    assert [(e.before["is_active"], e.after["is_active"]) for e in entries] == [(True, False)]
    # reactivation does not bring the old tokens back
    services.user_set_active(actor=admin_user, user=updated, active=True)
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.django_db
def test_activation_rules(admin_user, rep, manager):
    with pytest.raises(ValidationFailed):
        services.user_set_active(actor=admin_user, user=admin_user, active=False)
    with pytest.raises(PermissionDenied):
        services.user_set_active(actor=manager, user=rep, active=False)
    rep.refresh_from_db()
    assert rep.is_active is True
    # setting the same state twice changes nothing and logs nothing
    services.user_set_active(actor=admin_user, user=rep, active=True)
    assert log_of(rep) == []


@pytest.mark.django_db
def test_first_admin_is_created_once():
    first = services.user_ensure_first_admin(
        email="root@example.com", password="root-passphrase-long", require=True
    )
    assert first is not None and first.is_admin
    again = services.user_ensure_first_admin(
        email="other@example.com", password="root-passphrase-long", require=True
    )
    assert again is None
    assert list(User.objects.values_list("email", flat=True)) == ["root@example.com"]


@pytest.mark.django_db
def test_first_admin_needs_email_and_password_when_required():
    with pytest.raises(ValidationFailed) as exc:
        services.user_ensure_first_admin(email="", password="", require=True)
    assert set(exc.value.fields) == {"email", "password"}
    assert services.user_ensure_first_admin(email="", password="", require=False) is None
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_language_is_remembered_and_unknown_ones_refused(rep):
    services.user_set_language(user=rep, language="sr-latn")
    rep.refresh_from_db()
    assert rep.language == "sr-latn"
    for bad in ("klingon", "", None, 7):
        with pytest.raises(ValidationFailed):
            services.user_set_language(user=rep, language=bad)
    rep.refresh_from_db()
    assert rep.language == "sr-latn"


# --- teams -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_teams_are_created_and_renamed_by_admins(admin_user, rep):
    created = services.team_create(actor=admin_user, name="  Ege   Bölgesi ")
    assert created.name == "Ege Bölgesi"
    assert [e.action for e in log_of(created)] == ["create"]
    renamed = services.team_rename(actor=admin_user, team=created, name="Marmara")
    assert renamed.name == "Marmara"
    with pytest.raises(PermissionDenied):
        services.team_create(actor=rep, name="Rogue")
    with pytest.raises(ValidationFailed) as exc:
        services.team_create(actor=admin_user, name="marmara")
    assert exc.value.fields == {"name": ["A team with this name already exists."]}
    with pytest.raises(ValidationFailed):
        services.team_create(actor=admin_user, name="t" * 10_000)
    assert not Team.objects.filter(name="Rogue").exists()


# --- tokens ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_is_stored_only_as_a_hash(rep):
    token, key = services.api_token_create(actor=rep, user=rep, name="Integration")
    assert key.startswith("vefa_")
    assert len(key) > 40
    assert token.prefix == key[:11]
    assert token.key_hash == ApiToken.hash_key(key)
    row = ApiToken.objects.values().get(pk=token.pk)
    assert key not in [str(v) for v in row.values()]
    [entry] = log_of(token)
    assert "key_hash" not in entry.after
    assert key not in str(entry.after)


@pytest.mark.django_db
def test_token_authentication_and_last_use_at_most_once_a_minute(rep):
    token, key = services.api_token_create(actor=rep, user=rep, name="Sync")
    assert services.api_token_authenticate(key) == rep
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    # used again within the minute: no write
    assert services.api_token_authenticate(key) == rep
    token.refresh_from_db()
    assert token.last_used_at == first_use
    # a minute later the time moves on
    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=first_use - datetime.timedelta(seconds=61)
    )
    services.api_token_authenticate(key)
    token.refresh_from_db()
    assert token.last_used_at > first_use - datetime.timedelta(seconds=61)
    assert token.last_used_at >= first_use


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key", ["", "vefa_", "vefa_unknown", "Bearer x", "vefa_" + "a" * 300, None, 12]
)
def test_garbage_keys_authenticate_nobody(rep, key):
    services.api_token_create(actor=rep, user=rep, name="Real")
    assert services.api_token_authenticate(key) is None


@pytest.mark.django_db
def test_revoked_expired_and_inactive_users_tokens_do_not_work(admin_user, rep, teammate):
    revoked, revoked_key = services.api_token_create(actor=rep, user=rep, name="Old")
    services.api_token_revoke(actor=rep, token=revoked)
    expiring, expiring_key = services.api_token_create(
        actor=rep,
        user=rep,
        name="Short",
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    ApiToken.objects.filter(pk=expiring.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    _, mate_key = services.api_token_create(actor=teammate, user=teammate, name="Mate")
    services.user_set_active(actor=admin_user, user=teammate, active=False)
    assert services.api_token_authenticate(revoked_key) is None
    assert services.api_token_authenticate(expiring_key) is None
    assert services.api_token_authenticate(mate_key) is None


@pytest.mark.django_db
def test_token_rules(rep, teammate, admin_user):
    with pytest.raises(PermissionDenied):
        services.api_token_create(actor=rep, user=teammate, name="Not mine")
    with pytest.raises(ValidationFailed) as exc:
        services.api_token_create(actor=rep, user=rep, name="n" * 10_000)
    assert list(exc.value.fields) == ["name"]
    with pytest.raises(ValidationFailed) as exc:
        services.api_token_create(
            actor=rep, user=rep, name="Past", expires_at=timezone.now() - datetime.timedelta(1)
        )
    assert list(exc.value.fields) == ["expires_at"]
    assert ApiToken.objects.count() == 0
    token, _ = services.api_token_create(actor=admin_user, user=teammate, name="")
    assert token.name == "API token"
    with pytest.raises(PermissionDenied):
        services.api_token_revoke(actor=rep, token=token)
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.django_db
def test_revoking_twice_is_harmless_and_logged_once(rep):
    token, _ = services.api_token_create(actor=rep, user=rep, name="Twice")
    first = services.api_token_revoke(actor=rep, token=token)
    second = services.api_token_revoke(actor=rep, token=first)
    assert second.revoked_at == first.revoked_at
    assert [e.action for e in log_of(token)] == ["create", "update"]


# --- login throttling --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_throttle_counts_failures_per_email_and_per_address(settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        services.login_failure_record(email="A@Example.com", ip_address="10.0.0.1")
    assert services.login_is_throttled(email="a@example.com", ip_address="10.0.0.9") is False
    services.login_failure_record(email="a@example.com ", ip_address="10.0.0.1")
    assert services.login_is_throttled(email="a@example.com", ip_address="10.0.0.9") is True
    assert services.login_is_throttled(email="b@example.com", ip_address="10.0.0.9") is False
    # one address trying many e-mails is stopped at four times the limit
    for n in range(9):
        services.login_failure_record(email=f"u{n}@example.com", ip_address="10.0.0.1")
    assert services.login_is_throttled(email="new@example.com", ip_address="10.0.0.1") is True
    services.login_failures_clear(email="A@EXAMPLE.COM")
    assert services.login_is_throttled(email="a@example.com", ip_address="10.0.0.9") is False


@pytest.mark.django_db
def test_old_failures_fall_out_of_the_window_and_are_purged(settings):
    settings.LOGIN_MAX_FAILURES = 1
    services.login_failure_record(email="a@example.com", ip_address="10.0.0.1")
    long_ago = timezone.now() - datetime.timedelta(
        seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS * 5
    )
    LoginFailure.objects.update(time=long_ago)
    assert services.login_is_throttled(email="a@example.com", ip_address="10.0.0.2") is False
    services.login_failure_record(email="b@example.com", ip_address="10.0.0.1")
    assert services.login_failures_purge() == 1
    assert list(LoginFailure.objects.values_list("email", flat=True)) == ["b@example.com"]


@pytest.mark.django_db
def test_throttle_inputs_of_any_size_are_safe():
    services.login_failure_record(email="x" * 10_000, ip_address="1" * 100)
    assert LoginFailure.objects.get().email == "x" * 254
    assert services.login_is_throttled(email="x" * 10_000, ip_address="1" * 100) is False


@pytest.mark.django_db
def test_user_end_sessions_changes_the_session_hash(rep, teammate):
    old = rep.get_session_auth_hash()
    services.user_end_sessions(actor=rep, user=rep)
    assert rep.get_session_auth_hash() != old
    with pytest.raises(PermissionDenied):
        services.user_end_sessions(actor=rep, user=teammate)


def test_old_failed_logins_are_purged_by_a_periodic_job():
    from vefa.platform.periodic import jobs

    job = jobs()["accounts.purge_login_failures"]
    assert job.every == datetime.timedelta(hours=1)

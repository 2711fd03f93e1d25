"""The Django admin for users, teams, tokens and failed logins writes through services."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.accounts.conftest import login
from tests.factories import UserFactory
from vefa.accounts import services
from vefa.accounts.choices import Role
from vefa.accounts.models import LoginFailure, Team, User
from vefa.platform.models import ChangeLogEntry

USERS = "/admin/accounts/user/"


def user_log(user) -> list[ChangeLogEntry]:
    return list(ChangeLogEntry.objects.filter(model="accounts.user", object_id=user.pk))


@pytest.mark.django_db
def test_the_admin_is_closed_to_everyone_but_administrators(rep, manager):
    assert Client().get(USERS).status_code == 302
    for user in (rep, manager):
        assert login(user).get(USERS).status_code == 302


@pytest.mark.django_db
def test_the_user_list_links_to_who_can_see_a_record(admin_user, rep):
    response = login(admin_user).get(USERS)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/accounts/record-access/"' in html
    assert rep.email in html


@pytest.mark.django_db
def test_an_admin_adds_a_user_with_role_and_team(admin_user, team):
    response = login(admin_user).post(
        USERS + "add/",
        {
            "email": "New.Rep@Example.com",
            "full_name": "Yeni Temsilci",
            "role": Role.SALES_REP,
            "team": team.pk,
            "language": "tr",
            "time_zone": "Europe/Istanbul",
            "password": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.rep@example.com")
    assert (user.role, user.team, user.language, user.time_zone) == (
        Role.SALES_REP,
        team,
        "tr",
        "Europe/Istanbul",
    )
    assert user.check_password("a-long-enough-passphrase")
    assert [e.action for e in user_log(user)] == ["create"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "short"}, "This password is too short."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"time_zone": "Mars/Base"}, "Select a valid choice."),
        ({"full_name": "x" * 10_000}, "Ensure this value has at most 150 characters"),
        ({"role": "emperor"}, "Select a valid choice."),
    ],
)
def test_the_add_form_refuses_bad_input_before_saving(admin_user, changes, message):
    data = {
        "email": "ok@example.com",
        "full_name": "Ok",
        "role": Role.SALES_REP,
        "language": "",
        "time_zone": "UTC",
        "password": "a-long-enough-passphrase",
        **changes,
    }
    response = login(admin_user).post(USERS + "add/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_the_add_form_refuses_a_taken_email(admin_user, rep):
    data = {
        "email": rep.email.upper(),
        "full_name": "Twin",
        "role": Role.SALES_REP,
        "language": "",
        "time_zone": "UTC",
    }
    response = login(admin_user).post(USERS + "add/", data)
    assert "A user with this e-mail already exists." in response.content.decode()


@pytest.mark.django_db
def test_an_admin_changes_a_users_role_through_the_service(admin_user, rep, other_team):
    response = login(admin_user).post(
        f"{USERS}{rep.pk}/change/",
        {
            "email": rep.email,
            "full_name": rep.full_name,
            "role": Role.SALES_MANAGER,
            "team": other_team.pk,
            "language": "",
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.role, rep.team) == (Role.SALES_MANAGER, other_team)
    [entry] = user_log(rep)
    assert entry.actor_id == admin_user.pk
    assert entry.after["role"] == Role.SALES_MANAGER


@pytest.mark.django_db
def test_an_admin_cannot_demote_themselves_in_the_admin(admin_user):
    response = login(admin_user).post(
        f"{USERS}{admin_user.pk}/change/",
        {
            "email": admin_user.email,
            "full_name": admin_user.full_name,
            "role": Role.READ_ONLY,
            "language": "",
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 200
    assert "You cannot take away your own administrator role." in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN


@pytest.mark.django_db
def test_deactivate_and_activate_actions_go_through_the_service(admin_user, rep, teammate):
    client = login(admin_user)
    _t, key = services.api_token_create(actor=rep, user=rep, name="x")
    response = client.post(
        USERS,
        {"action": "deactivate", "_selected_action": [rep.pk, teammate.pk, admin_user.pk]},
    )
    assert response.status_code == 302
    states = dict(User.objects.values_list("pk", "is_active"))
    assert (states[rep.pk], states[teammate.pk], states[admin_user.pk]) == (False, False, True)
    assert services.api_token_authenticate(key) is None
    assert User.objects.get(pk=rep.pk).session_epoch == 1
    client.post(USERS, {"action": "activate", "_selected_action": [rep.pk]})
    assert User.objects.get(pk=rep.pk).is_active is True


@pytest.mark.django_db
def test_users_cannot_be_deleted_in_the_admin(admin_user, rep):
    response = login(admin_user).post(f"{USERS}{rep.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert User.objects.filter(pk=rep.pk).exists()


@pytest.mark.django_db
def test_an_admin_sets_a_password(admin_user, rep):
    client = login(admin_user)
    page = client.get(f"{USERS}{rep.pk}/change/")
    assert f"{USERS}{rep.pk}/password/" in page.content.decode()
    weak = client.post(
        f"{USERS}{rep.pk}/password/", {"password": "short", "password_again": "short"}
    )
    assert weak.status_code == 200
    assert "This password is too short." in weak.content.decode()
    response = client.post(
        f"{USERS}{rep.pk}/password/",
        {"password": "a-fresh-long-passphrase", "password_again": "a-fresh-long-passphrase"},
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.check_password("a-fresh-long-passphrase")
    assert client.get(f"{USERS}999999/password/").status_code == 404


@pytest.mark.django_db
def test_teams_are_added_and_renamed_through_services(admin_user):
    client = login(admin_user)
    assert client.post("/admin/accounts/team/add/", {"name": "Doğu"}).status_code == 302
    team = Team.objects.get(name="Doğu")
    client.post(f"/admin/accounts/team/{team.pk}/change/", {"name": "Güneydoğu"})
    team.refresh_from_db()
    assert team.name == "Güneydoğu"
    actions = list(
        ChangeLogEntry.objects.filter(model="accounts.team", object_id=team.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update"]


@pytest.mark.django_db
def test_tokens_are_read_only_in_the_admin_with_a_revoke_action(admin_user, rep):
    token, key = services.api_token_create(actor=rep, user=rep, name="<b>bold</b>")
    client = login(admin_user)
    listing = client.get("/admin/accounts/apitoken/")
    assert listing.status_code == 200
    assert "&lt;b&gt;bold&lt;/b&gt;" in listing.content.decode()
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403
    detail = client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    assert token.key_hash not in detail
    client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.api_token_authenticate(key) is None


@pytest.mark.django_db
def test_failed_logins_are_read_only_and_can_be_unblocked(admin_user, settings):
    settings.LOGIN_MAX_FAILURES = 1
    services.login_failure_record(email="locked@example.com", ip_address="10.1.1.1")
    failure = LoginFailure.objects.get()
    client = login(admin_user)
    assert client.get("/admin/accounts/loginfailure/").status_code == 200
    assert client.get("/admin/accounts/loginfailure/add/").status_code == 403
    client.post(
        "/admin/accounts/loginfailure/", {"action": "unblock", "_selected_action": [failure.pk]}
    )
    assert services.login_is_throttled(email="locked@example.com", ip_address="10.9.9.9") is False


@pytest.mark.django_db
def test_admin_role_users_reach_the_admin(team):
    boss = services.user_create(
        actor=None, email="boss@example.com", full_name="Boss", password=None, role=Role.ADMIN
    )
    assert login(boss).get(USERS).status_code == 200
    assert UserFactory(role=Role.SALES_REP).is_staff is False

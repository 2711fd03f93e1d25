"""Pages of the accounts app: log in and out, language, profile, tokens, record access."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from tests.accounts.conftest import HOSTILE, PASSWORD, login, make_record
from tests.factories import UserFactory
from vefa.accounts import services
from vefa.accounts.choices import Role
from vefa.accounts.models import ApiToken, LoginFailure, User
from vefa.platform.models import ChangeLogEntry

LOGIN = "/accounts/login/"
PROFILE = "/accounts/profile/"
TOKENS = "/accounts/tokens/"


@pytest.fixture
def home(settings):
    # Where a login lands by default; a page of this app, so these tests stand on their own.
    settings.LOGIN_REDIRECT_URL = PROFILE
    return PROFILE


def post_login(client: Client, email: str, password: str, **extra) -> object:
    return client.post(LOGIN, {"email": email, "password": password, **extra})


# --- log in --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page_shows_the_form_and_the_language_choice():
    response = Client().get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="email"' in html and 'name="password"' in html
    assert html.count('action="/accounts/language/"') == len(django_settings.LANGUAGES)
    assert 'lang="fa"' in html


@pytest.mark.django_db
def test_logging_in_rotates_the_session_and_lands_on_the_home_page(rep, home):
    client = Client()
    client.get(LOGIN)
    session = client.session
    session["planted"] = "by an attacker"
    session.save()
    before = session.session_key
    response = post_login(client, rep.email.upper(), PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == home
    assert client.session.session_key != before
    assert client.session["_auth_user_id"] == str(rep.pk)


@pytest.mark.django_db
def test_a_safe_next_is_followed(rep, home):
    response = post_login(Client(), rep.email, PASSWORD, next="/accounts/tokens/?x=1")
    assert response["Location"] == "/accounts/tokens/?x=1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "/\\evil.example",
        "https:///evil.example",
    ],
)
def test_an_unsafe_next_is_ignored(rep, home, target):
    response = post_login(Client(), rep.email, PASSWORD, next=target)
    assert response.status_code == 302
    assert response["Location"] == home


@pytest.mark.django_db
def test_a_logged_in_user_visiting_the_login_page_goes_on(rep, home):
    response = login(rep).get(LOGIN + "?next=/accounts/tokens/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/tokens/"


@pytest.mark.django_db
def test_wrong_password_unknown_email_and_inactive_user_look_the_same(rep, teammate, admin_user):
    services.user_set_active(actor=admin_user, user=teammate, active=False)
    answers = []
    for email, password in [
        (rep.email, "wrong-password"),
        ("nobody@example.com", PASSWORD),
        (teammate.email, PASSWORD),
    ]:
        response = post_login(Client(), email, password)
        assert response.status_code == 200
        html = response.content.decode()
        assert "The e-mail or the password is not correct." in html
        # the same page apart from the typed e-mail and the per-response CSRF token
        answers.append(re.sub(r"[A-Za-z0-9]{64}", "CSRF", html.replace(email, "EMAIL")))
    assert answers[0] == answers[1] == answers[2]
    assert LoginFailure.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [{}, {"email": "a@example.com"}, {"password": "x"}, {"email": "", "password": ""}],
)
def test_missing_fields_are_reported_without_counting_a_failure(data):
    response = Client().post(LOGIN, data)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert LoginFailure.objects.count() == 0


@pytest.mark.django_db
def test_a_huge_email_is_refused_cleanly():
    response = Client().post(LOGIN, {"email": "a" * 10_000, "password": "x"})
    assert response.status_code == 200
    assert "Ensure this value has at most 254 characters" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("known", [True, False], ids=["known-email", "unknown-email"])
def test_after_too_many_failures_even_the_right_password_is_refused_with_429(rep, settings, known):
    settings.LOGIN_MAX_FAILURES = 3
    email = rep.email if known else "ghost@example.com"
    client = Client()
    for _ in range(3):
        assert post_login(client, email, "wrong-password").status_code == 200
    response = post_login(client, email, PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed attempts. Wait 15 minutes and try again." in html
    assert "_auth_user_id" not in client.session
    # the refusal reads the same whether or not the e-mail exists
    assert "not correct" not in html


@pytest.mark.django_db
def test_a_successful_login_clears_the_failures(rep, settings, home):
    settings.LOGIN_MAX_FAILURES = 3
    client = Client()
    for _ in range(2):
        post_login(client, rep.email, "wrong-password")
    assert post_login(client, rep.email, PASSWORD).status_code == 302
    assert LoginFailure.objects.filter(email=rep.email).count() == 0


@pytest.mark.django_db
def test_the_users_language_is_put_in_the_cookie_on_login(rep, home):
    services.user_set_language(user=rep, language="tr")
    response = post_login(Client(), rep.email, PASSWORD)
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "tr"


# --- log out -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_logout_is_post_only(rep):
    client = login(rep)
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


# --- sessions end on deactivation ----------------------------------------------------------


@pytest.mark.django_db
def test_an_open_session_ends_on_the_next_request_after_deactivation(rep, admin_user, home):
    # given the rep logged in with a password and holding an API token
    client = Client()
    assert post_login(client, rep.email, PASSWORD).status_code == 302
    assert client.get(TOKENS).status_code == 200
    _token, key = services.api_token_create(actor=rep, user=rep, name="Script")
    api = Client(headers={"authorization": f"Bearer {key}"})
    assert api.get("/api/v1/me").status_code == 200
    # when an administrator deactivates the rep
    services.user_set_active(actor=admin_user, user=rep, active=False)
    # then the next page request is sent to the login page and the session is gone
    response = client.get(TOKENS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in client.session
    # and the API token no longer works
    assert api.get("/api/v1/me").status_code == 401
    # and reactivating does not revive the old session
    services.user_set_active(actor=admin_user, user=User.objects.get(pk=rep.pk), active=True)
    assert client.get(TOKENS).status_code == 302


@pytest.mark.django_db
def test_logging_out_everywhere_else_keeps_this_session(rep):
    here, there = login(rep), login(rep)
    response = here.post(PROFILE, {"form": "sessions"})
    assert response.status_code == 302
    assert here.get(PROFILE).status_code == 200
    assert there.get(PROFILE).status_code == 302


# --- language ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_anonymous_visitor_switches_to_persian_and_sees_right_to_left():
    client = Client()
    response = client.post("/accounts/language/", {"language": "fa", "next": LOGIN})
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "fa"
    html = client.get(LOGIN).content.decode()
    assert 'dir="rtl"' in html
    assert 'lang="fa"' in html
    assert "bootstrap.rtl.min.css" in html
    assert "<title>ورود · Vefa</title>" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "title"), [("tr", "Giriş yap"), ("sr-latn", "Prijavi se"), ("en", "Log in")]
)
def test_the_login_page_speaks_the_chosen_language(language, title):
    client = Client()
    client.post("/accounts/language/", {"language": language, "next": LOGIN})
    assert f"<title>{title} · Vefa</title>" in client.get(LOGIN).content.decode()


@pytest.mark.django_db
def test_a_user_switches_language_and_it_is_saved(rep):
    client = login(rep)
    response = client.post("/accounts/language/", {"language": "tr", "next": PROFILE})
    assert response["Location"] == PROFILE
    rep.refresh_from_db()
    assert rep.language == "tr"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "tr"
    assert '<html lang="tr" dir="ltr"' in client.get(PROFILE).content.decode()


@pytest.mark.django_db
def test_persian_users_get_right_to_left_pages(rep):
    client = login(rep)
    client.post("/accounts/language/", {"language": "fa", "next": PROFILE})
    html = client.get(PROFILE).content.decode()
    assert '<html lang="fa" dir="rtl"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["de", "", "<script>", "x" * 10_000])
def test_an_unknown_language_changes_nothing(rep, language):
    client = login(rep)
    response = client.post("/accounts/language/", {"language": language, "next": PROFILE})
    assert response.status_code == 302
    assert django_settings.LANGUAGE_COOKIE_NAME not in response.cookies
    rep.refresh_from_db()
    assert rep.language == ""


@pytest.mark.django_db
def test_language_switching_is_post_only_and_ignores_unsafe_next():
    client = Client()
    assert client.get("/accounts/language/?language=fa").status_code == 405
    response = client.post(
        "/accounts/language/", {"language": "fa", "next": "https://evil.example/"}
    )
    assert response["Location"] == LOGIN


# --- profile -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_profile_page_needs_a_login():
    response = Client().get(PROFILE)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={PROFILE}"


@pytest.mark.django_db
def test_a_user_saves_name_language_and_time_zone(rep):
    client = login(rep)
    response = client.post(
        PROFILE,
        {
            "form": "profile",
            "full_name": "Ayşe Kaya",
            "language": "tr",
            "time_zone": "Europe/Istanbul",
        },
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert (rep.full_name, rep.language, rep.time_zone) == ("Ayşe Kaya", "tr", "Europe/Istanbul")
    assert ChangeLogEntry.objects.filter(model="accounts.user", object_id=rep.pk).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "Select a valid choice."),
        ({"language": "xx"}, "Select a valid choice."),
        ({"full_name": ""}, "This field is required."),
        ({"full_name": "n" * 10_000}, "Ensure this value has at most 150 characters"),
    ],
)
def test_invalid_profile_input_is_shown_and_nothing_changes(rep, data, message):
    client = login(rep)
    form = {"form": "profile", "full_name": "Good", "language": "", "time_zone": "UTC", **data}
    response = client.post(PROFILE, form)
    assert response.status_code == 200
    assert message in response.content.decode()
    rep.refresh_from_db()
    assert rep.full_name != "Good"
    assert not ChangeLogEntry.objects.filter(model="accounts.user").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_shown_escaped(rep, name):
    client = login(rep)
    client.post(PROFILE, {"form": "profile", "full_name": name, "language": "", "time_zone": "UTC"})
    html = client.get(PROFILE).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html
    if "<script>" in name:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    if "علی" in name:
        assert "علی رضایی" in html


@pytest.mark.django_db
def test_changing_the_email_asks_for_the_password(rep):
    client = login(rep)
    response = client.post(
        PROFILE, {"form": "email", "email": "taken.over@evil.example", "password": "guess"}
    )
    assert response.status_code == 200
    assert "Your current password is not correct." in response.content.decode()
    rep.refresh_from_db()
    assert rep.email != "taken.over@evil.example"
    assert LoginFailure.objects.filter(email=rep.email).count() == 1
    response = client.post(
        PROFILE, {"form": "email", "email": "mine@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.email == "mine@example.com"
    entry = ChangeLogEntry.objects.get(model="accounts.user", object_id=rep.pk)
    assert (entry.before["email"], entry.after["email"]) == (
        entry.before["email"],
        "mine@example.com",
    )


@pytest.mark.django_db
def test_guessing_the_password_on_the_email_form_is_throttled(rep, settings):
    settings.LOGIN_MAX_FAILURES = 2
    client = login(rep)
    for _ in range(2):
        client.post(PROFILE, {"form": "email", "email": "x@evil.example", "password": "guess"})
    response = client.post(
        PROFILE, {"form": "email", "email": "x@evil.example", "password": PASSWORD}
    )
    assert response.status_code == 429
    rep.refresh_from_db()
    assert rep.email != "x@evil.example"


@pytest.mark.django_db
def test_changing_the_password_keeps_this_session_and_ends_others(rep):
    here, there = login(rep), login(rep)
    response = here.post(
        PROFILE,
        {
            "form": "password",
            "current_password": PASSWORD,
            "new_password": "a-new-long-passphrase",
            "new_password_again": "a-new-long-passphrase",
        },
    )
    assert response.status_code == 302
    assert here.get(PROFILE).status_code == 200
    assert there.get(PROFILE).status_code == 302
    mismatch = here.post(
        PROFILE,
        {
            "form": "password",
            "current_password": "a-new-long-passphrase",
            "new_password": "one-long-passphrase",
            "new_password_again": "another-long-passphrase",
        },
    )
    assert "The two passwords differ." in mismatch.content.decode()


@pytest.mark.django_db
def test_an_unknown_profile_form_changes_nothing(rep):
    response = login(rep).post(PROFILE, {"form": "is_superuser", "is_superuser": "1"})
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.is_superuser is False


# --- tokens --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_tokens_key_is_shown_once(rep):
    client = login(rep)
    response = client.post(TOKENS, {"name": "Zapier", "expires_in": "30"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=rep)
    key = response.context["new_key"]
    assert ApiToken.hash_key(key) == token.key_hash
    assert key in response.content.decode()
    assert token.expires_at is not None
    listing = client.get(TOKENS).content.decode()
    assert key not in listing
    assert token.prefix in listing
    assert "Zapier" in listing


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "n" * 10_000}, "Ensure this value has at most 100 characters"),
        ({"name": "ok", "expires_in": "7"}, "Select a valid choice."),
        ({"name": "ok", "expires_in": "forever"}, "Select a valid choice."),
    ],
)
def test_invalid_token_input_creates_nothing(rep, data, message):
    response = login(rep).post(TOKENS, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_token_names_are_escaped(rep):
    client = login(rep)
    client.post(TOKENS, {"name": "<script>alert(1)</script>"})
    html = client.get(TOKENS).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_users_see_and_revoke_only_their_own_tokens(rep, teammate):
    mine, _ = services.api_token_create(actor=rep, user=rep, name="Mine")
    theirs, _ = services.api_token_create(actor=teammate, user=teammate, name="Theirs")
    client = login(rep)
    html = client.get(TOKENS).content.decode()
    assert "Mine" in html and "Theirs" not in html
    assert client.post(f"/accounts/tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert client.get(f"/accounts/tokens/{mine.pk}/revoke/").status_code == 405
    assert client.post(f"/accounts/tokens/{mine.pk}/revoke/").status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert "Revoked" in client.get(TOKENS).content.decode()


@pytest.mark.django_db
def test_the_tokens_page_query_count_does_not_grow_with_tokens(rep, django_assert_max_num_queries):
    client = login(rep)
    services.api_token_create(actor=rep, user=rep, name="one")
    with django_assert_max_num_queries(12) as few:
        client.get(TOKENS)
    for n in range(20):
        services.api_token_create(actor=rep, user=rep, name=f"t{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(TOKENS)


# --- who can see this record -----------------------------------------------------------------


@pytest.mark.django_db
def test_record_access_is_not_there_for_non_admins(rep, manager):
    for user in (rep, manager):
        assert login(user).get("/accounts/record-access/").status_code == 404


@pytest.mark.django_db
def test_record_access_lists_every_active_user_with_the_reason(
    admin_user, rep, teammate, stranger, team, other_team
):
    # given a customer the teammate owns, and an inactive colleague
    customer = make_record("customers.customer", owner=teammate, team=team)
    gone = UserFactory(role=Role.SALES_MANAGER, team=team, is_active=False)
    client = login(admin_user)
    response = client.get(
        "/accounts/record-access/", {"model": "customers.customer", "object_id": customer.pk}
    )
    assert response.status_code == 200
    rows = {row.user.pk: row for row in response.context["table"].rows}
    assert set(rows) == {admin_user.pk, rep.pk, teammate.pk, stranger.pk}
    assert gone.pk not in rows
    assert [d.allowed for _a, d in rows[rep.pk].decisions] == [True, False, False]
    assert [d.allowed for _a, d in rows[teammate.pk].decisions] == [True, True, False]
    assert [d.allowed for _a, d in rows[stranger.pk].decisions] == [False, False, False]
    assert [d.allowed for _a, d in rows[admin_user.pk].decisions] == [True, True, True]
    html = response.content.decode()
    assert "Sales representative: own team&#x27;s records; this is their team&#x27;s." in html


@pytest.mark.django_db
def test_record_access_handles_bad_input(admin_user):
    client = login(admin_user)
    missing = client.get(
        "/accounts/record-access/", {"model": "customers.customer", "object_id": 999}
    )
    assert missing.status_code == 404
    assert "There is no such record." in missing.content.decode()
    for params in (
        {"model": "auth.user", "object_id": 1},
        {"model": "customers.customer", "object_id": "abc"},
        {"model": "customers.customer", "object_id": "-1"},
        {"model": "<script>", "object_id": "1"},
        {"model": "customers.customer"},
    ):
        response = client.get("/accounts/record-access/", params)
        assert response.status_code == 200
        assert response.context["table"] is None
        assert "<script>" not in response.content.decode().split("<main", 1)[1]


@pytest.mark.django_db
def test_record_access_offers_every_record_type_under_a_policy(admin_user):
    response = login(admin_user).get("/accounts/record-access/")
    choices = [value for value, _label in response.context["form"].fields["model"].choices]
    for label in (
        "customers.customer",
        "customers.lead",
        "interactions.interaction",
        "interactions.activity",
        "customers.address",
    ):
        assert label in choices


@pytest.mark.django_db
def test_the_record_access_query_count_does_not_grow_with_users(
    admin_user, teammate, team, django_assert_num_queries
):
    interaction = make_record("interactions.interaction", owner=teammate, team=team)
    client = login(admin_user)
    params = {"model": "interactions.interaction", "object_id": interaction.pk}
    response = client.get("/accounts/record-access/", params)
    baseline = len(response.context["table"].rows)
    with django_assert_num_queries(4) as few:  # session, user, record with its customer, users
        client.get("/accounts/record-access/", params)
    for n in range(25):
        UserFactory(role=Role.SERVICE_AGENT, team=team, full_name=f"Agent {n}")
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get("/accounts/record-access/", params)
    assert len(response.context["table"].rows) == baseline + 25

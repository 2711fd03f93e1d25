"""The accounts API: /me, /users, /teams and one's own /tokens."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.accounts.conftest import HOSTILE
from tests.factories import UserFactory
from vefa.accounts import services
from vefa.accounts.choices import Role
from vefa.accounts.models import ApiToken
from vefa.platform.models import ChangeLogEntry


def api_client(user) -> Client:
    _token, key = services.api_token_create(actor=None, user=user, name="tests")
    return Client(headers={"authorization": f"Bearer {key}"})


@pytest.mark.django_db
def test_me_answers_who_the_token_belongs_to(rep, team):
    response = api_client(rep).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": rep.pk,
        "email": rep.email,
        "full_name": rep.full_name,
        "role": "sales_rep",
        "team": {"id": team.pk, "name": "North"},
        "language": "",
        "time_zone": "UTC",
        "is_admin": False,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer vefa_not-a-real-token"},
        {"authorization": "Basic dXNlcjpwYXNz"},
        {"x-api-key": "garbage"},
    ],
)
def test_no_or_bad_credentials_get_401_in_the_error_shape(headers, rep):
    response = Client(headers=headers).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


@pytest.mark.django_db
def test_the_x_api_key_header_and_the_session_also_authenticate(rep):
    _t, key = services.api_token_create(actor=rep, user=rep, name="header")
    assert Client(headers={"x-api-key": key}).get("/api/v1/me").json()["id"] == rep.pk
    session = Client()
    session.force_login(rep)
    assert session.get("/api/v1/me").json()["id"] == rep.pk


@pytest.mark.django_db
def test_patch_me_updates_the_profile(rep):
    client = api_client(rep)
    response = client.patch(
        "/api/v1/me",
        {"language": "fa", "time_zone": "Asia/Tehran", "full_name": "رضا"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["language"], response.json()["time_zone"]) == ("fa", "Asia/Tehran")
    rep.refresh_from_db()
    assert rep.full_name == "رضا"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"time_zone": "Nowhere/Else"}, "time_zone"),
        ({"language": "de"}, "language"),
        ({"full_name": "x" * 10_000}, "full_name"),
        ({"full_name": 12}, "full_name"),
        ({"full_name": None}, "full_name"),
        ({"time_zone": ["UTC"]}, "time_zone"),
    ],
)
def test_patch_me_refuses_bad_input_with_field_errors(rep, body, field):
    response = api_client(rep).patch("/api/v1/me", body, content_type="application/json")
    assert response.status_code == 422
    data = response.json()
    assert data["code"] == "validation_failed"
    assert field in data["fields"]
    rep.refresh_from_db()
    assert (rep.full_name, rep.language, rep.time_zone)[0] != "x" * 10_000
    assert not ChangeLogEntry.objects.filter(model="accounts.user").exists()


@pytest.mark.django_db
def test_users_lists_active_colleagues_by_name_and_hides_inactive_ones(rep, team, other_team):
    UserFactory(full_name="Ahmet Aktif", team=other_team)
    UserFactory(full_name="Pasif Person", is_active=False)
    response = api_client(rep).get("/api/v1/users")
    assert response.status_code == 200
    names = [u["full_name"] for u in response.json()["items"]]
    assert names == sorted(names)
    assert "Ahmet Aktif" in names and rep.full_name in names
    assert "Pasif Person" not in names
    assert set(response.json()["items"][0]) == {
        "id",
        "email",
        "full_name",
        "role",
        "team_id",
        "is_active",
    }
    # asking for inactive users is ignored for non-admins
    again = api_client(rep).get("/api/v1/users?include_inactive=true").json()["items"]
    assert "Pasif Person" not in [u["full_name"] for u in again]


@pytest.mark.django_db
def test_admins_may_list_inactive_users(admin_user):
    UserFactory(full_name="Pasif Person", is_active=False)
    items = api_client(admin_user).get("/api/v1/users?include_inactive=true").json()["items"]
    assert "Pasif Person" in [u["full_name"] for u in items]


@pytest.mark.django_db
def test_users_can_be_searched_filtered_and_paged(rep, team, other_team):
    for n in range(5):
        UserFactory(full_name=f"Zeynep {n}", team=other_team)
    client = api_client(rep)
    first = client.get(f"/api/v1/users?q=zeynep&team={other_team.pk}&limit=2").json()
    assert [u["full_name"] for u in first["items"]] == ["Zeynep 0", "Zeynep 1"]
    second = client.get(
        f"/api/v1/users?q=zeynep&team={other_team.pk}&limit=2&cursor={first['next_cursor']}"
    ).json()
    assert [u["full_name"] for u in second["items"]] == ["Zeynep 2", "Zeynep 3"]
    assert client.get("/api/v1/users?q=" + "<script>" * 50).json()["items"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "team=north", "include_inactive=maybe"])
def test_users_refuses_malformed_parameters(rep, query):
    response = api_client(rep).get(f"/api/v1/users?{query}")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


@pytest.mark.django_db
def test_the_page_size_is_capped(rep):
    for n in range(3):
        UserFactory(full_name=f"U{n}")
    response = api_client(rep).get("/api/v1/users?limit=100000")
    assert response.status_code == 200
    assert len(response.json()["items"]) == 4


@pytest.mark.django_db
def test_the_users_query_count_does_not_grow_with_the_page(rep, team, django_assert_num_queries):
    client = api_client(rep)
    client.get("/api/v1/users")  # the token's last-used time is written once
    with django_assert_num_queries(2):  # the token, the page (teams are not needed)
        small = client.get("/api/v1/users?limit=100")
    for n in range(30):
        UserFactory(full_name=f"Many {n}", team=team)
    with django_assert_num_queries(2):
        large = client.get("/api/v1/users?limit=100")
    assert len(large.json()["items"]) == len(small.json()["items"]) + 30


@pytest.mark.django_db
def test_one_user_by_id_and_inactive_ones_are_not_found(rep, teammate):
    client = api_client(rep)
    assert client.get(f"/api/v1/users/{teammate.pk}").json()["email"] == teammate.email
    gone = UserFactory(is_active=False)
    response = client.get(f"/api/v1/users/{gone.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client.get("/api/v1/users/999999").status_code == 404


@pytest.mark.django_db
def test_teams_lists_every_team_by_name(rep, team, other_team):
    response = api_client(rep).get("/api/v1/teams")
    assert response.json() == [
        {"id": team.pk, "name": "North"},
        {"id": other_team.pk, "name": "South"},
    ]


@pytest.mark.django_db
def test_creating_a_token_returns_the_key_once_with_location(rep):
    client = api_client(rep)
    response = client.post(
        "/api/v1/tokens", {"name": "CI pipeline"}, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["key"].startswith("vefa_")
    assert body["name"] == "CI pipeline"
    assert response["Location"] == f"/api/v1/tokens/{body['id']}"
    assert response["Cache-Control"] == "no-store"
    # the new key works, and the key is never shown again
    fresh = Client(headers={"authorization": f"Bearer {body['key']}"})
    assert fresh.get("/api/v1/me").json()["id"] == rep.pk
    detail = client.get(response["Location"]).json()
    assert "key" not in detail
    listing = client.get("/api/v1/tokens").json()["items"]
    assert body["key"] not in str(listing)
    assert [t["name"] for t in listing] == ["CI pipeline", "tests"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "n" * 10_000}, "name"),
        ({"name": 5}, "name"),
        ({"name": "ok", "expires_at": "yesterday"}, "expires_at"),
        ({"name": "ok", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_token_create_refuses_bad_input(rep, body, field):
    client = api_client(rep)
    response = client.post("/api/v1/tokens", body, content_type="application/json")
    assert response.status_code == 422
    assert field in response.json()["fields"]
    assert ApiToken.objects.filter(user=rep).count() == 1


@pytest.mark.django_db
def test_a_naive_expiry_is_read_as_utc(rep):
    response = api_client(rep).post(
        "/api/v1/tokens",
        {"name": "later", "expires_at": "2999-01-01T00:00:00"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["expires_at"] == "2999-01-01T00:00:00Z"


@pytest.mark.django_db
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_token_names_round_trip_as_data(rep, name):
    response = api_client(rep).post(
        "/api/v1/tokens", {"name": name}, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["name"] == " ".join(name.split())
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_another_users_token_is_not_found_and_stays_usable(rep, teammate):
    theirs, their_key = services.api_token_create(actor=teammate, user=teammate, name="Theirs")
    client = api_client(rep)
    assert client.get(f"/api/v1/tokens/{theirs.pk}").status_code == 404
    response = client.delete(f"/api/v1/tokens/{theirs.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert services.api_token_authenticate(their_key) == teammate
    assert not ChangeLogEntry.objects.filter(
        model="accounts.apitoken", object_id=theirs.pk, action="update"
    ).exists()


@pytest.mark.django_db
def test_revoking_ones_own_token_stops_it_at_once(rep):
    token, key = services.api_token_create(actor=rep, user=rep, name="Doomed")
    client = Client(headers={"authorization": f"Bearer {key}"})
    response = client.delete(f"/api/v1/tokens/{token.pk}")
    assert response.status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    other = api_client(rep)
    assert other.delete(f"/api/v1/tokens/{token.pk}").status_code == 204  # twice is harmless
    assert other.get(f"/api/v1/tokens/{token.pk}").json()["revoked_at"] is not None


@pytest.mark.django_db
def test_an_inactive_users_session_is_refused_by_the_api(admin_user, rep):
    session = Client()
    session.force_login(rep)
    services.user_set_active(actor=admin_user, user=rep, active=False)
    assert session.get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_a_read_only_user_can_still_manage_own_tokens(team):
    reader = UserFactory(role=Role.READ_ONLY, team=team)
    client = api_client(reader)
    response = client.post("/api/v1/tokens", {"name": "report"}, content_type="application/json")
    assert response.status_code == 201

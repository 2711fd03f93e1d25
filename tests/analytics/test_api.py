"""The analytics API: a customer's score and history, refreshes, dashboard tables, segments,
call tasks and settings; access, the error shape and hostile input on every endpoint."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.test import Client

from tests.customers.factories import make_customer
from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.accounts.services import api_token_create
from vefa.analytics import services
from vefa.analytics.engine import day_number
from vefa.analytics.models import AnalyticsSettings, Refresh
from vefa.platform.models import Job, SavedView
from vefa.sales.models import Product

pytestmark = pytest.mark.django_db

BASE = "/api/v1/analytics"
HOSTILE = [
    "<script>alert(1)</script>",
    "'; DROP TABLE analytics_customerscore; --",
    "علی رضایی — «ویژه»",
    "\u202egnp.exe",
]


# --- helpers (also used by the other analytics page tests) -----------------------------------


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def send(client: Client, method: str, url: str, data: Any = None, **headers: str) -> Any:
    body = data if isinstance(data, str) else (json.dumps(data) if data is not None else "")
    return client.generic(method, url, body, content_type="application/json", headers=headers)


def score_row(customer_id: int, **values: Any) -> dict[str, Any]:
    """One row of refresh results as ``services.scores_write`` takes it."""
    row: dict[str, Any] = dict.fromkeys(services.SCORE_COLUMNS)
    row.update(
        customer_id=customer_id,
        last_purchase_day=day_number(datetime.date(2026, 9, 1)),
        frequency=4,
        monetary=480_000,
        r_score=2,
        f_score=4,
        m_score=5,
        rfm_segment="at_risk",
        previous_rfm_segment="loyal",
        ladder_step="regular",
        previous_ladder_step="loyal",
        value_class="A",
        revenue=480_000,
        margin=120_000,
        clv=1_234_500,
        p_alive=0.31,
        expected_purchases=1.2,
        declining=True,
        overdue=True,
        churn_risk="high",
        share_of_wallet=0.25,
        next_best=[],
        reasons=json.dumps(
            {
                "orders_last_12m": 4,
                "orders_prev_12m": 10,
                "revenue_last_12m": 480_000,
                "revenue_prev_12m": 1_000_000,
                "order_change": -0.6,
                "revenue_change": -0.52,
                "mean_gap_days": 30.4,
                "overdue_ratio": 2.1,
                "value_rank": 12,
            }
        ),
    )
    row.update(values)
    return row


def give_score(customer, *, refresh: Refresh | None = None, **values: Any) -> None:
    services.scores_write([score_row(customer.pk, **values)], refresh=refresh, currency="TRY")


def finished_refresh(as_of: datetime.date = datetime.date(2026, 11, 1), **fields: Any) -> Refresh:
    fields.setdefault("status", Refresh.Status.DONE)
    return Refresh.objects.create(as_of=as_of, **fields)


def write_snapshot(root: Path, refresh_id: int, as_of: datetime.date, rows: list[dict]) -> Path:
    """A snapshot as the refresh writes it, sorted by customer."""
    rows = sorted(rows, key=lambda r: r["customer_id"])
    table = pa.table(
        {
            "customer_id": pa.array([r["customer_id"] for r in rows], pa.int64()),
            "rfm_segment": [r.get("rfm_segment", "") for r in rows],
            "ladder_step": [r.get("ladder_step", "") for r in rows],
            "value_class": [r.get("value_class", "") for r in rows],
            "churn_risk": [r.get("churn_risk", "") for r in rows],
            "as_of": pa.array([as_of] * len(rows), pa.date32()),
        }
    )
    path = root / "snapshots" / f"{as_of.isoformat()}-{refresh_id}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def write_results(root: Path, refresh: Refresh, tables: dict[str, pa.Table]) -> Path:
    """A finished refresh's results folder and the pointer to it."""
    folder = root / "results" / str(refresh.pk)
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
    (root / "results" / "latest.json").write_text(
        json.dumps({"refresh_id": refresh.pk, "as_of": refresh.as_of.isoformat()})
    )
    return folder


@pytest.fixture
def store(settings, tmp_path) -> Path:
    settings.ANALYTICS_DIR = tmp_path
    return tmp_path


@pytest.fixture
def own_customer(rep, team):
    return make_customer(owner=rep, team=team, first_name="Ayşe", last_name="Yılmaz")


@pytest.fixture
def team_customer(rep_same_team, team):
    return make_customer(owner=rep_same_team, team=team, first_name="Mehmet", last_name="Kaya")


@pytest.fixture
def other_customer(rep_other_team, other_team):
    return make_customer(
        owner=rep_other_team, team=other_team, first_name="Jovana", last_name="Petrović"
    )


def assert_error(response, status: int, *fields: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"code", "message", "fields"}
    for name in fields:
        # A union's error names the member too ("filters.value_class.str").
        assert any(key == name or key.startswith(f"{name}.") for key in body["fields"]), body
    return body


# --- the customer's score --------------------------------------------------------------------


class TestScore:
    def test_score_with_labels_reasons_and_named_products(self, rep, own_customer, store):
        product = Product.objects.create(
            sku="KHV-1", name=HOSTILE[0], list_price=Decimal("10"), tax_rate=Decimal("20")
        )
        refresh = finished_refresh()
        give_score(own_customer, refresh=refresh, next_best=[product.pk, 999_999])
        response = client_for(rep).get(f"{BASE}/customers/{own_customer.pk}/score")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["customer_id"] == own_customer.pk
        assert body["refresh_id"] == refresh.pk and body["as_of"] == "2026-11-01"
        assert (body["rfm_segment"], body["rfm_segment_label"]) == ("at_risk", "At risk")
        assert body["previous_rfm_segment_label"] == "Loyal"
        assert (body["ladder_step"], body["ladder_step_label"]) == ("regular", "Regular buyer")
        assert body["value_class_label"] == "A (top value)"
        assert (body["churn_risk"], body["churn_risk_label"]) == ("high", "High")
        assert (body["r_score"], body["f_score"], body["m_score"]) == (2, 4, 5)
        assert body["clv"] == "12345.00" and body["currency"] == "TRY"
        assert body["declining"] is True and body["overdue"] is True
        assert body["reasons"]["orders_prev_12m"] == 10
        assert body["reasons"]["order_change"] == pytest.approx(-0.6)
        # An unknown product id is left out; the name is data, returned exactly.
        assert body["next_best"] == [product.pk, 999_999]
        assert body["next_best_products"] == [
            {"id": product.pk, "sku": "KHV-1", "name": HOSTILE[0]}
        ]

    def test_a_rep_sees_the_team_but_not_another_team(
        self, rep, team_customer, other_customer, admin_user
    ):
        give_score(team_customer)
        give_score(other_customer)
        client = client_for(rep)
        assert client.get(f"{BASE}/customers/{team_customer.pk}/score").status_code == 200
        hidden = client.get(f"{BASE}/customers/{other_customer.pk}/score")
        missing = client.get(f"{BASE}/customers/987654/score")
        assert_error(hidden, 404)
        assert hidden.json() == missing.json()
        admin = client_for(admin_user)
        assert admin.get(f"{BASE}/customers/{other_customer.pk}/score").status_code == 200

    def test_no_score_is_404(self, rep, own_customer):
        body = assert_error(client_for(rep).get(f"{BASE}/customers/{own_customer.pk}/score"), 404)
        assert body["code"] == "not_found"

    @pytest.mark.parametrize("value", ["abc", "1e3", "-1", "99999999999999999999999"])
    def test_bad_customer_ids_are_errors_in_the_one_shape(self, rep, value):
        response = client_for(rep).get(f"{BASE}/customers/{value}/score")
        assert response.status_code in (404, 422)
        assert set(response.json()) >= {"code", "message", "fields"}

    def test_without_credentials_is_401(self, own_customer):
        response = Client().get(f"{BASE}/customers/{own_customer.pk}/score")
        assert_error(response, 401)

    def test_session_auth_works_too(self, rep, own_customer):
        give_score(own_customer)
        client = Client()
        client.force_login(rep)
        assert client.get(f"{BASE}/customers/{own_customer.pk}/score").status_code == 200


# --- the customer's history -----------------------------------------------------------------


class TestHistory:
    def test_newest_first_without_failed_refreshes(self, rep, own_customer, team_customer, store):
        first = finished_refresh(datetime.date(2026, 9, 1))
        second = finished_refresh(datetime.date(2026, 10, 1))
        failed = finished_refresh(datetime.date(2026, 10, 15), status=Refresh.Status.FAILED)
        third = finished_refresh(datetime.date(2026, 11, 1))
        me, other = own_customer.pk, team_customer.pk
        write_snapshot(
            store, first.pk, first.as_of, [{"customer_id": me, "ladder_step": "one_time"}]
        )
        write_snapshot(
            store,
            second.pk,
            second.as_of,
            [
                {"customer_id": other, "ladder_step": "loyal"},
                {"customer_id": me, "ladder_step": "occasional", "rfm_segment": "promising"},
            ],
        )
        write_snapshot(store, failed.pk, failed.as_of, [{"customer_id": me, "ladder_step": "x"}])
        write_snapshot(
            store,
            third.pk,
            third.as_of,
            [
                {
                    "customer_id": me,
                    "ladder_step": "regular",
                    "value_class": "B",
                    "churn_risk": "low",
                }
            ],
        )
        (store / "snapshots" / "notes.parquet.tmp").write_text("not a snapshot")
        response = client_for(rep).get(f"{BASE}/customers/{me}/history")
        assert response.status_code == 200, response.content
        items = response.json()["items"]
        assert [(i["as_of"], i["refresh_id"], i["ladder_step"]) for i in items] == [
            ("2026-11-01", third.pk, "regular"),
            ("2026-10-01", second.pk, "occasional"),
            ("2026-09-01", first.pk, "one_time"),
        ]
        assert items[0]["ladder_step_label"] == "Regular buyer"
        assert items[0]["value_class"] == "B" and items[0]["churn_risk_label"] == "Low"
        assert items[1]["rfm_segment_label"] == "Promising"

    def test_at_most_100_and_limit(self, rep, own_customer, store):
        start = datetime.date(2026, 1, 1)
        for n in range(105):
            day = start + datetime.timedelta(days=n)
            write_snapshot(store, 10_000 + n, day, [{"customer_id": own_customer.pk}])
        client = client_for(rep)
        everything = client.get(f"{BASE}/customers/{own_customer.pk}/history?limit=1000")
        assert len(everything.json()["items"]) == 100
        assert everything.json()["items"][0]["refresh_id"] == 10_104
        one = client.get(f"{BASE}/customers/{own_customer.pk}/history?limit=1")
        assert [i["refresh_id"] for i in one.json()["items"]] == [10_104]
        assert_error(client.get(f"{BASE}/customers/{own_customer.pk}/history?limit=0"), 422)
        assert_error(client.get(f"{BASE}/customers/{own_customer.pk}/history?limit=x"), 422)

    def test_older_snapshots_are_read_when_the_newest_lack_the_customer(
        self, rep, own_customer, team_customer, store
    ):
        start = datetime.date(2026, 1, 1)
        write_snapshot(store, 1, start, [{"customer_id": own_customer.pk, "value_class": "C"}])
        for n in range(2, 8):  # newer refreshes without the customer
            day = start + datetime.timedelta(days=n)
            write_snapshot(store, n, day, [{"customer_id": team_customer.pk}])
        client = client_for(rep)
        for limit in (1, 3, 100):
            url = f"{BASE}/customers/{own_customer.pk}/history?limit={limit}"
            items = client.get(url).json()["items"]
            assert [(i["refresh_id"], i["value_class"]) for i in items] == [(1, "C")], limit
        team = client.get(f"{BASE}/customers/{team_customer.pk}/history?limit=4").json()
        assert [i["refresh_id"] for i in team["items"]] == [7, 6, 5, 4]

    def test_hidden_customer_is_404_and_no_snapshots_is_empty(
        self, rep, own_customer, other_customer, store
    ):
        write_snapshot(store, 1, datetime.date(2026, 1, 1), [{"customer_id": other_customer.pk}])
        client = client_for(rep)
        assert_error(client.get(f"{BASE}/customers/{other_customer.pk}/history"), 404)
        response = client.get(f"{BASE}/customers/{own_customer.pk}/history")
        assert response.json() == {"customer_id": own_customer.pk, "items": []}


# --- refreshes ------------------------------------------------------------------------------


class TestRefreshes:
    def test_request_is_202_with_the_job_and_not_started_twice(self, admin_user):
        client = client_for(admin_user)
        response = send(client, "POST", f"{BASE}/refreshes", {"full": True})
        assert response.status_code == 202, response.content
        body = response.json()
        refresh = Refresh.objects.get()
        assert body["id"] == refresh.pk and body["full"] is True
        assert body["status"] == "queued"
        assert body["job"]["id"] == refresh.job_id
        assert body["job"]["kind"] == services.REFRESH_JOB
        assert response["Location"] == f"{BASE}/refreshes/{refresh.pk}"
        again = send(client, "POST", f"{BASE}/refreshes", {})
        assert again.status_code == 202 and again.json()["id"] == refresh.pk
        assert Refresh.objects.count() == 1

    def test_a_rep_may_not_refresh(self, rep):
        body = assert_error(send(client_for(rep), "POST", f"{BASE}/refreshes", {}), 403)
        assert body["code"] == "permission_denied"
        assert not Refresh.objects.exists()

    @pytest.mark.parametrize("payload", [{"full": "maybe"}, {"full": [1]}, {"full": {"a": 1}}])
    def test_wrong_types_name_the_field(self, admin_user, payload):
        response = send(client_for(admin_user), "POST", f"{BASE}/refreshes", payload)
        assert_error(response, 422, "full")

    def test_not_json_is_an_error_in_the_one_shape(self, admin_user):
        response = send(client_for(admin_user), "POST", f"{BASE}/refreshes", "{not json")
        assert response.status_code in (400, 422)
        assert set(response.json()) >= {"code", "message"}

    def test_list_pages_newest_first_and_detail_with_progress(self, manager):
        job = Job.objects.create(
            kind=services.REFRESH_JOB, title="Analytics refresh", progress=40, total=100
        )
        old = finished_refresh(figures={"seconds": {"total": 12.5}, "customers_scored": 3})
        new = Refresh.objects.create(as_of=datetime.date(2026, 11, 2), job=job, status="running")
        client = client_for(manager)
        first = client.get(f"{BASE}/refreshes?limit=1").json()
        assert [r["id"] for r in first["items"]] == [new.pk]
        assert first["items"][0]["job"]["progress"] == 40
        second = client.get(f"{BASE}/refreshes?limit=1&cursor={first['next_cursor']}").json()
        assert [r["id"] for r in second["items"]] == [old.pk]
        assert second["next_cursor"] is None
        detail = client.get(f"{BASE}/refreshes/{old.pk}").json()
        assert detail["figures"]["customers_scored"] == 3 and detail["job"] is None
        assert_error(client.get(f"{BASE}/refreshes/{new.pk + 100}"), 404)
        assert_error(client.get(f"{BASE}/refreshes?limit=0"), 422)
        many = client.get(f"{BASE}/refreshes?limit=100000&cursor=%3Cscript%3E")
        assert many.status_code == 200 and len(many.json()["items"]) == 2

    def test_a_rep_sees_no_refreshes(self, rep):
        old = finished_refresh()
        client = client_for(rep)
        assert_error(client.get(f"{BASE}/refreshes"), 403)
        assert_error(client.get(f"{BASE}/refreshes/{old.pk}"), 403)


# --- dashboard tables -----------------------------------------------------------------------


def _tables() -> dict[str, pa.Table]:
    return {
        "rfm_grid": pa.table(
            {
                "r_score": pa.array([1, 1, 2, 5, 5], pa.int32()),
                "f_score": pa.array([1, 2, 1, 4, 5], pa.int32()),
                "customers": pa.array([10, 20, 30, 40, 50], pa.int64()),
                "monetary": pa.array([100, 200, 300, 400, 500], pa.int64()),
            }
        ),
        "ladder_transitions": pa.table(
            {
                "from_step": ["none", "one_time"],
                "to_step": ["one_time", "regular"],
                "customers": pa.array([5, 3], pa.int64()),
            }
        ),
        "kpis": pa.table(
            {
                "kpi": ["sales_growth"],
                "current": [float("nan")],
                "previous": [1.0],
                "change": [None],
            },
            schema=pa.schema(
                [
                    ("kpi", pa.string()),
                    ("current", pa.float64()),
                    ("previous", pa.float64()),
                    ("change", pa.float64()),
                ]
            ),
        ),
        # Present in the folder but not a dashboard table: never served.
        "scores": pa.table({"customer_id": pa.array([1], pa.int64())}),
    }


class TestResults:
    def test_table_rows_labels_and_pages(self, admin_user, store):
        refresh = finished_refresh()
        write_results(store, refresh, _tables())
        client = client_for(admin_user)
        grid = client.get(f"{BASE}/results/rfm_grid?limit=2")
        assert grid.status_code == 200, grid.content
        body = grid.json()
        assert body["refresh_id"] == refresh.pk and body["as_of"] == "2026-11-01"
        assert body["currency"] == "TRY"
        assert body["columns"] == ["r_score", "f_score", "customers", "monetary"]
        assert body["items"] == [
            {"r_score": 1, "f_score": 1, "customers": 10, "monetary": 100},
            {"r_score": 1, "f_score": 2, "customers": 20, "monetary": 200},
        ]
        assert body["previous_cursor"] is None
        rest: list[int] = []
        cursor = body["next_cursor"]
        while cursor:
            page = client.get(f"{BASE}/results/rfm_grid?limit=2&cursor={cursor}").json()
            rest += [row["customers"] for row in page["items"]]
            cursor = page["next_cursor"]
        assert rest == [30, 40, 50]
        steps = client.get(f"{BASE}/results/ladder_transitions").json()
        assert steps["labels"]["one_time"] == "One-time buyer"
        assert steps["labels"]["regular"] == "Regular buyer" and "none" in steps["labels"]
        kpis = client.get(f"{BASE}/results/kpis").json()
        assert kpis["items"] == [
            {"kpi": "sales_growth", "current": None, "previous": 1.0, "change": None}
        ]
        assert kpis["labels"]["sales_growth"]

    @pytest.mark.parametrize(
        "name",
        ["scores", "nope", "..%2F..%2Fsecret", "%2E%2E", "rfm_grid.parquet", "RFM_GRID", *HOSTILE],
    )
    def test_unknown_tables_are_404(self, admin_user, store, name):
        write_results(store, finished_refresh(), _tables())
        (store / "secret.parquet").write_bytes(b"not for you")
        from urllib.parse import quote

        path = name if "%" in name else quote(name, safe="")
        response = client_for(admin_user).get(f"{BASE}/results/{path}")
        assert response.status_code == 404, (name, response.content)
        assert b"not for you" not in response.content
        if "/" not in name and "%2F" not in name:  # a name with a slash matches no route
            assert set(response.json()) >= {"code", "message", "fields"}

    def test_before_the_first_refresh_the_table_is_empty(self, admin_user, store):
        body = client_for(admin_user).get(f"{BASE}/results/pareto").json()
        assert body["refresh_id"] is None and body["items"] == [] and body["columns"] == []

    def test_only_people_who_see_every_customer(self, rep, store):
        write_results(store, finished_refresh(), _tables())
        assert_error(client_for(rep).get(f"{BASE}/results/rfm_grid"), 403)

    def test_a_tampered_cursor_starts_at_the_first_row(self, admin_user, store):
        write_results(store, finished_refresh(), _tables())
        client = client_for(admin_user)
        for cursor in ["%3Cscript%3E", "W10", "x" * 600]:
            body = client.get(f"{BASE}/results/rfm_grid?limit=1&cursor={cursor}").json()
            assert body["items"][0]["customers"] == 10


# --- segments and call tasks ----------------------------------------------------------------


class TestSegments:
    def test_created_with_its_url(self, rep):
        response = send(
            client_for(rep),
            "POST",
            f"{BASE}/segments",
            {
                "name": HOSTILE[2],
                "filters": {"value_class": "A", "declining": True, "r_score": 1, "q": None},
                "share_with_team": True,
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        view = SavedView.objects.get(pk=body["id"])
        assert view.owner == rep and view.list_key == "customers" and view.team_id == rep.team_id
        assert view.filters == {"value_class": "A", "declining": "true", "r_score": "1"}
        assert body["url"] == f"/customers/?view={view.pk}" == response["Location"]
        assert body["name"] == HOSTILE[2] and body["shared_with_team"] is True

    def test_idempotency_key_replays(self, rep):
        client = client_for(rep)
        payload = {"name": "At risk A", "filters": {"churn_risk": "high"}}
        first = send(client, "POST", f"{BASE}/segments", payload, **{"Idempotency-Key": "s-1"})
        again = send(client, "POST", f"{BASE}/segments", payload, **{"Idempotency-Key": "s-1"})
        assert first.json() == again.json() and SavedView.objects.count() == 1

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"name": "X", "filters": {"value_class": "Z"}}, "value_class"),
            ({"name": "X", "filters": {"churn_risk": HOSTILE[0]}}, "churn_risk"),
            ({"name": "X", "filters": {"declining": "perhaps"}}, "declining"),
            ({"name": "X", "filters": {"clv_min": "-5"}}, "clv_min"),
            ({"name": "X", "filters": {"p_alive_below": "2"}}, "p_alive_below"),
            ({"name": "X", "filters": {"value_class": {"a": 1}}}, "filters.value_class"),
            ({"name": "X", "filters": "value_class=A"}, "filters"),
            ({"filters": {}}, "name"),
            ({"name": 12, "filters": {}}, "name"),
        ],
    )
    def test_invalid_input_names_the_field(self, rep, payload, field):
        response = send(client_for(rep), "POST", f"{BASE}/segments", payload)
        assert_error(response, 422, field)
        assert not SavedView.objects.exists()

    def test_empty_and_huge_names_are_refused(self, rep):
        client = client_for(rep)
        for name in ["", "   ", "x" * 10_000]:
            response = send(client, "POST", f"{BASE}/segments", {"name": name})
            assert response.status_code == 422, name
        too_many = {f"cf_{n}": "1" for n in range(60)}
        assert_error(
            send(client, "POST", f"{BASE}/segments", {"name": "n", "filters": too_many}),
            422,
            "filters",
        )
        assert not SavedView.objects.exists()

    def test_sharing_without_a_team_is_refused(self):
        loner = UserFactory(role=Role.SALES_REP, team=None)
        response = send(
            client_for(loner), "POST", f"{BASE}/segments", {"name": "n", "share_with_team": True}
        )
        assert_error(response, 422, "share_with_team")


class TestCallTasks:
    def test_queued_as_a_job_and_followed(self, rep, rep_same_team):
        client = client_for(rep)
        response = send(
            client,
            "POST",
            f"{BASE}/call-tasks",
            {"filters": {"churn_risk": "high"}, "subject": HOSTILE[0], "due": "2026-12-01"},
        )
        assert response.status_code == 202, response.content
        body = response.json()
        job = Job.objects.get(pk=body["id"])
        assert job.kind == services.CALL_TASKS_JOB and job.user == rep
        assert job.params["subject"] == HOSTILE[0] and job.params["filters"] == {
            "churn_risk": "high"
        }
        assert body["status"] == "queued" and body["url"] == f"/jobs/{job.pk}/"
        assert response["Location"] == f"{BASE}/call-tasks/{job.pk}"
        assert client.get(f"{BASE}/call-tasks/{job.pk}").json()["id"] == job.pk
        # Someone else's job, or a job of another kind, is not found.
        assert_error(client_for(rep_same_team).get(f"{BASE}/call-tasks/{job.pk}"), 404)
        other = Job.objects.create(kind=services.REFRESH_JOB, title="x", user=rep)
        assert_error(client.get(f"{BASE}/call-tasks/{other.pk}"), 404)

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"subject": "", "due": "2026-12-01"}, "subject"),
            ({"subject": "   ", "due": "2026-12-01"}, "subject"),
            ({"subject": "x" * 201, "due": "2026-12-01"}, "subject"),
            ({"subject": "Call", "due": "tomorrow"}, "due"),
            ({"subject": "Call", "due": "2026-02-30"}, "due"),
            ({"subject": "Call"}, "due"),
            (
                {"subject": "Call", "due": "2026-12-01", "filters": {"ladder_step": "x"}},
                "ladder_step",
            ),
            ({"subject": ["Call"], "due": "2026-12-01"}, "subject"),
        ],
    )
    def test_invalid_input_names_the_field(self, rep, payload, field):
        assert_error(send(client_for(rep), "POST", f"{BASE}/call-tasks", payload), 422, field)
        assert not Job.objects.exists()

    def test_a_read_only_user_plans_no_calls(self, read_only):
        response = send(
            client_for(read_only),
            "POST",
            f"{BASE}/call-tasks",
            {"subject": "Call", "due": "2026-12-01"},
        )
        assert_error(response, 403)
        assert not Job.objects.exists()


# --- settings -------------------------------------------------------------------------------


class TestSettings:
    def test_read_and_change_as_an_administrator(self, admin_user):
        client = client_for(admin_user)
        read = client.get(f"{BASE}/settings")
        assert read.status_code == 200
        assert read.json()["rfm_window_days"] == 365 and read.json()["value_a_share"] == "0.800"
        response = send(
            client,
            "PATCH",
            f"{BASE}/settings",
            {"rfm_window_days": 180, "value_a_share": "0.75", "nightly": False},
            **{"If-Match": read["ETag"]},
        )
        assert response.status_code == 200, response.content
        assert response.json()["rfm_window_days"] == 180
        assert response["ETag"] != read["ETag"]
        current = AnalyticsSettings.current()
        assert current.rfm_window_days == 180 and current.value_a_share == Decimal("0.750")
        assert current.nightly is False
        stale = send(
            client,
            "PATCH",
            f"{BASE}/settings",
            {"rfm_window_days": 90},
            **{"If-Match": read["ETag"]},
        )
        assert_error(stale, 412)
        assert AnalyticsSettings.current().rfm_window_days == 180

    def test_only_administrators_change_them(self, manager, rep):
        assert client_for(manager).get(f"{BASE}/settings").status_code == 200
        response = send(client_for(manager), "PATCH", f"{BASE}/settings", {"rfm_window_days": 90})
        assert_error(response, 403)
        assert_error(client_for(rep).get(f"{BASE}/settings"), 403)
        assert AnalyticsSettings.current().rfm_window_days == 365

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"value_a_share": "1.5"}, "value_a_share"),
            ({"value_a_share": "0.97"}, "value_b_share"),
            ({"value_a_share": "NaN"}, "value_a_share"),
            ({"value_a_share": "abc"}, "value_a_share"),
            ({"rfm_window_days": "abc"}, "rfm_window_days"),
            ({"rfm_window_days": 10}, "rfm_window_days"),
            ({"rfm_window_days": 10**20}, "rfm_window_days"),
            ({"rfm_window_days": -5}, "rfm_window_days"),
            ({"rfm_window_days": None}, "rfm_window_days"),
            ({"ladder_regular_orders": 1}, "ladder_regular_orders"),
            ({"value_basis": HOSTILE[0]}, "value_basis"),
            ({"reporting_currency": HOSTILE[1]}, "reporting_currency"),
            ({"cost_per_ticket": "1e30"}, "cost_per_ticket"),
            ({"nightly": "sometimes"}, "nightly"),
            ({"no_such_setting": 1}, "no_such_setting"),
            ({"id": 2}, "id"),
        ],
    )
    def test_invalid_values_name_the_field_and_change_nothing(self, admin_user, payload, field):
        before = AnalyticsSettings.current()
        response = send(client_for(admin_user), "PATCH", f"{BASE}/settings", payload)
        assert_error(response, 422, field)
        after = AnalyticsSettings.objects.get(pk=1)
        assert after.updated_at == before.updated_at
        assert AnalyticsSettings.objects.count() == 1


def test_the_settings_schemas_cover_every_editable_setting():
    from vefa.analytics.api import SettingsOut, SettingsPatch

    editable = {
        f.name
        for f in AnalyticsSettings._meta.get_fields()
        if getattr(f, "editable", False) and f.name != "id"
    }
    assert set(SettingsPatch.model_fields) == editable
    assert set(SettingsOut.model_fields) == editable | {"updated_at"}


def test_the_router_is_in_the_openapi_document(admin_user):
    schema = client_for(admin_user).get("/api/v1/openapi.json").json()
    paths = [p for p in schema["paths"] if p.startswith("/api/v1/analytics/")]
    assert "/api/v1/analytics/results/{table}" in paths
    assert "/api/v1/analytics/customers/{customer_id}/score" in paths
    assert len(paths) >= 9

"""The analytics pages: the dashboard from a refresh's Parquet results, the CSV exports, the
refresh button, the settings form and the actions that turn a list into a segment or calls.

Results are written as a refresh would (``results/<id>/*.parquet`` and ``latest.json``) into
a temporary ``ANALYTICS_DIR``; customer scores go through the one write-back service so the
customer list filters find them.
"""

from __future__ import annotations

import csv
import datetime
import html
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import CustomerFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.analytics import services
from vefa.analytics.engine import day_number, month_number
from vefa.analytics.models import AnalyticsSettings, Refresh
from vefa.platform.models import Job, SavedView

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script> قهوه \u202etxt.exe"
FORMULA = '=HYPERLINK("http://evil","x")'
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


# --- writing results as a refresh does ------------------------------------------------------


def sample_tables(
    customer_ids: list[int], product_ids: list[int], *, as_of: datetime.date
) -> dict[str, pa.Table]:
    """A small, complete set of dashboard tables in the contract's columns and types."""
    n = len(customer_ids)
    day = day_number(as_of)
    month = month_number(as_of)
    scores = pa.table(
        {
            "customer_id": pa.array(customer_ids, pa.int64()),
            "last_purchase_day": pa.array([day - 10 * (i + 1) for i in range(n)], pa.int32()),
            "frequency": pa.array([5 - i % 5 for i in range(n)], pa.int64()),
            "monetary": pa.array([100_000 * (n - i) for i in range(n)], pa.int64()),
            "r_score": pa.array([5 - i % 5 for i in range(n)], pa.int64()),
            "f_score": pa.array([1 + i % 5 for i in range(n)], pa.int64()),
            "m_score": pa.array([3] * n, pa.int64()),
            "rfm_segment": pa.array(
                ["champions", "at_risk", "cannot_lose", "lost", "loyal"][i % 5] for i in range(n)
            ),
            "previous_rfm_segment": pa.array(["loyal"] * n),
            "ladder_step": pa.array(
                ["loyal", "regular", "occasional", "one_time"][i % 4] for i in range(n)
            ),
            "previous_ladder_step": pa.array(["regular"] * n),
            "value_class": pa.array(["A", "A", "B", "C"][i % 4] for i in range(n)),
            "revenue": pa.array([50_000 * (i + 1) for i in range(n)], pa.int64()),
            "margin": pa.array([10_000 - 15_000 * (i % 2) for i in range(n)], pa.int64()),
            "clv": pa.array([250_000 * (i + 1) for i in range(n)], pa.int64()),
            "p_alive": pa.array([0.9 - 0.2 * (i % 4) for i in range(n)], pa.float64()),
            "expected_purchases": pa.array([2.5] * n, pa.float64()),
            "declining": pa.array([i % 2 == 0 for i in range(n)]),
            "overdue": pa.array([i % 3 == 0 for i in range(n)]),
            "churn_risk": pa.array(["high", "high", "medium", "low"][i % 4] for i in range(n)),
            "share_of_wallet": pa.array([0.4] * n, pa.float64()),
            "next_best": pa.array([product_ids[:2]] * n, pa.list_(pa.int64())),
            "reasons": pa.array(["{}"] * n),
        }
    )
    grid_r, grid_f, grid_c, grid_m = [], [], [], []
    for r in range(1, 6):
        for f in range(1, 6):
            grid_r.append(r)
            grid_f.append(f)
            grid_c.append(r * f)
            grid_m.append(r * f * 123_456)
    a, b = (product_ids + product_ids)[:2]
    return {
        "scores": scores,
        "rfm_grid": pa.table(
            {
                "r_score": pa.array(grid_r, pa.int64()),
                "f_score": pa.array(grid_f, pa.int64()),
                "customers": pa.array(grid_c, pa.int64()),
                "monetary": pa.array(grid_m, pa.int64()),
            }
        ),
        "ladder_transitions": pa.table(
            {
                "from_step": ["none", "one_time", "occasional", "regular", "loyal"],
                "to_step": ["one_time", "occasional", "occasional", "loyal", "none"],
                "customers": pa.array([7, 3, 5, 2, 1], pa.int64()),
            }
        ),
        "pareto": pa.table(
            {
                "customer_share": [0.1, 0.2, 0.5, 1.0],
                "value_share": [0.5, 0.8, 0.95, 1.0],
            }
        ),
        "pareto_summary": pa.table(
            {
                "customers": pa.array([n], pa.int64()),
                "customer_share_for_80": [0.2],
                "top_5_share": [0.35],
                "bottom_20_share": [-0.01],
            }
        ),
        "cohorts": pa.table(
            {
                "cohort_month": pa.array([month - 2, month - 2, month - 1], pa.int32()),
                "months_since": pa.array([0, 1, 0], pa.int32()),
                "customers": pa.array([10, 4, 6], pa.int64()),
                "revenue": pa.array([100_000, 30_000, 60_000], pa.int64()),
                "cohort_customers": pa.array([10, 10, 6], pa.int64()),
                "retained_share": [1.0, 0.4, 1.0],
                "revenue_share": [1.0, 0.3, 1.0],
            }
        ),
        "basket_rules": pa.table(
            {
                "antecedent": pa.array([a, b], pa.int64()),
                "consequent": pa.array([b, a], pa.int64()),
                "baskets": pa.array([12, 12], pa.int64()),
                "support": [0.05, 0.05],
                "confidence": [0.6, 0.3],
                "lift": [2.5, 1.4],
            }
        ),
        "kpis": pa.table(
            {
                "kpi": ["sales_growth", "new_customer_growth", "retention_rate"],
                "current": [1_234_500.0, 12.0, 0.55],
                "previous": [1_000_000.0, 15.0, 0.5],
                "change": [0.2345, -0.2, 0.1],
            }
        ),
        "profitability_by_segment": pa.table(
            {
                "rfm_segment": ["champions", "lost"],
                "customers": pa.array([4, 2], pa.int64()),
                "revenue": pa.array([900_000, 20_000], pa.int64()),
                "margin": pa.array([300_000, -45_000], pa.int64()),
                "unprofitable": pa.array([0, 2], pa.int64()),
            }
        ),
        "clv_distribution": pa.table(
            {
                "band": pa.array([0, 2, 3, 4], pa.int32()),
                "customers": pa.array([1, 3, 5, 2], pa.int64()),
                "clv": pa.array([0, 15_000, 250_000, 4_000_000], pa.int64()),
            }
        ),
    }


def write_results(root: Path, refresh: Refresh, tables: dict[str, pa.Table]) -> Path:
    """Write ``tables`` as the results of ``refresh`` and point ``latest.json`` at them."""
    folder = root / "results" / str(refresh.pk)
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
    (root / "results" / "latest.json").write_text(
        json.dumps({"refresh_id": refresh.pk, "as_of": refresh.as_of.isoformat()})
    )
    return folder


def finished_refresh(as_of: datetime.date) -> Refresh:
    return Refresh.objects.create(
        status=Refresh.Status.DONE,
        as_of=as_of,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        figures={"seconds": {"total": 1.25, "rfm": 0.2}, "customers_scored": 4, "engine": "duckdb"},
    )


@pytest.fixture
def store(settings, tmp_path) -> Path:
    settings.ANALYTICS_DIR = tmp_path / "analytics"
    settings.ANALYTICS_DIR.mkdir()
    return Path(settings.ANALYTICS_DIR)


@pytest.fixture
def products(admin_user) -> list[Any]:
    from vefa.sales.services.catalogue import product_create

    return [
        product_create(actor=admin_user, sku="P-1", name=HOSTILE, list_price="10"),
        product_create(actor=admin_user, sku="P-2", name=FORMULA, list_price="20"),
    ]


@pytest.fixture
def results(store, admin_user, products) -> dict[str, Any]:
    """A finished refresh of four customers (two declining) with its results and scores."""
    as_of = datetime.date(2026, 3, 1)
    customers = [CustomerFactory(owner=admin_user) for _ in range(4)]
    customers[0].display_name = "Decline <b>bold</b> مشتری"
    customers[0].save()
    refresh = finished_refresh(as_of)
    tables = sample_tables([c.pk for c in customers], [p.pk for p in products], as_of=as_of)
    write_results(store, refresh, tables)
    services.scores_write(tables["scores"], refresh=refresh, currency="TRY")
    return {"refresh": refresh, "customers": customers, "products": products, "tables": tables}


def _login(client, user) -> None:
    client.force_login(user)


def _csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# --- the dashboard ---------------------------------------------------------------------------


def test_empty_state_before_the_first_refresh(client, admin_user, store):
    _login(client, admin_user)
    response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "No analytics yet" in body
    assert reverse("analytics:refresh") in body
    assert "<svg" not in body
    # Nothing to export yet.
    assert client.get(reverse("analytics:export", args=["rfm"])).status_code == 404


def test_empty_state_for_a_role_that_cannot_refresh(client, store, team):
    reader = UserFactory(role=Role.READ_ONLY, team=team)
    _login(client, reader)
    body = client.get(reverse("analytics:dashboard")).content.decode()
    assert "No analytics yet" in body
    assert "Ask an administrator" in body
    assert reverse("analytics:refresh") not in body


def test_dashboard_shows_every_figure_of_the_latest_refresh(client, admin_user, results):
    _login(client, admin_user)
    response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    for key in (
        "kpis",
        "rfm",
        "lists",
        "ladder",
        "transitions",
        "pareto",
        "clv",
        "cohorts",
        "profitability",
        "basket",
    ):
        assert f'id="panel-{key}"' in body, key
    for chart in ("rfm", "ladder", "pareto", "clv", "cohorts", "profitability"):
        assert f'<svg id="chart-{chart}"' in body, chart
    # RFM cells link to the customer list filtered by the cell's scores.
    assert "/customers/?r_score=5&amp;f_score=1" in body
    # KPI tiles: the change with its arrow, formatted for English.
    assert "+23.4%" in body and "▲" in body and "▼" in body
    # The decline list: the first page of declining customers, names escaped.
    assert "Decline &lt;b&gt;bold&lt;/b&gt; مشتری" in body
    assert "<b>bold</b>" not in body
    # The lists to act on with their counts from the results.
    assert reverse("analytics:act") + "?value_class=A&amp;churn_risk=high" in body
    # The as-of day and the figures of the refresh.
    assert "Mar 1, 2026" in body
    assert "Customers scored" in body


def test_product_names_in_basket_rules_are_escaped(client, admin_user, results):
    _login(client, admin_user)
    body = client.get(reverse("analytics:dashboard")).content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; قهوه" in body
    assert "=HYPERLINK(&quot;http://evil&quot;,&quot;x&quot;)" in body


def test_a_product_the_reader_cannot_see_is_shown_by_its_id(client, admin_user, results):
    from vefa.sales.models import Product

    Product.objects.filter(pk=results["products"][0].pk).delete()
    _login(client, admin_user)
    body = client.get(reverse("analytics:dashboard")).content.decode()
    assert f"Product #{results['products'][0].pk}" in body


def test_dashboard_in_persian_is_right_to_left(client, admin_user, results):
    from vefa.accounts.services import user_set_language

    user_set_language(user=admin_user, language="fa")
    _login(client, admin_user)
    body = client.get(reverse("analytics:dashboard")).content.decode()
    assert 'dir="rtl"' in body
    assert 'direction="rtl"' in body
    assert 'direction="ltr"' not in body


def test_missing_result_files_leave_the_page_working(client, admin_user, store):
    refresh = finished_refresh(datetime.date(2026, 3, 1))
    write_results(store, refresh, {})
    _login(client, admin_user)
    response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Some figures were not part of this refresh" in body
    assert "No customer bought in the RFM window." in body
    rows = _csv(client.get(reverse("analytics:export", args=["rfm"])))
    assert rows == [["R score", "F score", "Customers", "Spend (TRY)"]]


def test_a_new_refresh_replaces_the_cached_figures(client, admin_user, results, store):
    _login(client, admin_user)
    assert "+23.4%" in client.get(reverse("analytics:dashboard")).content.decode()
    newer = finished_refresh(datetime.date(2026, 4, 1))
    tables = dict(results["tables"])
    tables["kpis"] = pa.table(
        {"kpi": ["sales_growth"], "current": [5.0], "previous": [10.0], "change": [-0.5]}
    )
    write_results(store, newer, tables)
    body = client.get(reverse("analytics:dashboard")).content.decode()
    assert "-50.0%" in body and "+23.4%" not in body


@pytest.mark.parametrize(
    "name",
    ["analytics:dashboard", "analytics:settings", "analytics:refresh_history", "analytics:act"],
)
def test_pages_are_not_found_for_a_rep(client, rep, results, name):
    _login(client, rep)
    assert client.get(reverse(name)).status_code == 404


def test_rep_gets_404_for_exports_status_and_actions(client, rep, results):
    _login(client, rep)
    refresh = results["refresh"]
    assert client.get(reverse("analytics:export", args=["rfm"])).status_code == 404
    assert client.get(reverse("analytics:refresh_status", args=[refresh.pk])).status_code == 404
    assert client.post(reverse("analytics:refresh")).status_code == 404
    posted = {"filters": "declining=true", "name": "x", "subject": "x", "due": "2030-01-01"}
    assert client.post(reverse("analytics:segment_create"), posted).status_code == 404
    assert client.post(reverse("analytics:call_tasks"), posted).status_code == 404
    assert Refresh.objects.count() == 1
    assert not SavedView.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login(client, results):
    response = client.get(reverse("analytics:dashboard"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_navigation_shows_analytics_only_to_those_who_may_see_it(client, admin_user, rep, store):
    _login(client, admin_user)
    home = reverse("platform:dashboard")
    link = f'href="{reverse("analytics:dashboard")}"'
    assert link in client.get(home).content.decode()
    _login(client, rep)
    assert link not in client.get(home).content.decode()


# --- CSV exports -------------------------------------------------------------------------------


def test_rfm_csv_holds_the_grid(client, admin_user, results):
    _login(client, admin_user)
    response = client.get(reverse("analytics:export", args=["rfm"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="analytics-rfm-2026-03-01.csv"' in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["R score", "F score", "Customers", "Spend (TRY)"]
    assert len(rows) == 26
    assert ["5", "1", "5", "6172.80"] in rows


def test_csv_cells_are_never_formulas(client, admin_user, results):
    _login(client, admin_user)
    rows = _csv(client.get(reverse("analytics:export", args=["basket"])))
    assert rows[0] == ["Bought", "Also bought", "Orders with both", "Support", "Confidence", "Lift"]
    names = {row[0] for row in rows[1:]}
    assert "'" + FORMULA in names
    assert HOSTILE in names
    profit = _csv(client.get(reverse("analytics:export", args=["profitability"])))
    assert ["Lost", "2", "200.00", "-450.00", "2"] in profit  # a number stays a number
    for key in ("kpis", "rfm", "ladder", "transitions", "pareto", "clv", "cohorts"):
        for row in _csv(client.get(reverse("analytics:export", args=[key]))):
            for cell in row:
                # Numbers (a negative change) stay numbers; text never starts a formula.
                assert not cell.startswith(DANGEROUS) or _is_number(cell), (key, cell)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_csv_of_each_chart(client, admin_user, results):
    _login(client, admin_user)
    kpis = _csv(client.get(reverse("analytics:export", args=["kpis"])))
    assert kpis[1] == ["Sales growth", "12345.00", "10000.00", "0.2345"]
    ladder = _csv(client.get(reverse("analytics:export", args=["ladder"])))
    assert ladder[1:] == [
        ["One-time", "1", "0.25"],
        ["Occasional", "1", "0.25"],
        ["Regular", "1", "0.25"],
        ["Loyal", "1", "0.25"],
    ]
    clv = _csv(client.get(reverse("analytics:export", args=["clv"])))
    assert clv[0][:4] == ["Band", "From", "To", "Customers"]
    assert clv[2][1:4] == ["10", "100", "3"]
    cohorts = _csv(client.get(reverse("analytics:export", args=["cohorts"])))
    assert cohorts[1][:3] == ["2026-01", "0", "10"]
    pareto = _csv(client.get(reverse("analytics:export", args=["pareto"])))
    assert pareto[1:] == [["0.1", "0.5"], ["0.2", "0.8"], ["0.5", "0.95"], ["1.0", "1.0"]]


def test_unknown_export_is_not_found(client, admin_user, results):
    _login(client, admin_user)
    assert client.get("/analytics/export/nope.csv").status_code == 404
    assert client.get("/analytics/export/..%2Fscores.csv").status_code == 404


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (None, ""),
        (True, "true"),
        (0.5, "0.5"),
        (-1.5, "-1.5"),
        (-3, "-3"),
        (Decimal("-2.50"), "-2.50"),
        ("-2.50", "'-2.50"),
        (datetime.date(2026, 1, 2), "2026-01-02"),
    ],
)
def test_formula_safe(value, expected):
    from vefa.analytics.views import formula_safe

    assert formula_safe(value) == expected


# --- refresh ---------------------------------------------------------------------------------


def test_refresh_button_queues_one_refresh(client, admin_user, store):
    _login(client, admin_user)
    response = client.post(reverse("analytics:refresh"), {"full": "on"})
    assert response.status_code == 302
    refresh = Refresh.objects.get()
    assert refresh.full is True
    assert refresh.requested_by == admin_user
    assert refresh.job is not None and refresh.job.kind == services.REFRESH_JOB
    # A second click while it is queued does not start another one.
    client.post(reverse("analytics:refresh"))
    assert Refresh.objects.count() == 1
    body = client.get(reverse("analytics:dashboard")).content.decode()
    assert f'id="refresh-status-{refresh.pk}"' in body
    assert 'hx-trigger="every 1s"' in body


def test_refresh_button_runs_the_job(client, admin_user, store, django_capture_on_commit_callbacks):
    _login(client, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("analytics:refresh"))
    refresh = Refresh.objects.get()
    job = Job.objects.get(pk=refresh.job_id)
    assert job.kind == services.REFRESH_JOB
    assert job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED)
    refresh.refresh_from_db()
    assert refresh.status in (Refresh.Status.DONE, Refresh.Status.FAILED)
    status = client.get(reverse("analytics:refresh_status", args=[refresh.pk]))
    assert status.status_code == 200
    assert "hx-trigger" not in status.content.decode()  # finished: no more polling


def test_refresh_is_refused_to_a_role_that_may_only_read(client, store, team):
    reader = UserFactory(role=Role.READ_ONLY, team=team)
    _login(client, reader)
    assert client.post(reverse("analytics:refresh")).status_code == 403
    assert not Refresh.objects.exists()


def test_refresh_status_shows_a_failed_run_and_its_error_escaped(client, admin_user, store):
    row = Refresh.objects.create(
        status=Refresh.Status.FAILED, as_of=datetime.date(2026, 3, 1), error="<img src=x>"
    )
    _login(client, admin_user)
    body = client.get(reverse("analytics:refresh_status", args=[row.pk])).content.decode()
    assert "The refresh failed." in body and "&lt;img src=x&gt;" in body
    dashboard = client.get(reverse("analytics:dashboard")).content.decode()
    assert "The refresh failed." in dashboard
    history = client.get(reverse("analytics:refresh_history")).content.decode()
    assert "&lt;img src=x&gt;" in history and "<img src=x>" not in history
    assert client.get(reverse("analytics:refresh_status", args=[row.pk + 99])).status_code == 404


def test_refresh_history_lists_runs_with_their_figures(client, admin_user, results):
    _login(client, admin_user)
    body = client.get(reverse("analytics:refresh_history")).content.decode()
    assert "Nightly run" in body
    assert "Customers scored" in body
    assert "Total time" in body and "1.2 s" in body
    assert "<bdi>RFM</bdi>" in body and "0.20 s" in body


# --- settings ----------------------------------------------------------------------------------


def _settings_data(**changes: Any) -> dict[str, Any]:
    from vefa.analytics.views import _settings_fields

    current = AnalyticsSettings.current()
    data: dict[str, Any] = {}
    for name in _settings_fields():
        value = getattr(current, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
    data.update(changes)
    return data


def test_settings_form_saves_through_the_service(client, admin_user, store):
    _login(client, admin_user)
    assert client.get(reverse("analytics:settings")).status_code == 200
    response = client.post(
        reverse("analytics:settings"),
        _settings_data(rfm_window_days="180", reporting_currency="eur", value_a_share="0.7"),
    )
    assert response.status_code == 302
    saved = AnalyticsSettings.current()
    assert saved.rfm_window_days == 180
    assert saved.reporting_currency == "EUR"
    assert str(saved.value_a_share) == "0.700"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"value_a_share": "1.5"}, "value_a_share", ""),
        ({"value_a_share": "0.96"}, "value_b_share", "Must be larger than the A class share."),
        (
            {"ladder_regular_orders": "20"},
            "ladder_regular_orders",
            "The thresholds must increase step by step.",
        ),
        ({"rfm_window_days": "5"}, "rfm_window_days", "Enter between 30 and 3660 days."),
        ({"rfm_window_days": "abc"}, "rfm_window_days", "Enter a whole number."),
        ({"reporting_currency": "€€€"}, "reporting_currency", "three-letter currency code"),
        ({"clv_horizon_months": "99999999999"}, "clv_horizon_months", ""),
        ({"rfm_window_days": ""}, "rfm_window_days", "This field is required."),
    ],
)
def test_settings_form_shows_errors_and_keeps_the_input(
    client, admin_user, store, changes, field, message
):
    _login(client, admin_user)
    before = AnalyticsSettings.current()
    response = client.post(reverse("analytics:settings"), _settings_data(**changes))
    assert response.status_code == 422
    form = response.context["form"]
    assert field in form.errors
    if message:
        assert message in " ".join(form.errors[field])
    body = response.content.decode()
    for value in changes.values():
        if value:
            assert f'value="{value}"' in body
    after = AnalyticsSettings.current()
    before.refresh_from_db()
    assert after.rfm_window_days == before.rfm_window_days
    assert after.value_a_share == before.value_a_share


def test_settings_are_read_only_for_a_marketer(client, store, team):
    marketer = UserFactory(role=Role.MARKETER, team=team)
    _login(client, marketer)
    response = client.get(reverse("analytics:settings"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Only administrators change the analytics settings." in body
    assert re.search(r'name="rfm_window_days"[^>]*disabled', body)
    assert client.post(reverse("analytics:settings"), _settings_data()).status_code == 403


# --- from a list to action -------------------------------------------------------------------


def test_action_page_describes_the_list_and_previews_it(client, admin_user, results):
    _login(client, admin_user)
    response = client.get(reverse("analytics:act") + "?declining=true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Declining: <bdi>Yes</bdi>" in body
    assert "Decline &lt;b&gt;bold&lt;/b&gt; مشتری" in body
    assert 'value="declining=true"' in body
    assert 'value="Declining customers"' in body  # the segment's name proposed


def test_action_page_without_a_list_offers_the_lists(client, admin_user, results):
    _login(client, admin_user)
    body = client.get(reverse("analytics:act")).content.decode()
    assert "Choose a list" in body
    assert "?declining=true" in body


def test_action_page_reports_unknown_and_invalid_filters(client, admin_user, results):
    _login(client, admin_user)
    response = client.get(reverse("analytics:act") + "?bogus=1")
    assert response.status_code == 422
    assert "Unknown filters: bogus" in response.content.decode()
    response = client.get(reverse("analytics:act") + "?r_score=9")
    assert "Some filters are not valid" in response.content.decode()


def test_rfm_cell_form_leads_to_the_action_page(client, admin_user, results):
    _login(client, admin_user)
    response = client.get(reverse("analytics:act_cell"), {"r_score": "5", "f_score": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("analytics:act") + "?r_score=5&f_score=1"
    bad = client.get(reverse("analytics:act_cell"), {"r_score": "7", "f_score": "x"})
    assert bad.status_code == 302
    assert bad["Location"].endswith("#panel-rfm")


def test_segment_from_an_rfm_cell(client, admin_user, results):
    _login(client, admin_user)
    response = client.post(
        reverse("analytics:segment_create"),
        {
            "filters": "r_score=5&f_score=1",
            "name": "Best recent, rare  <i>",
            "share_with_team": "on",
        },
    )
    view = SavedView.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('customers:list')}?view={view.pk}"
    assert view.filters == {"r_score": "5", "f_score": "1"}
    assert view.list_key == "customers"
    assert view.team_id == admin_user.team_id
    listing = client.get(response["Location"])
    assert listing.status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"filters": "r_score=5&f_score=1", "name": ""}, "This field is required."),
        ({"filters": "r_score=5&f_score=1", "name": "x" * 101}, "at most 100 characters"),
        ({"filters": "", "name": "Segment"}, "Choose a list of customers first."),
        ({"filters": "evil=1", "name": "Segment"}, "Unknown filters: evil"),
        ({"filters": "r_score=9", "name": "Segment"}, "r_score"),
        ({"filters": "declining=" + "x" * 3000, "name": "Segment"}, "The list is too long."),
    ],
)
def test_segment_form_errors_lose_nothing(client, admin_user, results, data, message):
    _login(client, admin_user)
    response = client.post(reverse("analytics:segment_create"), data)
    assert response.status_code == 422
    body = response.content.decode()
    assert message in body
    assert not SavedView.objects.exists()
    if data["name"] and len(data["name"]) <= 100:
        assert f'value="{data["name"]}"' in body
    if data["filters"] and len(data["filters"]) < 100:
        assert f'value="{html.escape(data["filters"])}"' in body


def test_call_tasks_for_a_list_start_a_job_and_show_its_progress(
    client, admin_user, results, django_capture_on_commit_callbacks
):
    from vefa.interactions.models import Activity

    _login(client, admin_user)
    due = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("analytics:call_tasks"),
            {"filters": "declining=true", "subject": "Check in <b>now</b>", "due": due},
        )
    assert response.status_code == 302
    job = Job.objects.get(kind=services.CALL_TASKS_JOB)
    assert response["Location"] == reverse("analytics:act") + f"?declining=true&job={job.pk}"
    assert job.params["filters"] == {"declining": "true"}
    # Two of the four customers are declining: one call each, for their owner.
    assert Activity.objects.filter(subject="Check in <b>now</b>").count() == 2
    page = client.get(response["Location"])
    body = page.content.decode()
    assert f'id="job-status-{job.pk}"' in body
    assert "Check in &lt;b&gt;now&lt;/b&gt;" in body


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subject": ""}, "This field is required."),
        ({"subject": "y" * 201}, "at most 200 characters"),
        ({"due": "2001-01-01"}, "Choose today or a later day."),
        ({"due": "not a day"}, "Enter a valid date."),
        ({"due": "9999-12-31"}, "Choose a day within a year."),
        ({"filters": ""}, "Choose a list of customers first."),
    ],
)
def test_call_tasks_form_errors_lose_nothing(client, admin_user, results, changes, message):
    _login(client, admin_user)
    data = {
        "filters": "value_class=A&churn_risk=high",
        "subject": "Call the A customers",
        "due": (timezone.localdate() + datetime.timedelta(days=1)).isoformat(),
        **changes,
    }
    response = client.post(reverse("analytics:call_tasks"), data)
    assert response.status_code == 422
    body = response.content.decode()
    assert message in body
    assert not Job.objects.filter(kind=services.CALL_TASKS_JOB).exists()
    if data["subject"] and len(data["subject"]) <= 200:
        assert f'value="{data["subject"]}"' in body
    if data["filters"]:
        assert 'value="value_class=A&amp;churn_risk=high"' in body


def test_a_job_of_someone_else_is_not_shown(client, admin_user, results, team):
    other = UserFactory(role=Role.SALES_MANAGER, team=team)
    job = Job.objects.create(kind=services.CALL_TASKS_JOB, title="x", user=admin_user)
    _login(client, other)
    body = client.get(reverse("analytics:act") + f"?declining=true&job={job.pk}").content.decode()
    assert f'id="job-status-{job.pk}"' not in body

"""The analytics section of the customer 360 page (an htmx partial), and the per-customer
reads it shares with the API: the current score, the history from the snapshots, the next
best products.

The section answers "where does this customer stand and why": the badges (RFM segment with
its R/F/M scores, ladder step, value class, churn risk, the decline and overdue flags, CLV,
P(alive), share of wallet) come with the numbers behind them, so a rep can see *why* a
customer is at risk before calling.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from vefa.accounts.access import restrict
from vefa.analytics.models import (
    AnalyticsSettings,
    ChurnRisk,
    CustomerScore,
    LadderStep,
    Refresh,
    RfmSegment,
    ValueClass,
)
from vefa.common.errors import NotFound

if TYPE_CHECKING:
    from vefa.accounts.models import User
    from vefa.customers.models import Customer
    from vefa.sales.models import Product

#: The most snapshot rows one customer's history returns (API and page).
HISTORY_LIMIT = 100
#: Rows of the history the customer page shows.
SECTION_HISTORY = 12
# Snapshot files are named "<as_of>-<refresh id>.parquet" by the refresh.
_SNAPSHOT_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-(\d+)\.parquet$")

_LABELS: dict[str, dict[str, Any]] = {
    "rfm_segment": dict(RfmSegment.choices),
    "ladder_step": dict(LadderStep.choices),
    "value_class": dict(ValueClass.choices),
    "churn_risk": dict(ChurnRisk.choices),
}


def label_of(kind: str, code: str | None) -> str:
    """The translated label of an analytic code (the code itself when unknown, "" for none)."""
    if not code:
        return ""
    return str(_LABELS[kind].get(code, code))


# --- reads shared with the API --------------------------------------------------------------


def customer_score(customer: Customer) -> CustomerScore | None:
    """The customer's current score with its refresh, or ``None`` before any result."""
    return CustomerScore.objects.select_related("refresh").filter(customer_id=customer.pk).first()


@dataclass(frozen=True)
class HistoryEntry:
    """One customer's segment, step, class and risk as of one refresh."""

    as_of: datetime.date
    refresh_id: int
    rfm_segment: str
    ladder_step: str
    value_class: str
    churn_risk: str

    @property
    def rfm_segment_label(self) -> str:
        return label_of("rfm_segment", self.rfm_segment)

    @property
    def ladder_step_label(self) -> str:
        return label_of("ladder_step", self.ladder_step)

    @property
    def value_class_label(self) -> str:
        return label_of("value_class", self.value_class)

    @property
    def churn_risk_label(self) -> str:
        return label_of("churn_risk", self.churn_risk)


def _snapshot_files() -> list[str]:
    """The snapshot files of refreshes that did not fail or stop half way, newest first.

    A refresh writes its snapshot before the write-back, so a failed (or still running) run
    can leave one behind; those are left out so the history matches what customers were
    given. Files of refresh rows that no longer exist are kept: their results were real.
    """
    from vefa.analytics.refresh import store_dir

    folder = store_dir() / "snapshots"
    if not folder.is_dir():
        return []
    found: list[tuple[str, int, str]] = []
    for path in folder.iterdir():
        match = _SNAPSHOT_NAME.match(path.name)
        if match and path.is_file():
            found.append((match.group(1), int(match.group(2)), str(path)))
    if not found:
        return []
    unfinished = set(
        Refresh.objects.filter(pk__in={refresh_id for _day, refresh_id, _path in found})
        .exclude(status=Refresh.Status.DONE)
        .values_list("pk", flat=True)
    )
    found.sort(reverse=True)
    return [path for _day, refresh_id, path in found if refresh_id not in unfinished]


def customer_history(customer_id: int, *, limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
    """The customer's row of each snapshot, newest first (at most ``limit``).

    Read with DuckDB straight from the Parquet snapshots; the filter on ``customer_id`` is
    pushed into the scan and, the snapshots being sorted by customer, skips the row groups
    that cannot hold the customer. A snapshot holds at most one row per customer, so the
    newest ``limit`` files are read first and older ones only while rows are missing: the
    work follows the rows asked for, not the years of nightly snapshots kept. The file list
    comes from the store folder, never from the request.
    """
    import duckdb

    files = _snapshot_files()
    limit = max(1, min(int(limit), HISTORY_LIMIT))
    sql = """
        SELECT as_of,
               CAST(regexp_extract(filename, '-([0-9]+)\\.parquet$', 1) AS BIGINT) AS refresh_id,
               rfm_segment, ladder_step, value_class, churn_risk
        FROM read_parquet($files, filename = true)
        WHERE customer_id = $customer
        ORDER BY as_of DESC, refresh_id DESC
        LIMIT $limit
    """
    rows: list[tuple[Any, ...]] = []
    con = duckdb.connect()
    try:
        for start in range(0, len(files), limit):
            # Batches go from newer to older files, so their rows simply follow each other.
            rows += con.execute(
                sql,
                {
                    "files": files[start : start + limit],
                    "customer": int(customer_id),
                    "limit": limit - len(rows),
                },
            ).fetchall()
            if len(rows) >= limit:
                break
    finally:
        con.close()
    return [
        HistoryEntry(
            as_of=as_of,
            refresh_id=int(refresh_id),
            rfm_segment=rfm or "",
            ladder_step=step or "",
            value_class=value or "",
            churn_risk=risk or "",
        )
        for as_of, refresh_id, rfm, step, value, risk in rows
    ]


def next_best_products(actor: User, product_ids: list[Any]) -> list[Product]:
    """The recommended products the actor may see, in the order of the recommendation."""
    from vefa.sales.models import Product

    ids = [int(pk) for pk in product_ids if isinstance(pk, int) and not isinstance(pk, bool)]
    if not ids:
        return []
    rows = restrict(Product.objects.filter(pk__in=ids), actor, "view").only("pk", "sku", "name")
    by_pk = {product.pk: product for product in rows}
    return [by_pk[pk] for pk in ids if pk in by_pk]


# --- the numbers behind the badges ----------------------------------------------------------


def _money(cents: Any) -> Decimal | None:
    if cents is None or isinstance(cents, bool) or not isinstance(cents, int | float):
        return None
    return (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def _percent(share: Any) -> int | None:
    if share is None or isinstance(share, bool) or not isinstance(share, int | float):
        return None
    if share != share or share in (float("inf"), float("-inf")):  # NaN / infinite
        return None
    return round(float(share) * 100)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return None if number != number or number in (float("inf"), float("-inf")) else number


@dataclass
class Why:
    """The figures that explain a customer's flags, ready for the template."""

    orders_last_12m: int | None = None
    orders_prev_12m: int | None = None
    order_change: int | None = None  # percent
    revenue_last_12m: Decimal | None = None
    revenue_prev_12m: Decimal | None = None
    revenue_change: int | None = None  # percent
    mean_gap_days: int | None = None
    days_since_last: int | None = None
    overdue_ratio: float | None = None
    p_alive: int | None = None  # percent
    p_alive_threshold: int | None = None  # percent
    p_alive_below: bool = False
    value_rank: int | None = None
    wallet: Decimal | None = None

    @property
    def has_decline(self) -> bool:
        return self.orders_last_12m is not None or self.revenue_last_12m is not None

    @property
    def has_gap(self) -> bool:
        return self.mean_gap_days is not None or self.days_since_last is not None


def as_of_of(score: CustomerScore) -> datetime.date:
    """The day the figures are as of: the latest finished refresh's day (a row is only
    rewritten when its results change, so its own refresh may be older)."""
    latest = (
        Refresh.objects.filter(status=Refresh.Status.DONE)
        .order_by("-id")
        .values_list("as_of", flat=True)
        .first()
    )
    if latest is not None:
        return latest
    if score.refresh is not None:
        return score.refresh.as_of
    return timezone.localdate(score.computed_at)


def why_of(
    score: CustomerScore, options: AnalyticsSettings, as_of: datetime.date | None = None
) -> Why:
    """The numbers behind the flags, from the score's ``reasons`` and its own columns.

    ``reasons`` is JSON written by the refresh; any value of an unexpected type is ignored
    rather than shown, so a malformed row cannot break the page.
    """
    reasons = score.reasons if isinstance(score.reasons, dict) else {}
    why = Why()
    orders_last = _number(reasons.get("orders_last_12m"))
    orders_prev = _number(reasons.get("orders_prev_12m"))
    why.orders_last_12m = int(orders_last) if orders_last is not None else None
    why.orders_prev_12m = int(orders_prev) if orders_prev is not None else None
    why.order_change = _percent(reasons.get("order_change"))
    why.revenue_last_12m = _money(reasons.get("revenue_last_12m"))
    why.revenue_prev_12m = _money(reasons.get("revenue_prev_12m"))
    why.revenue_change = _percent(reasons.get("revenue_change"))
    gap = _number(reasons.get("mean_gap_days"))
    why.mean_gap_days = round(gap) if gap is not None else None
    if score.last_purchase_on is not None:
        # Counted to the latest refresh's day: a row is only rewritten when the customer's
        # results change, so its own refresh may be older.
        why.days_since_last = ((as_of or as_of_of(score)) - score.last_purchase_on).days
    if why.days_since_last is not None and gap:
        why.overdue_ratio = round(why.days_since_last / gap, 1)
    threshold = float(options.churn_p_alive)
    why.p_alive_threshold = _percent(threshold)
    if score.p_alive is not None:
        why.p_alive = _percent(score.p_alive)
        why.p_alive_below = score.p_alive < threshold
    rank = _number(reasons.get("value_rank"))
    why.value_rank = int(rank) if rank is not None else None
    why.wallet = _money(reasons.get("wallet"))
    return why


# --- the page -------------------------------------------------------------------------------

_RISK_STYLE = {"high": "text-bg-danger", "medium": "text-bg-warning", "low": "text-bg-success"}


@login_required
@require_GET
def customer_analytics(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer's analytics card: badges, the reasons behind them, movement, history and
    the products to offer next. A customer the user may not see is 404."""
    from vefa.customers.selectors import customer_get

    actor: User = request.user  # type: ignore[assignment]
    try:
        customer = customer_get(actor=actor, pk=pk)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    score = customer_score(customer)
    history = customer_history(customer.pk, limit=SECTION_HISTORY)
    context: dict[str, Any] = {"customer": customer, "score": score, "history": history}
    if score is not None:
        options = AnalyticsSettings.current()
        as_of = as_of_of(score)
        context.update(
            why=why_of(score, options, as_of),
            as_of=as_of,
            products=next_best_products(actor, list(score.next_best or [])),
            risk_style=_RISK_STYLE.get(score.churn_risk, "text-bg-secondary"),
            share_of_wallet=_percent(score.share_of_wallet),
            p_alive=_percent(score.p_alive),
            rfm_moved=bool(
                score.previous_rfm_segment and score.previous_rfm_segment != score.rfm_segment
            ),
            ladder_moved=bool(
                score.previous_ladder_step and score.previous_ladder_step != score.ladder_step
            ),
            labels={
                "previous_rfm_segment": label_of("rfm_segment", score.previous_rfm_segment),
                "previous_ladder_step": label_of("ladder_step", score.previous_ladder_step),
            },
            none_label=_("none"),
        )
    return render(request, "analytics/customer_section.html", context)

"""Sales analysis: funnel, win rate, cycle length, revenue by dimension, lost reasons,
competitors, activities per rep and forecast against actual, for a date range in one
reporting currency.

Every figure is aggregated in SQL with grouped queries (a fixed number of queries, whatever
the number of rows); Python only converts the grouped sums into the reporting currency and
names the groups. Amounts in other currencies are grouped by ``(currency, day)`` so each
group is converted at its day's rate (``RateTable``); amounts already in the reporting
currency are not split by day. A currency without any rate is left out of the sums and
listed in ``missing_currencies``.

Definitions (shown on the page too):

- **Revenue**: orders that are neither draft nor cancelled, by ``ordered_at`` in the range;
  the net amount (subtotal − discount, without tax). Per product and category the order
  lines' net amounts. Region is the customer's country and city; segment the customer's
  lifecycle stage and tags (an order counts once under every tag its customer carries).
- **Win rate**: won ÷ (won + lost) among opportunities closed in the range.
- **Cycle length**: mean days from creation to close of the opportunities won in the range.
- **Funnel**: the opportunities of one pipeline created in the range; an opportunity
  *reached* a stage when the change log shows it in that stage or in any later stage
  (open stages in their order, then won). Skipped stages therefore count as passed, and a
  lost opportunity counts up to the last open stage it was in before it was lost.
- **Lost reasons**: opportunities lost in the range, by reason (count and amount).
- **Competitors**: per competitor, deals lost to them (``lost_to``) and deals we won while
  they had a bid, closed in the range.
- **Activities per rep**: interactions recorded by each user (by kind) and activities they
  completed (by kind) in the range.
- **Forecast vs actual**: per month, the weighted value (amount × probability) of the
  opportunities expected to close that month (not omitted from the forecast, with their
  current probability) against the amount of opportunities won that month.

Scope: the ``sales.opportunity`` view scope decides — admins and read-only users see
everything, managers their team, reps their own records. Each query also goes through
``restrict`` on its own model. The computed report is cached per (scope, range, currency,
pipeline, time zone) for ``CACHE_SECONDS``.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from vefa.accounts.access import restrict, scope_for
from vefa.accounts.choices import Scope
from vefa.common.errors import NotFound
from vefa.interactions.choices import ActivityStatus
from vefa.interactions.filters import day_start, user_zone
from vefa.interactions.models import Activity, Interaction
from vefa.platform.models import ChangeLogEntry
from vefa.sales.choices import (
    ForecastCategory,
    OpportunityStatus,
    OrderStatus,
    StageKind,
)
from vefa.sales.models import (
    Opportunity,
    OpportunityCompetitor,
    Order,
    OrderLine,
    Pipeline,
    Stage,
)
from vefa.sales.money import RateTable, round_money

if TYPE_CHECKING:
    from vefa.accounts.models import User

CACHE_SECONDS = 300
CACHE_VERSION = 1
MAX_RANGE_DAYS = 3 * 366
TOP = 15  # rows per revenue dimension (the rest is summed as "other")
NOT_REVENUE = (OrderStatus.DRAFT, OrderStatus.CANCELLED)


@dataclass(frozen=True)
class AnalysisScope:
    """Whose records the analysis covers: everything, one team (and the actor), or own."""

    scope: Scope
    actor_id: int
    team_id: int | None

    @property
    def key(self) -> str:
        if self.scope == Scope.ALL:
            return "all"
        if self.scope == Scope.TEAM:
            return f"team:{self.team_id}:{self.actor_id}"
        return f"own:{self.actor_id}"

    def users_q(self, path: str) -> Q:
        """The filter on ``path`` (a user foreign key) for the people in scope."""
        if self.scope == Scope.ALL:
            return Q(**{f"{path}__isnull": False})
        if self.scope == Scope.TEAM and self.team_id is not None:
            return Q(**{path: self.actor_id}) | Q(**{f"{path}__team_id": self.team_id})
        return Q(**{path: self.actor_id})


def analysis_scope(actor: User) -> AnalysisScope:
    """The actor's scope, or ``NotFound`` for roles that see no opportunities."""
    scope = scope_for(actor, "sales.opportunity", "view")
    if scope == Scope.NONE:
        raise NotFound("Not found.")
    return AnalysisScope(scope=scope, actor_id=actor.pk, team_id=actor.team_id)


class Converter:
    """Sums grouped amounts in many currencies into the reporting currency."""

    def __init__(self, target: str, rates: RateTable | None = None):
        self.target = target
        self.rates = rates or RateTable.load(target)

    def __call__(
        self, amount: Any, currency: str | None, day: datetime.date | datetime.datetime | None
    ) -> Decimal | None:
        if amount is None:
            return Decimal(0)
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
        code = (currency or self.target).upper()
        if code == self.target:
            return value
        if isinstance(day, datetime.datetime):
            day = day.date()
        if isinstance(day, str):
            day = datetime.date.fromisoformat(day[:10])
        return self.rates.convert(value, code, day or datetime.date.today())

    @property
    def missing(self) -> list[str]:
        return sorted(self.rates.missing)


def _day(expression: str, zone: datetime.tzinfo, target: str) -> Case:
    """The local day of ``expression`` for foreign currencies, NULL for the target one."""
    return Case(
        When(currency=target, then=Value(None, output_field=DateField())),
        default=TruncDate(expression, tzinfo=zone),
        output_field=DateField(),
    )


def _bucket(
    rows: Iterable[dict[str, Any]],
    keys: tuple[str, ...],
    convert: Converter,
    currency: str = "currency",
) -> dict[Any, tuple[Decimal, int]]:
    """Convert grouped rows ``{*keys, currency, day, amount, n}`` and sum them per key."""
    amounts: dict[Any, Decimal] = defaultdict(Decimal)
    counts: dict[Any, int] = defaultdict(int)
    for row in rows:
        key = row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)
        counts[key] += int(row.get("n") or 0)
        value = convert(row["amount"], row[currency], row["day"])
        if value is not None:
            amounts[key] += value
    return {k: (amounts.get(k, Decimal(0)), counts[k]) for k in counts}


def _ranked(
    sums: dict[Any, tuple[Decimal, int]], labels: dict[Any, str], target: str, top: int = TOP
) -> list[dict[str, Any]]:
    """Rows ``{key, label, amount, count}`` by amount, the tail beyond ``top`` summed."""
    rows = sorted(sums.items(), key=lambda kv: (-kv[1][0], str(kv[0])))
    out = [
        {
            "key": key,
            "label": labels.get(key, "" if key is None else str(key)),
            "amount": round_money(amount, target),
            "count": count,
        }
        for key, (amount, count) in rows[:top]
    ]
    if len(rows) > top:
        rest = rows[top:]
        out.append(
            {
                "key": "__other__",
                "label": "",
                "amount": round_money(sum((a for _, (a, _n) in rest), Decimal(0)), target),
                "count": sum(n for _, (_a, n) in rest),
                "other": len(rest),
            }
        )
    return out


def _months(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    months = []
    day = start.replace(day=1)
    while day <= end:
        months.append(day)
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return months


# --- the sections ------------------------------------------------------------------------


class UTCDay(Func):
    """The UTC calendar day of a datetime column, as the key of the day's exchange rate.

    Text ``YYYY-MM-DD`` on SQLite (a prefix of the stored value: no function call per row),
    a ``date`` on PostgreSQL.
    """

    template = "CAST(%(expressions)s AS DATE)"
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, 1, 10)")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="((%(expressions)s) AT TIME ZONE 'UTC')::date"
        )


def _converted(
    queryset: Any,
    *,
    dims: list[str],
    amount: Any,
    currency: str,
    moment: str,
    convert: Converter,
    first: datetime.date,
    last: datetime.date,
    scan: str = "",
) -> list[tuple[Any, ...]]:
    """``(*dims, currency, converted sum, count)`` per group, summed in SQL.

    Each row's amount is multiplied by the rate of its currency on its UTC day, joined from
    a small table of daily rates built from ``RateTable`` (the latest rate on or before
    each day); rows in a currency without any rate add nothing and the currency is listed
    as missing. One grouped query, whatever the number of rows.
    """
    pg = connection.vendor == "postgresql"
    inner = queryset.values(
        **{f"d{i}": F(path) for i, path in enumerate(dims)},
        cur=F(currency),
        day=UTCDay(moment),
        amt=amount,
    )
    sql, params = inner.query.sql_with_params()
    if scan and connection.vendor == "sqlite":
        # Read ``scan`` in table order rather than through an index on another column:
        # a sequential pass with primary-key joins is several times faster on SQLite.
        sql = sql.replace(f'FROM "{scan}" ', f'FROM "{scan}" NOT INDEXED ', 1)
    rates: list[Any] = []
    known = sorted(convert.rates._days)
    span = (last - first).days + 3
    for code in known:
        for offset in range(span):
            day = first + datetime.timedelta(days=offset - 1)
            rate = convert.rates.rate(code, day)
            rates += [code, day if pg else day.isoformat(), rate if pg else str(rate)]
    if not rates:
        rates = ["---", first if pg else first.isoformat(), Decimal(1) if pg else "1"]
    marks = ", ".join(["(%s, %s::date, %s::numeric)" if pg else "(%s, %s, %s)"] * (len(rates) // 3))
    dcols = ", ".join(f"o.d{i}" for i in range(len(dims)))
    query = (
        f"WITH fx(cur, day, rate) AS (VALUES {marks}) "  # noqa: S608 (no user text in it)
        f"SELECT {dcols}, o.cur, SUM(o.amt * CASE WHEN o.cur = %s THEN 1 ELSE fx.rate END), "
        f"COUNT(*) FROM ({sql}) o LEFT JOIN fx ON fx.cur = o.cur AND fx.day = o.day "
        f"GROUP BY {dcols}, o.cur"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [*rates, convert.target, *params])
        rows = cursor.fetchall()
    out = []
    for *keys, code, total, count in rows:
        if code != convert.target and code not in convert.rates._days:
            convert.rates.missing.add(code)
        value = Decimal(str(total)) if total is not None else Decimal(0)
        out.append((*keys, code, value, int(count)))
    return out


def _add(bucket: dict[Any, tuple[Decimal, int]], key: Any, amount: Decimal, n: int) -> None:
    a, c = bucket.get(key, (Decimal(0), 0))
    bucket[key] = (a + amount, c + n)


def _revenue(
    actor: User,
    t0: datetime.datetime,
    t1: datetime.datetime,
    first: datetime.date,
    last: datetime.date,
    convert: Converter,
) -> dict[str, Any]:
    from vefa.accounts.models import Team, User
    from vefa.customers.choices import LifecycleStage
    from vefa.platform.models import Tag
    from vefa.sales.models import Product, ProductCategory

    target = convert.target
    # A rep's own orders are few: reach them by index. A team's or everyone's: read in order.
    sequential = scope_for(actor, "sales.order", "view") != Scope.OWN
    orders = (
        restrict(Order.objects.all(), actor, "view")
        .filter(ordered_at__gte=t0, ordered_at__lt=t1)
        .exclude(status__in=NOT_REVENUE)
    )
    net = F("subtotal") - F("discount_total")
    span: dict[str, Any] = {"convert": convert, "first": first, "last": last}
    reps: dict[Any, tuple[Decimal, int]] = {}
    teams: dict[Any, tuple[Decimal, int]] = {}
    countries: dict[Any, tuple[Decimal, int]] = {}
    cities: dict[Any, tuple[Decimal, int]] = {}
    stages: dict[Any, tuple[Decimal, int]] = {}
    main = _converted(
        orders,
        # Customer columns first: with owner and team first SQLite would walk the whole
        # table through the team index to save a sort, even for one rep's orders.
        dims=[
            "customer__country",
            "customer__city",
            "customer__lifecycle_stage",
            "owner_id",
            "team_id",
        ],
        amount=net,
        currency="currency",
        moment="ordered_at",
        **span,
    )
    for country, city, stage, owner_id, team_id, _code, amount, n in main:
        _add(reps, owner_id, amount, n)
        _add(teams, team_id, amount, n)
        _add(countries, country or "", amount, n)
        _add(cities, (country or "", city or ""), amount, n)
        _add(stages, stage or "", amount, n)
    total = sum((a for a, _ in reps.values()), Decimal(0))
    order_count = sum(n for _, n in reps.values())

    by_tag: dict[Any, tuple[Decimal, int]] = {}
    for tag_id, _code, amount, n in _converted(
        orders.filter(customer__tags__isnull=False),
        dims=["customer__tags"],
        amount=net,
        currency="currency",
        moment="ordered_at",
        **span,
    ):
        _add(by_tag, tag_id, amount, n)

    lines = (
        restrict(OrderLine.objects.all(), actor, "view")
        .filter(order__ordered_at__gte=t0, order__ordered_at__lt=t1)
        .exclude(order__status__in=NOT_REVENUE)
    )
    by_product: dict[Any, tuple[Decimal, int]] = {}
    for product_id, _code, amount, n in _converted(
        lines,
        dims=["product_id"],
        amount=F("net"),
        currency="order__currency",
        moment="order__ordered_at",
        # Many orders: read the lines in table order. A rep's own orders are reached
        # through the owner index and their lines through the order index.
        scan=OrderLine._meta.db_table if sequential else "",
        **span,
    ):
        _add(by_product, product_id, amount, n)
    product_rows = Product.objects.filter(pk__in=[k for k in by_product if k is not None])
    products = {p.pk: (f"{p.sku} · {p.name}", p.category_id) for p in product_rows.only(
        "pk", "sku", "name", "category_id")}  # fmt: skip
    categories: dict[Any, tuple[Decimal, int]] = defaultdict(lambda: (Decimal(0), 0))
    for product_id, (amount, n) in by_product.items():
        category_id = products.get(product_id, ("", None))[1]
        a, c = categories[category_id]
        categories[category_id] = (a + amount, c + n)

    user_names = {
        u.pk: str(u)
        for u in User.objects.filter(pk__in=[k for k in reps if k is not None]).only(
            "pk", "full_name", "email"
        )
    }
    team_names = dict(
        Team.objects.filter(pk__in=[k for k in teams if k is not None]).values_list("pk", "name")
    )
    tag_names = dict(Tag.objects.filter(pk__in=list(by_tag)).values_list("pk", "name"))
    category_names = dict(
        ProductCategory.objects.filter(pk__in=[k for k in categories if k is not None]).values_list(
            "pk", "name"
        )
    )
    stage_labels = {k: str(v) for k, v in LifecycleStage.choices}
    return {
        "total": round_money(total, target),
        "orders": order_count,
        "by_rep": _ranked(reps, user_names, target),
        "by_team": _ranked(teams, team_names, target),
        "by_product": _ranked(by_product, {k: v[0] for k, v in products.items()}, target),
        "by_category": _ranked(categories, category_names, target),
        "by_country": _ranked(countries, {}, target),
        "by_city": _ranked(
            cities, {k: ", ".join(p for p in (k[1], k[0]) if p) for k in cities}, target
        ),
        "by_lifecycle": _ranked(stages, stage_labels, target),
        "by_tag": _ranked(by_tag, tag_names, target),
    }


def _closed(
    actor: User, t0: datetime.datetime, t1: datetime.datetime, zone: Any, convert: Converter
) -> dict[str, Any]:
    """Win rate, cycle length, lost reasons and competitors of deals closed in the range."""
    from vefa.sales.models import Competitor

    target = convert.target
    closed = restrict(Opportunity.objects.all(), actor, "view").filter(
        closed_at__gte=t0,
        closed_at__lt=t1,
        status__in=[OpportunityStatus.WON, OpportunityStatus.LOST],
    )
    day = _day("closed_at", zone, target)
    by_status = _bucket(
        closed.values("status", "lost_reason", "currency")
        .annotate(day=day)
        .values("status", "lost_reason", "currency", "day")
        .annotate(amount=Sum("amount"), n=Count("id")),
        ("status", "lost_reason"),
        convert,
    )
    won = sum(n for (s, _r), (_a, n) in by_status.items() if s == OpportunityStatus.WON)
    lost = sum(n for (s, _r), (_a, n) in by_status.items() if s == OpportunityStatus.LOST)
    won_amount = sum(
        (a for (s, _r), (a, _n) in by_status.items() if s == OpportunityStatus.WON), Decimal(0)
    )
    reasons: dict[Any, tuple[Decimal, int]] = {
        r or "": v for (s, r), v in by_status.items() if s == OpportunityStatus.LOST
    }
    length = closed.filter(status=OpportunityStatus.WON).aggregate(
        avg=Avg(ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField()))
    )["avg"]
    cycle_days = None
    if length is not None:
        seconds = Decimal(length.total_seconds() if hasattr(length, "total_seconds") else length)
        if not hasattr(length, "total_seconds"):  # microseconds on some backends
            seconds = seconds / Decimal(1_000_000)
        cycle_days = (seconds / Decimal(86400)).quantize(Decimal("0.1"))

    lost_to = dict(
        closed.filter(status=OpportunityStatus.LOST, lost_to__isnull=False)
        .values("lost_to")
        .annotate(n=Count("id"))
        .values_list("lost_to", "n")
    )
    won_against = dict(
        OpportunityCompetitor.objects.filter(
            opportunity__in=closed.filter(status=OpportunityStatus.WON).values("pk")
        )
        .values("competitor")
        .annotate(n=Count("opportunity", distinct=True))
        .values_list("competitor", "n")
    )
    names = dict(
        Competitor.objects.filter(pk__in=set(lost_to) | set(won_against)).values_list("pk", "name")
    )
    competitors = sorted(
        (
            {
                "key": pk,
                "label": names.get(pk, ""),
                "won": won_against.get(pk, 0),
                "lost": lost_to.get(pk, 0),
                "rate": _share(won_against.get(pk, 0), won_against.get(pk, 0) + lost_to.get(pk, 0)),
            }
            for pk in names
        ),
        key=lambda r: (-(r["won"] + r["lost"]), r["label"]),
    )
    return {
        "won": won,
        "lost": lost,
        "win_rate": _share(won, won + lost),
        "won_amount": round_money(won_amount, target),
        "cycle_days": cycle_days,
        "lost_reasons": _ranked(reasons, {}, target, top=20),
        "competitors": competitors[:TOP],
    }


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _funnel(
    actor: User, t0: datetime.datetime, t1: datetime.datetime, pipeline: Pipeline | None
) -> dict[str, Any]:
    """How many of the opportunities created in the range reached each stage."""
    if pipeline is None:
        return {"pipeline": None, "cohort": 0, "stages": []}
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order", "id"))
    rank: dict[int, int] = {}
    position = 0
    for stage in stages:
        if stage.kind == StageKind.OPEN:
            position += 1
            rank[stage.pk] = position
    won_rank = position + 1
    for stage in stages:
        if stage.kind == StageKind.WON:
            rank[stage.pk] = won_rank
    cohort = restrict(Opportunity.objects.all(), actor, "view").filter(
        pipeline=pipeline, created_at__gte=t0, created_at__lt=t1
    )
    size = cohort.count()
    reached: dict[int, int] = defaultdict(int)
    if size and rank:
        stage_rank = Case(
            *[When(stage_no=pk, then=Value(r)) for pk, r in rank.items()],
            default=Value(None),
            output_field=IntegerField(),
        )
        inner = (
            ChangeLogEntry.objects.filter(
                model="sales.opportunity", object_id__in=cohort.values("pk")
            )
            .annotate(stage_no=Cast(KT("after__stage"), IntegerField()))
            .annotate(stage_rank=stage_rank)
            .values("object_id")
            .annotate(top=Max("stage_rank"))
            .values("top")
        )
        sql, params = inner.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT top_rank, COUNT(*) FROM (SELECT t.top AS top_rank FROM ({sql}) t) s "  # noqa: S608
                "WHERE top_rank IS NOT NULL GROUP BY top_rank",
                params,
            )
            for top, n in cursor.fetchall():
                reached[int(top)] += int(n)
    rows = []
    for stage in stages:
        if stage.kind == StageKind.LOST:
            continue
        r = rank[stage.pk]
        count = sum(n for top, n in reached.items() if top >= r)
        rows.append(
            {
                "key": stage.pk,
                "label": stage.name,
                "kind": stage.kind,
                "count": count,
                "share": _share(count, size),
            }
        )
    return {"pipeline": pipeline.pk, "pipeline_name": pipeline.name, "cohort": size, "stages": rows}


def _activities(
    actor: User, scope: AnalysisScope, t0: datetime.datetime, t1: datetime.datetime
) -> list[dict[str, Any]]:
    from vefa.accounts.models import User

    touches = (
        restrict(Interaction.objects.all(), actor, "view")
        .filter(scope.users_q("user"), occurred_at__gte=t0, occurred_at__lt=t1)
        .values("user_id", "kind")
        .annotate(n=Count("id"))
        .values_list("user_id", "kind", "n")
    )
    done = (
        restrict(Activity.objects.all(), actor, "view")
        .filter(
            scope.users_q("owner"),
            status=ActivityStatus.DONE,
            completed_at__gte=t0,
            completed_at__lt=t1,
        )
        .values("owner_id", "kind")
        .annotate(n=Count("id"))
        .values_list("owner_id", "kind", "n")
    )
    people: dict[int, dict[str, Any]] = {}

    def person(pk: int) -> dict[str, Any]:
        return people.setdefault(
            pk, {"key": pk, "label": "", "interactions": {}, "completed": {}, "total": 0}
        )

    for pk, kind, n in touches:
        person(pk)["interactions"][kind] = n
        people[pk]["total"] += n
    for pk, kind, n in done:
        person(pk)["completed"][kind] = n
        people[pk]["total"] += n
    for user in User.objects.filter(pk__in=list(people)).only("pk", "full_name", "email"):
        people[user.pk]["label"] = str(user)
    return sorted(people.values(), key=lambda p: (-p["total"], p["label"]))[:50]


def _forecast(
    actor: User,
    start: datetime.date,
    end: datetime.date,
    t0: datetime.datetime,
    t1: datetime.datetime,
    zone: Any,
    convert: Converter,
) -> list[dict[str, Any]]:
    target = convert.target
    opportunities = restrict(Opportunity.objects.all(), actor, "view")
    weighted = (
        opportunities.filter(expected_close_date__gte=start, expected_close_date__lte=end)
        .exclude(forecast_category=ForecastCategory.OMITTED)
        .values("currency", "expected_close_date")
        .annotate(amount=Sum(F("amount") * F("probability") / 100), n=Count("id"))
    )
    months: dict[datetime.date, list[Any]] = {
        m: [Decimal(0), Decimal(0), 0, 0] for m in _months(start, end)
    }
    for row in weighted:
        value = convert(row["amount"], row["currency"], row["expected_close_date"])
        month = row["expected_close_date"].replace(day=1)
        if month in months:
            months[month][0] += value or 0
            months[month][2] += row["n"]
    won = (
        opportunities.filter(status=OpportunityStatus.WON, closed_at__gte=t0, closed_at__lt=t1)
        .annotate(day=TruncDate("closed_at", tzinfo=zone))
        .values("currency", "day")
        .annotate(amount=Sum("amount"), n=Count("id"))
    )
    for row in won:
        value = convert(row["amount"], row["currency"], row["day"])
        day = row["day"]
        if isinstance(day, str):
            day = datetime.date.fromisoformat(day[:10])
        month = day.replace(day=1)
        if month in months:
            months[month][1] += value or 0
            months[month][3] += row["n"]
    return [
        {
            "month": month,
            "forecast": round_money(f, target),
            "actual": round_money(a, target),
            "forecast_count": fn,
            "actual_count": an,
        }
        for month, (f, a, fn, an) in months.items()
    ]


# --- the report ----------------------------------------------------------------------------


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_active=True).order_by("-is_default", "order", "name").first()


def sales_analysis(
    *,
    actor: User,
    start: datetime.date,
    end: datetime.date,
    currency: str,
    pipeline_id: int | None = None,
    use_cache: bool = True,
) -> dict[str, Any]:
    """The whole report (a plain dict of Decimals, ints, strings and dates).

    ``start`` and ``end`` are inclusive days in the actor's time zone; at most
    ``MAX_RANGE_DAYS`` apart. ``NotFound`` for roles without access to opportunities.
    """
    scope = analysis_scope(actor)
    if end < start:
        start, end = end, start
    if (end - start).days > MAX_RANGE_DAYS:
        start = end - datetime.timedelta(days=MAX_RANGE_DAYS)
    zone = user_zone(actor)
    pipeline = None
    if pipeline_id is not None:
        pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
    if pipeline is None:
        pipeline = default_pipeline()
    key = ":".join(
        [
            f"sales-analysis:v{CACHE_VERSION}",
            scope.key,
            start.isoformat(),
            end.isoformat(),
            currency,
            str(pipeline.pk if pipeline else 0),
            str(zone),
        ]
    )
    if use_cache:
        cached = cache.get(key)
        if cached is not None:
            return dict(cached, cached=True)
    t0 = day_start(start, zone)
    t1 = day_start(end + datetime.timedelta(days=1), zone)
    convert = Converter(currency)
    report: dict[str, Any] = {
        "currency": currency,
        "start": start,
        "end": end,
        "scope": scope.scope.value if hasattr(scope.scope, "value") else str(scope.scope),
        "generated_at": timezone.now(),
        "revenue": _revenue(actor, t0, t1, start, end, convert),
        "closed": _closed(actor, t0, t1, zone, convert),
        "funnel": _funnel(actor, t0, t1, pipeline),
        "activities": _activities(actor, scope, t0, t1),
        "forecast": _forecast(actor, start, end, t0, t1, zone, convert),
    }
    report["missing_currencies"] = convert.missing
    if use_cache:
        cache.set(key, report, CACHE_SECONDS)
    return dict(report, cached=False)

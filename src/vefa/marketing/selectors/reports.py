"""What a campaign returned: counts, rates, revenue, cost, ROI, cost per acquisition and the
uplift against the control group, for the whole campaign and per A/B variant; the marketing
dashboard's comparison of campaigns and channels.

The arithmetic is a set of pure functions (``rate``, ``roi``, ``cost_per_acquisition``,
``uplift``, ``two_proportion_z``) that return ``None`` where a figure is undefined (a division
by zero, an empty group); pages show ``None`` as "—".

Definitions (docs/marketing/campaigns.md):

- *recipients*: every customer of the drawn audience except the control group;
- *sent*: recipients whose message was handed over (status ``sent``);
- *delivered, opened, clicked, replied, unsubscribed, bounced*: sent recipients with that
  response recorded; opens only where open tracking is on;
- *converted*: a sent recipient who placed an order (not cancelled) within the conversion
  window after their message, the last message before the order winning; a control-group
  member converts with an order within the window after the campaign started sending;
- *response rate* = recipients who clicked, replied or converted ÷ sent;
- *conversion rate* = converted ÷ sent (control group: converted ÷ control group);
- *ROI* = (revenue − cost) ÷ cost; *cost per acquisition* = cost ÷ conversions;
- *uplift* = conversion rate of the sent group − conversion rate of the control group;
  *relative uplift* = uplift ÷ control conversion rate; significance by a two-sided
  two-proportion z-test at 5 %.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum

from vefa.accounts.access import restrict
from vefa.marketing.choices import CampaignStatus, RecipientStatus
from vefa.marketing.models import (
    Campaign,
    CampaignCost,
    CampaignRecipient,
    CampaignVariant,
    MarketingSettings,
)
from vefa.sales.money import RateTable, round_money

if TYPE_CHECKING:
    from vefa.accounts.models import User

# Significance level of the uplift test (two-sided).
ALPHA = 0.05
# How many campaigns the dashboard compares at most (the most recent ones).
DASHBOARD_CAMPAIGNS = 50


# --- pure arithmetic -------------------------------------------------------------------------


def rate(part: int | Decimal | None, whole: int | Decimal | None) -> Decimal | None:
    """``part ÷ whole`` as a fraction, ``None`` when the whole is empty."""
    if part is None or not whole:
        return None
    return Decimal(part) / Decimal(whole)


def roi(revenue: Decimal | None, cost: Decimal | None) -> Decimal | None:
    """Return on investment, ``(revenue − cost) ÷ cost``; ``None`` without a cost."""
    if revenue is None or not cost:
        return None
    return (Decimal(revenue) - Decimal(cost)) / Decimal(cost)


def cost_per_acquisition(cost: Decimal | None, conversions: int) -> Decimal | None:
    """``cost ÷ conversions``; ``None`` without a conversion or a cost."""
    if cost is None or not conversions:
        return None
    return Decimal(cost) / Decimal(conversions)


def _normal_sf(z: float) -> float:
    """P(Z > z) for the standard normal distribution."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float] | None:
    """The pooled two-proportion z statistic of ``x1/n1`` against ``x2/n2`` and its two-sided
    p-value; ``None`` when a group is empty or nobody (or everybody) converted."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return None
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return z, min(1.0, 2 * _normal_sf(abs(z)))


@dataclass(frozen=True)
class Uplift:
    """The sent group's conversion rate against the control group's."""

    treated_rate: Decimal | None
    control_rate: Decimal | None
    absolute: Decimal | None
    relative: Decimal | None
    z: float | None
    p_value: float | None

    @property
    def significant(self) -> bool | None:
        """Whether the difference is significant at ``ALPHA``; ``None`` when not testable."""
        if self.p_value is None:
            return None
        return self.p_value < ALPHA


def uplift(*, converted: int, sent: int, control_converted: int, control_size: int) -> Uplift:
    """Uplift of the sent group over the control group (see the module's definitions)."""
    treated = rate(converted, sent)
    control = rate(control_converted, control_size)
    absolute = treated - control if treated is not None and control is not None else None
    relative = absolute / control if absolute is not None and control else None
    test = two_proportion_z(converted, sent, control_converted, control_size)
    return Uplift(
        treated_rate=treated,
        control_rate=control,
        absolute=absolute,
        relative=relative,
        z=test[0] if test else None,
        p_value=test[1] if test else None,
    )


@dataclass(frozen=True)
class Counts:
    """The responses of one group of recipients."""

    recipients: int = 0
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    replied: int = 0
    unsubscribed: int = 0
    bounced: int = 0
    converted: int = 0
    responded: int = 0
    control: int = 0
    control_converted: int = 0
    revenue: Decimal = Decimal(0)
    control_revenue: Decimal = Decimal(0)


@dataclass(frozen=True)
class Figures:
    """The report of one group (the campaign or one variant) in the campaign currency."""

    label: str
    counts: Counts
    cost: Decimal | None
    track_opens: bool

    @property
    def delivery_rate(self) -> Decimal | None:
        return rate(self.counts.delivered, self.counts.sent)

    @property
    def open_rate(self) -> Decimal | None:
        return rate(self.counts.opened, self.counts.sent) if self.track_opens else None

    @property
    def click_rate(self) -> Decimal | None:
        return rate(self.counts.clicked, self.counts.sent)

    @property
    def response_rate(self) -> Decimal | None:
        return rate(self.counts.responded, self.counts.sent)

    @property
    def conversion_rate(self) -> Decimal | None:
        return rate(self.counts.converted, self.counts.sent)

    @property
    def roi(self) -> Decimal | None:
        return roi(self.counts.revenue, self.cost)

    @property
    def cost_per_acquisition(self) -> Decimal | None:
        return cost_per_acquisition(self.cost, self.counts.converted)

    @property
    def uplift(self) -> Uplift:
        return uplift(
            converted=self.counts.converted,
            sent=self.counts.sent,
            control_converted=self.counts.control_converted,
            control_size=self.counts.control,
        )


@dataclass
class CampaignReport:
    campaign: Campaign
    currency: str
    attribution_days: int
    total: Figures
    variants: list[Figures] = field(default_factory=list)
    # Currencies of costs that could not be converted into the campaign currency.
    unconverted: list[str] = field(default_factory=list)
    # Conversions whose order could not be valued in the campaign currency.
    unvalued_conversions: int = 0


# --- reading the ledger ----------------------------------------------------------------------

_SENT = Q(status=RecipientStatus.SENT)
_CONTROL = Q(status=RecipientStatus.CONTROL)


def _aggregates() -> dict[str, Any]:
    return {
        "recipients": Count("id", filter=~_CONTROL),
        "sent": Count("id", filter=_SENT),
        "delivered": Count("id", filter=_SENT & Q(delivered_at__isnull=False)),
        "opened": Count("id", filter=_SENT & Q(opened_at__isnull=False)),
        "clicked": Count("id", filter=_SENT & Q(clicked_at__isnull=False)),
        "replied": Count("id", filter=_SENT & Q(replied_at__isnull=False)),
        "unsubscribed": Count("id", filter=_SENT & Q(unsubscribed_at__isnull=False)),
        "bounced": Count("id", filter=_SENT & Q(bounced_at__isnull=False)),
        "converted": Count("id", filter=_SENT & Q(converted_at__isnull=False)),
        "responded": Count(
            "id",
            filter=_SENT
            & (
                Q(clicked_at__isnull=False)
                | Q(replied_at__isnull=False)
                | Q(converted_at__isnull=False)
            ),
        ),
        "control": Count("id", filter=_CONTROL),
        "control_converted": Count("id", filter=_CONTROL & Q(converted_at__isnull=False)),
        "revenue_sum": Sum("revenue", filter=_SENT & Q(converted_at__isnull=False)),
        "control_revenue_sum": Sum("revenue", filter=_CONTROL & Q(converted_at__isnull=False)),
        "unvalued": Count(
            "id", filter=Q(converted_at__isnull=False, revenue__isnull=True) & ~_CONTROL
        ),
    }


def _counts(row: dict[str, Any]) -> Counts:
    values = {k: v for k, v in row.items() if k in Counts.__dataclass_fields__}
    values["revenue"] = row.get("revenue_sum") or Decimal(0)
    values["control_revenue"] = row.get("control_revenue_sum") or Decimal(0)
    return Counts(**values)


def campaign_cost(
    campaign: Campaign, *, rates: RateTable | None = None
) -> tuple[Decimal, list[str]]:
    """The sum of the campaign's cost lines in its currency, and the currencies that could not
    be converted (their lines are left out)."""
    table = rates or RateTable.load(campaign.currency)
    total = Decimal(0)
    missing: set[str] = set()
    for amount, currency, day in CampaignCost.objects.filter(campaign=campaign).values_list(
        "amount", "currency", "incurred_on"
    ):
        value = table.convert(amount, currency, day)
        if value is None:
            missing.add(currency)
        else:
            total += value
    return round_money(total, campaign.currency), sorted(missing)


def settings_row() -> MarketingSettings:
    """The installation's marketing settings (defaults when never saved)."""
    return MarketingSettings.objects.filter(pk=1).first() or MarketingSettings(pk=1)


def attribution_days(campaign: Campaign, marketing: MarketingSettings | None = None) -> int:
    if campaign.attribution_days:
        return int(campaign.attribution_days)
    return int((marketing or settings_row()).attribution_days)


def _track_opens(marketing: MarketingSettings, counts: Counts) -> bool:
    return bool(marketing.track_opens or counts.opened)


def campaign_report(*, actor: User, campaign: Campaign) -> CampaignReport:
    """The report of a campaign the actor may see (look it up with the campaign selector)."""
    restrict(Campaign.objects.filter(pk=campaign.pk), actor).get()
    marketing = settings_row()
    recipients = CampaignRecipient.objects.filter(campaign=campaign)
    total_row = recipients.aggregate(**_aggregates())
    cost, missing = campaign_cost(campaign)
    total_counts = _counts(total_row)
    track = _track_opens(marketing, total_counts)
    report = CampaignReport(
        campaign=campaign,
        currency=campaign.currency,
        attribution_days=attribution_days(campaign, marketing),
        total=Figures(label="", counts=total_counts, cost=cost, track_opens=track),
        unconverted=missing,
        unvalued_conversions=int(total_row.get("unvalued") or 0),
    )
    variants = list(CampaignVariant.objects.filter(campaign=campaign).order_by("code"))
    if len(variants) > 1:
        by_variant = {
            row["variant"]: row
            for row in recipients.filter(variant__isnull=False)
            .values("variant")
            .annotate(**_aggregates())
        }
        # The control group belongs to no variant: every variant is compared with all of it.
        for variant in variants:
            row = dict(by_variant.get(variant.pk, {}))
            row["control"] = total_counts.control
            row["control_converted"] = total_counts.control_converted
            counts = _counts({k: v for k, v in row.items() if k != "variant"})
            # Costs are the campaign's; a variant's share follows its share of the sent.
            share = rate(counts.sent, total_counts.sent)
            variant_cost = (
                round_money(cost * share, campaign.currency) if share is not None else None
            )
            report.variants.append(
                Figures(label=variant.code, counts=counts, cost=variant_cost, track_opens=track)
            )
    return report


def progress(*, campaign: Campaign) -> dict[str, int]:
    """How many recipients stand in each status (the campaign page polls this)."""
    counts = dict.fromkeys(RecipientStatus.values, 0)
    for row in (
        CampaignRecipient.objects.filter(campaign=campaign)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
    ):
        counts[row["status"]] = row["n"]
    return counts


# --- the dashboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelFigures:
    channel: str
    campaigns: int
    counts: Counts
    # Revenue and cost in the dashboard currency.
    revenue: Decimal
    cost: Decimal

    @property
    def conversion_rate(self) -> Decimal | None:
        return rate(self.counts.converted, self.counts.sent)

    @property
    def response_rate(self) -> Decimal | None:
        return rate(self.counts.responded, self.counts.sent)

    @property
    def roi(self) -> Decimal | None:
        return roi(self.revenue, self.cost)


@dataclass
class Dashboard:
    currency: str
    campaigns: list[tuple[Campaign, Figures]]
    channels: list[ChannelFigures]
    unconverted: list[str]


def reported_campaigns(actor: User, since: datetime.datetime | None) -> QuerySet[Campaign]:
    qs = restrict(Campaign.objects.all(), actor).exclude(
        status__in=[CampaignStatus.DRAFT, CampaignStatus.SCHEDULED]
    )
    qs = qs.filter(journey__isnull=True)
    if since is not None:
        qs = qs.filter(started_at__gte=since)
    return qs.order_by("-started_at", "-id")


def _add(a: Counts, b: Counts) -> Counts:
    return Counts(
        **{name: getattr(a, name) + getattr(b, name) for name in Counts.__dataclass_fields__}
    )


def dashboard(*, actor: User, currency: str, since: datetime.datetime | None = None) -> Dashboard:
    """The most recent campaigns that sent, each with its figures, and the sums per channel
    with revenue and cost in ``currency``."""
    marketing = settings_row()
    campaigns = list(reported_campaigns(actor, since)[:DASHBOARD_CAMPAIGNS])
    rows = {
        row["campaign"]: row
        for row in CampaignRecipient.objects.filter(campaign__in=campaigns)
        .values("campaign")
        .annotate(**_aggregates())
    }
    target = RateTable.load(currency)
    tables: dict[str, RateTable] = {currency: target}
    missing: set[str] = set()
    result: list[tuple[Campaign, Figures]] = []
    per_channel: dict[str, list[Any]] = {}
    for campaign in campaigns:
        counts = _counts({k: v for k, v in rows.get(campaign.pk, {}).items() if k != "campaign"})
        table = tables.setdefault(campaign.currency, RateTable.load(campaign.currency))
        cost, lost = campaign_cost(campaign, rates=table)
        missing.update(lost)
        figures = Figures(
            label=campaign.name,
            counts=counts,
            cost=cost,
            track_opens=_track_opens(marketing, counts),
        )
        result.append((campaign, figures))
        day = (campaign.started_at or campaign.created_at).date()
        revenue = target.convert(counts.revenue, campaign.currency, day)
        cost_here = target.convert(cost, campaign.currency, day)
        if revenue is None or cost_here is None:
            missing.add(campaign.currency)
            revenue, cost_here = Decimal(0), Decimal(0)
        entry = per_channel.setdefault(campaign.channel, [0, Counts(), Decimal(0), Decimal(0)])
        entry[0] += 1
        entry[1] = _add(entry[1], counts)
        entry[2] += revenue
        entry[3] += cost_here
    channels = [
        ChannelFigures(
            channel=channel,
            campaigns=n,
            counts=counts,
            revenue=round_money(revenue, currency),
            cost=round_money(cost, currency),
        )
        for channel, (n, counts, revenue, cost) in sorted(per_channel.items())
    ]
    return Dashboard(
        currency=currency, campaigns=result, channels=channels, unconverted=sorted(missing)
    )


def customer_campaigns(
    *, actor: User, customer_id: int, limit: int = 20
) -> list[CampaignRecipient]:
    """The campaigns a customer received (or was held out of), newest first, limited to the
    campaigns the actor may see."""
    visible = restrict(Campaign.objects.all(), actor).values("pk")
    return list(
        CampaignRecipient.objects.filter(customer_id=customer_id, campaign__in=visible)
        .select_related("campaign", "variant")
        .order_by("-id")[:limit]
    )

"""Reads of campaigns for a person (``POLICIES["marketing.campaign"]``): the list, one
campaign with its audience, variants and costs, the audience size before launch and the
month of the campaign calendar, and the mail-merge rows of a letter campaign."""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from vefa.accounts.access import can, restrict
from vefa.common.paging import Page
from vefa.customers.selectors import page_of, tag_prefetch
from vefa.customers.services._common import as_pk, not_found
from vefa.marketing.choices import CampaignChannel, CampaignStatus, RecipientStatus
from vefa.marketing.models import Campaign, CampaignCost, CampaignRecipient, CampaignVariant

if TYPE_CHECKING:
    from vefa.accounts.models import User

MAX_PAGE = 100
DEFAULT_PAGE = 25
# A month of the calendar shows at most this many campaigns.
CALENDAR_LIMIT = 300


def campaign_queryset(actor: User) -> QuerySet[Campaign]:
    return restrict(Campaign.objects.all(), actor, "view")


def campaign_get(*, actor: User, pk: Any) -> Campaign:
    """One campaign the actor may see, with its audience, variants and costs."""
    campaign = (
        campaign_queryset(actor)
        .select_related("owner", "team", "journey")
        .prefetch_related(
            "segments",
            "exclusions",
            Prefetch(
                "variants",
                queryset=CampaignVariant.objects.select_related("template").order_by("code"),
            ),
            Prefetch("costs", queryset=CampaignCost.objects.order_by("incurred_on", "id")),
            tag_prefetch(),
        )
        .filter(pk=as_pk(pk))
        .first()
    )
    if campaign is None:
        raise not_found()
    return campaign


def campaign_list(
    *,
    actor: User,
    q: str = "",
    status: str = "",
    channel: str = "",
    cursor: str | None = None,
    size: int = DEFAULT_PAGE,
) -> Page[Campaign]:
    """One keyset page of campaigns, newest first (journeys' sending steps left out)."""
    qs = campaign_queryset(actor).filter(journey__isnull=True).select_related("owner")
    if q:
        qs = qs.filter(name__icontains=q[:200])
    if status in CampaignStatus.values:
        qs = qs.filter(status=status)
    if channel in CampaignChannel.values:
        qs = qs.filter(channel=channel)
    return page_of(qs, "-created_at", cursor, max(1, min(size, MAX_PAGE)))


def audience_size(campaign: Campaign) -> int:
    """How many customers the audience holds now (before the control group is drawn)."""
    from vefa.marketing.selectors.segments import audience_queryset

    segment_ids = [s.pk for s in campaign.segments.all()]
    if not segment_ids:
        return 0
    return audience_queryset(
        segment_ids=segment_ids, exclusion_ids=[s.pk for s in campaign.exclusions.all()]
    ).count()


@dataclass(frozen=True)
class CalendarDay:
    day: datetime.date
    in_month: bool
    campaigns: list[Campaign]


@dataclass(frozen=True)
class CalendarMonth:
    first: datetime.date
    previous: datetime.date
    next: datetime.date
    weeks: list[list[CalendarDay]]
    unscheduled: int


def month_start(value: str | None, today: datetime.date) -> datetime.date:
    """``YYYY-MM`` as the first day of that month; this month when missing or invalid."""
    if value:
        try:
            year, month = (int(part) for part in value.split("-", 1))
            if 1 <= year <= 9999 and 1 <= month <= 12:
                return datetime.date(year, month, 1)
        except ValueError:
            pass
    return today.replace(day=1)


def campaign_calendar(
    *, actor: User, first: datetime.date, first_weekday: int = 0
) -> CalendarMonth:
    """The month starting at ``first`` in weeks (from ``first_weekday``, 0 = Monday), each
    day with the campaigns running on it (``starts_at`` … ``ends_at``, or the start day
    alone), in the current time zone."""
    cal = calendar.Calendar(firstweekday=first_weekday)
    days = [d for week in cal.monthdatescalendar(first.year, first.month) for d in week]
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(days[0], datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(
        days[-1] + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    qs = (
        campaign_queryset(actor)
        .filter(journey__isnull=True, starts_at__isnull=False, starts_at__lt=end)
        .filter(Q(ends_at__gte=start) | Q(ends_at__isnull=True, starts_at__gte=start))
        .order_by("starts_at", "id")[:CALENDAR_LIMIT]
    )
    by_day: dict[datetime.date, list[Campaign]] = {d: [] for d in days}
    for campaign in qs:
        assert campaign.starts_at is not None
        begin = timezone.localtime(campaign.starts_at, zone).date()
        finish = timezone.localtime(campaign.ends_at, zone).date() if campaign.ends_at else begin
        day = max(begin, days[0])
        while day <= min(finish, days[-1]):
            by_day[day].append(campaign)
            day += datetime.timedelta(days=1)
    weeks = [
        [CalendarDay(d, d.month == first.month, by_day[d]) for d in days[i : i + 7]]
        for i in range(0, len(days), 7)
    ]
    previous = (first - datetime.timedelta(days=1)).replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    unscheduled = (
        campaign_queryset(actor)
        .filter(journey__isnull=True, starts_at__isnull=True, status=CampaignStatus.DRAFT)
        .count()
    )
    return CalendarMonth(
        first=first, previous=previous, next=following, weeks=weeks, unscheduled=unscheduled
    )


CAMPAIGN_CHOICES = 200


def campaign_choices(*, actor: User, limit: int = CAMPAIGN_CHOICES) -> list[tuple[int, str]]:
    """(id, name) of the campaigns the actor may see that have recipients, newest first: the
    choices of the "opened / clicked / ignored a campaign" segment rules."""
    rows = (
        campaign_queryset(actor)
        .filter(audience_drawn_at__isnull=False)
        .order_by("-audience_drawn_at", "-id")
        .values_list("pk", "name")[:limit]
    )
    return [(pk, name) for pk, name in rows]


LETTER_CHUNK = 2_000


def campaign_letters(*, actor: User, pk: Any) -> tuple[Campaign, Iterator[dict[str, Any]]]:
    """A letter campaign the actor may change and the postal addresses of its recipients
    approved for print (the mail-merge file), in chunks. Postal addresses are personal
    data: seeing the campaign is not enough (not allowed → not found)."""
    from vefa.marketing.channels import letter_rows

    campaign = campaign_get(actor=actor, pk=pk)
    if campaign.channel != CampaignChannel.LETTER or not can(actor, "change", campaign):
        raise not_found()
    ids = list(
        CampaignRecipient.objects.filter(campaign=campaign, status=RecipientStatus.SENT)
        .order_by("id")
        .values_list("pk", flat=True)
    )

    def rows() -> Iterator[dict[str, Any]]:
        for start in range(0, len(ids), LETTER_CHUNK):
            yield from letter_rows(ids[start : start + LETTER_CHUNK])

    return campaign, rows()

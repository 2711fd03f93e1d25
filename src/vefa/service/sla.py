"""Business-time arithmetic for SLA clocks (ADR 0010), without database writes.

A ``BusinessClock`` counts the minutes a team works: its weekly hours per ISO weekday, read
in the calendar's own time zone, minus its holidays. Wall-clock hours are turned into real
instants day by day, so a working day that contains a daylight-saving change is one hour
shorter or longer only when the change falls inside its working hours.

Resolution is the minute: seconds and microseconds of the times given are dropped.
``add`` and ``minutes_between`` are exact inverses: for any ``start`` and ``m >= 0``,
``minutes_between(start, add(start, m)) == m``; and ``add(start, minutes_between(start, end))``
is ``end`` itself whenever ``end`` falls in working time (otherwise the end of the last
working stretch before it).

Speed: the working minutes of each weekday are precomputed; whole weeks without holidays and
without a change of UTC offset are skipped with one addition each, so a target ten years out
costs about five hundred steps, never one per day.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import threading
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from vefa.service.models import BusinessCalendar, Ticket

UTC = dt.UTC
DAY = 1440
WEEKDAYS = tuple(str(d) for d in range(1, 8))
# A calendar's cached clock is trusted this long even if no change was seen.
CLOCK_CACHE_SECONDS = 300

Interval = tuple[int, int]


class HoursError(ValueError):
    """Working hours that cannot be used; ``messages`` are translated and name the problem."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _parse_time(value: Any, *, allow_24: bool) -> int:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise ValueError
    hh, mm = value[:2], value[3:]
    if not (hh.isdigit() and mm.isdigit() and hh.isascii() and mm.isascii()):
        raise ValueError
    hours, minutes = int(hh), int(mm)
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not allow_24)):
        raise ValueError
    return hours * 60 + minutes


def parse_hours(hours: Any) -> dict[int, tuple[Interval, ...]]:
    """Validate ``BusinessCalendar.hours`` and return ISO weekday -> sorted minute intervals.

    Each weekday ("1" Monday … "7" Sunday) maps to a list of ``["HH:MM", "HH:MM"]`` pairs;
    "24:00" may end a day. Raises ``HoursError`` listing every problem found.
    """
    if hours is None:
        hours = {}
    if not isinstance(hours, Mapping):
        raise HoursError([_("Working hours must map weekdays 1–7 to lists of intervals.")])
    errors: list[str] = []
    result: dict[int, tuple[Interval, ...]] = {}
    for key, intervals in hours.items():
        if str(key) not in WEEKDAYS:
            errors.append(_("“%(day)s” is not a weekday (1 = Monday … 7 = Sunday).") % {"day": key})
            continue
        day = int(key)
        if not isinstance(intervals, list | tuple):
            errors.append(_("Day %(day)s: the hours must be a list of intervals.") % {"day": day})
            continue
        parsed: list[Interval] = []
        for interval in intervals:
            if not isinstance(interval, list | tuple) or len(interval) != 2:
                errors.append(
                    _("Day %(day)s: each interval must be a pair of times “HH:MM”.") % {"day": day}
                )
                continue
            try:
                start = _parse_time(interval[0], allow_24=False)
                end = _parse_time(interval[1], allow_24=True)
            except ValueError:
                errors.append(
                    _("Day %(day)s: “%(value)s” is not a time between 00:00 and 24:00.")
                    % {"day": day, "value": "–".join(str(v) for v in interval)}
                )
                continue
            if end <= start:
                errors.append(
                    _("Day %(day)s: %(start)s–%(end)s ends before it starts.")
                    % {"day": day, "start": interval[0], "end": interval[1]}
                )
                continue
            parsed.append((start, end))
        parsed.sort()
        for (_s1, e1), (s2, _e2) in itertools.pairwise(parsed):
            if s2 < e1:
                errors.append(_("Day %(day)s: the intervals overlap.") % {"day": day})
                break
        result[day] = tuple(parsed)
    if errors:
        raise HoursError(errors)
    if hours and not any(result.values()):
        raise HoursError([_("Give at least one working interval, or none at all for 24/7.")])
    return result


def validate_time_zone(name: Any) -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA name; ``ValueError`` when unknown."""
    if not isinstance(name, str) or not name or name not in _zone_names():
        raise ValueError(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - listed but broken
        raise ValueError(name) from exc


_ZONES: frozenset[str] | None = None


def _zone_names() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def _minute(value: dt.datetime) -> int:
    """Minutes since the epoch of an aware datetime, seconds dropped."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return int(value.timestamp()) // 60


def _instant(minute: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(minute * 60, tz=UTC)


class BusinessClock:
    """Counts working minutes of a calendar; ``None`` (or no hours) is around the clock."""

    def __init__(
        self,
        calendar: BusinessCalendar | None,
        *,
        holidays: Iterable[dt.date] | None = None,
    ) -> None:
        if calendar is None:
            self.zone: dt.tzinfo = UTC
            week: dict[int, tuple[Interval, ...]] = {}
            days: Iterable[dt.date] = holidays or ()
        else:
            self.zone = ZoneInfo(calendar.time_zone or "UTC")
            week = parse_hours(calendar.hours)
            if holidays is not None:
                days = holidays
            elif calendar.pk is not None:
                days = calendar.holidays.values_list("date", flat=True)
            else:
                days = ()
        if not week:
            week = dict.fromkeys(range(1, 8), ((0, DAY),))
        self.week = {d: week.get(d, ()) for d in range(1, 8)}
        self.day_minutes = {d: sum(e - s for s, e in self.week[d]) for d in range(1, 8)}
        self.week_minutes = sum(self.day_minutes.values())
        self.holidays = sorted({d.toordinal() for d in days})
        self._holiday_set = set(self.holidays)
        self._days: dict[int, tuple[Interval, ...]] = {}

    # -- calendar days -------------------------------------------------------------------

    def _local_date(self, minute: int) -> dt.date:
        return _instant(minute).astimezone(self.zone).date()

    def _midnight(self, ordinal: int) -> dt.datetime:
        return dt.datetime.combine(dt.date.fromordinal(ordinal), dt.time(), tzinfo=self.zone)

    def _intervals(self, ordinal: int) -> tuple[Interval, ...]:
        """The working intervals of one local day as epoch minutes (empty on a holiday)."""
        cached = self._days.get(ordinal)
        if cached is not None:
            return cached
        if ordinal in self._holiday_set:
            result: tuple[Interval, ...] = ()
        else:
            day = dt.date.fromordinal(ordinal)
            midnight = self._midnight(ordinal)
            spans: list[Interval] = []
            for start, end in self.week[day.isoweekday()]:
                # Wall-clock arithmetic: the offset of each wall time is applied separately.
                a = _minute(midnight + dt.timedelta(minutes=start))
                b = _minute(midnight + dt.timedelta(minutes=end))
                if spans and a < spans[-1][1]:
                    a = spans[-1][1]
                if b > a:
                    spans.append((a, b))
            result = tuple(spans)
        if len(self._days) > 20_000:
            self._days.clear()
        self._days[ordinal] = result
        return result

    def _day_total(self, ordinal: int) -> int:
        return sum(b - a for a, b in self._intervals(ordinal))

    def _week_total(self, ordinal: int) -> int:
        """Working minutes of the seven local days starting at ``ordinal``."""
        start = self._midnight(ordinal)
        end = self._midnight(ordinal + 7)
        if start.utcoffset() != end.utcoffset():
            return sum(self._day_total(o) for o in range(ordinal, ordinal + 7))
        total = self.week_minutes
        lo = bisect.bisect_left(self.holidays, ordinal)
        hi = bisect.bisect_left(self.holidays, ordinal + 7)
        for holiday in self.holidays[lo:hi]:
            total -= self.day_minutes[dt.date.fromordinal(holiday).isoweekday()]
        return total

    # -- the two operations --------------------------------------------------------------

    def add(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """The instant ``minutes`` working minutes after ``start`` (UTC, whole minute)."""
        minutes = int(minutes)
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        t = _minute(start)
        if minutes == 0:
            return _instant(t)
        if self.week_minutes == 0:  # pragma: no cover - parse_hours refuses such calendars
            return _instant(t + minutes)
        remaining = minutes
        ordinal = self._local_date(t).toordinal()
        for a, b in self._intervals(ordinal):
            if b <= t:
                continue
            s = max(a, t)
            if remaining <= b - s:
                return _instant(s + remaining)
            remaining -= b - s
        ordinal += 1
        while remaining > self.week_minutes:
            total = self._week_total(ordinal)
            if remaining <= total:
                break
            remaining -= total
            ordinal += 7
        while True:
            total = self._day_total(ordinal)
            if remaining <= total:
                for a, b in self._intervals(ordinal):
                    if remaining <= b - a:
                        return _instant(a + remaining)
                    remaining -= b - a
            remaining -= total
            ordinal += 1

    def minutes_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Working minutes from ``start`` to ``end``; negative when ``end`` is earlier."""
        t0, t1 = _minute(start), _minute(end)
        if t1 < t0:
            return -self._between(t1, t0)
        return self._between(t0, t1)

    def _between(self, t0: int, t1: int) -> int:
        if t0 == t1:
            return 0
        d0 = self._local_date(t0).toordinal()
        d1 = self._local_date(t1).toordinal()
        total = 0
        for a, b in self._intervals(d0):
            total += max(0, min(b, t1) - max(a, t0))
        if d1 == d0:
            return total
        ordinal = d0 + 1
        while ordinal + 7 <= d1:
            total += self._week_total(ordinal)
            ordinal += 7
        while ordinal < d1:
            total += self._day_total(ordinal)
            ordinal += 1
        for a, b in self._intervals(d1):
            total += max(0, min(b, t1) - a)
        return total


# -- the clock of a ticket's queue -----------------------------------------------------------

_lock = threading.Lock()
_clocks: dict[int, tuple[tuple[Any, ...], float, BusinessClock]] = {}
_AROUND_THE_CLOCK = BusinessClock(None)


def clock_for(ticket: Ticket) -> BusinessClock:
    """The clock of the ticket queue's calendar (24/7 UTC without one), cached per calendar.

    The cache is keyed by the calendar's version and last change, which the setup services
    move whenever the calendar or one of its holidays changes.
    """
    queue = ticket.queue if ticket.queue_id else None
    calendar = queue.calendar if queue is not None and queue.calendar_id else None
    if calendar is None:
        return _AROUND_THE_CLOCK
    return clock_for_calendar(calendar)


def clock_for_calendar(calendar: BusinessCalendar) -> BusinessClock:
    key = (calendar.version, calendar.updated_at, calendar.time_zone, repr(calendar.hours))
    now = time.monotonic()
    with _lock:
        cached = _clocks.get(calendar.pk)
        if cached is not None and cached[0] == key and now - cached[1] < CLOCK_CACHE_SECONDS:
            return cached[2]
    clock = BusinessClock(calendar)
    with _lock:
        _clocks[calendar.pk] = (key, now, clock)
    return clock


def clear_clock_cache() -> None:
    with _lock:
        _clocks.clear()

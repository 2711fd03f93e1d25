"""Business-time arithmetic: hours, nights, weekends, holidays, DST, inverses, speed."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vefa.service.models import BusinessCalendar
from vefa.service.sla import BusinessClock, HoursError, parse_hours

IST = ZoneInfo("Europe/Istanbul")
BEL = ZoneInfo("Europe/Belgrade")
WEEKDAYS = {str(d): [["09:00", "18:00"]] for d in range(1, 6)}


def clock(zone: str = "Europe/Istanbul", hours=None, holidays=()) -> BusinessClock:
    calendar = BusinessCalendar(
        name="x", time_zone=zone, hours=WEEKDAYS if hours is None else hours
    )
    return BusinessClock(calendar, holidays=holidays)


def local(zone, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


def test_within_one_working_day():
    c = clock()
    start = local(IST, 2026, 11, 24, 10, 0)  # a Tuesday
    assert c.add(start, 90) == local(IST, 2026, 11, 24, 11, 30)
    assert c.minutes_between(start, local(IST, 2026, 11, 24, 11, 30)) == 90


def test_target_spans_the_night():
    c = clock()
    start = local(IST, 2026, 11, 24, 17, 0)
    due = c.add(start, 120)
    assert due == local(IST, 2026, 11, 25, 10, 0)
    assert c.minutes_between(start, due) == 120


def test_ends_exactly_at_closing_time_not_next_morning():
    c = clock()
    assert c.add(local(IST, 2026, 11, 24, 17, 0), 60) == local(IST, 2026, 11, 24, 18, 0)


def test_start_outside_hours_starts_at_next_opening():
    c = clock()
    friday_night = local(IST, 2026, 11, 27, 22, 0)
    assert c.add(friday_night, 30) == local(IST, 2026, 11, 30, 9, 30)  # Monday
    assert c.minutes_between(friday_night, local(IST, 2026, 11, 30, 9, 0)) == 0


def test_target_spans_a_weekend():
    c = clock()
    start = local(IST, 2026, 11, 27, 16, 0)  # Friday
    due = c.add(start, 3 * 60)
    assert due == local(IST, 2026, 11, 30, 10, 0)
    assert c.minutes_between(start, due) == 180


def test_target_spans_a_holiday():
    c = clock(holidays=[dt.date(2026, 10, 29)])  # Republic Day, a Thursday
    start = local(IST, 2026, 10, 28, 17, 0)
    assert c.add(start, 120) == local(IST, 2026, 10, 30, 10, 0)
    assert c.minutes_between(start, local(IST, 2026, 10, 30, 10, 0)) == 120


def test_several_intervals_a_day():
    c = clock(hours={"1": [["09:00", "12:30"], ["13:30", "18:00"]]})
    monday = local(IST, 2026, 11, 23, 12, 0)
    assert c.add(monday, 60) == local(IST, 2026, 11, 23, 14, 0)
    # The next Monday, after the rest of this Monday's 4.5 hours.
    assert c.add(monday, 30 + 270 + 10) == local(IST, 2026, 11, 30, 9, 10)


def test_dst_spring_forward_inside_a_24h_calendar_is_an_hour_shorter():
    c = clock("Europe/Belgrade", hours={str(d): [["00:00", "24:00"]] for d in range(1, 8)})
    # 29 March 2026: 02:00 becomes 03:00 in Belgrade.
    start = local(BEL, 2026, 3, 29, 0, 0)
    end = local(BEL, 2026, 3, 30, 0, 0)
    assert c.minutes_between(start, end) == 23 * 60
    assert c.add(start, 23 * 60) == end


def test_dst_fall_back_inside_a_24h_calendar_is_an_hour_longer():
    c = clock("Europe/Belgrade", hours={str(d): [["00:00", "24:00"]] for d in range(1, 8)})
    start = local(BEL, 2026, 10, 25, 0, 0)
    end = local(BEL, 2026, 10, 26, 0, 0)
    assert c.minutes_between(start, end) == 25 * 60
    assert c.add(start, 25 * 60) == end


def test_dst_change_over_a_weekend_keeps_local_office_hours():
    c = clock("Europe/Belgrade")
    friday = local(BEL, 2026, 3, 27, 17, 0)  # CET, UTC+1
    due = c.add(friday, 120)
    assert due == local(BEL, 2026, 3, 30, 10, 0)  # CEST, UTC+2: still 10:00 local
    assert due.utcoffset() == dt.timedelta(0)
    assert due.astimezone(dt.UTC).hour == 8
    assert c.minutes_between(friday, due) == 120


def test_around_the_clock_without_a_calendar():
    c = BusinessClock(None)
    start = dt.datetime(2026, 11, 28, 23, 30, tzinfo=dt.UTC)
    assert c.add(start, 60) == dt.datetime(2026, 11, 29, 0, 30, tzinfo=dt.UTC)
    assert c.minutes_between(start, start + dt.timedelta(days=3)) == 3 * 1440


def test_empty_hours_mean_around_the_clock_in_the_zone_minus_holidays():
    c = clock(hours={}, holidays=[dt.date(2026, 11, 25)])
    start = local(IST, 2026, 11, 24, 23, 0)
    assert c.add(start, 120) == local(IST, 2026, 11, 26, 1, 0)


def test_seconds_are_dropped():
    c = clock()
    start = local(IST, 2026, 11, 24, 10, 0) + dt.timedelta(seconds=59, microseconds=5)
    assert c.add(start, 1) == local(IST, 2026, 11, 24, 10, 1)
    same_minute = local(IST, 2026, 11, 24, 10, 0, 10)
    assert c.minutes_between(same_minute, same_minute + dt.timedelta(seconds=49)) == 0
    assert c.minutes_between(same_minute, same_minute + dt.timedelta(seconds=50)) == 1


def test_negative_span_and_zero():
    c = clock()
    a, b = local(IST, 2026, 11, 24, 10, 0), local(IST, 2026, 11, 24, 12, 0)
    assert c.minutes_between(b, a) == -120
    assert c.add(a, 0) == a
    with pytest.raises(ValueError):
        c.add(a, -1)
    with pytest.raises(ValueError):
        c.add(dt.datetime(2026, 11, 24, 10, 0), 5)  # naive


def test_ten_year_target_is_fast_and_exact():
    holidays = [dt.date(y, m, d) for y in range(2026, 2037) for m, d in ((1, 1), (5, 1), (10, 29))]
    c = clock("Europe/Belgrade", holidays=holidays)
    start = local(BEL, 2026, 11, 24, 10, 0)
    minutes = 540 * 250 * 10
    began = time.perf_counter()
    due = c.add(start, minutes)
    back = c.minutes_between(start, due)
    elapsed = time.perf_counter() - began
    assert back == minutes
    assert dt.date(2036, 1, 1) < due.date() < dt.date(2037, 1, 1)
    assert elapsed < 0.5


@settings(max_examples=300, deadline=None)
@given(
    offset=st.integers(min_value=0, max_value=3 * 365 * 1440),
    minutes=st.integers(min_value=0, max_value=200_000),
    zone=st.sampled_from(["Europe/Belgrade", "Europe/Istanbul", "Asia/Tehran", "UTC"]),
    split=st.booleans(),
)
def test_add_and_minutes_between_are_inverses(offset, minutes, zone, split):
    hours = (
        {str(d): [["08:30", "12:00"], ["13:00", "17:45"]] for d in range(1, 7)}
        if split
        else {str(d): [["00:00", "24:00"]] for d in (1, 2, 3, 4, 5, 7)}
    )
    c = clock(zone, hours=hours, holidays=[dt.date(2026, 3, 29), dt.date(2027, 1, 1)])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=offset)
    due = c.add(start, minutes)
    assert c.minutes_between(start, due) == minutes
    assert due >= start.replace(second=0, microsecond=0)


@pytest.mark.parametrize(
    "hours, fragment",
    [
        ({"1": [["09:00", "25:00"]]}, "25:00"),
        ({"1": [["18:00", "09:00"]]}, "ends before it starts"),
        ({"1": [["09:00", "09:00"]]}, "ends before it starts"),
        ({"1": [["09:00", "13:00"], ["12:00", "18:00"]]}, "overlap"),
        ({"1": "09:00-18:00"}, "must be a list"),
        ({"1": [["09:00"]]}, "pair of times"),
        ({"8": [["09:00", "18:00"]]}, "not a weekday"),
        ({"1": [["9:00", "18:00"]]}, "9:00"),
        ({"1": [["09:60", "18:00"]]}, "09:60"),
        ({"1": [["24:00", "24:00"]]}, "24:00"),
        ({"1": [["٠٩:٠٠", "18:00"]]}, "٠٩:٠٠"),
        ({"1": []}, "at least one"),
        ([["09:00", "18:00"]], "map weekdays"),
        ("mon-fri", "map weekdays"),
    ],
)
def test_invalid_hours_are_refused_with_a_clear_error(hours, fragment):
    with pytest.raises(HoursError) as caught:
        parse_hours(hours)
    assert fragment in str(caught.value)


def test_valid_hours_parse_sorted_and_touching_intervals_allowed():
    parsed = parse_hours({"2": [["13:00", "24:00"], ["09:00", "13:00"]], 3: []})
    assert parsed[2] == ((540, 780), (780, 1440))
    assert parsed[3] == ()

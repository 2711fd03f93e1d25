"""The private calendar feed as RFC 5545 (iCalendar) text.

Text values are escaped (backslash, semicolon, comma, newline), every content line is folded
at 75 octets without splitting a UTF-8 character, lines end with CRLF, and times are UTC
(``…Z``), so any phone or desktop calendar shows them in its own zone.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vefa.interactions.choices import ActivityStatus
from vefa.interactions.filters import zone_named
from vefa.interactions.models import Activity

CRLF = "\r\n"
# Tasks and calls have a due time only; in a calendar they take this long.
TASK_LENGTH = datetime.timedelta(minutes=15)


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11)."""
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold one content line into chunks of at most 75 octets (RFC 5545 §3.1)."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = ""
    size = 0
    limit = 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            # Continuation lines begin with one space, which counts towards their 75 octets.
            current, size, limit = ch, width, 74
        else:
            current += ch
            size += width
    parts.append(current)
    return (CRLF + " ").join(parts)


def utc(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _prop(name: str, value: str) -> str:
    return fold(f"{name}:{value}")


def _event(
    activity: Activity,
    *,
    zone: datetime.tzinfo,
    url_for: Callable[[Activity], str],
) -> list[str]:
    start = activity.start_at or activity.due_at
    assert start is not None
    end = activity.end_at or (start + TASK_LENGTH)
    lines = [
        "BEGIN:VEVENT",
        _prop("UID", f"activity-{activity.pk}@vefa"),
        _prop("DTSTAMP", utc(activity.updated_at or timezone.now())),
        _prop("SEQUENCE", str(max(activity.version - 1, 0))),
    ]
    if activity.all_day:
        first = start.astimezone(zone).date()
        last = end.astimezone(zone).date()
        if last <= first:
            last = first + datetime.timedelta(days=1)
        lines += [
            f"DTSTART;VALUE=DATE:{first:%Y%m%d}",
            f"DTEND;VALUE=DATE:{last:%Y%m%d}",
        ]
    else:
        lines += [_prop("DTSTART", utc(start)), _prop("DTEND", utc(end))]
    summary = activity.subject
    if activity.customer_id is not None:
        summary = f"{activity.subject} · {activity.customer}"
    lines.append(_prop("SUMMARY", escape_text(summary)))
    description = "\n".join(
        p for p in (str(activity.get_kind_display()), activity.description) if p
    )
    lines.append(_prop("DESCRIPTION", escape_text(description)))
    if activity.location:
        lines.append(_prop("LOCATION", escape_text(activity.location)))
    lines.append(_prop("URL", url_for(activity)))
    lines.append(_prop("CATEGORIES", escape_text(str(activity.get_kind_display()))))
    lines.append("STATUS:CONFIRMED")
    lines.append("TRANSP:OPAQUE" if activity.start_at else "TRANSP:TRANSPARENT")
    if activity.status == ActivityStatus.PLANNED:
        for reminder in activity.reminders.all():
            lines += [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                _prop("DESCRIPTION", escape_text(activity.subject)),
                f"TRIGGER:-PT{int(reminder.minutes_before)}M",
                "END:VALARM",
            ]
    lines.append("END:VEVENT")
    return lines


def calendar_text(
    *,
    name: str,
    activities: Iterable[Activity],
    url_for: Callable[[Activity], str],
    time_zone: str = "UTC",
    language: str = "en",
) -> str:
    """The whole VCALENDAR for ``activities``, CRLF-terminated."""
    zone = zone_named(time_zone)
    with translation.override(language or "en"):
        title = _("Vefa: %(name)s") % {"name": name}
        lines = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Vefa//Vefa CRM//EN",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            _prop("X-WR-CALNAME", escape_text(title)),
            "REFRESH-INTERVAL;VALUE=DURATION:PT15M",
            "X-PUBLISHED-TTL:PT15M",
        ]
        for activity in activities:
            if activity.start_at is None and activity.due_at is None:
                continue
            lines += _event(activity, zone=zone, url_for=url_for)
        lines.append("END:VCALENDAR")
    return CRLF.join(lines) + CRLF

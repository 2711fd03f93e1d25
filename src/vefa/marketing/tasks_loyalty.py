"""Periodic work of the loyalty programme: expiry, birthday points, and points for orders
that were paid or delivered without an event (bulk intake, imports)."""

from __future__ import annotations

import datetime
import logging

from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)


JOB = "marketing.loyalty_daily"
# Orders changed this long before the previous run finished are looked at again (the run's
# own length and a slow commit).
MARGIN = datetime.timedelta(hours=2)


def _previous_run() -> datetime.datetime | None:
    """When the previous run finished well, less the margin; ``None`` (the whole window)
    when it never ran or failed."""
    from vefa.platform.models import PeriodicRun

    run = PeriodicRun.objects.filter(name=JOB, last_error="").values("last_finished_at").first()
    finished = run["last_finished_at"] if run else None
    return finished - MARGIN if finished is not None else None


@periodic(JOB, every=datetime.timedelta(hours=1))
def loyalty_daily() -> None:
    """Every hour (so a worker that was down catches up the same day): write off expired
    points, award birthday points and the points of orders that earned without an event.
    All are idempotent, the extra runs write nothing."""
    from vefa.marketing.services.loyalty import (
        birthday_points_award,
        order_points_catch_up,
        points_expire,
    )

    expired = points_expire()
    birthdays = birthday_points_award()
    orders = order_points_catch_up(since=_previous_run())
    if expired or birthdays or orders:
        logger.info(
            "loyalty: %d customers' points expired, %d birthdays, %d orders caught up",
            expired,
            birthdays,
            orders,
        )

"""Periodic work of the loyalty programme: expiry and birthday points."""

from __future__ import annotations

import datetime
import logging

from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)


@periodic("marketing.loyalty_daily", every=datetime.timedelta(hours=1))
def loyalty_daily() -> None:
    """Every hour (so a worker that was down catches up the same day): write off expired
    points and award birthday points. Both are idempotent, the extra runs write nothing."""
    from vefa.marketing.services.loyalty import birthday_points_award, points_expire

    expired = points_expire()
    birthdays = birthday_points_award()
    if expired or birthdays:
        logger.info("loyalty: %d customers' points expired, %d birthdays", expired, birthdays)

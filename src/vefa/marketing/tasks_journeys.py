"""Periodic work of the journeys: enrol the customers whose trigger fired and run due steps."""

from __future__ import annotations

import datetime
import logging

from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)


@periodic("marketing.journeys_run", every=datetime.timedelta(hours=1))
def journeys_run() -> None:
    """Every hour: enrol new occasions and run the steps that are due.

    Steps wait whole days, so an hourly run is a daily journey that also catches up after a
    worker was down; every step runs once however often this runs (see the service).
    """
    from vefa.marketing.services.journeys import journeys_run as run

    result = run()
    if result.enrolled or result.steps_run or result.deferred:
        logger.info(
            "journeys: %d enrolled, %d steps run, %d completed, %d left, %d waiting to send",
            result.enrolled,
            result.steps_run,
            result.completed,
            result.exited,
            result.deferred,
        )

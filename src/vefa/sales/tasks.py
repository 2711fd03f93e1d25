"""Background and periodic work of the sales app."""

from __future__ import annotations

import datetime
import logging

from vefa.platform.periodic import periodic

logger = logging.getLogger(__name__)


@periodic("sales.process_contract_renewals", every=datetime.timedelta(hours=1))
def process_contract_renewals() -> None:
    """Every hour: remind owners of contracts due for renewal (opening one renewal opportunity
    per contract), expire contracts past their end and renew those that renew automatically.

    Hourly rather than daily so a worker that was down at midnight catches up the same day;
    every step is idempotent, so the extra runs do nothing.
    """
    from vefa.sales.services.contracts import contracts_process_renewals

    run = contracts_process_renewals()
    if run.reminded or run.expired or run.auto_renewed:
        logger.info(
            "contract renewals: %d reminded (%d opportunities), %d expired, %d renewed",
            run.reminded,
            run.opportunities,
            run.expired,
            run.auto_renewed,
        )

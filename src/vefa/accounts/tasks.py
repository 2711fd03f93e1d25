"""Periodic jobs of the accounts app."""

from __future__ import annotations

import datetime

from vefa.accounts.services import login_failures_purge
from vefa.platform.periodic import periodic


@periodic("accounts.purge_login_failures", every=datetime.timedelta(hours=1))
def purge_login_failures() -> None:
    """Failed logins are only needed within the throttling window; drop the old ones."""
    login_failures_purge()

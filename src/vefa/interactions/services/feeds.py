"""The private calendar feed (ICS) of each user."""

from __future__ import annotations

import secrets

from vefa.accounts.models import User


def ics_token_reset(*, actor: User) -> str:
    """Give the actor's own calendar feed a new secret address; the old one stops working.

    Only the actor's own token can be reset, so there is no user argument. The token is a
    credential, so it is not written to the change log.
    """
    token = secrets.token_urlsafe(32)
    User.objects.filter(pk=actor.pk).update(ics_token=token)
    actor.ics_token = token
    return token

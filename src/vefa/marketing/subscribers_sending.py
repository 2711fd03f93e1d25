"""Inbound mail seen by marketing: a delivery status notification about a campaign message
counts as a bounce (a hard one suppresses the address), and an answer to a campaign message
marks its recipient as having replied. The help desk mailbox takes in every message; this
only records what concerns campaigns, the help desk goes on as before.

Campaign messages carry a Message-ID ``<token@domain>`` with the recipient's 32-hex token,
so the test of whether a message concerns campaigns needs no query."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from vefa.marketing.services.tracking import handle_bounce, record_reply
from vefa.service.services.email import register_inbound_observer

if TYPE_CHECKING:
    from vefa.service.inbound import ParsedEmail

_CAMPAIGN_ID = re.compile(r"<[0-9a-f]{32}@")
_REPORT = re.compile(rb"multipart/report", re.IGNORECASE)
HEAD_BYTES = 65536


def _concerns_campaigns(raw: bytes, parsed: ParsedEmail) -> bool:
    if parsed.is_automatic:
        return bool(_REPORT.search(raw[:HEAD_BYTES]))
    return bool(_CAMPAIGN_ID.search(f"{parsed.in_reply_to} {' '.join(parsed.references)}"))


def campaign_mail_seen(raw: bytes, parsed: ParsedEmail) -> None:
    if parsed.is_automatic:
        handle_bounce(raw)
    else:
        record_reply(in_reply_to=parsed.in_reply_to, references=" ".join(parsed.references))


register_inbound_observer(campaign_mail_seen, wants=_concerns_campaigns)

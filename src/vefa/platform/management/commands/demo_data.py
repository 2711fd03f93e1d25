# Demo logins (``vefa demo`` prints them after loading; the README quotes them):
#
#   e-mail                     password              role
#   admin@vefa.example         vefa-admin-demo       Administrator
#   manager@vefa.example       vefa-team-lead-demo   Sales manager (team Türkiye)
#   rep.tr@vefa.example        vefa-sales-demo       Sales representative (team Türkiye)
#   rep.uk@vefa.example        vefa-sales-demo       Sales representative (team UK & US)
#   rep.rs@vefa.example        vefa-sales-demo       Sales representative (team Balkans)
#   rep.ir@vefa.example        vefa-sales-demo       Sales representative (team Iran)
#   service@vefa.example       vefa-helpdesk-demo    Service agent (team Customer service)
#   marketing@vefa.example     vefa-campaign-demo    Marketer (team Marketing)
#   viewer@vefa.example        vefa-viewer-demo      Read-only
#
# The administrator keeps the password it was created with when it existed before (``vefa
# demo`` creates it with the password above). The logins are defined in vefa.demo.company.
"""``vefa demo`` loads this: a believable company with three years of history.

About 2,000 customers (people and organisations from Türkiye, the UK, the US, Serbia and
Iran) with contact points, addresses, consent, relationships and tags; leads in every status;
their interactions over three years ending today; the staff's activities (done, overdue,
today's and upcoming meetings with reminders); a user in every role. Deterministic and
idempotent: a second run finds the demo and only prints the logins.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from vefa.demo.load import load_demo


class Command(BaseCommand):
    help = "Load the demo company (customers, history, activities, users in every role)."

    def handle(self, *args: Any, **options: Any) -> None:
        load_demo(report=lambda line: self.stdout.write(line))

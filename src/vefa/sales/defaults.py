"""The pipelines a new installation starts with (created by a data migration).

Names are stored in the installation's language (``LANGUAGE_CODE``) like any other data
users may rename; the kinds and probabilities are what the forecast and renewals rely on.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

NEW_BUSINESS = "new_business"
RENEWAL = "renewal"


def _stages() -> dict[str, list[tuple[str, str, int, int]]]:
    # (name, kind, probability %, stale after days)
    return {
        NEW_BUSINESS: [
            (_("Qualification"), "open", 10, 14),
            (_("Needs analysis"), "open", 25, 21),
            (_("Proposal"), "open", 50, 21),
            (_("Negotiation"), "open", 75, 14),
            (_("Won"), "won", 100, 3650),
            (_("Lost"), "lost", 0, 3650),
        ],
        RENEWAL: [
            (_("Renewal due"), "open", 60, 30),
            (_("Renewal offered"), "open", 80, 21),
            (_("Renewed"), "won", 100, 3650),
            (_("Not renewed"), "lost", 0, 3650),
        ],
    }


def create_default_pipelines(pipeline_model: Any, stage_model: Any, language: str) -> None:
    """Create the new-business and renewals pipelines unless pipelines exist already."""
    if pipeline_model.objects.exists():
        return
    with translation.override(language):
        names = {NEW_BUSINESS: _("New business"), RENEWAL: _("Renewals")}
        for order, (kind, stages) in enumerate(_stages().items()):
            pipeline = pipeline_model.objects.create(
                name=names[kind], kind=kind, is_default=True, order=order
            )
            for position, (name, stage_kind, probability, stale) in enumerate(stages):
                stage_model.objects.create(
                    pipeline=pipeline,
                    name=name,
                    kind=stage_kind,
                    order=position,
                    probability=probability,
                    stale_after_days=stale,
                )

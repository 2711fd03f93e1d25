"""Files for download that the pages and the API share: the print (mail-merge) file of a
letter campaign."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _

from vefa.common.errors import ValidationFailed
from vefa.marketing.selectors import campaigns as selectors

LETTER_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def letters_response(actor: Any, pk: int, file_format: str) -> HttpResponse:
    """The mail-merge file of a letter campaign (the page and the API)."""
    from vefa.marketing.channels import letters_file

    if file_format not in LETTER_FORMATS:
        raise ValidationFailed(
            _("Choose CSV or XLSX."), fields={"format": [_("Choose CSV or XLSX.")]}
        )
    campaign, rows = selectors.campaign_letters(actor=actor, pk=pk)
    response = HttpResponse(
        letters_file(rows, file_format=file_format), content_type=LETTER_FORMATS[file_format]
    )
    name = f"campaign-{campaign.pk}-letters.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response

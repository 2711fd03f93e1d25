"""Pieces shared by the pages and the API: serving an attachment safely."""

from __future__ import annotations

from django.http import FileResponse

from vefa.interactions.models import Attachment
from vefa.interactions.services import attachment_open


def attachment_response(attachment: Attachment) -> FileResponse:
    """The file as a download that no browser will render or run.

    Always ``Content-Disposition: attachment`` (with the cleaned name, RFC 6266-encoded by
    Django), the type fixed by the allow-list, ``nosniff`` and a sandboxing CSP, and not
    cached by shared caches.
    """
    response = FileResponse(
        attachment_open(attachment),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response

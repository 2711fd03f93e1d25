"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation


def vefa(request: HttpRequest) -> dict[str, Any]:
    return {
        "VEFA_LANGUAGES": settings.LANGUAGES,
        "LANGUAGE_BIDI": translation.get_language_bidi(),
    }

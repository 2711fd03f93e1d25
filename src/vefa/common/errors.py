"""The one application error family; the API and the pages map it to one error shape."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A domain rule refused the operation. ``fields`` maps a field name to its messages."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, list[str]] = fields or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self.message), "fields": self.fields}


class ValidationFailed(ApplicationError):
    """Input did not pass validation; ``fields`` names every field and why."""

    status_code = 422
    code = "validation_failed"


class NotFound(ApplicationError):
    """The record does not exist *or* the actor may not see it: both look the same."""

    status_code = 404
    code = "not_found"


class PermissionDenied(ApplicationError):
    """The actor may see the record but may not do this to it."""

    status_code = 403
    code = "permission_denied"


class Conflict(ApplicationError):
    """An optimistic-concurrency check failed: someone else changed the record first."""

    status_code = 412
    code = "conflict"

    def __init__(self, message: str, *, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["current_version"] = self.current_version
        return data


def validation_error_from_django(exc: Any) -> ValidationFailed:
    """Turn a Django ``ValidationError`` into ``ValidationFailed`` with per-field messages."""
    from django.utils.translation import gettext

    if hasattr(exc, "message_dict"):
        fields = {key: [str(m) for m in msgs] for key, msgs in exc.message_dict.items()}
    else:
        fields = {"__all__": [str(m) for m in exc.messages]}
    return ValidationFailed(gettext("Please correct the errors below."), fields=fields)

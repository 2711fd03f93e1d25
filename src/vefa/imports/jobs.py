"""Registers the import job handler (``imports.run``) when the app is ready."""

from vefa.imports import services  # noqa: F401

"""Shared building blocks with no models: base classes, errors, events, folding, paging."""

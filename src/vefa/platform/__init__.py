"""Cross-cutting platform: change log, custom fields, tags, jobs, notifications, search."""

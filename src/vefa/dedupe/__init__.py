"""Duplicate detection (instant and the batch spring cleaning), the review of clusters, and the
data-quality page."""

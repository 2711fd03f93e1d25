"""Models of dedupe."""

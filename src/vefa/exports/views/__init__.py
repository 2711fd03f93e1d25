"""Pages of the exports app, one module per area."""

"""Page forms of the sales app, one module per area."""

"""Pages of data quality: one module per area (``checks``, ``dashboard``)."""

"""Writes of the sales app, one module per area; views, the API and jobs call these only."""

"""Sales: products and prices, pipelines and opportunities, quotes, orders, contracts,
targets, the forecast, field sales and sales analysis (MISSION §3 and §4)."""

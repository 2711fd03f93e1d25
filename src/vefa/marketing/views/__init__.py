"""Marketing pages, one module per area (see ``vefa.marketing.urls``)."""

"""The sales pages, one module per area (see ``vefa.sales.urls``)."""

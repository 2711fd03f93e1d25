"""The analytics section of the customer 360 page, loaded by htmx from the customer page."""

from django.urls import path

from vefa.analytics.views_customer import customer_analytics

app_name = "analytics_customer"

urlpatterns = [
    path("<int:pk>/", customer_analytics, name="section"),
]

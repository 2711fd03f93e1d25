"""URL configuration: pages per app, the API, the admin."""

from django.contrib import admin
from django.urls import include, path

from vefa.config.api import api

urlpatterns = [
    path("", include("vefa.platform.urls")),
    path("accounts/", include("vefa.accounts.urls")),
    path("customers/", include("vefa.customers.urls")),
    path("interactions/", include("vefa.interactions.urls")),
    path("sales/", include("vefa.sales.urls")),
    path("service/", include("vefa.service.urls")),
    path("marketing/", include("vefa.marketing.urls")),
    path("portal/", include("vefa.portal.urls")),
    path("analytics/", include("vefa.analytics.urls")),
    path("analytics/customer/", include("vefa.analytics.urls_customer")),
    path("imports/", include("vefa.imports.urls")),
    path("exports/", include("vefa.exports.urls")),
    path("privacy/", include("vefa.privacy.urls")),
    path("dedupe/", include("vefa.dedupe.urls")),
    path("quality/", include("vefa.quality.urls")),
    path("integrations/", include("vefa.integrations.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

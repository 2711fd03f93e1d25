"""Pages of the analytical CRM under ``/analytics/``."""

from django.urls import path

from vefa.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/<slug:key>.csv", views.export_csv, name="export"),
    path("refresh/", views.refresh, name="refresh"),
    path("refresh/<int:pk>/status/", views.refresh_status, name="refresh_status"),
    path("refreshes/", views.refresh_history, name="refresh_history"),
    path("settings/", views.settings_page, name="settings"),
    path("act/", views.act, name="act"),
    path("act/cell/", views.act_cell, name="act_cell"),
    path("act/segment/", views.segment_create, name="segment_create"),
    path("act/calls/", views.call_tasks, name="call_tasks"),
]

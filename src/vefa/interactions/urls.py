"""Pages of the interactions app."""

from django.urls import path

from vefa.interactions import views

app_name = "interactions"
urlpatterns = [
    path("", views.interaction_list, name="list"),
    path("new/", views.interaction_create, name="create"),
    path("<int:pk>/", views.interaction_detail, name="detail"),
    path("<int:pk>/edit/", views.interaction_edit, name="edit"),
    path("<int:pk>/delete/", views.interaction_delete, name="delete"),
    path("<int:pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment_delete"),
    path(
        "customers/<int:customer_pk>/timeline/",
        views.customer_timeline,
        name="customer_timeline",
    ),
    path(
        "customers/<int:customer_pk>/activities/",
        views.customer_activities,
        name="customer_activities",
    ),
    path("quick-add/", views.quick_add, name="quick_add"),
    path("activities/", views.activity_list, name="activity_list"),
    path("activities/new/", views.activity_create, name="activity_create"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/complete/", views.activity_complete, name="activity_complete"),
    path("activities/<int:pk>/cancel/", views.activity_cancel, name="activity_cancel"),
    path("time/", views.time_entry_create, name="time_entry_create"),
    path("time/<int:pk>/delete/", views.time_entry_delete, name="time_entry_delete"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/feed/", views.ics_info, name="ics_info"),
    path("calendar/feed/reset/", views.ics_reset, name="ics_reset"),
    path("calendar/feed/<str:token>.ics", views.ics_feed, name="ics_feed"),
]

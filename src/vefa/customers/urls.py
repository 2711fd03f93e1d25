"""Pages of the customers app."""

from django.urls import path

from vefa.customers import views
from vefa.customers.views import merge as merge_views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("bulk/", views.customer_bulk, name="bulk"),
    path("picker/", views.customer_picker, name="picker"),
    path("merge/", merge_views.merge, name="merge"),
    path("merges/<int:pk>/", merge_views.merge_detail, name="merge_detail"),
    path("merges/<int:pk>/undo/", merge_views.merge_undo, name="merge_undo"),
    path("<int:pk>/merges/", merge_views.merge_history, name="merge_history"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/delete/", views.customer_delete, name="delete"),
    path(
        "<int:pk>/sections/<str:name>/",
        views.section,
        name="section",
    ),
    path("<int:pk>/contact-points/new/", views.contact_point_add, name="contact_point_add"),
    path("contact-points/<int:pk>/edit/", views.contact_point_edit, name="contact_point_edit"),
    path(
        "contact-points/<int:pk>/delete/", views.contact_point_delete, name="contact_point_delete"
    ),
    path("<int:pk>/addresses/new/", views.address_add, name="address_add"),
    path("addresses/<int:pk>/edit/", views.address_edit, name="address_edit"),
    path("addresses/<int:pk>/delete/", views.address_delete, name="address_delete"),
    path("<int:pk>/relationships/new/", views.relationship_add, name="relationship_add"),
    path("relationships/<int:pk>/delete/", views.relationship_delete, name="relationship_delete"),
    path("<int:pk>/consent/grant/", views.consent_grant, name="consent_grant"),
    path("<int:pk>/consent/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("<int:pk>/consent/form/", views.consent_form, name="consent_form"),
    path("<int:pk>/consent/history/", views.consent_history, name="consent_history"),
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/new/", views.lead_create, name="lead_create"),
    path("leads/<int:pk>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/edit/", views.lead_edit, name="lead_edit"),
    path("leads/<int:pk>/delete/", views.lead_delete, name="lead_delete"),
    path("leads/<int:pk>/convert/", views.lead_convert, name="lead_convert"),
]

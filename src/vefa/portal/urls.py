"""The customer portal under /portal/, its public web form, and the staff pages for both."""

from __future__ import annotations

from django.urls import path

from vefa.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/sent/", views.login_sent_view, name="login_sent"),
    path("login/link/<str:token>/", views.login_link_view, name="login_link"),
    path("logout/", views.logout_view, name="logout"),
    path("language/", views.set_language_view, name="set_language"),
    path("orders/", views.orders_view, name="orders"),
    path("orders/<int:pk>/", views.order_view, name="order"),
    path("orders/<int:order_pk>/return/", views.return_new_view, name="return_new"),
    path("documents/", views.documents_view, name="documents"),
    path("tickets/", views.tickets_view, name="tickets"),
    path("tickets/new/", views.ticket_new_view, name="ticket_new"),
    path("tickets/<int:pk>/", views.ticket_view, name="ticket"),
    path("files/<int:pk>/", views.attachment_view, name="attachment"),
    path("returns/", views.returns_view, name="returns"),
    path("returns/<int:pk>/", views.return_view, name="return"),
    path("surveys/", views.surveys_view, name="surveys"),
    path("points/", views.points_view, name="points"),
    path("help/", views.help_view, name="help"),
    path("help/<str:slug>/", views.help_article_view, name="help_article"),
    path("me/", views.details_view, name="details"),
    path("me/data.json", views.export_view, name="export"),
    path("form/<str:key>/", views.webform_view, name="webform"),
    path("form/<str:key>/thanks/", views.webform_thanks_view, name="webform_thanks"),
    path("staff/accounts/", views.staff_accounts_view, name="staff_accounts"),
    path("staff/forms/", views.staff_forms_view, name="staff_forms"),
]

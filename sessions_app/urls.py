"""The HTML dashboard's routes (the JSON API lives under /api/)."""

from django.urls import path

from sessions_app import views

urlpatterns = [
    path("", views.running, name="running"),
    path("", views.running, name="dashboard"),  # the old name of the home page
    path("scrapers/", views.scrapers, name="scrapers"),
    path("scrapers/start/", views.scraper_start, name="scraper_start"),
    path("history/", views.history, name="history"),
    path("compare/", views.compare, name="compare"),
    path("sessions/new/", views.session_new, name="session_new"),
    path("sessions/<str:session_id>/", views.session_detail, name="session_detail"),
    path("sessions/<str:session_id>/row/", views.session_row, name="session_row"),
    path("sessions/<str:session_id>/live/", views.session_live, name="session_live"),
    path("sessions/<str:session_id>/trades/", views.session_trades, name="session_trades"),
    path("sessions/<str:session_id>/logs/", views.session_logs, name="session_logs"),
    path("sessions/<str:session_id>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<str:session_id>/start/", views.session_start, name="session_start"),
    path("sessions/<str:session_id>/stop/", views.session_stop, name="session_stop"),
    path("sessions/<str:session_id>/delete/", views.session_delete, name="session_delete"),
    path("sessions/<str:session_id>/clone/", views.session_clone, name="session_clone"),
]

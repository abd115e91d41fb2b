from django.urls import path

from sessions_app import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]

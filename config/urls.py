from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # Not django.contrib.auth.urls: its password-reset pages would promise a mail that no mail
    # backend sends. A forgotten password is set again by an administrator (the admin, or
    # `manage.py changepassword`).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("api/", include("sessions_app.api.urls")),
    # The old system's endpoints, deprecated in favour of /api/sessions but still answering.
    path("", include("sessions_app.api.compat_urls")),
    path("", include("sessions_app.urls")),
]

# Below both front ends: the envelope under /api/, the product's pages elsewhere.
handler400 = "sessions_app.handlers.bad_request"
handler404 = "sessions_app.handlers.not_found"
handler500 = "sessions_app.handlers.server_error"

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("sessions_app.api.urls")),
    # The old system's endpoints, deprecated in favour of /api/sessions but still answering.
    path("", include("sessions_app.api.compat_urls")),
    path("", include("sessions_app.urls")),
]

handler404 = "sessions_app.api.errors.not_found"
handler500 = "sessions_app.api.errors.server_error"

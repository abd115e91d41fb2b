"""/api/schema/: the OpenAPI document, its refusals in the JSON envelope like every /api/ answer."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from drf_spectacular.views import SpectacularAPIView
from rest_framework.renderers import JSONRenderer


class SchemaView(SpectacularAPIView):
    """YAML or JSON by negotiation; a 401 or 405 as JSON (its renderers would write YAML)."""

    @classmethod
    def as_view(cls, **initkwargs):
        # DRF's IsAuthenticated answers anonymous callers with the JSON 401, not the login page.
        return login_not_required(super().as_view(**initkwargs))

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response

"""Who is asking (the client's address, for login and token throttling) and the
Content-Security-Policy every answer carries."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The address failures are counted against.

    Without a proxy it is the connection's own address: X-Forwarded-For is whatever the client
    wrote, so trusting it would let a guesser pick a fresh address for every try. Behind the
    TLS-terminating proxy (BEHIND_PROXY=true) it is the last X-Forwarded-For entry, the one the
    proxy appended; earlier entries are the client's again.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        return forwarded or remote
    return remote


class ContentSecurityPolicyMiddleware:
    """Every answer carries settings.CONTENT_SECURITY_POLICY: scripts and styles come only from
    our static files (no inline code, no style="..." attributes, no eval), so markup that got
    into a page cannot run. Django's own DEBUG error pages are left out: they style and script
    themselves inline, and only a developer sees them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code in (404, 500):
            return response
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response

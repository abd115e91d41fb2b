"""Throttles on the API: wrong tokens counted per client address, and a (generous) rate per user.

Both count in fixed windows. Wrong tokens on the default cache: only failures are counted, so
even the embedded mode's file cache costs a valid request nothing, and every web process shares
the count. The rate per user on the `throttle` cache (settings): Redis when there is one, shared
by every process, one atomic INCR a request; else each process's memory, since the file cache
would write a file for every API request.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import caches
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from config.security import client_address

THROTTLE_CACHE = "throttle"


class WrongTokensThrottled(exceptions.Throttled):
    default_detail = "Too many requests with a wrong token from this address."
    extra_detail_singular = "Try again in {wait} second."
    extra_detail_plural = "Try again in {wait} seconds."


def _count(key: str, *, window_seconds: int, cache_name: str = THROTTLE_CACHE) -> int | None:
    """One more in this window's counter; its new value (None: the cache is down, count nothing)."""
    cache = caches[cache_name]
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request
        if cache.add(key, 1, timeout=window_seconds + 1):
            return 1
        try:
            return cache.incr(key)  # another request added it in between
        except ValueError:
            return None


def _window(seconds: int, now: float) -> tuple[int, float]:
    """(the current window's number, the seconds left in it)."""
    return int(now // seconds), seconds - now % seconds


class CountingTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with the wrong tokens of each client address counted: past
    API_TOKEN_FAILURE_LIMIT in a window of API_TOKEN_FAILURE_WINDOW seconds, its wrong tokens
    get 429 with Retry-After (the window's end) instead of 401.

    Only failures touch the cache: a request with a valid token pays nothing, and is never
    refused for its address's failures (the other clients behind one NAT or proxy keep
    working; a 40-hex-digit token is not found by guessing, the throttle stops the hammering).
    """

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            self._refuse_when_over_the_limit(request)
            raise

    def _refuse_when_over_the_limit(self, request) -> None:
        seconds = settings.API_TOKEN_FAILURE_WINDOW
        window, left = _window(seconds, time.time())
        key = f"api-token-failures:{client_address(request)}:{window}"
        failures = _count(key, window_seconds=seconds, cache_name="default")
        if failures is not None and failures > settings.API_TOKEN_FAILURE_LIMIT:
            raise WrongTokensThrottled(wait=left)


class UserRateThrottle(SimpleRateThrottle):
    """At most API_THROTTLE_RATE requests per authenticated user (`N/s`, `N/min`, `N/hour`,
    `N/day`), in fixed windows: one counter per user and window, not DRF's list of every
    request's time (which a high rate makes thousands long, read and written on every request).
    Anonymous requests pass: they are refused (401) before anything is done for them."""

    scope = "user"

    def get_rate(self) -> str | None:
        # The settings of now, not those of when DRF's module was imported.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        if self.rate is None or not request.user.is_authenticated:
            return True
        window, self.left = _window(self.duration, time.time())
        requests = _count(f"api-rate:{request.user.pk}:{window}", window_seconds=self.duration)
        return requests is None or requests <= self.num_requests

    def wait(self) -> float:
        return self.left

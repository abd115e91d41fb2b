"""The old system's paths, kept answering (with a deprecation notice) so scripts written for it
go on working while they move to /api/sessions."""

from django.urls import re_path

from sessions_app.api import compat

urlpatterns = [
    re_path(r"^session/test/?$", compat.latest_test, name="compat-session-test"),
    re_path(r"^session/backtest/?$", compat.latest_backtest, name="compat-session-backtest"),
    re_path(r"^test/start/?$", compat.test_start, name="compat-test-start"),
    re_path(r"^market/start/?$", compat.market_start, name="compat-market-start"),
]

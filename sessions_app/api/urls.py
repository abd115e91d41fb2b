"""API routes under /api/, with or without a trailing slash (clients differ in which they send)."""

from django.urls import re_path

from sessions_app.api import (
    charts,
    compare,
    errors,
    funding,
    markets,
    runs,
    session_data,
    sessions,
    strategies,
    trades,
)
from sessions_app.api.schema_view import SchemaView

ID = r"(?P<session_id>[0-9a-fA-F-]{1,36})"
HASH = r"(?P<config_hash>[0-9a-f]{1,64})"

urlpatterns = [
    re_path(r"^sessions/?$", sessions.sessions, name="api-sessions"),
    re_path(rf"^sessions/{ID}/?$", sessions.session_detail, name="api-session"),
    re_path(rf"^sessions/{ID}/start/?$", sessions.session_start, name="api-session-start"),
    re_path(rf"^sessions/{ID}/stop/?$", sessions.session_stop, name="api-session-stop"),
    re_path(rf"^sessions/{ID}/clone/?$", sessions.session_clone, name="api-session-clone"),
    re_path(rf"^sessions/{ID}/trades/?$", trades.session_trades, name="api-session-trades"),
    re_path(rf"^sessions/{ID}/metrics/?$", session_data.session_metrics, name="api-session-metrics"),
    re_path(rf"^sessions/{ID}/equity/?$", session_data.session_equity, name="api-session-equity"),
    re_path(rf"^sessions/{ID}/chart/?$", charts.session_chart, name="api-session-chart"),
    re_path(rf"^sessions/{ID}/logs/?$", session_data.session_logs, name="api-session-logs"),
    re_path(rf"^sessions/{ID}/events/?$", session_data.session_events, name="api-session-events"),
    re_path(rf"^sessions/{ID}/runs/?$", runs.session_runs, name="api-session-runs"),
    re_path(rf"^sessions/{ID}/runs/{HASH}/?$", runs.session_run, name="api-session-run"),
    re_path(
        rf"^sessions/{ID}/runs/{HASH}/trades/?$", trades.session_run_trades, name="api-session-run-trades"
    ),
    re_path(r"^compare/?$", compare.compare, name="api-compare"),
    re_path(r"^strategies/?$", strategies.strategies, name="api-strategies"),
    re_path(r"^strategies/(?P<strategy_id>[\w.-]{1,50})/?$", strategies.strategy_detail, name="api-strategy"),
    re_path(r"^markets/?$", markets.markets, name="api-markets"),
    re_path(r"^funding/?$", funding.funding, name="api-funding"),
    re_path(r"^runs/?$", runs.runs, name="api-runs"),
    re_path(r"^runs/summary/?$", runs.runs_summary, name="api-runs-summary"),
    re_path(r"^schema/?$", SchemaView.as_view(), name="api-schema"),
    # Last: any other /api/ path is a JSON 404, in DEBUG too: API clients never get an HTML page.
    re_path(r"", errors.unknown_endpoint, name="api-unknown"),
]

"""API routes under /api/, with or without a trailing slash (clients differ in which they send)."""

from django.urls import re_path

from sessions_app.api import errors, views
from sessions_app.api.schema_view import SchemaView

ID = r"(?P<session_id>[0-9a-fA-F-]{1,36})"
HASH = r"(?P<config_hash>[0-9a-f]{1,64})"

urlpatterns = [
    re_path(r"^sessions/?$", views.sessions, name="api-sessions"),
    re_path(rf"^sessions/{ID}/?$", views.session_detail, name="api-session"),
    re_path(rf"^sessions/{ID}/start/?$", views.session_start, name="api-session-start"),
    re_path(rf"^sessions/{ID}/stop/?$", views.session_stop, name="api-session-stop"),
    re_path(rf"^sessions/{ID}/clone/?$", views.session_clone, name="api-session-clone"),
    re_path(rf"^sessions/{ID}/trades/?$", views.session_trades, name="api-session-trades"),
    re_path(rf"^sessions/{ID}/metrics/?$", views.session_metrics, name="api-session-metrics"),
    re_path(rf"^sessions/{ID}/equity/?$", views.session_equity, name="api-session-equity"),
    re_path(rf"^sessions/{ID}/chart/?$", views.session_chart, name="api-session-chart"),
    re_path(rf"^sessions/{ID}/logs/?$", views.session_logs, name="api-session-logs"),
    re_path(rf"^sessions/{ID}/events/?$", views.session_events, name="api-session-events"),
    re_path(rf"^sessions/{ID}/runs/?$", views.session_runs, name="api-session-runs"),
    re_path(rf"^sessions/{ID}/runs/{HASH}/?$", views.session_run, name="api-session-run"),
    re_path(
        rf"^sessions/{ID}/runs/{HASH}/trades/?$", views.session_run_trades, name="api-session-run-trades"
    ),
    re_path(r"^compare/?$", views.compare, name="api-compare"),
    re_path(r"^strategies/?$", views.strategies, name="api-strategies"),
    re_path(r"^strategies/(?P<strategy_id>[\w.-]{1,50})/?$", views.strategy_detail, name="api-strategy"),
    re_path(r"^markets/?$", views.markets, name="api-markets"),
    re_path(r"^runs/?$", views.runs, name="api-runs"),
    re_path(r"^runs/summary/?$", views.runs_summary, name="api-runs-summary"),
    re_path(r"^schema/?$", SchemaView.as_view(), name="api-schema"),
    # Last: any other /api/ path is a JSON 404, in DEBUG too: API clients never get an HTML page.
    re_path(r"", errors.unknown_endpoint, name="api-unknown"),
]

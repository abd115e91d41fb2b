"""The HTML dashboard, one module per screen; the routes (sessions_app.urls) name these views.

- htmx: the operate check, partial detection and the answers every action gives.
- running, scrapers, history: the three lists.
- modal: the create/edit form; actions: start, stop, delete, clone.
- detail: the session's page and the parts of it that poll.
- compare: runs (or History's sessions' best runs) side by side.

Each view parses the request, reads through sessions_app.selectors or acts through
sessions_app.services, and renders: no query is written here.
"""

from sessions_app.views.actions import session_clone, session_delete, session_start, session_stop
from sessions_app.views.compare import compare
from sessions_app.views.detail import session_detail, session_live, session_logs, session_trades
from sessions_app.views.history import history
from sessions_app.views.modal import session_edit, session_new
from sessions_app.views.running import running, session_row
from sessions_app.views.scrapers import scraper_start, scrapers

__all__ = [
    "compare",
    "history",
    "running",
    "scraper_start",
    "scrapers",
    "session_clone",
    "session_delete",
    "session_detail",
    "session_edit",
    "session_live",
    "session_logs",
    "session_new",
    "session_row",
    "session_start",
    "session_stop",
    "session_trades",
]

"""Reads the HTML dashboard and the JSON API share, one home each, split by subject.

- paging: pages by offset, by keyset (one mechanism for every list) and by number.
- cursors: a keyset page's key as the signed, opaque cursor a client hands back.
- sessions: one session by id, the filtered lists, History's page, the dashboard's lists, events.
- runs: the run a page is about (named or best), a session's runs, the runs an export covers,
  the summary of a set of runs.
- run_search: runs across sessions (filters, keyset pages), the (symbol, timeframe, range) group.
- trades: trade pages (newest first for the dashboard, entry order for the API), the export's rows.
- charts: a window of a session's candles, trade markers and equity; a scraper's archive calendar.
- results: live progress from the cache, metrics, equity, logs, the dashboard's rows.
- resume: what a resumed live run starts from (its trades so far).
- reuse: the completed runs an identical run can copy instead of computing again.
- summaries: the summary of runs: each session's (a page at once) or any group's, one set of rules.
- reference: strategies and markets, and the currency a session counts in.
- compare: runs from any sessions side by side, and sessions' best runs to compare.

Arguments are keyword-only and typed (datetimes, tuples of values): turning a query string into
them is the caller's job (`sessions_app.query`'s helpers, through the API's declarations of its
query parameters or the views' own parsing).
"""

from sessions_app.selectors.charts import (
    ChartWindow,
    session_archive_calendar,
    session_chart,
)
from sessions_app.selectors.compare import ComparedRun, compare_best_run_ids, compare_runs
from sessions_app.selectors.cursors import cursor_dumps, cursor_loads
from sessions_app.selectors.paging import Keyset, NumberedPage, Page, PageKey
from sessions_app.selectors.reference import (
    market_choices,
    market_list,
    market_quotes,
    session_currencies,
    session_currency,
    strategy_get,
    strategy_list,
    strategy_markets,
)
from sessions_app.selectors.results import (
    equity_key,
    progress_key,
    session_equity,
    session_logs,
    session_metrics,
    session_progress,
    session_progress_many,
    session_rows,
)
from sessions_app.selectors.resume import engine_trades, run_trade_rows
from sessions_app.selectors.reuse import runs_reusable
from sessions_app.selectors.run_search import (
    RUN_SEARCH_SORTS,
    KeysetPage,
    RunFilters,
    RunKey,
    run_group_summary,
    run_keyset,
    run_search,
)
from sessions_app.selectors.runs import (
    RUN_SORTS,
    run_count,
    run_for,
    run_get,
    run_list,
    session_best_run,
    session_export_runs,
    session_run_keyset,
)
from sessions_app.selectors.sessions import (
    HISTORY_SORTS,
    SESSION_SORTS,
    SessionFilters,
    event_page,
    history_page,
    scrapers_running,
    session_filter,
    session_find,
    session_flags,
    session_get,
    session_keyset,
    session_latest,
    session_list,
    session_order,
    sessions_created,
    sessions_running,
)
from sessions_app.selectors.summaries import runs_summary, session_summaries, session_summary
from sessions_app.selectors.trades import (
    TRADE_EXPORT_FIELDS,
    TRADES_API_ORDER,
    TRADES_DASHBOARD_ORDER,
    trade_page,
    trade_page_numbered,
    trade_rows_iter,
)

__all__ = [
    "engine_trades",
    "run_trade_rows",
    "HISTORY_SORTS",
    "RUN_SEARCH_SORTS",
    "RUN_SORTS",
    "SESSION_SORTS",
    "TRADE_EXPORT_FIELDS",
    "ChartWindow",
    "ComparedRun",
    "Keyset",
    "KeysetPage",
    "NumberedPage",
    "Page",
    "PageKey",
    "RunFilters",
    "RunKey",
    "SessionFilters",
    "compare_best_run_ids",
    "compare_runs",
    "cursor_dumps",
    "cursor_loads",
    "equity_key",
    "event_page",
    "history_page",
    "market_choices",
    "market_list",
    "market_quotes",
    "progress_key",
    "run_count",
    "run_for",
    "run_get",
    "run_group_summary",
    "run_keyset",
    "run_list",
    "session_run_keyset",
    "run_search",
    "runs_reusable",
    "runs_summary",
    "scrapers_running",
    "session_best_run",
    "session_summaries",
    "session_summary",
    "session_currencies",
    "session_currency",
    "session_equity",
    "session_export_runs",
    "session_filter",
    "session_find",
    "session_flags",
    "session_get",
    "session_latest",
    "session_list",
    "session_logs",
    "session_metrics",
    "session_keyset",
    "session_order",
    "session_chart",
    "session_archive_calendar",
    "session_progress",
    "session_progress_many",
    "session_rows",
    "sessions_created",
    "sessions_running",
    "strategy_get",
    "strategy_list",
    "strategy_markets",
    "TRADES_API_ORDER",
    "TRADES_DASHBOARD_ORDER",
    "trade_page",
    "trade_page_numbered",
    "trade_rows_iter",
]

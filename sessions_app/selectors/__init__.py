"""Reads the HTML dashboard and the JSON API share, one home each, split by subject.

- sessions: one session by id, the filtered lists, History's page, the dashboard's lists, events.
- runs: the run a page is about (named or best), a session's runs, the runs an export covers,
  seed 2's summary of a set of runs.
- run_search: runs across sessions (filters, keyset pages), seed 2's (symbol, timeframe, range) group.
- trades: trade pages (newest first for the dashboard, entry order for the API), the export's
  rows, the detail view's price charts.
- results: live progress from the cache, metrics, equity, logs, the dashboard's rows.
- resume: what a resumed live run starts from (its trades so far).
- reuse: the completed runs an identical run can copy instead of computing again.
- summaries: the summary of runs: each session's (a page at once) or any group's, one set of rules.
- reference: strategies and markets, and the currency a session counts in.
- compare: runs from any sessions side by side, and sessions' best runs to compare.

Arguments are keyword-only and typed (datetimes, tuples of values): turning a query string into
them is the caller's job (the API's `sessions_app.api.params`, the views' own parsing).
"""

from sessions_app.selectors.compare import ComparedRun, compare_best_run_ids, compare_runs
from sessions_app.selectors.paging import NumberedPage, Page
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
    session_latest,
    session_list,
    session_order,
    sessions_created,
    sessions_running,
)
from sessions_app.selectors.summaries import runs_summary, session_summaries, session_summary
from sessions_app.selectors.trades import (
    TRADE_EXPORT_FIELDS,
    session_price_charts,
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
    "ComparedRun",
    "KeysetPage",
    "NumberedPage",
    "Page",
    "RunFilters",
    "RunKey",
    "SessionFilters",
    "compare_best_run_ids",
    "compare_runs",
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
    "run_list",
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
    "session_order",
    "session_price_charts",
    "session_progress",
    "session_progress_many",
    "session_rows",
    "sessions_created",
    "sessions_running",
    "strategy_get",
    "strategy_list",
    "strategy_markets",
    "trade_page",
    "trade_page_numbered",
    "trade_rows_iter",
]

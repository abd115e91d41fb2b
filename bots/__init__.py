"""The trading engine: strategies, exchanges/feeds, archive, simulator, metrics, runners.

Pure Python: nothing in this package imports Django.

Public API (what the Django side calls):
- bots.candles: Candles (numpy columns time/open/high/low/close/volume), TIMEFRAMES,
  timeframe_seconds, concat, align.
- bots.markets: MarketSpec (linear, inverse, quanto), Listing, market_spec(symbol),
  market_specs("XBTUSD+ETHUSD"), KNOWN_MARKETS (the market reference data).
- bots.strategies.registry: get_strategies(packages), get_strategy(id, packages).
- bots.runner: RunConfig, Sink (protocol), ListSink, Result, NoDataError,
  run_backtest(config, feed, sink), run_grid(configs, feed, sinks), run_live(config, feed,
  sink), run_scraper(config, feed, sink, archive_root), warm() (load the compiled code).
- bots.simulator: Trade, Account.   bots.metrics: compute_metrics, downsample.
- bots.exchanges: one module per exchange, each an Exchange subclass carrying its name, label,
  markets, URL setting and capabilities (bots.exchanges.base.Capability); the registry
  (bots.exchanges.registry: EXCHANGES, exchange_names(*capabilities), exchange_class,
  exchange_can, get_exchange(name)) is the one list. An Exchange has fetch_candles(symbol,
  timeframe, start, end) and live(symbols, timeframe, start=None) (the feed run_live takes).
- bots.data: load_candles, check_data, download.
- bots.archive: write, load, check, check_times, latest_time, earliest_time, inventory.
- bots.csv_import: parse_csv, parse_csv_text, CsvError.
"""

import os as _os

# numba (bots.fast, bots.exchanges.sim) caches compiled code beside the source; a read-only
# checkout (a deployed image) needs another place. Set before any submodule imports numba,
# which reads NUMBA_CACHE_DIR once, at its own import.
if not _os.environ.get("NUMBA_CACHE_DIR") and not _os.access(
    _os.path.dirname(_os.path.abspath(__file__)), _os.W_OK
):
    _os.environ["NUMBA_CACHE_DIR"] = _os.path.join(_os.path.expanduser("~"), ".cache", "trading-numba")

"""The runners' parts; `bots.runner` is the public face (its entry points and types).

- config: RunConfig, its hash, and the strategy it names.
- sink: where a runner reports (Sink, ListSink) and what it returns (Result).
- book: the account and the fills, with the snapshots the vectorised equity needs.
- backtest, live, scraper: one runner each; compiled: the compiled rules path of a backtest's
  legs; grid: a sweep's runs computed together.

Nothing here imports `bots.runner`, so the face can import every part.
"""

"""What a runner tells its sink about the account as it goes: the trades closed since the last
report and the account's events (liquidations, orders reduced or not placed, out of money)."""

from __future__ import annotations

from bots.simulator import EV_LIQUIDATED, event_dict

# Informational events (an order reduced, not placed) told per run at most; the metrics count all.
MAX_INFO_EVENTS = 20


class Reporter:
    """Hands the sink what is new in the account since the last report."""

    def __init__(self, sink, account, trades_reported: int = 0, events_reported: int = 0, info_told: int = 0):
        self.sink, self.account = sink, account
        self.trades = trades_reported
        self.events = events_reported
        self.info_told = info_told

    def report(self) -> list:
        """Report new trades and events; return the new trades."""
        sink, account = self.sink, self.account
        trades = account.trades
        new = []
        if len(trades) > self.trades:
            new = trades[self.trades :]
            self.trades = len(trades)
            sink.on_trades(new)
        rows = account.events
        if len(rows) > self.events:
            on_event = getattr(sink, "on_event", None)
            for row in rows[self.events :]:
                kind, data = event_dict(row, account.markets, account.currency)
                if row[0] != EV_LIQUIDATED:
                    if self.info_told >= MAX_INFO_EVENTS:
                        continue
                    self.info_told += 1
                sink.on_log(data["message"])
                if on_event is not None:
                    on_event(kind, data)
            self.events = len(rows)
        return new

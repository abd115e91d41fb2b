"""Market specifications and their PnL arithmetic (linear, inverse and quanto contracts)."""

from __future__ import annotations

import re
from dataclasses import dataclass

LINEAR = "linear"
INVERSE = "inverse"
QUANTO = "quanto"
CONTRACT_TYPES = (LINEAR, INVERSE, QUANTO)

_SYMBOL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_symbol(symbol: str) -> str:
    """A symbol safe to use as a directory name; ValueError otherwise."""
    if not isinstance(symbol, str) or not _SYMBOL_RE.match(symbol) or ".." in symbol:
        raise ValueError(f"Invalid market symbol {symbol!r}.")
    return symbol


@dataclass(frozen=True)
class MarketSpec:
    """One tradable market. Inverse markets (XBTUSD) trade $1 contracts and settle in base.

    Quanto markets (BitMEX ETHUSD) quote in one currency and settle in another at a fixed
    rate: a contract gains `multiplier` settle units per point of price, whatever the price of
    the settle currency. `multiplier` is ignored for linear and inverse markets.
    """

    symbol: str
    base: str
    quote: str
    settle: str
    contract_type: str = LINEAR
    tick_size: float = 0.01
    multiplier: float = 1.0
    # The account rules (docs/engine.md, "Margin"): sizes a sizing rule computes are whole
    # multiples of `lot_size` (0: any size); leverage up to `max_leverage`; positions are
    # liquidated below `maintenance_margin_pct` % of their notional; perpetuals pay funding
    # every `funding_interval_hours` from 00:00 UTC.
    lot_size: float = 0.0
    max_leverage: float = 100.0
    maintenance_margin_pct: float = 0.5
    perpetual: bool = False
    funding_interval_hours: float = 8.0

    def __post_init__(self) -> None:
        if self.contract_type not in CONTRACT_TYPES:
            raise ValueError(
                f"contract_type must be 'linear', 'inverse' or 'quanto', not {self.contract_type!r}."
            )
        if not self.multiplier > 0:
            raise ValueError(f"multiplier must be positive, not {self.multiplier!r}.")
        if not self.lot_size >= 0 or not self.max_leverage >= 1 or not self.maintenance_margin_pct >= 0:
            raise ValueError(
                f"lot_size must be >= 0, max_leverage >= 1 and maintenance_margin_pct >= 0 "
                f"(got {self.lot_size!r}, {self.max_leverage!r}, {self.maintenance_margin_pct!r})."
            )
        check_symbol(self.symbol)

    @property
    def inverse(self) -> bool:
        return self.contract_type == INVERSE

    @property
    def quanto(self) -> bool:
        return self.contract_type == QUANTO

    def pnl(self, size: float, entry: float, exit: float) -> float:
        """PnL in the settle currency of a signed position `size` (> 0 long) from entry to exit."""
        if self.contract_type == INVERSE:
            return size * (1.0 / entry - 1.0 / exit)
        if self.contract_type == QUANTO:
            return (exit - entry) * self.multiplier * size
        return size * (exit - entry)

    def notional(self, size: float, price: float) -> float:
        """Notional of |size| at `price` in the settle currency (fees are a share of it)."""
        if self.contract_type == INVERSE:
            return abs(size) / price
        if self.contract_type == QUANTO:
            return abs(size) * price * self.multiplier
        return abs(size) * price


@dataclass(frozen=True)
class Listing:
    """A market as an exchange's own metadata describes it (Exchange.fetch_markets)."""

    spec: MarketSpec
    active: bool = True


# Exchanges count some settle currencies in a smaller unit: (currency, units per one).
SETTLE_UNITS = {"XBt": ("XBT", 1e8), "USDt": ("USDT", 1e6), "Gwei": ("ETH", 1e9)}


# The one list of market reference data. The engine uses it when it is handed bare symbols;
# the Django side creates its markets table from it for the markets each exchange lists
# (`Exchange.markets`), and then owns the rows: an edit made there wins over this list for sessions.
def _perp(symbol, base, quote, settle, kind, tick, lot, max_leverage, mm_pct) -> MarketSpec:
    return MarketSpec(symbol, base, quote, settle, kind, tick, 1.0, lot, max_leverage, mm_pct, True, 8.0)


KNOWN_MARKETS: dict[str, MarketSpec] = {
    "XBTUSD": _perp("XBTUSD", "XBT", "USD", "XBT", INVERSE, 0.5, 1, 100, 0.35),
    "ETHUSD": _perp("ETHUSD", "ETH", "USD", "USD", LINEAR, 0.05, 0.001, 50, 0.5),
    "SOLUSD": _perp("SOLUSD", "SOL", "USD", "USD", LINEAR, 0.01, 0.01, 25, 1.0),
    "XRPUSD": _perp("XRPUSD", "XRP", "USD", "USD", LINEAR, 0.0001, 1, 25, 1.0),
    "DOGEUSD": _perp("DOGEUSD", "DOGE", "USD", "USD", LINEAR, 0.00001, 1, 25, 1.0),
    "BTCUSDT": _perp("BTCUSDT", "BTC", "USDT", "USDT", LINEAR, 0.1, 0.001, 125, 0.4),
    "ETHUSDT": _perp("ETHUSDT", "ETH", "USDT", "USDT", LINEAR, 0.01, 0.001, 100, 0.5),
}

_QUOTES = ("USDT", "USDC", "BUSD", "USD", "EUR", "BTC", "XBT", "ETH")


def market_spec(symbol: str) -> MarketSpec:
    """The spec of a known market, or a linear guess from the symbol's quote suffix."""
    if symbol in KNOWN_MARKETS:
        return KNOWN_MARKETS[symbol]
    check_symbol(symbol)
    for quote in _QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            base = symbol[: -len(quote)].rstrip("-_.")
            return MarketSpec(symbol, base, quote, quote, LINEAR, 0.01)
    return MarketSpec(symbol, symbol, "USD", "USD", LINEAR, 0.01)


def split_market(market: str) -> list[str]:
    """'XBTUSD+ETHUSD' -> ['XBTUSD', 'ETHUSD']."""
    legs = [part.strip() for part in market.split("+")]
    for leg in legs:
        check_symbol(leg)
    return legs


def market_specs(market: str) -> list[MarketSpec]:
    """One MarketSpec per leg of a (possibly pair) market string."""
    return [market_spec(leg) for leg in split_market(market)]


_ALIASES = {"XBT": "BTC", "USDT": "USD", "USDC": "USD", "BUSD": "USD"}


def default_balance(settle: str) -> float:
    """A starting balance that fits the settle currency: 1 coin for XBT/BTC-settled markets,
    10,000 otherwise (a stablecoin or fiat account)."""
    return 1.0 if same_currency(settle, "XBT") else 10_000.0


def same_currency(a: str, b: str) -> bool:
    """Currencies treated as one for accounting (XBT = BTC, USD stablecoins = USD)."""
    return _ALIASES.get(a, a) == _ALIASES.get(b, b)

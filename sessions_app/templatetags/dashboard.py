"""Formatting for the dashboard: money with its currency, elapsed times, "5m ago"."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import timezone

register = template.Library()

# Coins worth much per unit are counted with more decimals (0.012345 XBT, not 0.01).
FINE_CURRENCIES = {"XBT", "BTC", "ETH"}


def _number(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def decimals_for(currency: str | None) -> int:
    """Satoshi precision for bitcoin (a 100-contract XBTUSD trade makes ~1e-7 XBT), cents else."""
    return 8 if (currency or "").upper() in FINE_CURRENCIES else 2


@register.filter
def money(value, currency: str = "") -> str:
    """+245.50 USD; -0.001234 XBT; "--" when unknown."""
    number = _number(value)
    if number is None:
        return "--"
    places = decimals_for(currency)
    text = intcomma(f"{abs(number):.{places}f}")
    # The sign of what is shown: a loss that rounds to zero is "0.00", not "-0.00".
    shown = round(number, places)
    sign = "+" if shown > 0 else ("-" if shown < 0 else "")
    return f"{sign}{text} {currency}".strip()


@register.filter
def amount(value, currency: str = "") -> str:
    """An unsigned amount (equity, fees): 10,245.50 USD."""
    number = _number(value)
    if number is None:
        return "--"
    return f"{intcomma(f'{number:.{decimals_for(currency)}f}')} {currency}".strip()


@register.filter
def price(value) -> str:
    number = _number(value)
    if number is None:
        return "--"
    magnitude = abs(number)
    places = 2 if magnitude >= 100 else 4 if magnitude >= 1 else 6
    return intcomma(f"{number:.{places}f}")


@register.filter
def pct(value, places: int = 1) -> str:
    number = _number(value)
    if number is None:
        return "--"
    return f"{number:.{int(places)}f}%"


@register.filter
def fixed(value, places: int = 2) -> str:
    number = _number(value)
    if number is None:
        return "--"
    return intcomma(f"{number:.{int(places)}f}")


@register.filter
def tone(value) -> str:
    """CSS class for a signed figure."""
    number = _number(value)
    if not number:
        return "flat"
    return "pos" if number > 0 else "neg"


@register.filter
def count(value) -> str:
    number = _number(value)
    return intcomma(int(number)) if number is not None else "0"


def _parts(delta) -> tuple[int, int, int, int]:
    """A timedelta (or seconds) as (days, hours, minutes, seconds), never negative."""
    seconds = int(delta.total_seconds() if isinstance(delta, timedelta) else float(delta))
    days, rest = divmod(max(seconds, 0), 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return days, hours, minutes, secs


@register.filter
def clock(delta) -> str:
    """A timedelta (or seconds) as 00:45:32, with days in front when needed."""
    if delta is None:
        return "--"
    days, hours, minutes, secs = _parts(delta)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {text}" if days else text


@register.filter
def span(delta) -> str:
    """A timedelta (or seconds) as 2h 15m, 45m, 5m 23s, 12s, 3d 4h."""
    if delta is None or delta == "":
        return "--"
    days, hours, minutes, secs = _parts(delta)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m {secs}s" if minutes < 10 and secs else f"{minutes}m"
    return f"{secs}s"


@register.filter
def ago(moment) -> str:
    """5m ago, 2h ago, 1d ago."""
    if moment is None:
        return "never"
    if isinstance(moment, (int, float, Decimal)):
        moment = datetime.fromtimestamp(float(moment), tz=UTC)
    seconds = (timezone.now() - moment).total_seconds()
    if seconds < 60:
        return "just now"
    return f"{span(seconds).split()[0]} ago"


@register.filter
def unixtime(value, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Unix seconds as a UTC time."""
    number = _number(value)
    if number is None:
        return "--"
    return datetime.fromtimestamp(number, tz=UTC).strftime(fmt)


@register.filter
def get(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


# One colour per compared run: its line in the chart, its legend swatch, its table column.
SERIES_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f")


@register.filter(name="series_colour")
def series_colour(k: int) -> str:
    """The colour of the k-th compared run."""
    return SERIES_COLOURS[int(k) % len(SERIES_COLOURS)]


@register.filter
def ratio(value, places: int = 2) -> str:
    """Sharpe, Sortino, Calmar: "—" when undefined (null), else the figure."""
    number = _number(value)
    if number is None:
        return "—"
    return intcomma(f"{number:.{int(places)}f}")


def _plain_price(value) -> str:
    """27,350.5 (no trailing zeros; the trades table shows prices at full width)."""
    text = price(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# How a trade ended (its exit_reason), as the trades table says it.
EXIT_REASONS = {"signal": "Signal", "end": "End", "liquidation": "Liquidation"}


@register.filter
def exit_reason(trade) -> str:
    """Signal / End / Liquidation for a closed trade, "—" while it is open."""
    if getattr(trade, "exit_time", None) is None:
        return "—"
    reason = getattr(trade, "exit_reason", None) or "signal"
    return EXIT_REASONS.get(reason, reason.replace("_", " ").capitalize())


@register.filter
def liquidation_text(data) -> str:
    """A `liquidated` event in words: "Liquidated at 27,350.5: equity 1,000.00 -> 0.00 USD"."""
    data = data if isinstance(data, dict) else {}
    currency = str(data.get("currency") or "")
    prices = data.get("price")
    if isinstance(prices, dict):
        legs = list(prices.items())
        where = (
            _plain_price(legs[0][1])
            if len(legs) == 1
            else ", ".join(f"{symbol} {_plain_price(value)}" for symbol, value in legs)
        )
    else:
        where = _plain_price(prices)
    # Both amounts at the currency's precision (8 places for bitcoin), the code said once.
    before = amount(data.get("equity_before"), currency).removesuffix(f" {currency}")
    after = amount(data.get("equity_after"), currency)
    text = f"Liquidated at {where}: equity {before} -> {after}"
    insurance = _number(data.get("insurance"))
    if insurance:
        text += f" (the insurance fund covered {amount(insurance, currency)})"
    return text


@register.filter
def plain(value) -> str:
    """A stored Decimal as typed: 2, not 2.00; 0.35, not 0.3500."""
    number = _number(value)
    if number is None:
        return "--"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return f"{number:g}"


@register.filter
def leverage(value) -> str:
    """2x; 1x when none was set."""
    return f"{plain(value if value not in (None, '') else 1)}x"


SIZINGS = {"units": "Units", "equity": "Share of equity", "notional": "Notional"}


@register.filter
def sizing(value) -> str:
    """The modal's label of a sizing mode (units when none was set)."""
    return SIZINGS.get(value or "units", str(value))

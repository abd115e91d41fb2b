"""Charts as inline SVG, drawn on the server: no JavaScript library needed.

Every piece of text goes through `escape`; numbers are formatted here, so the markup that
`mark_safe` finally wraps holds nothing a user typed unescaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from sessions_app.templatetags.dashboard import decimals_for

register = template.Library()

WIDTH, HEIGHT = 800, 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 86, 16, 14, 30
MAX_POINTS = 1200


def _clean(points: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    out = []
    for point in points or []:
        try:
            t, v = float(point[0]), float(point[1])
        except (TypeError, ValueError, IndexError):
            continue
        if math.isfinite(t) and math.isfinite(v):
            out.append((t, v))
    out.sort(key=lambda p: p[0])
    if len(out) > MAX_POINTS:  # keep the shape, not every point
        step = math.ceil(len(out) / MAX_POINTS)
        out = out[::step] + ([out[-1]] if (len(out) - 1) % step else [])
    return out


def _time_label(t: float, span: float) -> str:
    moment = datetime.fromtimestamp(t, tz=UTC)
    return moment.strftime("%Y-%m-%d" if span > 3 * 86_400 else "%m-%d %H:%M")


def _value_label(v: float, currency: str | None, places: int | None = None) -> str:
    if places is None:
        magnitude = abs(v)
        places = (
            decimals_for(currency) if currency else (2 if magnitude >= 100 else 4 if magnitude >= 1 else 6)
        )
    text = f"{v:,.{places}f}"
    return f"{text} {currency}" if currency else text


class _Frame:
    """Maps (time, value) into the plot area."""

    def __init__(self, times: list[float], values: list[float]):
        self.t0, self.t1 = min(times), max(times)
        low, high = min(values), max(values)
        if high == low:
            pad = abs(high) * 0.01 or 1.0
            low, high = low - pad, high + pad
        margin = (high - low) * 0.05
        self.v0, self.v1 = low - margin, high + margin
        self.w = WIDTH - PAD_LEFT - PAD_RIGHT
        self.h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(self, t: float) -> float:
        if self.t1 == self.t0:
            return PAD_LEFT + self.w / 2
        return PAD_LEFT + (t - self.t0) / (self.t1 - self.t0) * self.w

    def y(self, v: float) -> float:
        return PAD_TOP + (1 - (v - self.v0) / (self.v1 - self.v0)) * self.h


def _axes(frame: _Frame, currency: str | None, places: int | None = None) -> list[str]:
    parts = []
    for k in range(5):
        v = frame.v0 + (frame.v1 - frame.v0) * k / 4
        y = frame.y(v)
        parts.append(
            f'<line class="grid" x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="axis" x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_value_label(v, currency, places))}</text>"
        )
    span = frame.t1 - frame.t0
    for k, anchor in ((0, "start"), (2, "middle"), (4, "end")):
        t = frame.t0 + span * k / 4
        parts.append(
            f'<text class="axis" x="{frame.x(t):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
            f"{escape(_time_label(t, span))} UTC</text>"
            if k == 4
            else f'<text class="axis" x="{frame.x(t):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
            f"{escape(_time_label(t, span))}</text>"
        )
    return parts


def _svg(label: str, body: list[str]) -> SafeString:
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}">{"".join(body)}</svg>'
    )


def _empty(label: str, message: str) -> SafeString:
    return mark_safe(f'<p class="chart-empty" aria-label="{escape(label)}">{escape(message)}</p>')


@register.simple_tag
def equity_chart(points, currency: str = "", initial=None) -> SafeString:
    """The equity curve with a baseline at the initial balance."""
    data = _clean(points)
    if len(data) < 2:
        return _empty("Equity curve", "No equity data yet.")
    times, values = [p[0] for p in data], [p[1] for p in data]
    baseline = None
    try:
        baseline = float(initial) if initial not in (None, "") else None
    except (TypeError, ValueError):
        baseline = None
    frame = _Frame(times, values + ([baseline] if baseline else []))
    body = _axes(frame, currency)
    if baseline:
        y = frame.y(baseline)
        body.append(
            f'<line class="baseline" x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}"/>'
        )
    coords = " ".join(f"{frame.x(t):.1f},{frame.y(v):.1f}" for t, v in data)
    area = f"{frame.x(times[0]):.1f},{HEIGHT - PAD_BOTTOM} {coords} {frame.x(times[-1]):.1f},{HEIGHT - PAD_BOTTOM}"
    tone = "pos" if values[-1] >= (baseline if baseline else values[0]) else "neg"
    body.append(f'<polygon class="area {tone}" points="{area}"/>')
    body.append(f'<polyline class="line {tone}" points="{coords}"/>')
    return _svg(f"Equity curve in {currency}", body)


@register.simple_tag
def price_chart(prices, trades, market: str = "", quote: str = "") -> SafeString:
    """A price line with each trade's entry (triangle: up = long, down = short) and exit
    (circle, green for a win, red for a loss)."""
    data = _clean(prices)
    entries = []
    for trade in trades or []:
        entries.append(trade)
    marks_times = [float(t["entry_time"]) for t in entries] + [
        float(t["exit_time"])
        for t in entries
        if t.get("exit_time") is not None and t.get("exit_price") is not None
    ]
    marks_values = [float(t["entry_price"]) for t in entries] + [
        float(t["exit_price"])
        for t in entries
        if t.get("exit_time") is not None and t.get("exit_price") is not None
    ]
    times = [p[0] for p in data] + marks_times
    values = [p[1] for p in data] + marks_values
    if len(times) < 2:
        return _empty("Price chart", "No price data for this session.")
    frame = _Frame(times, values)
    body = _axes(frame, quote or None)
    if len(data) >= 2:
        coords = " ".join(f"{frame.x(t):.1f},{frame.y(v):.1f}" for t, v in data)
        body.append(f'<polyline class="line price" points="{coords}"/>')
    for trade in entries:
        side = "long" if trade.get("side") == "long" else "short"
        x, y = frame.x(float(trade["entry_time"])), frame.y(float(trade["entry_price"]))
        tip = escape(
            f"{side.upper()} {market} entry {float(trade['entry_price']):,.6g} at "
            f"{datetime.fromtimestamp(float(trade['entry_time']), tz=UTC):%Y-%m-%d %H:%M} UTC"
        )
        shape = (
            f"{x:.1f},{y - 7:.1f} {x - 6:.1f},{y + 4:.1f} {x + 6:.1f},{y + 4:.1f}"
            if side == "long"
            else f"{x:.1f},{y + 7:.1f} {x - 6:.1f},{y - 4:.1f} {x + 6:.1f},{y - 4:.1f}"
        )
        body.append(f'<polygon class="mark entry {side}" points="{shape}"><title>{tip}</title></polygon>')
        if trade.get("exit_time") is not None and trade.get("exit_price") is not None:
            ex, ey = frame.x(float(trade["exit_time"])), frame.y(float(trade["exit_price"]))
            pnl = float(trade.get("realized_pnl") or 0)
            outcome = "win" if pnl > 0 else "loss"
            body.append(
                f'<line class="hold {outcome}" x1="{x:.1f}" y1="{y:.1f}" x2="{ex:.1f}" y2="{ey:.1f}"/>'
            )
            tip = escape(
                f"Exit {float(trade['exit_price']):,.6g} at "
                f"{datetime.fromtimestamp(float(trade['exit_time']), tz=UTC):%Y-%m-%d %H:%M} UTC, PnL {pnl:+.6g}"
            )
            body.append(
                f'<circle class="mark exit {outcome}" cx="{ex:.1f}" cy="{ey:.1f}" r="4.5"><title>{tip}</title></circle>'
            )
    return _svg(f"Price of {market} with trade entries and exits", body)


# Eight colours told apart on light and dark backgrounds (Tableau 10), one per compared run.
SERIES_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f")


def _as_return(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A curve as percent gained since its first point."""
    first = points[0][1]
    if not first:
        return []
    return [(t, (v / first - 1) * 100) for t, v in points]


@register.filter(name="series_colour")
def _colour(k: int) -> str:
    """The colour of the k-th compared run: its line, its legend swatch, its table column."""
    return SERIES_COLOURS[int(k) % len(SERIES_COLOURS)]


def _legend_item(k: int, item: dict, has_curve: bool) -> str:
    note = "" if has_curve else ' <span class="muted">(no curve yet)</span>'
    return (
        f'<li><span class="swatch" style="background: {_colour(k)}" aria-hidden="true"></span>'
        f"{escape(item.get('label') or '')}{note}</li>"
    )


@register.simple_tag
def overlay_chart(series) -> SafeString:
    """Several equity curves in one frame, each in its colour, with a legend. `series` is a
    list of {"label", "points", "currency"}; curves in different currencies are drawn as
    percent return from their start (one scale would mix units)."""
    curves = [(item, _clean(item.get("points"))) for item in series or []]
    currencies = {item.get("currency") or "" for item, _ in curves}
    as_return = len(currencies) > 1
    if as_return:
        curves = [(item, _as_return(points) if points else []) for item, points in curves]
    drawn = [(k, item, points) for k, (item, points) in enumerate(curves) if len(points) >= 2]
    if not drawn:
        return _empty("Equity curves", "No equity data yet.")
    times = [t for _, _, points in drawn for t, _ in points]
    values = [v for _, _, points in drawn for _, v in points]
    frame = _Frame(times, values)
    unit = "%" if as_return else (currencies.pop() or None)
    body = _axes(frame, unit, 2 if as_return else None)
    for k, item, points in drawn:
        coords = " ".join(f"{frame.x(t):.1f},{frame.y(v):.1f}" for t, v in points)
        body.append(
            f'<polyline class="line series" data-series="{k}" stroke="{_colour(k)}" '
            f'points="{coords}"><title>{escape(item.get("label") or "")}</title></polyline>'
        )
    legend = "".join(_legend_item(k, item, len(points) >= 2) for k, (item, points) in enumerate(curves))
    title = "Equity curves, percent return from start" if as_return else f"Equity curves in {unit or ''}"
    chart = _svg(title.strip(), body)
    return mark_safe(f'<figure class="overlay">{chart}<ul class="legend">{legend}</ul></figure>')

// The dashboard's charts, drawn by lightweight-charts (served from static/vendor/):
// - [data-chart="price"]: candles + volume + every trade as entry/exit markers, read from
//   GET /api/sessions/<id>/chart; zooming in fetches the finer window; a running session's
//   chart appends candles, markers and equity each time the page's 2 s poll swaps #detail-live.
// - [data-chart="equity"]: the equity curve of the first price chart's answer, its drawdown
//   below it (percent under the running peak).
// - [data-chart="compare"]: equity curves overlaid, from a json_script block of the page.
// Colours come from the page's CSS variables, so light and dark themes follow the system's.
(function () {
  "use strict";

  var LWC = window.LightweightCharts;
  var charts = []; // {chart, theme: function(palette)} for theme changes
  var live = []; // price charts of a running session, refreshed on the page's poll

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function palette() {
    return {
      surface: cssVar("--surface", "#ffffff"),
      text: cssVar("--text", "#18202c"),
      muted: cssVar("--muted", "#64708a"),
      border: cssVar("--border", "#dde3ec"),
      pos: cssVar("--pos", "#0f9960"),
      neg: cssVar("--neg", "#d9364b"),
      accent: cssVar("--accent", "#3b5bfd"),
      font: cssVar("--font", "system-ui, sans-serif"),
    };
  }

  function rgba(hex, a) {
    // lightweight-charts parses hex and rgb(a) colours, not color-mix(): do it here.
    var m = /^#([0-9a-f]{6})$/i.exec(hex);
    if (!m) return hex;
    var n = parseInt(m[1], 16);
    return "rgba(" + (n >> 16) + ", " + ((n >> 8) & 255) + ", " + (n & 255) + ", " + a + ")";
  }

  function chartOptions(p) {
    return {
      autoSize: true,
      // No logo: it brings an inline <style>, which the Content-Security-Policy refuses; the
      // page links to TradingView instead (.chart-credit), as the licence allows.
      layout: { background: { type: "solid", color: p.surface }, textColor: p.muted, fontFamily: p.font, attributionLogo: false },
      grid: { vertLines: { color: rgba(p.border, 0.6) || p.border }, horzLines: { color: rgba(p.border, 0.6) || p.border } },
      rightPriceScale: { borderColor: p.border },
      leftPriceScale: { borderColor: p.border },
      // 2,000 points fit a narrow box too (the default minimum spacing would cut the start off).
      timeScale: { borderColor: p.border, timeVisible: true, secondsVisible: false, minBarSpacing: 0.05 },
      crosshair: { mode: LWC.CrosshairMode.Normal },
      localization: { locale: "en-US" },
    };
  }

  // autoSize measures the box after the first frame: fit the data once more then.
  function fit(chart) {
    chart.timeScale().fitContent();
    requestAnimationFrame(function () { chart.timeScale().fitContent(); });
  }

  function makeChart(el, theme) {
    var p = palette();
    var chart = LWC.createChart(el, chartOptions(p));
    el.dataset.background = p.surface;
    var entry = { chart: chart, el: el, theme: theme || function () {} };
    charts.push(entry);
    return chart;
  }

  function applyTheme() {
    var p = palette();
    charts.forEach(function (entry) {
      entry.chart.applyOptions(chartOptions(p));
      entry.theme(p);
      entry.el.dataset.background = p.surface;
    });
  }

  function fmt(value, places) {
    if (value === null || value === undefined) return "--";
    var digits = places !== undefined ? places : Math.abs(value) >= 100 ? 2 : Math.abs(value) >= 1 ? 4 : 8;
    return Number(value).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function isoTime(t) {
    return new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ");
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error("chart data: HTTP " + r.status);
      return r.json();
    });
  }

  function withQuery(url, params) {
    var u = new URL(url, window.location.origin);
    Object.keys(params).forEach(function (k) {
      if (params[k] !== null && params[k] !== undefined) u.searchParams.set(k, params[k]);
    });
    return u.pathname + u.search;
  }

  // --- the price chart -----------------------------------------------------------------------

  function PriceChart(el, onAnswer) {
    var self = this;
    this.el = el;
    this.url = el.dataset.url;
    this.onAnswer = onAnswer;
    this.bars = []; // {time, open, high, low, close}
    this.volumes = [];
    this.trades = new Map(); // "id:kind" -> marker of the answer
    this.interval = null; // seconds per candle of the whole range (the live poll keeps it)
    this.tfSeconds = null;
    this.restoring = false;
    var p = palette();
    this.chart = makeChart(el, function (q) { self.theme(q); });
    this.candles = this.chart.addSeries(LWC.CandlestickSeries, {});
    this.volume = this.chart.addSeries(LWC.HistogramSeries, {
      priceFormat: { type: "volume" },
      priceScaleId: "volume",
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    this.chart.priceScale("right").applyOptions({ scaleMargins: { top: 0.08, bottom: 0.22 } });
    this.markers = LWC.createSeriesMarkers(this.candles, []);
    this.theme(p);
    this.tooltip = document.createElement("div");
    this.tooltip.className = "chart-tooltip";
    this.tooltip.hidden = true;
    el.appendChild(this.tooltip);
    this.chart.subscribeCrosshairMove(function (param) { self.hover(param); });
    this.chart.timeScale().subscribeVisibleTimeRangeChange(function (range) { self.zoomed(range); });
  }

  PriceChart.prototype.theme = function (p) {
    this.palette = p;
    this.candles.applyOptions({
      upColor: p.pos, downColor: p.neg, borderVisible: false, wickUpColor: p.pos, wickDownColor: p.neg,
    });
    this.volume.applyOptions({ color: rgba(p.muted, 0.35) });
    if (this.bars.length) this.drawMarkers();
  };

  PriceChart.prototype.load = function () {
    var self = this;
    return getJSON(this.url).then(function (answer) {
      self.interval = answer.interval;
      self.tfSeconds = TIMEFRAMES[answer.timeframe] || 1;
      self.live = answer.live;
      self.el.dataset.interval = answer.interval;
      self.take(answer, true);
      fit(self.chart);
      if (self.onAnswer) self.onAnswer(answer, true);
      return answer;
    });
  };

  PriceChart.prototype.take = function (answer, replace) {
    var bars = answer.candles.map(function (c) { return { time: c[0], open: c[1], high: c[2], low: c[3], close: c[4] }; });
    var vols = answer.candles.map(function (c) { return { time: c[0], value: c[5] }; });
    if (replace) {
      this.bars = bars;
      this.volumes = vols;
      this.candles.setData(bars);
      this.volume.setData(vols);
    } else {
      var last = this.bars.length ? this.bars[this.bars.length - 1].time : -Infinity;
      for (var i = 0; i < bars.length; i++) {
        if (bars[i].time < last) continue; // a coarser candle behind a zoomed-in finer one
        if (bars[i].time === last) {
          this.bars[this.bars.length - 1] = bars[i];
          this.volumes[this.volumes.length - 1] = vols[i];
        } else {
          this.bars.push(bars[i]);
          this.volumes.push(vols[i]);
        }
        this.candles.update(bars[i]);
        this.volume.update(vols[i]);
        last = bars[i].time;
      }
    }
    var self = this;
    answer.markers.forEach(function (m) { self.trades.set(m.trade_id + ":" + m.kind, m); });
    this.drawMarkers();
    this.el.dataset.candles = String(this.bars.length);
    this.el.dataset.markers = String(this.trades.size);
    this.el.dataset.ready = "true";
  };

  // The bar a time falls in: the last one opening at or before it.
  PriceChart.prototype.barAt = function (t) {
    var bars = this.bars, lo = 0, hi = bars.length - 1;
    if (!bars.length || t < bars[0].time) return null;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (bars[mid].time <= t) lo = mid; else hi = mid - 1;
    }
    return bars[lo].time;
  };

  // Every trade is drawn, folded per candle: one ▲ below it for its long entries, one ▼ above
  // for its short entries, one ● above for its exits (green when together they made money), so a year of trades
  // on 6-hour candles does not bury the price under stacks of markers. The tooltip lists them.
  // A liquidation is never folded into the exits: a red square marked "L", full size even
  // among dense markers, so a wiped-out account shows at any zoom.
  PriceChart.prototype.drawMarkers = function () {
    var p = this.palette, self = this, out = [];
    this.byBar = new Map();
    Array.from(this.trades.values())
      .sort(function (a, b) { return a.time - b.time || a.trade_id - b.trade_id; })
      .forEach(function (m) {
        var bar = self.barAt(m.time);
        if (bar === null) return;
        if (!self.byBar.has(bar)) self.byBar.set(bar, []);
        self.byBar.get(bar).push(m);
      });
    // Candles that nearly all carry trades: smaller marks, so the candles still show.
    var dense = this.byBar.size > this.bars.length / 3 && this.bars.length > 200;
    var size = dense ? 0.35 : 1;
    var up = dense ? rgba(p.pos, 0.55) : p.pos, down = dense ? rgba(p.neg, 0.55) : p.neg;
    var liquidations = 0;
    this.byBar.forEach(function (trades, bar) {
      var longs = 0, shorts = 0, exits = 0, pnl = 0, liquidated = 0;
      trades.forEach(function (m) {
        if (m.kind === "entry") { if (m.side === "long") longs++; else shorts++; }
        else if (m.kind === "liquidation") liquidated++;
        else { exits++; pnl += m.pnl || 0; }
      });
      if (liquidated) {
        liquidations += liquidated;
        out.push({ time: bar, position: "aboveBar", shape: "square", color: p.neg, text: "L", size: 1 });
      }
      if (longs) out.push({ time: bar, position: "belowBar", shape: "arrowUp", color: up, size: size });
      if (shorts) out.push({ time: bar, position: "aboveBar", shape: "arrowDown", color: down, size: size });
      // Exits above the candle (never on its body, which they would hide).
      if (exits) out.push({ time: bar, position: "aboveBar", shape: "circle", color: pnl >= 0 ? up : down, size: size * 0.7 });
    });
    out.sort(function (a, b) { return a.time - b.time; });
    this.markers.setMarkers(out);
    this.el.dataset.markerShapes = String(out.length);
    this.el.dataset.liquidations = String(liquidations);
  };

  PriceChart.prototype.hover = function (param) {
    var tip = this.tooltip;
    if (!param || param.time === undefined || !param.point || param.point.x < 0) {
      tip.hidden = true;
      return;
    }
    var bar = param.seriesData.get(this.candles);
    var lines = [];
    if (bar) {
      lines.push(isoTime(param.time) + " UTC  O " + fmt(bar.open) + "  H " + fmt(bar.high) + "  L " + fmt(bar.low) + "  C " + fmt(bar.close));
    }
    var trades = (this.byBar && this.byBar.get(param.time)) || [];
    trades.slice(0, 6).forEach(function (m) {
      var what = m.kind === "liquidation" ? "LIQUIDATED" : m.kind;
      var text = "Trade #" + m.trade_id + " · " + m.side + " " + what + " @ " + fmt(m.price) + " · " + isoTime(m.time);
      if (m.kind !== "entry" && m.pnl !== null) text += " · PnL " + (m.pnl >= 0 ? "+" : "") + fmt(m.pnl);
      lines.push(text);
    });
    if (trades.length > 6) lines.push("… and " + (trades.length - 6) + " more trades in this candle");
    tip.textContent = "";
    lines.forEach(function (line, k) {
      var row = document.createElement("div");
      if (k > 0) row.className = "chart-tooltip-trade";
      row.textContent = line; // text, never HTML
      tip.appendChild(row);
    });
    tip.hidden = lines.length === 0;
    var width = this.el.clientWidth;
    tip.style.left = Math.min(Math.max(8, param.point.x + 14), Math.max(8, width - tip.offsetWidth - 8)) + "px";
    tip.style.top = "8px";
  };

  // Zoomed in so far that fewer than ZOOM_BARS candles show: fetch the window's finer ones
  // (once per window: panning inside what was fetched asks for nothing).
  var ZOOM_BARS = 1000;
  var TIMEFRAMES = { "1s": 1, "5s": 5, "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400 };
  PriceChart.prototype.zoomed = function (range) {
    var self = this;
    if (this.restoring || !range || !this.interval || !this.bars.length) return;
    clearTimeout(this.zoomTimer);
    this.zoomTimer = setTimeout(function () {
      var from = Number(range.from), to = Number(range.to);
      var span = to - from;
      self.el.dataset.visibleBars = String(self.barsBetween(from, to));
      if (span <= 0) return;
      if (self.fine && from >= self.fine.lo && to <= self.fine.hi) return;
      var smallest = self.smallestInterval(from, to) || self.interval;
      if (span / smallest >= ZOOM_BARS || smallest <= self.tfSeconds) return;
      var lo = Math.max(0, Math.floor(from - span / 2)), hi = Math.ceil(to + span / 2);
      getJSON(withQuery(self.url, { from: lo, to: hi, max_points: 2000 })).then(function (answer) {
        if (!answer.candles.length || answer.interval >= smallest) return;
        self.fine = { lo: answer.from, hi: answer.to };
        self.splice(answer, from, to);
      }).catch(function (error) { self.el.dataset.error = String(error); });
    }, 300);
  };

  PriceChart.prototype.barsBetween = function (from, to) {
    var n = 0;
    for (var i = 0; i < this.bars.length; i++) if (this.bars[i].time >= from && this.bars[i].time <= to) n++;
    return n;
  };

  PriceChart.prototype.smallestInterval = function (from, to) {
    var best = null;
    for (var i = 1; i < this.bars.length; i++) {
      if (this.bars[i].time < from || this.bars[i - 1].time > to) continue;
      var gap = this.bars[i].time - this.bars[i - 1].time;
      if (best === null || gap < best) best = gap;
    }
    return best;
  };

  PriceChart.prototype.splice = function (answer, from, to) {
    var lo = answer.from, hi = answer.to;
    var keep = function (b) { return b.time < lo || b.time >= hi; };
    var fine = answer.candles.map(function (c) { return { time: c[0], open: c[1], high: c[2], low: c[3], close: c[4] }; });
    var fineVol = answer.candles.map(function (c) { return { time: c[0], value: c[5] }; });
    var byTime = function (a, b) { return a.time - b.time; };
    // A coarse candle that straddles the window's start would overlap the first fine one.
    var firstFine = fine.length ? fine[0].time : hi;
    this.bars = this.bars.filter(function (b) { return keep(b) && !(b.time < lo && b.time >= firstFine - 1); }).concat(fine).sort(byTime);
    var times = new Set(this.bars.map(function (b) { return b.time; }));
    this.volumes = this.volumes.filter(function (v) { return keep(v) && times.has(v.time); }).concat(fineVol).sort(byTime);
    this.restoring = true;
    this.candles.setData(this.bars);
    this.volume.setData(this.volumes);
    var self = this;
    answer.markers.forEach(function (m) { self.trades.set(m.trade_id + ":" + m.kind, m); });
    this.drawMarkers();
    this.chart.timeScale().setVisibleRange({ from: from, to: to });
    this.el.dataset.candles = String(this.bars.length);
    this.el.dataset.zoomInterval = String(answer.interval);
    setTimeout(function () { self.restoring = false; }, 50);
  };

  // The page's poll came back: ask for what follows the last candle, at the same size.
  PriceChart.prototype.refresh = function () {
    var self = this;
    if (!this.live || this.busy) return;
    var last = this.bars.length ? this.bars[this.bars.length - 1].time : null;
    var from = last === null ? null : last - (last % this.interval);
    this.busy = true;
    getJSON(withQuery(this.url, { from: from, interval: this.interval })).then(function (answer) {
      self.live = answer.live;
      self.take(answer, false);
      if (self.onAnswer) self.onAnswer(answer, false);
    }).catch(function () {}).then(function () { self.busy = false; });
  };

  // --- the equity chart ----------------------------------------------------------------------

  function EquityChart(el) {
    var self = this;
    this.el = el;
    this.base = Number(el.dataset.initial || 0);
    this.points = [];
    this.chart = makeChart(el, function (p) { self.theme(p); });
    this.line = this.chart.addSeries(LWC.BaselineSeries, { baseValue: { type: "price", price: this.base }, lineWidth: 2 });
    this.drawdown = this.chart.addSeries(
      LWC.AreaSeries,
      { lineWidth: 1, invertFilledArea: true, priceFormat: { type: "percent" }, lastValueVisible: false },
      1
    );
    var panes = this.chart.panes();
    if (panes[1] && panes[1].setHeight) panes[1].setHeight(Math.round(el.clientHeight * 0.28) || 70);
    this.theme(palette());
  }

  EquityChart.prototype.theme = function (p) {
    this.line.applyOptions({
      topLineColor: p.pos, topFillColor1: rgba(p.pos, 0.22), topFillColor2: rgba(p.pos, 0.02),
      bottomLineColor: p.neg, bottomFillColor1: rgba(p.neg, 0.02), bottomFillColor2: rgba(p.neg, 0.22),
    });
    this.drawdown.applyOptions({ lineColor: p.neg, topColor: rgba(p.neg, 0.05), bottomColor: rgba(p.neg, 0.3) });
  };

  EquityChart.prototype.take = function (equity, replace) {
    var last = replace || !this.points.length ? -Infinity : this.points[this.points.length - 1][0];
    if (replace) this.points = [];
    for (var i = 0; i < equity.length; i++) {
      if (equity[i][0] > last) {
        this.points.push(equity[i]);
        last = equity[i][0];
      }
    }
    var peak = -Infinity;
    var curve = [], drawdown = [];
    this.points.forEach(function (pt) {
      peak = Math.max(peak, pt[1]);
      curve.push({ time: pt[0], value: pt[1] });
      drawdown.push({ time: pt[0], value: peak > 0 ? (pt[1] / peak - 1) * 100 : 0 });
    });
    if (!this.base && curve.length) this.line.applyOptions({ baseValue: { type: "price", price: curve[0].value } });
    this.line.setData(curve);
    this.drawdown.setData(drawdown);
    if (replace) fit(this.chart);
    this.el.dataset.points = String(curve.length);
    this.el.dataset.ready = "true";
  };

  // The equity point at or before a time (the curve's own times differ from the candles').
  EquityChart.prototype.pointAt = function (t) {
    var pts = this.points, lo = 0, hi = pts.length - 1;
    if (!pts.length || t < pts[0][0]) return null;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (pts[mid][0] <= t) lo = mid; else hi = mid - 1;
    }
    return pts[lo];
  };

  // The price chart's crosshair shows on the equity curve at the same moment.
  function followCrosshair(price, equity) {
    price.chart.subscribeCrosshairMove(function (param) {
      var point = param && param.time !== undefined ? equity.pointAt(Number(param.time)) : null;
      if (point) equity.chart.setCrosshairPosition(point[1], point[0], equity.line);
      else equity.chart.clearCrosshairPosition();
    });
  }

  // --- compare -------------------------------------------------------------------------------

  function compareChart(el) {
    var source = document.getElementById(el.dataset.series);
    if (!source) return;
    var series = JSON.parse(source.textContent);
    var asReturn = el.dataset.asReturn === "true";
    var chart = makeChart(el);
    var drawn = 0;
    series.forEach(function (item) {
      var points = [], last = -Infinity, first = null;
      item.points.forEach(function (pt) {
        if (pt[0] <= last) return;
        last = pt[0];
        if (first === null) first = pt[1];
        points.push({ time: pt[0], value: asReturn ? (first ? (pt[1] / first - 1) * 100 : 0) : pt[1] });
      });
      var line = chart.addSeries(LWC.LineSeries, {
        color: item.colour, lineWidth: 2, title: "", priceFormat: asReturn ? { type: "percent" } : { type: "price", precision: item.precision, minMove: Math.pow(10, -item.precision) },
      });
      line.setData(points);
      if (points.length) drawn++;
    });
    fit(chart);
    el.dataset.series = String(drawn);
    el.dataset.ready = "true";
  }

  // --- wiring --------------------------------------------------------------------------------

  function start(root) {
    if (!LWC) return;
    root.querySelectorAll("[data-chart]:not([data-drawn])").forEach(function (el) { el.dataset.drawn = "true"; });
    var equityEl = root.querySelector('[data-chart="equity"][data-drawn]');
    var equity = equityEl ? new EquityChart(equityEl) : null;
    root.querySelectorAll('[data-chart="price"][data-drawn]').forEach(function (el, k) {
      var chart = new PriceChart(el, k === 0 && equity ? function (answer, replace) { equity.take(answer.equity, replace); } : null);
      if (k === 0 && equity) followCrosshair(chart, equity);
      chart.load().then(function (answer) {
        if (answer.live) live.push(chart);
        var note = el.parentElement.querySelector("[data-chart-note]");
        if (note) note.hidden = answer.candles.length > 0;
      }).catch(function () {
        var note = el.parentElement.querySelector("[data-chart-note]");
        if (note) { note.hidden = false; note.textContent = "The chart could not be loaded."; }
      });
    });
    root.querySelectorAll('[data-chart="compare"][data-drawn]').forEach(compareChart);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart-nojs]").forEach(function (el) { el.hidden = true; });
    start(document);
  });
  // The detail view's live part is swapped every 2 s while the session runs: charts follow.
  document.addEventListener("htmx:load", function (event) {
    if (event.target && event.target.id === "detail-live") {
      live.forEach(function (chart) { chart.refresh(); });
    }
  });
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", applyTheme);
  }
})();

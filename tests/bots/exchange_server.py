"""A local HTTP server that answers like Binance and BitMEX from recorded responses (candles,
instruments, exchange info, funding rates)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures"


def _ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


class _Handler(BaseHTTPRequestHandler):
    server: RecordedExchangeServer

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.server.requests.append((url.path, query))
        if self.server.fail_next:
            status, self.server.fail_next = self.server.fail_next, 0
            return self._send(status, {"error": {"message": "Service unavailable", "name": "HTTPError"}})
        if url.path == "/api/v3/klines":
            return self._binance(query)
        if url.path == "/api/v1/trade/bucketed":
            return self._bitmex(query)
        if url.path == "/api/v3/exchangeInfo":
            return self._send(200, json.loads((FIXTURES / "binance_exchange_info.json").read_text()))
        if url.path == "/api/v1/instrument":
            return self._bitmex_instruments(query)
        if url.path == "/api/v1/funding":
            return self._bitmex_funding(query)
        if url.path == "/fapi/v1/fundingRate":
            return self._binance_funding(query)
        return self._send(404, {"error": "not found"})

    def _bitmex_instruments(self, q):
        rows = json.loads((FIXTURES / "bitmex_instrument.json").read_text())
        wanted = json.loads(q.get("filter", "{}"))
        rows = [r for r in rows if all(r.get(k) == v for k, v in wanted.items())]
        start, count = int(q.get("start", 0)), min(int(q.get("count", 100)), 500)
        return self._send(200, rows[start : start + count])

    def _binance(self, q):
        path = FIXTURES / f"binance_klines_{q.get('symbol')}_{q.get('interval')}.json"
        if not path.is_file():
            return self._send(400, {"code": -1121, "msg": "Invalid symbol."})
        rows = json.loads(path.read_text())
        start = int(q.get("startTime", 0))
        end = int(q.get("endTime", 2**62))
        limit = min(int(q.get("limit", 500)), 1000)
        return self._send(200, [r for r in rows if start <= r[0] <= end][:limit])

    def _bitmex(self, q):
        path = FIXTURES / f"bitmex_trade_bucketed_{q.get('symbol')}_{q.get('binSize')}.json"
        if not path.is_file():
            return self._send(200, [])  # BitMEX answers an unknown symbol with nothing
        rows = json.loads(path.read_text())
        start = _ms(q["startTime"]) if "startTime" in q else 0
        end = _ms(q["endTime"]) if "endTime" in q else 2**62
        count = min(int(q.get("count", 100)), 1000)
        return self._send(200, [r for r in rows if start <= _ms(r["timestamp"]) <= end][:count])

    def _bitmex_funding(self, q):
        path = FIXTURES / f"bitmex_funding_{q.get('symbol')}.json"
        rows = json.loads(path.read_text()) if path.is_file() else []
        start = _ms(q["startTime"]) if "startTime" in q else 0
        end = _ms(q["endTime"]) if "endTime" in q else 2**62
        count = min(int(q.get("count", 100)), 500)
        return self._send(200, [r for r in rows if start <= _ms(r["timestamp"]) <= end][:count])

    def _binance_funding(self, q):
        path = FIXTURES / f"binance_funding_{q.get('symbol')}.json"
        if not path.is_file():
            return self._send(400, {"code": -1121, "msg": "Invalid symbol."})
        rows = json.loads(path.read_text())
        start = int(q.get("startTime", 0))
        end = int(q.get("endTime", 2**62))
        limit = min(int(q.get("limit", 100)), 1000)
        return self._send(200, [r for r in rows if start <= r["fundingTime"] <= end][:limit])


class RecordedExchangeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, dict]] = []
        self.fail_next = 0
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()

import json
import sys
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bots import runner as engine
from bots.markets import default_balance
from bots.strategies.base import ParamsError
from strategies_app.market_data import candles_load
from strategies_app.models import Market, Strategy
from strategies_app.services import strategy_params_validate


def _date(text: str) -> int:
    try:
        return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise CommandError(f"Not a date: {text!r} (use YYYY-MM-DD)") from None


class TerminalSink(engine.NullSink):
    """Progress bar on stderr; nothing recorded."""

    def __init__(self):
        self.last = 0.0

    def on_progress(self, done, total):
        now = time.monotonic()
        if total and (now - self.last > 0.1 or done == total):
            self.last = now
            filled = int(30 * done / total)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,} candles")
            if done == total:
                sys.stderr.write("\n")


class Command(BaseCommand):
    help = "Run one backtest in the terminal (no session is recorded) and print its metrics."

    def add_arguments(self, parser):
        parser.add_argument("--strategy", default="SmaCross")
        parser.add_argument("--market", default="XBTUSD")
        parser.add_argument("--exchange", default=None)
        parser.add_argument("--timeframe", default="1m")
        parser.add_argument("--start", required=True, help="YYYY-MM-DD (UTC)")
        parser.add_argument("--end", required=True, help="YYYY-MM-DD (UTC, exclusive)")
        parser.add_argument("--params", default="{}", help='JSON, e.g. {"n1": 10, "n2": 20}')
        parser.add_argument("--fee-bps", type=float, default=7.5)
        parser.add_argument("--slippage-bps", type=float, default=0.0)
        parser.add_argument("--balance", type=float, default=None)

    def handle(self, *args, **o):
        exchange = o["exchange"] or settings.DEFAULT_EXCHANGE
        strategy = Strategy.objects.filter(pk=o["strategy"]).first()
        if strategy is None:
            raise CommandError(f"Unknown strategy {o['strategy']!r}")
        try:
            params = strategy_params_validate(strategy=strategy, params=json.loads(o["params"]))
        except (ValueError, ParamsError) as exc:
            raise CommandError(f"--params: {exc}") from None
        symbols = o["market"].split("+")
        markets = {m.symbol: m for m in Market.objects.filter(exchange=exchange, symbol__in=symbols)}
        if len(markets) != len(symbols):
            raise CommandError(f"Unknown market {o['market']} on {exchange}")
        specs = [markets[s].spec() for s in symbols]
        start, end = _date(o["start"]), _date(o["end"])
        balance = o["balance"] or default_balance(specs[0].settle)
        config = engine.RunConfig(
            strategy=strategy.id,
            params=params,
            markets=specs,
            exchange=exchange,
            timeframe=o["timeframe"],
            range_start=start,
            range_end=end,
            initial_balance=balance,
            fee_bps=o["fee_bps"],
            slippage_bps=o["slippage_bps"],
            strategy_packages=tuple(settings.STRATEGY_PACKAGES),
        )
        began = time.perf_counter()
        candles = candles_load(
            exchange=exchange,
            symbols=[m.symbol for m in specs],
            timeframe=o["timeframe"],
            start=start,
            end=end,
        )
        result = engine.run_backtest(config, candles, TerminalSink())
        elapsed = time.perf_counter() - began
        for key, value in result.metrics.items():
            if not isinstance(value, (list, dict)):
                self.stdout.write(f"{key:>16}: {value}")
        self.stdout.write(f"{'candles':>16}: {result.candles:,} in {elapsed:.2f} s")

import sys
from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bots.candles import TIMEFRAMES
from bots.data import download
from bots.exchanges.base import Capability, Exchange
from bots.exchanges.registry import exchange_class, exchange_names
from strategies_app.market_data import exchange_get, funding_download
from strategies_app.models import Market

DOWNLOADABLE = exchange_names(Capability.DOWNLOAD)
WITH_FUNDING = exchange_names(Capability.FUNDING_HISTORY)


def _date(text: str) -> int:
    try:
        return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise CommandError(f"Not a date: {text!r} (use YYYY-MM-DD)") from None


def _instead(source: type[Exchange]) -> str:
    """Where the candles of an exchange without downloadable history come from."""
    if source.can(Capability.GENERATED):
        return "its candles are computed on demand"
    if source.can(Capability.IMPORTED):
        return "its candles are imported: manage.py import_candles"
    return "it publishes none"


class Command(BaseCommand):
    help = (
        "Download candle history from an exchange (public data, through ccxt/REST) into the "
        "archive, and with --funding the market's funding rates beside them. Resumable: run it "
        "again after an interruption and it goes on where it stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--exchange",
            required=True,
            choices=exchange_names(),
            help=f"One with downloadable history: {', '.join(DOWNLOADABLE)}.",
        )
        parser.add_argument("--market", required=True)
        parser.add_argument("--timeframe", default="1m", choices=list(TIMEFRAMES))
        parser.add_argument("--start", required=True, help="YYYY-MM-DD (UTC)")
        parser.add_argument("--end", required=True, help="YYYY-MM-DD (UTC, exclusive)")
        parser.add_argument(
            "--funding",
            action="store_true",
            help=f"Also the funding rates of the range (a perpetual on {', '.join(WITH_FUNDING)}).",
        )

    def handle(self, *args, exchange, market, timeframe, start, end, funding=False, **options):
        source = exchange_class(exchange)
        if not source.can(Capability.DOWNLOAD):
            raise CommandError(
                f"{exchange} has no history to download ({_instead(source)}); "
                f"exchanges that have: {', '.join(DOWNLOADABLE)}."
            )
        if not Market.objects.filter(exchange=exchange, symbol=market).exists():
            raise CommandError(f"Unknown market {market} on {exchange}")
        begin, finish = _date(start), _date(end)
        if finish <= begin:
            raise CommandError("--end must be after --start")
        if funding and not source.can(Capability.FUNDING_HISTORY):
            raise CommandError(
                f"{exchange} publishes no funding rates to download; exchanges that do: "
                f"{', '.join(WITH_FUNDING)}."
            )

        def progress(done, total):
            sys.stderr.write(f"\r{done:,}/{total:,} candles")

        try:
            added = download(
                exchange_get(exchange),
                market,
                timeframe,
                begin,
                finish,
                str(settings.DATA_ROOT),
                exchange_name=exchange,
                progress=progress,
            )
        except Exception as exc:  # network or exchange refusal: say it plainly
            raise CommandError(f"Download stopped: {exc}. Run the command again to resume.") from None
        sys.stderr.write("\n")
        self.stdout.write(self.style.SUCCESS(f"{added:,} new {timeframe} candles of {market} on {exchange}."))
        if funding:
            self._funding(exchange, market, begin, finish)

    def _funding(self, exchange: str, market: str, begin: int, finish: int) -> None:
        try:
            added = funding_download(exchange=exchange, symbol=market, start=begin, end=finish)
        except Exception as exc:  # network or exchange refusal: the candles are kept
            raise CommandError(f"Funding download stopped: {exc}. Run the command again to resume.") from None
        self.stdout.write(self.style.SUCCESS(f"{added:,} new funding rates of {market} on {exchange}."))

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bots import archive
from bots.candles import TIMEFRAMES
from bots.csv_import import CsvError, parse_csv
from bots.exchanges.base import Capability
from bots.exchanges.registry import exchange_names
from strategies_app.services import market_create

# The (first) exchange that exists to hold imported candles, local: the default target.
IMPORTED = exchange_names(Capability.IMPORTED)[0]


class Command(BaseCommand):
    help = (
        "Import candles from a CSV (time, open, high, low, close, volume) into the archive; "
        "creates the market if needed. A malformed file is rejected whole, naming the line."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--exchange",
            default=IMPORTED,
            choices=exchange_names(),
            help=f"Whose archive the candles join (default: {IMPORTED}, imported data).",
        )
        parser.add_argument("--market", required=True, help="Symbol, e.g. GOOG or XBTUSD")
        parser.add_argument("--timeframe", required=True, choices=list(TIMEFRAMES))
        parser.add_argument("--contract", default="linear", choices=["linear", "inverse"])
        parser.add_argument("--settle", help="Settle currency (default: quote; base for inverse)")

    def handle(self, *args, file, exchange, market, timeframe, contract, settle, **options):
        try:
            candles = parse_csv(file)
        except FileNotFoundError:
            raise CommandError(f"No such file: {file}") from None
        except CsvError as exc:
            raise CommandError(f"{file}: {exc} Nothing was imported.") from None
        if len(candles) == 0:
            raise CommandError(f"{file}: no candles found. Nothing was imported.")
        try:
            added = archive.write(str(settings.DATA_ROOT), exchange, market, timeframe, candles)
        except ValueError as exc:
            raise CommandError(f"{file}: {exc} Nothing was imported.") from None
        created = market_create(exchange=exchange, symbol=market, contract_type=contract, settle=settle)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {len(candles):,} {timeframe} candles of {market} on {exchange} "
                f"({added:,} new) into {archive.market_dir(str(settings.DATA_ROOT), exchange, market)}; "
                f"market {created.symbol} settles in {created.settle}."
            )
        )

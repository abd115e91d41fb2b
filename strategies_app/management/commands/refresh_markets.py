from django.core.management.base import BaseCommand, CommandError

from bots.exchanges.base import Capability, ExchangeError
from bots.exchanges.registry import exchange_names
from strategies_app.services import markets_refresh

# The exchanges that publish market metadata (sim and local imports have none).
WITH_METADATA = exchange_names(Capability.MARKET_METADATA)


class Command(BaseCommand):
    help = (
        "Refresh the markets table from the exchanges' own metadata: contract type (linear, "
        "inverse, quanto with its multiplier), settle currency, tick size, active."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "exchanges", nargs="*", help=f"Exchanges to refresh (default: {', '.join(WITH_METADATA)})."
        )
        parser.add_argument(
            "--all",
            action="store_true",
            dest="all_markets",
            help="Also create rows for every market the exchange lists, not only the engine's.",
        )

    def handle(self, *args, exchanges=(), all_markets=False, **options):
        for exchange in exchanges or WITH_METADATA:
            try:
                result = markets_refresh(exchange=exchange, all_markets=all_markets)
            except (ValueError, ExchangeError) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"{exchange}: {len(result.created)} created, {len(result.updated)} updated, "
                f"{len(result.unchanged)} unchanged, {len(result.deactivated)} deactivated"
                + (f" ({', '.join(result.updated)} changed)" if result.updated else "")
            )

from django.core.management.base import BaseCommand

from strategies_app.services import markets_seed, strategies_sync


class Command(BaseCommand):
    help = "Sync the strategy registry (built-in and STRATEGY_PACKAGES) into the strategies table."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Also overwrite default_params and param_schema edited in the admin.",
        )

    def handle(self, *args, reset=False, **options):
        synced = strategies_sync(reset=reset)
        created = markets_seed()
        self.stdout.write(f"Synced {len(synced)} strategies: {', '.join(synced)}; {created} new markets.")

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sessions_app import services
from sessions_app.errors import InvalidInput


class Command(BaseCommand):
    help = (
        "Import a trades file of the old system (a JSON list of trades, the old system's camelCase or "
        "our API's snake_case) as one completed session with one run. The same file imported "
        "again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help='JSON: a list of trades, or {"trades": [...]}')
        parser.add_argument("--type", required=True, help="test or backtest")
        parser.add_argument("--market", required=True, help="e.g. XBTUSD")
        parser.add_argument("--name", default=None, help='default: generated, e.g. "BTC Test #3 (imported)"')
        parser.add_argument("--exchange", default=None, help="default: settings.DEFAULT_EXCHANGE")
        parser.add_argument("--strategy", default="TestBot")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from None
        try:
            session, created = services.legacy_trades_import(
                content=content,
                filename=path.name,
                session_type=options["type"],
                market=options["market"],
                name=options["name"],
                exchange=options["exchange"],
                strategy=options["strategy"],
            )
        except InvalidInput as exc:
            problems = [f"{field}: {messages[0]}" for field, messages in exc.errors.items()]
            details = "".join(f"\n  {line}" for line in problems[1:]) if len(problems) > 1 else ""
            raise CommandError(f"{path}: {exc.message}{details}") from None
        if not created:
            self.stdout.write(f"{path} was imported already as session {session.pk}; nothing changed.")
            return
        currency = session.runs.get().metrics.get("currency", "")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {session.trade_count} trades from {path} as session {session.pk} "
                f"({session.name}); total PnL {session.total_pnl.normalize():f} {currency}".rstrip()
            )
        )

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sessions_app import services
from sessions_app.errors import ServiceError
from sessions_app.models import Trade


class Command(BaseCommand):
    help = (
        "Bring a session archived by cleanup_sessions back whole (same id, runs, trades, events, "
        "log); a session that exists already is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="an archive: DIR/sessions/YYYY/MM/<session_id>.json.gz")

    def handle(self, *args, **options):
        try:
            session = services.session_restore(path=Path(options["file"]))
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        runs = session.runs.count()
        trades = Trade.objects.filter(run__session=session).count()
        events = session.events.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored session {session.pk} ({session.name}): {runs} runs, {trades} trades, {events} events"
            )
        )

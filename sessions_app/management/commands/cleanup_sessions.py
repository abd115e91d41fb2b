import argparse
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sessions_app import services
from sessions_app.errors import InvalidInput

# The service names its inputs; the user typed options.
OPTIONS = {"older_than": "--older-than", "status": "--status", "archive": "--archive"}


def _days(value: str) -> int:
    if not value.strip().isdecimal():
        raise argparse.ArgumentTypeError(f"must be a whole number of days, 0 or more (got {value!r})")
    return int(value)


class Command(BaseCommand):
    help = (
        "Archive finished sessions (completed, stopped, failed) whose stopped_at is older than "
        "DAYS to DIR/sessions/YYYY/MM/<id>.json.gz, check each file reads back as written, then "
        "delete the session. Running and created sessions are never touched."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=_days, required=True, metavar="DAYS", dest="older_than")
        parser.add_argument(
            "--status", default=None, help="comma-separated: completed,stopped,failed (default: all three)"
        )
        parser.add_argument("--archive", default=None, metavar="DIR", help="default: DATA_ROOT/cold")
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be archived; change nothing"
        )

    def handle(self, *args, **options):
        statuses = None
        if options["status"] is not None:
            statuses = [s.strip() for s in options["status"].split(",") if s.strip()]
        try:
            result = services.sessions_cleanup(
                older_than_days=options["older_than"],
                statuses=statuses,
                archive_dir=Path(options["archive"]) if options["archive"] else None,
                dry_run=options["dry_run"],
            )
        except InvalidInput as exc:
            field, messages = next(iter(exc.errors.items()), (None, [exc.message]))
            raise CommandError(f"{OPTIONS.get(field, field)}: {messages[0]}") from None

        if result.dry_run:
            for entry in result.archived:
                self.stdout.write(
                    f"{entry.session_id}  {entry.name}  {entry.status}  stopped {entry.stopped_at.isoformat()}  "
                    f"{entry.trades} trades  -> {entry.path}"
                )
            self.stdout.write(
                f"Dry run: {result.sessions} sessions would be archived and deleted "
                f"({result.trades} trades); nothing changed."
            )
            return
        if options["verbosity"] > 1:
            for entry in result.archived:
                self.stdout.write(f"{entry.session_id}  {entry.name}  -> {entry.path}")
        for session_id, reason in result.skipped:
            self.stdout.write(f"Skipped {session_id}: {reason}.")
        self.stdout.write(
            self.style.SUCCESS(f"{result.sessions} sessions archived and deleted ({result.trades} trades)")
        )
        if result.failed:
            details = "".join(f"\n  {session_id}: {reason}" for session_id, reason in result.failed)
            raise CommandError(
                f"{len(result.failed)} sessions could not be archived; nothing of them was deleted:{details}"
            )

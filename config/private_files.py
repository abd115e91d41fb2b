"""Files the product writes are its user's alone: 0600 files in 0700 folders.

The SQLite file holds API tokens (they never expire) and login sessions; DATA_ROOT holds every
session's log and trades. Each process the product starts calls `files_private()` first:
manage.py, config/wsgi.py and config/asgi.py (the web server's workers), and the Celery worker
and beat (config/celery.py, as they start). It sets a umask of 0o077 for everything the
process creates from then on, and tightens what an older version left readable to others:
VAR_DIR and DATA_ROOT themselves (0700 keeps other users out of everything beneath, so a start
never walks DATA_ROOT's files), the SQLite file and its -wal/-shm (0600).

Not at the import of config.settings: the test suite imports the settings in its own process,
where a umask set behind its back would change what every test creates (tests that mean one
set it themselves). Processes the tests start as the product does get it, like production.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PRIVATE_UMASK = 0o077
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")

logger = logging.getLogger(__name__)


def files_private() -> None:
    """The umask for this process, then VAR_DIR, DATA_ROOT and the SQLite files made private."""
    os.umask(PRIVATE_UMASK)
    try:
        folders = [Path(settings.VAR_DIR), Path(settings.DATA_ROOT)]
        database = settings.DATABASES["default"]
    except ImproperlyConfigured:
        return  # the command or the server reports it, naming the variable, as it starts
    for folder in folders:
        _tighten(folder)
    name = str(database.get("NAME") or "")
    if database["ENGINE"].endswith("sqlite3") and name and not name.startswith(("file:", ":memory:")):
        for suffix in SQLITE_COMPANIONS:
            _tighten(Path(name + suffix))


def _tighten(path: Path) -> None:
    """Group and other bits off, when there are any and the path is ours."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return
    mode = stat.S_IMODE(status.st_mode)
    if not mode & 0o077 or status.st_uid != os.geteuid():
        return
    try:
        path.chmod(mode & ~0o077)
    except OSError as exc:
        logger.warning("%s is readable to other users and could not be made private: %s", path, exc)

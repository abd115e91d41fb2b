import os

from celery import Celery, signals

import config.broker  # noqa: F401  (filesystem:// writes each message whole: see config.broker)
from config.private_files import files_private

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Sent by `celery worker` (before its pool starts: every child and task inherits the umask)
# and `celery beat` as they start, never by a worker started inside another program (the
# test suite's in-process worker), whose process keeps its own umask.
@signals.celeryd_init.connect
@signals.beat_init.connect
def _files_private(**_kwargs) -> None:
    files_private()

import os

from celery import Celery

import config.broker  # noqa: F401  (filesystem:// writes each message whole: see config.broker)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

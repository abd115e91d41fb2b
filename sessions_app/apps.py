from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

from sessions_app.fulltext import fulltext_ensure


def _fulltext_ensure(using: str, **kwargs) -> None:
    fulltext_ensure(connections[using])


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Trading sessions"

    def ready(self):
        post_migrate.connect(_fulltext_ensure, sender=self, dispatch_uid="sessions_app.fulltext_ensure")

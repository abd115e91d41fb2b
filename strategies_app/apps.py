from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StrategiesAppConfig(AppConfig):
    name = "strategies_app"
    verbose_name = "Strategies and markets"

    def ready(self):
        post_migrate.connect(_sync_after_migrate, sender=self)


def _sync_after_migrate(sender, using, **kwargs):
    """`migrate` leaves the registry's strategies and the built-in markets in the tables, so a fresh
    installation can create sessions at once."""
    from strategies_app.services import markets_seed, strategies_sync

    strategies_sync(using=using)
    markets_seed(using=using)

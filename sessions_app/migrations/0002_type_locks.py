from django.db import migrations


def create_locks(apps, schema_editor):
    TypeLock = apps.get_model("sessions_app", "TypeLock")
    for session_type in ("test", "backtest", "scraper"):
        TypeLock.objects.get_or_create(type=session_type)


class Migration(migrations.Migration):
    """The lock rows exist before any start: creating them under concurrent starts deadlocks."""

    dependencies = [("sessions_app", "0001_initial")]
    operations = [migrations.RunPython(create_locks, migrations.RunPython.noop)]

from django.db import migrations

# (table, column, referenced table, rule) as the original schema states them, plus runs and trades.
RULES = [
    ("sessions", "cloned_from", "sessions", "SET NULL"),
    ("session_events", "session_id", "sessions", "CASCADE"),
    ("runs", "session_id", "sessions", "CASCADE"),
    ("trades", "run_id", "runs", "CASCADE"),
]


def db_on_delete(apps, schema_editor):
    """Django enforces on_delete in Python; the original schema also has it in the tables, so rows
    deleted by hand (or by a bulk cleanup) behave the same. MySQL/MariaDB only: SQLite would
    need every table rebuilt for it, and Django's Python-side rule holds there."""
    if schema_editor.connection.vendor != "mysql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, column, target, rule in RULES:
            cursor.execute(
                "SELECT CONSTRAINT_NAME FROM information_schema.KEY_COLUMN_USAGE "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s "
                "AND REFERENCED_TABLE_NAME = %s",
                [table, column, target],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE `{table}` DROP FOREIGN KEY `{name}`")
                cursor.execute(
                    f"ALTER TABLE `{table}` ADD CONSTRAINT `{name}` FOREIGN KEY (`{column}`) "
                    f"REFERENCES `{target}` (`id`) ON DELETE {rule}"
                )


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0002_type_locks")]
    operations = [migrations.RunPython(db_on_delete, migrations.RunPython.noop)]

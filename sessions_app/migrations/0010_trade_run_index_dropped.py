"""trades.run_id loses its single-column index: idx_trade_run_time_id starts with run_id, so
it serves the foreign key (InnoDB accepts it as the constraint's index) and every lookup by
run, and every insert of a sweep's millions of trades keeps one index less.

Only the index is dropped (by name, when it is there): the schema editor's AlterField would
rebuild the whole table on SQLite and re-add the constraint (a table copy) on MariaDB."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "trades_run_id_839490a1"


def index_drop(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "trades")
    if INDEX in indexes:
        schema_editor.execute(
            f"DROP INDEX {schema_editor.quote_name(INDEX)} ON trades"
            if connection.vendor == "mysql"
            else f"DROP INDEX {schema_editor.quote_name(INDEX)}"
        )


def index_create(apps, schema_editor):
    schema_editor.execute(f"CREATE INDEX {schema_editor.quote_name(INDEX)} ON trades (run_id)")


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0009_run_checkpoint"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="trade",
                    name="run",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="trades",
                        to="sessions_app.run",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(index_drop, index_create)],
        ),
    ]

"""The full-text index `q` searches (selectors.search), made and kept by the database itself.

- MariaDB/MySQL: an InnoDB FULLTEXT index on sessions (name, notes), built without the stopword
  list (so "the", "for"... are searchable words too). InnoDB keeps it on every write.
- SQLite: the FTS5 table `sessions_fts` (rowid = the session row's rowid, the session id
  beside it), which triggers on `sessions` keep in step with every INSERT, UPDATE and DELETE,
  whoever writes: the services, the admin, bulk loads, restores, migrations.

SQLite's ALTER TABLE cannot do everything Django's migrations ask, so Django sometimes rebuilds
a table (copy into a new one, drop, rename): the triggers go with the old table and the rowids
may change. `fulltext_ensure`, run after every `migrate`, puts the triggers back and refills
the index when they were missing.
"""

from __future__ import annotations

SQLITE_TRIGGERS = ("sessions_fts_insert", "sessions_fts_delete", "sessions_fts_update")
SQLITE_TABLE = """
CREATE VIRTUAL TABLE IF NOT EXISTS sessions_fts
USING fts5(id UNINDEXED, name, notes, tokenize = 'unicode61 remove_diacritics 2')
"""
SQLITE_TRIGGER_SQL = (
    """
    CREATE TRIGGER IF NOT EXISTS sessions_fts_insert AFTER INSERT ON sessions BEGIN
        INSERT INTO sessions_fts (rowid, id, name, notes) VALUES (new.rowid, new.id, new.name, new.notes);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS sessions_fts_delete AFTER DELETE ON sessions BEGIN
        DELETE FROM sessions_fts WHERE rowid = old.rowid;
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS sessions_fts_update AFTER UPDATE OF id, name, notes ON sessions BEGIN
        UPDATE sessions_fts SET id = new.id, name = new.name, notes = new.notes WHERE rowid = old.rowid;
    END
    """,
)
SQLITE_REFILL = (
    "DELETE FROM sessions_fts",
    "INSERT INTO sessions_fts (rowid, id, name, notes) SELECT rowid, id, name, notes FROM sessions",
)
SQLITE_DROP = (
    *(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS),
    "DROP TABLE IF EXISTS sessions_fts",
)

MYSQL_INDEX = "ft_session_text"
MYSQL_CREATE = (
    # Read when the index is built: without it InnoDB leaves out its default stopwords.
    "SET SESSION innodb_ft_enable_stopword = OFF",
    f"ALTER TABLE sessions ADD FULLTEXT INDEX {MYSQL_INDEX} (name, notes)",
)
MYSQL_DROP = (f"ALTER TABLE sessions DROP INDEX {MYSQL_INDEX}",)


def _execute(connection, statements) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def fulltext_create(connection) -> None:
    if connection.vendor == "sqlite":
        _execute(connection, (SQLITE_TABLE, *SQLITE_TRIGGER_SQL, SQLITE_REFILL[1]))
    elif connection.vendor == "mysql":
        _execute(connection, MYSQL_CREATE)


def fulltext_drop(connection) -> None:
    if connection.vendor == "sqlite":
        _execute(connection, SQLITE_DROP)
    elif connection.vendor == "mysql":
        _execute(connection, MYSQL_DROP)


def fulltext_ensure(connection) -> bool:
    """Triggers back and the index refilled when a table rebuild lost them; True if it did."""
    if connection.vendor != "sqlite":
        return False
    tables = connection.introspection.table_names()
    if "sessions" not in tables or "sessions_fts" not in tables:
        return False  # before migration 0008 (or after it was undone): nothing to keep
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'sessions' "
            f"AND name IN ({', '.join(['%s'] * len(SQLITE_TRIGGERS))})",
            list(SQLITE_TRIGGERS),
        )
        present = {row[0] for row in cursor.fetchall()}
    if present == set(SQLITE_TRIGGERS):
        return False
    _execute(connection, (*SQLITE_TRIGGER_SQL, *SQLITE_REFILL))
    return True

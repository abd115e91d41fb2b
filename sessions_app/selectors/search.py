"""`q`: words of a session's name and notes, matched through the database's full-text index.

MariaDB reads the InnoDB FULLTEXT index `ft_session_text` on (name, notes); SQLite the FTS5
table `sessions_fts`, which triggers keep in step with `sessions` (migration 0008), so rows
written by any path are found. Every word of `q` must match, as a word or the start of one
("mom" finds "Momentum"), in any case.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

WORD = re.compile(r"\w+", re.UNICODE)
# Words of q past this many are ignored (a search box, not a document).
MAX_WORDS = 8


def search_words(q: str) -> list[str]:
    return [word.lower() for word in WORD.findall(q)][:MAX_WORDS]


def text_search(q: str) -> Q:
    """The condition "every word of q starts a word of the name or the notes"."""
    words = search_words(q)
    if not words:
        # Punctuation alone ("#") has no word to look up: the old substring test answers it.
        return Q(name__icontains=q.strip()) | Q(notes__icontains=q.strip())
    if connection.vendor == "mysql":
        expression = " ".join(f"+{word}*" for word in words)
        return Q(
            RawSQL(
                "MATCH (`sessions`.`name`, `sessions`.`notes`) AGAINST (%s IN BOOLEAN MODE)",
                [expression],
                output_field=BooleanField(),
            )
        )
    expression = " ".join(f'"{word}"*' for word in words)
    return Q(pk__in=RawSQL("SELECT id FROM sessions_fts WHERE sessions_fts MATCH %s", [expression]))

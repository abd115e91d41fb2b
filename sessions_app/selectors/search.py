"""`q`: words of a session's name and notes, matched through the database's full-text index.

MariaDB reads the InnoDB FULLTEXT index `ft_session_text` on (name, notes); SQLite the FTS5
table `sessions_fts`, which triggers keep in step with `sessions` (migration 0008), so rows
written by any path are found. Every word of `q` must match, as a word or the start of one
("mom" finds "Momentum"), in any case.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

WORD = re.compile(r"\w+", re.UNICODE)
# Words of q past this many are ignored (a search box, not a document).
MAX_WORDS = 8
# MariaDB's default innodb_ft_min_token_size: shorter words are not in the index.
INNODB_MIN_TOKEN = 3


def search_words(q: str) -> list[str]:
    return [word.lower() for word in WORD.findall(q)][:MAX_WORDS]


def text_search(q: str) -> Q:
    """The condition "every word of q starts a word of the name or the notes"."""
    words = search_words(q)
    if not words:
        # Punctuation alone ("#") has no word to look up: the old substring test answers it.
        return Q(name__icontains=q.strip()) | Q(notes__icontains=q.strip())
    if connection.vendor == "mysql":
        return _innodb_search(words)
    expression = " ".join(f'"{word}"*' for word in words)
    return Q(pk__in=RawSQL("SELECT id FROM sessions_fts WHERE sessions_fts MATCH %s", [expression]))


def _innodb_search(words: list[str]) -> Q:
    """InnoDB indexes words of innodb_ft_min_token_size (3) characters or more: shorter words
    are matched at a word start by a regular expression, on the rows the index found when
    there are longer words too."""
    indexed = [word for word in words if len(word) >= INNODB_MIN_TOKEN]
    condition = Q()
    if indexed:
        expression = " ".join(f"+{word}*" for word in indexed)
        match = "SELECT id FROM sessions WHERE MATCH (name, notes) AGAINST (%s IN BOOLEAN MODE)"
        condition &= Q(pk__in=RawSQL(match, [expression]))
    for word in words:
        if len(word) < INNODB_MIN_TOKEN:
            starts_word = rf"\b{re.escape(word)}"
            condition &= Q(name__iregex=starts_word) | Q(notes__iregex=starts_word)
    return condition

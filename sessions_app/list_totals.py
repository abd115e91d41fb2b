"""The `total` of a list without a count over the table on every request.

A list's total is counted once and kept in the cache under its query and the version of its
scope ("sessions", or "trades:<run id>"). The services that create, delete or change the status
of a row bump the version of its scope once their transaction commits, so the next read counts
again: a total is never wrong after a change made through them. Writers that bypass the
services (admin, bulk loads, migrations) are covered by a short lifetime.

Small totals are not kept at all: below CACHED_FROM rows the count is as cheap as the cache
read. The cache is best effort: when it fails, the list counts.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import QuerySet

logger = logging.getLogger(__name__)

# Totals at least this large are cached; smaller ones are counted on every read.
CACHED_FROM = 2000
# How long a cached total lives when nothing bumps its scope (writes outside the services).
LIFETIME_SECONDS = 60

SESSIONS = "sessions"


def trades_scope(run_id: int) -> str:
    return f"trades:{run_id}"


def _database() -> str:
    # One cache may serve several databases (the tests', a bench's, the product's): a total
    # belongs to its database.
    name = str(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])
    return hashlib.sha1(name.encode()).hexdigest()[:10]


def _version_key(scope: str) -> str:
    return f"list-total-version:{_database()}:{scope}"


def _new_version() -> str:
    # Random, never a counter: a version key lost by the cache (evicted, flushed) must not
    # come back as a value that old totals were stored under.
    return secrets.token_hex(6)


def _scope_version(scope: str) -> str:
    key = _version_key(scope)
    version = cache.get(key)
    if version is None:
        cache.add(key, _new_version(), timeout=None)
        version = cache.get(key)
    if version is None:
        raise LookupError("the cache keeps nothing")
    return version


def scopes_changed(scopes: Iterable[str]) -> None:
    """Totals of these scopes are stale once the current transaction commits (now outside one)."""
    scopes = tuple(scopes)

    def bump() -> None:
        try:
            cache.set_many({_version_key(scope): _new_version() for scope in scopes}, timeout=None)
        except Exception:  # the cache is best effort; cached totals expire by themselves
            logger.warning("list totals of %s not invalidated: the cache failed", scopes, exc_info=True)

    if scopes:
        transaction.on_commit(bump)


def sessions_changed() -> None:
    """Some session was created, deleted, or changed status, name, notes or configuration."""
    scopes_changed([SESSIONS])


def list_total(rows: QuerySet, *, scope: str, counter: Callable[[], int] | None = None) -> int:
    """rows.count() (or `counter()`), from the cache when it was counted since the last change."""
    count = counter or rows.count
    try:
        sql, query_params = rows.query.sql_with_params()
        digest = hashlib.sha1(repr((sql, query_params)).encode()).hexdigest()
        key = f"list-total:{_database()}:{scope}:{_scope_version(scope)}:{digest}"
        cached = cache.get(key)
    except Exception:  # EmptyResultSet, a failing cache...: count
        return count()
    if cached is not None and cached >= CACHED_FROM:  # a small total is always counted
        return cached
    total = count()
    if total >= CACHED_FROM:
        try:
            cache.set(key, total, timeout=LIFETIME_SECONDS)
        except Exception:
            logger.warning("list total not cached: the cache failed", exc_info=True)
    return total

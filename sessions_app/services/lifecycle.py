"""What a user does to a session: create, update, delete, clone, start, stop.

The HTML views, the JSON API and the old system's calls all come here; the rules are held
once. What the worker does to a running session is in `worker`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from sessions_app.data_files import stored_data_path
from sessions_app.errors import Conflict, InvalidInput, Unavailable
from sessions_app.list_totals import sessions_changed
from sessions_app.models import Run, Session, SessionType, Status, TypeLock
from sessions_app.services.accounts import ACCOUNT_FIELDS
from sessions_app.services.events import event_record
from sessions_app.services.finish import session_finish
from sessions_app.services.queueing import SESSION_RUN, task_send
from sessions_app.services.runs import config_hash, session_market_specs
from sessions_app.services.validation import (
    CONFIG_FIELDS,
    TEXT_FIELDS,
    config_clean,
    fields_refuse_unknown,
    name_generate,
    sweep_combinations,
    text_clean,
)

# --- create / update / delete / clone ---------------------------------------------------------


def session_create(*, user=None, data: Mapping[str, Any]) -> Session:
    """A new `created` session with its run(s) and a `created` event; nothing on bad input."""
    fields_refuse_unknown(data, CONFIG_FIELDS + TEXT_FIELDS)
    config = config_clean(data)
    text = text_clean(data)
    with transaction.atomic():
        session = Session(**config, created_by=user if user and user.is_authenticated else None)
        session.name = text.get("name") or name_generate(config)
        session.notes = text.get("notes")
        session.notify_url = text.get("notify_url")
        session.save()
        _runs_create(session)
        event_record(session=session, event_type="created", data={"name": session.name})
        sessions_changed()  # the lists' cached totals count it once this commits
    return session


def session_update(*, session: Session, data: Mapping[str, Any]) -> Session:
    """Name and notes always; the configuration only while the session is `created`."""
    fields_refuse_unknown(data, CONFIG_FIELDS + TEXT_FIELDS)
    config_changes = {k: v for k, v in data.items() if k in CONFIG_FIELDS}
    text = text_clean(data)
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session.pk)
        if config_changes:
            if session.status != Status.CREATED:
                raise Conflict(
                    f"Only a created session's configuration can change; this one is {session.status}.",
                    {field: ["Cannot change after the session has started."] for field in config_changes},
                )
            current = {field: getattr(session, field) for field in CONFIG_FIELDS}
            # A new type or strategy invalidates the old params/range unless given again.
            if "strategy" in config_changes and "strategy_params" not in config_changes:
                current["strategy_params"] = None
            config = config_clean({**current, **config_changes})
            for field, value in config.items():
                setattr(session, field, value)
            session.runs.all().delete()
        for field, value in text.items():
            setattr(session, field, value)
        if "name" in text and not text["name"]:
            session.name = name_generate({f: getattr(session, f) for f in CONFIG_FIELDS})
        session.save()
        if config_changes:
            _runs_create(session)
        sessions_changed()  # name, notes or configuration: what the lists filter on
    return session


def session_delete(*, session: Session) -> None:
    """Delete a session that is not running, its runs, trades, events and files."""
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session.pk)
        if session.status == Status.RUNNING:
            raise Conflict("A running session cannot be deleted; stop it first.")
        files = [session.trades_file, session.logs_file]
        session.delete()
        sessions_changed()
    for path in filter(None, files):
        _remove_data_file(path)


def session_clone(*, session: Session, user=None, data: Mapping[str, Any] | None = None) -> Session:
    """A new `created` session with the source's config; `name`, the account (leverage,
    sizing, maintenance margin, funding) and (merged) params may change."""
    data = dict(data or {})
    fields_refuse_unknown(data, ("name", "notes", "notify_url", "strategy_params", "reuse", *ACCOUNT_FIELDS))
    overrides = data.get("strategy_params")
    if overrides is not None and not isinstance(overrides, dict):
        raise InvalidInput.from_errors({"strategy_params": ["Must be an object of parameter values."]})
    config = {field: getattr(session, field) for field in CONFIG_FIELDS}
    config["strategy_params"] = {**(session.strategy_params or {}), **(overrides or {})}
    for field in ("reuse", *ACCOUNT_FIELDS):  # checked with the rest by session_create
        if field in data:
            config[field] = data[field]
    clone = session_create(
        user=user,
        data={
            **config,
            "name": data.get("name") or f"Clone of {session.name}",
            "notes": data.get("notes", session.notes),
            "notify_url": data.get("notify_url", session.notify_url),
        },
    )
    Session.objects.filter(pk=clone.pk).update(cloned_from=session)
    clone.cloned_from = session
    return clone


# --- start / stop -----------------------------------------------------------------------------


def session_start(*, session: Session) -> Session:
    """`created` -> `running` under the per-type limit, in one atomic step; the task is queued
    once the transaction commits."""
    limit = settings.SESSION_LIMITS[session.type]
    _type_lock_ensure(session.type)
    with transaction.atomic():
        # Two starts of different sessions could both count 2 running and both go: the lock
        # row of the type serialises the count-then-flip of every start of that type.
        TypeLock.objects.select_for_update().get(type=session.type)
        running = Session.objects.filter(type=session.type, status=Status.RUNNING).count()
        current = Session.objects.filter(pk=session.pk).values_list("status", flat=True).first()
        if current != Status.CREATED:
            raise Conflict(f"Only a created session can start; this one is {current}.")
        if running >= limit:
            label = SessionType(session.type).label.lower()
            raise Conflict(
                f"The limit of {limit} running {label} session{'s' if limit != 1 else ''} "
                f"(SESSION_LIMITS {session.type}={limit}) is reached; stop one first."
            )
        now = timezone.now()
        Session.objects.filter(pk=session.pk, status=Status.CREATED).update(
            status=Status.RUNNING, started_at=now, stop_requested=False, error=None
        )
        event_record(session=session, event_type="started", data={})
        sessions_changed()
        transaction.on_commit(lambda: _enqueue(session))
    session.refresh_from_db()
    return session


def session_create_and_start(*, user=None, data: Mapping[str, Any]) -> Session:
    """Create and start in one step; a start refused (e.g. by the limit) leaves no stray
    created session behind."""
    with transaction.atomic():
        return session_start(session=session_create(user=user, data=data))


def scraper_start(*, user=None, market: str, exchange: str | None = None) -> Session:
    """Start Scraping: a MarketScraper session for `market`, created and started at once."""
    return session_create_and_start(
        user=user,
        data={
            "type": SessionType.SCRAPER,
            "strategy": "MarketScraper",
            "market": market,
            "exchange": exchange,
            "name": f"{market} Scraper",
        },
    )


def _type_lock_ensure(session_type: str) -> None:
    """The type's lock row (made by a migration; again here if the table was emptied).
    Created outside the start's transaction: concurrent creations inside it deadlock."""
    if not TypeLock.objects.filter(type=session_type).exists():
        try:
            TypeLock.objects.create(type=session_type)
        except IntegrityError:
            pass  # another start created it first


def session_stop(*, session: Session) -> Session:
    """Ask a running session to stop. The runner sees the flag within a second, saves what it
    has and marks the session `stopped`; one that no worker has claimed stops at once."""
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session.pk)
        if session.status != Status.RUNNING:
            raise Conflict(f"Only a running session can stop; this one is {session.status}.")
        if session.worker:
            session.stop_requested = True
            session.save(update_fields=["stop_requested"])
        else:
            session_finish(session=session, status=Status.STOPPED)
    session.refresh_from_db()
    return session


def _enqueue(session: Session) -> None:
    """Hand the session to a worker on its type's queue (after the start has committed).

    With the broker down the start is refused (503) and the session is `created` again, so
    the user can simply start it later: never a 500, never a session stuck `running` that no
    worker will ever claim. The publish fails fast (broker timeouts in settings)."""
    try:
        task_send(SESSION_RUN, args=[session.pk], queue=session.type)
    except Exception as exc:
        # Only an unclaimed one: a message that did reach the broker may have been claimed.
        reverted = Session.objects.filter(pk=session.pk, status=Status.RUNNING, worker__isnull=True).update(
            status=Status.CREATED, started_at=None
        )
        if reverted:
            event_record(
                session=session, event_type="info", data={"start_refused": f"Broker unreachable: {exc}"}
            )
        raise Unavailable(
            "The session could not be queued: the task broker is unreachable. "
            "It is still created; start it again once the broker is back."
        ) from exc


def _runs_create(session: Session) -> None:
    """One run per parameter set: one for a plain session, the sweep's product for a sweep."""
    base = session.strategy_params or {}
    combinations = sweep_combinations(session.sweep) if session.sweep else [{}]
    markets = session_market_specs(session)
    runs = {}
    for combination in combinations:
        params = {**base, **combination}
        runs.setdefault(config_hash(session, params, markets), params)  # duplicate values: one run
    Run.objects.bulk_create(
        Run(session=session, config_hash=digest, params=params) for digest, params in runs.items()
    )


def _remove_data_file(path: str) -> None:
    """Remove a file the product wrote, but only under DATA_ROOT."""
    target = stored_data_path(path)
    if target is not None and target.is_file():
        target.unlink()

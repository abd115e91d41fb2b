"""Every state change of a session: create, update, delete, clone, start, stop.

The HTML views and the JSON API both call these; they hold the business rules once.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.runner import canonical_hash
from bots.strategies.base import ParamsError
from sessions_app.errors import Conflict, InvalidInput
from sessions_app.models import Run, Session, SessionEvent, SessionType, Status, TypeLock
from sessions_app.services.notifications import session_ended_notify
from strategies_app.models import Market, Strategy
from strategies_app.services import strategy_params_validate

TIMEFRAMES = ("1s", "5s", "1m", "5m", "15m", "1h", "4h", "1d")
CONFIG_FIELDS = (
    "type",
    "market",
    "exchange",
    "strategy",
    "strategy_params",
    "timeframe",
    "initial_balance",
    "fee_bps",
    "slippage_bps",
    "range_start",
    "range_end",
    "sweep",
)
TEXT_FIELDS = ("name", "notes", "notify_url")
# Parts of a config that make a run what it is; sha256 of their canonical JSON is its hash.
HASHED_FIELDS = (
    "strategy",
    "market",
    "exchange",
    "timeframe",
    "range_start",
    "range_end",
    "initial_balance",
    "fee_bps",
    "slippage_bps",
)
MAX_SWEEP_RUNS = 1000


# --- create / update / delete / clone ---------------------------------------------------------


def session_create(*, user=None, data: Mapping[str, Any]) -> Session:
    """A new `created` session with its run(s) and a `created` event; nothing on bad input."""
    _refuse_unknown_fields(data, CONFIG_FIELDS + TEXT_FIELDS)
    config = _clean_config(data)
    text = _clean_text(data)
    with transaction.atomic():
        session = Session(**config, created_by=user if user and user.is_authenticated else None)
        session.name = text.get("name") or _generated_name(config)
        session.notes = text.get("notes")
        session.notify_url = text.get("notify_url")
        session.save()
        _runs_create(session)
        event_record(session=session, event_type="created", data={"name": session.name})
    return session


def session_update(*, session: Session, data: Mapping[str, Any]) -> Session:
    """Name and notes always; the configuration only while the session is `created`."""
    _refuse_unknown_fields(data, CONFIG_FIELDS + TEXT_FIELDS)
    config_changes = {k: v for k, v in data.items() if k in CONFIG_FIELDS}
    text = _clean_text(data)
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
            config = _clean_config({**current, **config_changes})
            for field, value in config.items():
                setattr(session, field, value)
            session.runs.all().delete()
        for field, value in text.items():
            setattr(session, field, value)
        if "name" in text and not text["name"]:
            session.name = _generated_name({f: getattr(session, f) for f in CONFIG_FIELDS})
        session.save()
        if config_changes:
            _runs_create(session)
    return session


def session_delete(*, session: Session) -> None:
    """Delete a session that is not running, its runs, trades, events and files."""
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session.pk)
        if session.status == Status.RUNNING:
            raise Conflict("A running session cannot be deleted; stop it first.")
        files = [session.trades_file, session.logs_file]
        session.delete()
    for path in filter(None, files):
        _remove_data_file(path)


def session_clone(*, session: Session, user=None, data: Mapping[str, Any] | None = None) -> Session:
    """A new `created` session with the source's config; `name` and (merged) params may change."""
    data = dict(data or {})
    _refuse_unknown_fields(data, ("name", "notes", "notify_url", "strategy_params"))
    overrides = data.get("strategy_params")
    if overrides is not None and not isinstance(overrides, dict):
        raise InvalidInput.from_errors({"strategy_params": ["Must be an object of parameter values."]})
    config = {field: getattr(session, field) for field in CONFIG_FIELDS}
    config["strategy_params"] = {**(session.strategy_params or {}), **(overrides or {})}
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


def session_finish(
    *, session: Session, status: str, error: str | None = None, data: dict | None = None
) -> bool:
    """Move a running session to its final status (stopped/completed/failed) with an event."""
    now = timezone.now()
    fields = {"status": status, "stopped_at": now, "stop_requested": False}
    if error is not None:
        fields["error"] = error
    changed = Session.objects.filter(pk=session.pk, status=Status.RUNNING).update(**fields)
    if not changed:
        return False
    Run.objects.filter(session_id=session.pk, status__in=[Status.CREATED, Status.RUNNING]).update(
        status=status, stopped_at=now
    )
    if status == Status.FAILED:
        event_record(session=session, event_type="error", data={"error": error, **(data or {})})
    else:
        event_type = "completed" if status == Status.COMPLETED else "stopped"
        event_record(session=session, event_type=event_type, data=data or {})
    # Webhooks go out once the end is committed, from a task: never on the runner's time.
    transaction.on_commit(lambda: session_ended_notify(session_id=session.pk, status=status))
    return True


def session_claim(*, session_id: str, worker: str, pid: int) -> Session | None:
    """The worker's first step: take a running, unclaimed session. None when another message
    (a redelivery, a duplicate) or the reaper got there first: then nothing must run."""
    now = timezone.now()
    # One conditional UPDATE: of any number of concurrent claims exactly one changes the row.
    claimed = Session.objects.filter(pk=session_id, status=Status.RUNNING, worker__isnull=True).update(
        worker=worker, pid=pid, heartbeat_at=now
    )
    if not claimed:
        return None
    session = Session.objects.get(pk=session_id)
    session.runs.filter(status=Status.CREATED).update(status=Status.RUNNING, started_at=now)
    return session


def session_heartbeat(*, session_id: str, progress_done: int, progress_total: int | None) -> tuple[str, bool]:
    """The runner is alive: stamp it and checkpoint progress. Returns (status, stop_requested)
    so the runner learns in the same round trip whether to stop."""
    Session.objects.filter(pk=session_id, status=Status.RUNNING).update(
        heartbeat_at=timezone.now(), progress_done=progress_done, progress_total=progress_total
    )
    from sessions_app.selectors import session_flags

    return session_flags(session_id)


def session_results_save(
    *, session: Session, run: Run, metrics: dict, equity: list | None = None, status: str | None = None
) -> None:
    """A run's metrics (live checkpoint or final) and the session's results: its only run's,
    or for a sweep the most profitable run's."""
    fields = _result_fields(metrics)
    run_update = {**fields, "metrics": metrics}
    if equity is not None:
        run_update["equity"] = equity
    if status is not None:
        run_update.update(status=status, stopped_at=timezone.now())
    Run.objects.filter(pk=run.pk).update(**run_update)
    best = (
        session.runs.order_by("-total_pnl", "id")
        .values("trade_count", "total_pnl", "win_rate", "max_drawdown", "sharpe")
        .first()
    )
    if best:
        Session.objects.filter(pk=session.pk).update(**best)


def _result_fields(metrics: dict) -> dict:
    def clamp(value, limit):
        value = float(value or 0)
        if value != value or value in (float("inf"), float("-inf")):
            return Decimal(0)
        return Decimal(str(round(max(-limit, min(limit, value)), 8)))

    return {
        "trade_count": int(metrics.get("trade_count") or 0),
        "total_pnl": clamp(metrics.get("total_pnl"), 1e11),
        "win_rate": clamp(metrics.get("win_rate"), 100),
        "max_drawdown": clamp(metrics.get("max_drawdown"), 1e5),
        "sharpe": clamp(metrics.get("sharpe"), 1e7),
    }


def session_files_set(
    *, session: Session, logs_file: str | None = None, trades_file: str | None = None
) -> None:
    fields = {k: v for k, v in (("logs_file", logs_file), ("trades_file", trades_file)) if v}
    Session.objects.filter(pk=session.pk).update(**fields)


def sessions_reap(*, restarted_node: str | None = None) -> list[str]:
    """Fail running sessions nobody runs: a heartbeat older than STALE_AFTER_SECONDS ("worker
    lost"), never picked up within PICKUP_TIMEOUT_SECONDS, or left by a worker node that has
    just started again (`restarted_node`: what it ran before cannot be running any more).
    Works with no worker alive."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.STALE_AFTER_SECONDS)
    unpicked = now - timedelta(seconds=settings.PICKUP_TIMEOUT_SECONDS)
    running = Session.objects.filter(status=Status.RUNNING)
    stale_reason = f"Worker lost: no heartbeat for more than {settings.STALE_AFTER_SECONDS} s."
    unpicked_reason = (
        f"No worker picked the session up within {settings.PICKUP_TIMEOUT_SECONDS} s; "
        "is a worker running for this queue?"
    )
    candidates = [
        (session, stale_reason)
        for session in running.filter(worker__isnull=False, heartbeat_at__lt=stale).only("pk")
    ] + [
        (session, unpicked_reason)
        for session in running.filter(worker__isnull=True, started_at__lt=unpicked).only("pk")
    ]
    if restarted_node:
        candidates += [
            (session, f"Worker lost: {session.worker} restarted.")
            for session in running.filter(worker__startswith=f"{restarted_node}:").only("pk", "worker")
        ]
    failed = []
    for session, reason in candidates:
        # session_finish changes only a still-running row: a session that finished
        # meanwhile is left alone.
        if session_finish(session=session, status=Status.FAILED, error=reason):
            failed.append(session.pk)
    return failed


def sessions_reap_lazily() -> None:
    """Reap on reads too, at most every few seconds, so a dead session shows as failed even
    when neither a worker nor the scheduler is alive."""
    if cache.add("sessions:reap-lazily", 1, timeout=5):
        sessions_reap()


def _enqueue(session: Session) -> None:
    """Hand the session to a worker on its type's queue (after the start has committed)."""
    from sessions_app.tasks import session_run

    try:
        session_run.apply_async(args=[session.pk], queue=session.type)
    except Exception as exc:  # broker down: say so now rather than after the pickup timeout
        session_finish(
            session=session,
            status=Status.FAILED,
            error=f"Could not queue the session: the broker is unreachable ({exc}).",
        )


# --- events -----------------------------------------------------------------------------------


def event_record(*, session: Session, event_type: str, data: dict | None = None) -> SessionEvent:
    return SessionEvent.objects.create(session_id=session.pk, event_type=event_type, event_data=data)


# --- validation -------------------------------------------------------------------------------


def _refuse_unknown_fields(data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput.from_errors({field: ["Unknown field."] for field in unknown})


def _clean_text(data: Mapping[str, Any]) -> dict[str, str | None]:
    cleaned, errors = {}, {}
    for field, max_length in (("name", 255), ("notes", 10_000), ("notify_url", 500)):
        if field not in data:
            continue
        value = data[field]
        if value is not None and not isinstance(value, str):
            errors[field] = ["Must be a string."]
        elif value is not None and len(value) > max_length:
            errors[field] = [f"At most {max_length} characters."]
        elif field == "notify_url" and value and not _is_http_url(value.strip()):
            errors[field] = [f"Must be an http:// or https:// URL (got {value!r})."]
        else:
            cleaned[field] = value.strip() if value else value
    if errors:
        raise InvalidInput.from_errors(errors)
    return cleaned


def _is_http_url(value: str) -> bool:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        return False
    return True


def _clean_config(data: Mapping[str, Any]) -> dict[str, Any]:
    """Every config field checked and normalised; InvalidInput names all bad fields at once."""
    errors: dict[str, list[str]] = {}
    config: dict[str, Any] = {}

    session_type = data.get("type")
    if not session_type:
        errors["type"] = ["This field is required."]
    elif session_type not in SessionType.values:
        errors["type"] = [f"Must be one of {', '.join(SessionType.values)} (got {session_type!r})."]
    config["type"] = session_type

    exchange = data.get("exchange") or settings.DEFAULT_EXCHANGE
    if exchange not in settings.EXCHANGES:
        errors["exchange"] = [f"Must be one of {', '.join(settings.EXCHANGES)} (got {exchange!r})."]
    elif exchange == "local" and session_type in (SessionType.TEST, SessionType.SCRAPER):
        errors["exchange"] = ["Imported (local) data has no live feed: only backtests run on it."]
    config["exchange"] = exchange

    market = data.get("market")
    legs: list[Market] = []
    if not market:
        errors["market"] = ["This field is required."]
    elif not isinstance(market, str):
        errors["market"] = ["Must be a string such as XBTUSD or XBTUSD+ETHUSD."]
    elif "exchange" not in errors:
        symbols = market.split("+")
        found = {
            m.symbol: m for m in Market.objects.filter(exchange=exchange, symbol__in=symbols, active=True)
        }
        missing = [s for s in symbols if s not in found]
        if missing:
            errors["market"] = [f"Unknown market {', '.join(missing)} on {exchange}."]
        legs = [found[s] for s in symbols if s in found]
    config["market"] = market

    strategy_id = data.get("strategy")
    strategy = None
    if not strategy_id:
        errors["strategy"] = ["This field is required."]
    else:
        strategy = Strategy.objects.filter(id=strategy_id).first()
        if strategy is None:
            errors["strategy"] = [f"Unknown strategy {strategy_id!r}."]
        elif session_type in SessionType.values and session_type not in strategy.supported_types:
            errors["type"] = [
                f"{strategy.id} does not run {session_type} sessions "
                f"(it runs {', '.join(strategy.supported_types)})."
            ]
        elif market and "market" not in errors and not strategy.supports_market(market):
            errors["market"] = [
                f"{strategy.id} does not trade {market} (it trades {', '.join(strategy.supported_markets)})."
            ]
    config["strategy"] = strategy_id

    params = data.get("strategy_params")
    if strategy is not None:
        try:
            params = strategy_params_validate(strategy=strategy, params=params)
        except ParamsError as exc:
            for field, messages in exc.errors.items():
                key = field if field == "strategy_params" else f"strategy_params.{field}"
                errors.setdefault(key, []).extend(messages)
    config["strategy_params"] = params

    timeframe = data.get("timeframe") or "1m"
    if timeframe not in TIMEFRAMES:
        errors["timeframe"] = [f"Must be one of {', '.join(TIMEFRAMES)} (got {timeframe!r})."]
    config["timeframe"] = timeframe

    settle = legs[0].settle if legs else "USD"
    default_balance = Decimal("1") if settle in ("XBT", "BTC") else Decimal("10000")
    for field, default, minimum, maximum, places in (
        ("initial_balance", default_balance, Decimal("0"), Decimal("1e12"), 8),
        ("fee_bps", Decimal("7.5"), Decimal("0"), Decimal("1000"), 4),
        ("slippage_bps", Decimal("0"), Decimal("0"), Decimal("1000"), 4),
    ):
        value = data.get(field)
        if value is None or value == "":
            config[field] = default
            continue
        number = _decimal(value)
        if number is None:
            errors[field] = [f"Must be a number (got {value!r})."]
        elif field == "initial_balance" and number <= minimum:
            errors[field] = ["Must be greater than 0."]
        elif number < minimum or number > maximum:
            errors[field] = [f"Must be between {minimum} and {maximum}."]
        elif -number.normalize().as_tuple().exponent > places:
            # What is stored must be what was hashed and answered: no silent rounding.
            errors[field] = [f"At most {places} decimal places (got {value!r})."]
        else:
            config[field] = number

    range_start, range_end = data.get("range_start"), data.get("range_end")
    if session_type == SessionType.BACKTEST:
        for field, value in (("range_start", range_start), ("range_end", range_end)):
            if value is None or value == "":
                errors[field] = ["Required for a backtest (Unix seconds)."]
            elif _unix_seconds(value) is None:
                errors[field] = [f"Must be a time in Unix seconds (got {value!r})."]
            else:
                config[field] = _unix_seconds(value)
        if "range_start" in config and "range_end" in config:
            if config["range_end"] <= config["range_start"]:
                errors["range_end"] = ["Must be after range_start."]
            elif config["range_end"] > int(timezone.now().timestamp()):
                errors["range_end"] = ["Must not be in the future."]
    else:
        for field, value in (("range_start", range_start), ("range_end", range_end)):
            if value not in (None, ""):
                errors[field] = ["Only backtests take a date range."]
        config["range_start"] = config["range_end"] = None

    sweep = data.get("sweep")
    config["sweep"] = None
    if sweep not in (None, {}):
        if session_type != SessionType.BACKTEST:
            errors["sweep"] = ["Only backtests can sweep parameters."]
        elif not isinstance(sweep, dict) or not all(isinstance(v, list) and v for v in sweep.values()):
            errors["sweep"] = ["Must map parameter names to non-empty lists of values."]
        elif strategy is not None:
            known = set(strategy.param_schema.get("properties", {}))
            unknown = [name for name in sweep if name not in known]
            runs = 1
            for values in sweep.values():
                runs *= len(values)
            if unknown:
                errors["sweep"] = [f"Unknown parameter {', '.join(unknown)} for {strategy.id}."]
            elif runs > MAX_SWEEP_RUNS:
                errors["sweep"] = [f"At most {MAX_SWEEP_RUNS} runs per sweep (this is {runs})."]
            elif isinstance(params, dict):
                for combination in _combinations(sweep):
                    try:
                        strategy_params_validate(strategy=strategy, params={**params, **combination})
                    except ParamsError as exc:
                        field, messages = next(iter(exc.errors.items()))
                        errors["sweep"] = [f"{field}: {messages[0]} in {combination}"]
                        break
                config["sweep"] = sweep

    if errors:
        raise InvalidInput.from_errors(errors)
    return config


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _unix_seconds(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 2**40 else None
    if isinstance(value, float) and value.is_integer():
        return _unix_seconds(int(value))
    if isinstance(value, str) and value.strip().isdigit():
        return _unix_seconds(int(value.strip()))
    return None


def _combinations(sweep: dict[str, list]) -> list[dict[str, Any]]:
    names = sorted(sweep)
    return [
        dict(zip(names, values, strict=False)) for values in itertools.product(*(sweep[n] for n in names))
    ]


def config_hash(session: Session, params: dict[str, Any]) -> str:
    """The engine's hash (bots.runner.canonical_hash) of everything that makes the run, so a
    run and its RunConfig carry the same identity."""
    canonical = {field: getattr(session, field) for field in HASHED_FIELDS}
    for field in ("initial_balance", "fee_bps", "slippage_bps"):
        canonical[field] = float(canonical[field])
    return canonical_hash({**canonical, "params": params})


def _runs_create(session: Session) -> None:
    """One run per parameter set: one for a plain session, the sweep's product for a sweep."""
    base = session.strategy_params or {}
    combinations = _combinations(session.sweep) if session.sweep else [{}]
    runs = {}
    for combination in combinations:
        params = {**base, **combination}
        runs.setdefault(config_hash(session, params), params)  # duplicate values: one run
    Run.objects.bulk_create(
        Run(session=session, config_hash=digest, params=params) for digest, params in runs.items()
    )


def _generated_name(config: Mapping[str, Any]) -> str:
    """ "BTC Test #3": the market's coin(s), the type, and the next number for them."""
    coins = "/".join(_coin(leg) for leg in str(config.get("market") or "").split("+"))
    label = {"test": "Test", "backtest": "Backtest", "scraper": "Scraper"}.get(config.get("type"), "Session")
    number = Session.objects.filter(type=config.get("type"), market=config.get("market")).count() + 1
    return f"{coins} {label} #{number}"


def _coin(symbol: str) -> str:
    for quote in ("USDT", "USD"):
        if symbol.endswith(quote) and symbol != quote:
            symbol = symbol[: -len(quote)]
            break
    return {"XBT": "BTC"}.get(symbol, symbol)


def _remove_data_file(path: str) -> None:
    """Remove a file the product wrote, but only under DATA_ROOT."""
    target = Path(path).resolve()
    if target.is_relative_to(Path(settings.DATA_ROOT).resolve()) and target.is_file():
        target.unlink()

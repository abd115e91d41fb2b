"""Sessions, runs, trades, events, strategies and markets as plain dicts (times as Unix seconds,
decimals as numbers): what the API answers and what webhooks send."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sessions_app.models import Run, Session, SessionEvent, Trade


def unix(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def number(value: Decimal | float | None) -> float | None:
    return float(value) if value is not None else None


def session_data(
    session: Session, progress: dict[str, Any] | None = None, summary: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": session.id,
        "name": session.name,
        "type": session.type,
        "market": session.market,
        "exchange": session.exchange,
        "strategy": session.strategy,
        "strategy_params": session.strategy_params,
        "timeframe": session.timeframe,
        "initial_balance": number(session.initial_balance),
        "fee_bps": number(session.fee_bps),
        "slippage_bps": number(session.slippage_bps),
        "sweep": session.sweep,
        "reuse": session.reuse,
        "range_start": session.range_start,
        "range_end": session.range_end,
        "status": session.status,
        "waiting_for_worker": session.waiting_for_worker,
        "stop_requested": session.stop_requested,
        "pid": session.pid,
        "worker": session.worker,
        "heartbeat_at": unix(session.heartbeat_at),
        "error": session.error,
        "created_at": unix(session.created_at),
        "started_at": unix(session.started_at),
        "stopped_at": unix(session.stopped_at),
        "created_by": session.created_by.get_username()
        if session.created_by_id and session.created_by
        else None,
        "trade_count": session.trade_count,
        "total_pnl": number(session.total_pnl),
        "win_rate": number(session.win_rate),
        "max_drawdown": number(session.max_drawdown),
        "sharpe": number(session.sharpe),
        "progress_done": session.progress_done,
        "progress_total": session.progress_total,
        "progress": progress,
        "summary": summary,
        "trades_file": session.trades_file,
        "logs_file": session.logs_file,
        "cloned_from": session.cloned_from_id,
        "notes": session.notes,
        "notify_url": session.notify_url,
    }


def run_data(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "session_id": run.session_id,
        "config_hash": run.config_hash,
        "params": run.params,
        "status": run.status,
        "error": run.error,
        "started_at": unix(run.started_at),
        "stopped_at": unix(run.stopped_at),
        "worker": run.worker,
        "pid": run.pid,
        "data_fingerprint": run.data_fingerprint,
        "reused_from": run.reused_from_id,
        "trade_count": run.trade_count,
        "total_pnl": number(run.total_pnl),
        "win_rate": number(run.win_rate),
        "max_drawdown": number(run.max_drawdown),
        "sharpe": number(run.sharpe),
        "metrics": run.metrics,
    }


def trade_data(trade: Trade) -> dict[str, Any]:
    return {
        "id": trade.id,
        "market": trade.market,
        "side": trade.side,
        "entry_time": trade.entry_time,
        "entry_price": number(trade.entry_price),
        "entry_size": number(trade.entry_size),
        "exit_time": trade.exit_time,
        "exit_price": number(trade.exit_price),
        "exit_size": number(trade.exit_size),
        "realized_pnl": number(trade.realized_pnl),
        "fee": number(trade.fee),
    }


def event_data(event: SessionEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "event_type": event.event_type,
        "event_data": event.event_data,
        "created_at": unix(event.created_at),
    }


def strategy_data(strategy) -> dict[str, Any]:
    return {
        "id": strategy.id,
        "name": strategy.name,
        "description": strategy.description,
        "supported_types": strategy.supported_types,
        "supported_markets": strategy.supported_markets,
        "default_params": strategy.default_params,
        "param_schema": strategy.param_schema,
        "created_at": unix(strategy.created_at),
    }


def market_data(market) -> dict[str, Any]:
    return {
        "id": market.id,
        "exchange": market.exchange,
        "symbol": market.symbol,
        "base": market.base,
        "quote": market.quote,
        "settle": market.settle,
        "contract_type": market.contract_type,
        "tick_size": number(market.tick_size),
        "multiplier": number(market.multiplier),
        "active": market.active,
    }


def run_session_data(session: Session) -> dict[str, Any]:
    """What names a run's session beside runs of other sessions (Compare)."""
    return {
        "id": session.id,
        "name": session.name,
        "market": session.market,
        "strategy": session.strategy,
        "timeframe": session.timeframe,
        "range_start": session.range_start,
        "range_end": session.range_end,
    }

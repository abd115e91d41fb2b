"""A run's identity: the hash of everything that makes it, the same the engine computes."""

from __future__ import annotations

from typing import Any

from bots.runner import canonical_hash
from sessions_app.models import Session

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


def config_hash(session: Session, params: dict[str, Any]) -> str:
    """The engine's hash (bots.runner.canonical_hash) of everything that makes the run, so a
    run and its RunConfig carry the same identity."""
    canonical = {field: getattr(session, field) for field in HASHED_FIELDS}
    for field in ("initial_balance", "fee_bps", "slippage_bps"):
        canonical[field] = float(canonical[field])
    return canonical_hash({**canonical, "params": params})

"""The Create New Session modal's form: choices that fit the type, fields from the strategy's
JSON Schema, request values -> the services' data dict, service errors -> fields.

Not a django.forms.Form: the fields are generated from a JSON Schema and every rule lives in
services.session_create/session_update, whose InvalidInput.errors this form only places.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from sessions_app import selectors
from sessions_app.models import Session, SessionType

DAY = 86_400
TYPE_HELP = {
    SessionType.TEST: "Paper trading on live market data",
    SessionType.BACKTEST: "A strategy over a historical range",
    SessionType.SCRAPER: "Record market data into the archive",
}
# Fields of the services' errors that have an input of the same meaning here.
ERROR_FIELDS = {"range_start": "start_date", "range_end": "end_date"}
# The account's inputs (docs/engine.md): same names in the form, the services and the API.
ACCOUNT_FIELDS = ("leverage", "sizing", "maintenance_margin_pct", "funding")
SIZING_CHOICES = (
    ("units", "Units", "contracts (or base units)."),
    ("equity", "Share of equity", "a fraction in (0, 1] of the margin available."),
    ("notional", "Notional", "the position's value in the quote currency."),
)
# Funding is tri-state: blank follows the market (on where it is a perpetual).
FUNDING_CHOICES = (("", "Market default"), ("on", "On"), ("off", "Off"))
FUNDING_VALUES = {"on": True, "off": False}


@dataclass
class ParamField:
    name: str
    input_name: str
    label: str
    value: Any
    input_type: str = "number"
    minimum: Any = None
    maximum: Any = None
    step: str = "any"
    help: str = ""
    required: bool = False
    errors: list[str] = field(default_factory=list)


def _date_of(unix: int | None) -> str:
    if unix is None:
        return ""
    return datetime.fromtimestamp(int(unix), tz=UTC).date().isoformat()


def _midnight(value: str) -> int | None:
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


class SessionForm:
    """State of the modal: chosen type/strategy/market, param values, dates, name, errors."""

    def __init__(self, data: QueryDict | dict | None = None, *, session: Session | None = None):
        self.session = session
        self.errors: dict[str, list[str]] = {}
        self.non_field_errors: list[str] = []
        data = data if data is not None else {}
        if session is not None and not data:
            data = self._initial_from_session(session)
        self.data = data

        types = SessionType.values
        self.type = data.get("type") if data.get("type") in types else SessionType.TEST
        self.strategies = selectors.strategy_list(session_type=self.type)
        by_id = {s.id: s for s in self.strategies}
        wanted = data.get("strategy")
        if wanted not in by_id:
            # The wireframe's default, when it fits the type; else the first that does.
            wanted = "TestBot" if "TestBot" in by_id else next(iter(by_id), None)
        self.strategy = by_id.get(wanted)
        self.markets = selectors.strategy_markets(strategy=self.strategy, exchange=settings.DEFAULT_EXCHANGE)
        self.market = (
            data.get("market")
            if data.get("market") in self.markets
            else (self.markets[0] if self.markets else "")
        )
        # Param values typed for another strategy mean nothing for this one: start from defaults.
        same_strategy = self.strategy is not None and data.get("params_for") == self.strategy.id
        self.param_fields = self._param_fields(data if same_strategy else {})
        today = timezone.now().date()
        self.start_date = data.get("start_date") or (today - timedelta(days=8)).isoformat()
        self.end_date = data.get("end_date") or (today - timedelta(days=1)).isoformat()
        self.name = data.get("name") or ""
        self.today = today.isoformat()
        self.leverage = str(data.get("leverage", "1"))
        self.sizing = str(data.get("sizing") or "units")
        self.maintenance_margin_pct = str(data.get("maintenance_margin_pct") or "")
        self.funding = str(data.get("funding") or "")

    # --- building ----------------------------------------------------------------------------

    @staticmethod
    def _initial_from_session(session: Session) -> dict[str, Any]:
        initial = {
            "type": session.type,
            "strategy": session.strategy,
            "market": session.market,
            "params_for": session.strategy,
            "name": session.name or "",
        }
        for name, value in (session.strategy_params or {}).items():
            initial[f"param_{name}"] = "" if value is None else str(value)
        initial.update(_account_initial(session))
        if session.range_start is not None:
            initial["start_date"] = _date_of(session.range_start)
        if session.range_end is not None:
            # The stored end is exclusive (midnight after the last day): show the last day.
            initial["end_date"] = _date_of(session.range_end - 1)
        return initial

    def _param_fields(self, data) -> list[ParamField]:
        if self.strategy is None:
            return []
        schema = self.strategy.param_schema or {}
        required = set(schema.get("required") or [])
        defaults = self.strategy.default_params or {}
        fields = []
        for name, prop in (schema.get("properties") or {}).items():
            kind = prop.get("type")
            input_name = f"param_{name}"
            value = data.get(input_name) if input_name in data else defaults.get(name, "")
            minimum = prop.get("minimum", prop.get("exclusiveMinimum"))
            maximum = prop.get("maximum", prop.get("exclusiveMaximum"))
            if kind == "boolean":
                input_type, step = "checkbox", ""
            elif kind in ("integer", "number"):
                input_type = "number"
                step = "1" if kind == "integer" else "any"
            else:
                input_type, step = "text", ""
            help_text = prop.get("description") or ""
            bounds = _bounds_text(prop)
            fields.append(
                ParamField(
                    name=name,
                    input_name=input_name,
                    label=prop.get("title") or name.replace("_", " ").title(),
                    value="" if value is None else value,
                    input_type=input_type,
                    minimum=minimum,
                    maximum=maximum,
                    step=step,
                    help=f"{help_text} {bounds}".strip(),
                    required=name in required,
                )
            )
        return fields

    # --- to the services -----------------------------------------------------------------------

    def service_data(self) -> dict[str, Any]:
        """The body services.session_create/session_update take: what was submitted, as the API
        would take it (the form refuses what the API refuses). The modal shows a
        default for a type, strategy, market or date it does not know; a save sends what the
        user sent, and the services name what is wrong with it."""
        data: dict[str, Any] = {
            "type": self.data.get("type") or "",
            "market": self.data.get("market") or "",
            "strategy": self.data.get("strategy") or "",
            "name": self.name.strip() or None,
        }
        params: dict[str, Any] = {}
        # Values typed for the strategy shown: none when the one submitted is another.
        shown = self.strategy is not None and self.strategy.id == data["strategy"]
        for f in self.param_fields if shown else []:
            raw = self.data.get(f.input_name)
            if f.input_type == "checkbox":
                params[f.name] = raw in ("on", "true", "1")
                continue
            if raw in (None, ""):
                continue  # the strategy's default applies
            params[f.name] = _typed(raw, (self.strategy.param_schema["properties"][f.name]).get("type"))
        data["strategy_params"] = params
        if data["type"] != SessionType.SCRAPER:
            data.update(self._account_data())
        if data["type"] == SessionType.BACKTEST:
            start = _midnight(self.data.get("start_date") or "")
            end = _midnight(self.data.get("end_date") or "")
            if start is None:
                self.errors["start_date"] = ["Enter a date (YYYY-MM-DD)."]
            if end is None:
                self.errors["end_date"] = ["Enter a date (YYYY-MM-DD)."]
            if end is not None:
                # End Date is inclusive: the range ends at the following midnight (UTC), or now
                # when that is still to come (a range must not end in the future).
                end = min(end + DAY, int(timezone.now().timestamp()) // 60 * 60)
            data["range_start"], data["range_end"] = start, end
        return data

    def _account_data(self) -> dict[str, Any]:
        """Leverage, sizing, maintenance margin and funding as submitted (an input the request
        lacks is left to the services' default; a blank margin or funding is the market's)."""
        data: dict[str, Any] = {}
        raw = {name: self.data.get(name) for name in ACCOUNT_FIELDS if name in self.data}
        if (raw.get("leverage") or "").strip():
            data["leverage"] = _typed(raw["leverage"].strip(), "integer")
        if raw.get("sizing"):
            data["sizing"] = raw["sizing"]
        if "maintenance_margin_pct" in raw:
            margin = (raw["maintenance_margin_pct"] or "").strip()
            data["maintenance_margin_pct"] = _typed(margin, "integer") if margin else None
        if "funding" in raw:
            funding = raw["funding"] or ""
            # An unknown value goes as typed, so the services name the field.
            data["funding"] = FUNDING_VALUES.get(funding, funding) if funding else None
        return data

    @property
    def sizing_choices(self) -> list[dict[str, Any]]:
        return [
            {"value": value, "label": label, "help": help_text, "selected": value == self.sizing}
            for value, label, help_text in SIZING_CHOICES
        ]

    @property
    def funding_choices(self) -> list[dict[str, Any]]:
        return [
            {"value": value, "label": label, "selected": value == self.funding}
            for value, label in FUNDING_CHOICES
        ]

    def add_service_errors(self, errors: dict[str, list[str]], message: str = "") -> None:
        """Place InvalidInput.errors next to their inputs; the rest above the buttons."""
        params = {f.name: f for f in self.param_fields}
        placed = False
        for key, messages in errors.items():
            if key.startswith("strategy_params.") and key.split(".", 1)[1] in params:
                params[key.split(".", 1)[1]].errors.extend(messages)
                placed = True
            elif key in ("type", "market", "strategy", "name", "strategy_params", *ACCOUNT_FIELDS):
                self.errors.setdefault(key, []).extend(messages)
                placed = True
            elif key in ERROR_FIELDS:
                self.errors.setdefault(ERROR_FIELDS[key], []).extend(messages)
                placed = True
            else:
                self.non_field_errors.extend(f"{key}: {m}" for m in messages)
                placed = True
        if not placed and message:
            self.non_field_errors.append(message)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.non_field_errors or any(f.errors for f in self.param_fields))

    @property
    def type_choices(self) -> list[dict[str, str]]:
        return [
            {"value": value, "label": label, "help": TYPE_HELP[value], "checked": value == self.type}
            for value, label in SessionType.choices
        ]


def _plain_number(value: Any) -> str:
    """A stored Decimal as typed: 2, not 2.00; 0.35, not 0.3500."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _account_initial(session: Session) -> dict[str, str]:
    """The modal's account inputs from a session (an edit, a clone)."""
    margin, funding = session.maintenance_margin_pct, session.funding
    return {
        "leverage": _plain_number(session.leverage),
        "sizing": session.sizing or "units",
        "maintenance_margin_pct": "" if margin is None else _plain_number(margin),
        "funding": "" if funding is None else ("on" if funding else "off"),
    }


def _typed(raw: str, kind: str | None) -> Any:
    """A typed value when it parses; else the raw text, which the schema then refuses by name."""
    try:
        if kind == "integer":
            number = float(raw)
            return int(number) if number.is_integer() else number
        if kind == "number":
            return float(raw)
    except (TypeError, ValueError):
        return raw
    return raw


def _bounds_text(prop: dict[str, Any]) -> str:
    parts = []
    if "minimum" in prop:
        parts.append(f"≥ {prop['minimum']}")
    if "exclusiveMinimum" in prop:
        parts.append(f"> {prop['exclusiveMinimum']}")
    if "maximum" in prop:
        parts.append(f"≤ {prop['maximum']}")
    if "exclusiveMaximum" in prop:
        parts.append(f"< {prop['exclusiveMaximum']}")
    return f"({', '.join(parts)})" if parts else ""

"""The small base class every strategy subclasses, and the parameter validation it declares."""

from __future__ import annotations

from typing import Any, ClassVar

import jsonschema


class ParamsError(ValueError):
    """Bad strategy parameters; `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        first = next(iter(errors.items()))
        super().__init__(f"{first[0]}: {first[1][0]}")


class Strategy:
    """A trading strategy. Subclasses declare their metadata and parameter schema.

    `param_schema` is real JSON Schema (`minimum`/`maximum`, not the seed's `min`/`max`); the
    registry syncs these class attributes into the strategies table.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str] = ""
    supported_types: ClassVar[list[str]] = ["test", "backtest"]
    supported_markets: ClassVar[list[str]] = ["*"]
    default_params: ClassVar[dict[str, Any]] = {}
    param_schema: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}
    # How many markets the strategy trades at once ("XBTUSD+ETHUSD" has two legs).
    legs: ClassVar[int] = 1

    def __init__(self, params: dict[str, Any]):
        self.params = self.validate_params(params)

    @classmethod
    def validate_params(
        cls, params: dict[str, Any] | None, schema: dict[str, Any] | None = None,
        defaults: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Fill defaults, validate against the schema; raise ParamsError naming each bad field.

        `schema`/`defaults` override the class's own (the strategies table may have been edited).
        """
        merged = validate_params(
            params, cls.param_schema if schema is None else schema,
            cls.default_params if defaults is None else defaults,
        )
        errors = cls.check_params(merged)
        if errors:
            raise ParamsError(errors)
        return merged

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> dict[str, list[str]]:
        """Cross-field rules a JSON Schema cannot state (e.g. n1 < n2); field -> messages."""
        return {}


def validate_params(
    params: dict[str, Any] | None, schema: dict[str, Any], defaults: dict[str, Any]
) -> dict[str, Any]:
    """Defaults filled in, then checked against `schema`; ParamsError lists every bad field."""
    if params is not None and not isinstance(params, dict):
        raise ParamsError({"strategy_params": ["Must be an object of parameter values."]})
    merged = {**(defaults or {}), **(params or {})}
    errors: dict[str, list[str]] = {}
    validator = jsonschema.Draft202012Validator(schema)
    for error in sorted(validator.iter_errors(merged), key=lambda e: list(e.path)):
        if error.path:
            field = str(error.path[0])
        elif error.validator == "required":
            field = error.message.split("'")[1]
        elif error.validator == "additionalProperties":
            field = "strategy_params"
        else:
            field = "strategy_params"
        errors.setdefault(field, []).append(_message(error))
    if errors:
        raise ParamsError(errors)
    return merged


def _message(error: jsonschema.ValidationError) -> str:
    value = error.instance
    if error.validator == "minimum":
        return f"Must be at least {error.validator_value} (got {value})."
    if error.validator == "maximum":
        return f"Must be at most {error.validator_value} (got {value})."
    if error.validator == "exclusiveMinimum":
        return f"Must be greater than {error.validator_value} (got {value})."
    if error.validator == "type":
        return f"Must be of type {error.validator_value} (got {value!r})."
    if error.validator == "required":
        return "This parameter is required."
    return error.message

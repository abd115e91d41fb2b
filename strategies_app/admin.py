from django import forms
from django.contrib import admin
from jsonschema import Draft202012Validator, SchemaError

from bots.strategies.base import ParamsError
from strategies_app.models import Market, Strategy
from strategies_app.services import strategy_params_validate

SESSION_TYPES = ("test", "backtest", "scraper")


class StrategyForm(forms.ModelForm):
    """Defaults and schema edited here must still make a valid strategy: the schema is real
    JSON Schema and the defaults pass it (and the class's own rules)."""

    class Meta:
        model = Strategy
        fields = "__all__"

    def clean_param_schema(self):
        schema = self.cleaned_data["param_schema"]
        if not isinstance(schema, dict):
            raise forms.ValidationError("Must be a JSON Schema object.")
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise forms.ValidationError(f"Not a valid JSON Schema: {exc.message}") from None
        return schema

    def clean_supported_types(self):
        types = self.cleaned_data["supported_types"]
        if not isinstance(types, list) or not types or any(t not in SESSION_TYPES for t in types):
            raise forms.ValidationError(f"A non-empty list of {', '.join(SESSION_TYPES)}.")
        return types

    def clean_supported_markets(self):
        markets = self.cleaned_data["supported_markets"]
        if not isinstance(markets, list) or not markets or not all(isinstance(m, str) for m in markets):
            raise forms.ValidationError('A non-empty list of symbols, "A+B" pairs or "*".')
        return markets

    def clean(self):
        cleaned = super().clean()
        if "param_schema" in cleaned and "default_params" in cleaned:
            candidate = Strategy(
                id=cleaned.get("id") or self.instance.id,
                param_schema=cleaned["param_schema"],
                default_params={},
            )
            try:
                strategy_params_validate(strategy=candidate, params=cleaned["default_params"])
            except ParamsError as exc:
                self.add_error(
                    "default_params",
                    "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.errors.items()),
                )
        return cleaned


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    form = StrategyForm
    list_display = ("id", "name", "supported_types", "supported_markets", "created_at")
    search_fields = ("id", "name", "description")
    readonly_fields = ("created_at",)


@admin.register(Market)
class MarketAdmin(admin.ModelAdmin):
    list_display = (
        "symbol",
        "exchange",
        "contract_type",
        "base",
        "quote",
        "settle",
        "tick_size",
        "multiplier",
        "active",
    )
    list_filter = ("exchange", "contract_type", "active")
    search_fields = ("symbol", "base", "quote")

"""The serializers of /api/schema/: made from the shapes the answers are built from, and the
pieces every resource's answers share (the success flag, pages, the error envelope).

`serializer_for(shape)` turns a `sessions_app.representations.Shape` into a DRF serializer with
the same fields, types, nullability, enums and help, so the schema is read off the very table
the answer's dict is built from. These serializers describe; they do not validate or shape: the
views hand the raw body to the services, which check every field at once and word the messages,
and the answers are the shapes' plain dicts (a serializer's to_representation would cost ten
times more). Given such a dict, `serializer_for(shape)(data).data` gives it back unchanged.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sessions_app.representations import SESSION_TYPES, Choice, Field, ListOf, Schema, Shape

__all__ = [
    # Named by SPECTACULAR_SETTINGS' ENUM_NAME_OVERRIDES (sessions and strategies share the enum).
    "SESSION_TYPES",
    "ErrorSerializer",
    "KeysetPage",
    "NullableObjectField",
    "ObjectField",
    "Page",
    "json_field",
    "serializer_for",
    "shape_field",
    "success",
]


def success(value: bool = True) -> serializers.BooleanField:
    # A plain boolean: an enum of one would become a component of its own for each value.
    return serializers.BooleanField(help_text=f"Always {str(value).lower()} here.")


@extend_schema_field({"type": "object", "additionalProperties": True})
class ObjectField(serializers.JSONField):
    """A free-form JSON object (strategy params, a JSON schema)."""


@extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
class NullableObjectField(serializers.JSONField):
    """A free-form JSON object, or null."""


_JSON_FIELDS: dict[str, type[serializers.JSONField]] = {}


def json_field(name: str, openapi) -> type[serializers.JSONField]:
    """A JSON field class whose schema is `openapi`, an OpenAPI schema or a serializer (one
    class per name: the schema of a sweep or an equity curve is written once). Its value is
    answered as it is."""
    if name not in _JSON_FIELDS:
        _JSON_FIELDS[name] = extend_schema_field(openapi)(type(name, (serializers.JSONField,), {}))
    return _JSON_FIELDS[name]


def _kind_field(kind, name: str, **options) -> serializers.Field:
    """The DRF field of a shape field's kind."""
    if isinstance(kind, Shape):
        # Described by the shape's component, answered as it is: the dicts built elsewhere
        # (progress, metrics) may carry keys the description leaves open.
        return json_field(f"{kind.name}Object", serializer_for(kind))(**options)
    if isinstance(kind, Choice):
        return serializers.ChoiceField(choices=list(kind.values), **options)
    if isinstance(kind, ListOf):
        return serializers.ListField(child=_kind_field(kind.item, name), **options)
    if isinstance(kind, Schema):
        field_name = "".join(part.capitalize() for part in name.split("_")) + "Field"
        return json_field(field_name, kind.openapi)(**options)
    if kind is dict:
        nullable = options.get("allow_null", False)
        return (NullableObjectField if nullable else ObjectField)(**options)
    simple = {str: serializers.CharField, int: serializers.IntegerField, float: serializers.FloatField}
    if kind is bool:
        return serializers.BooleanField(**options)
    return simple[kind](**options)


def shape_field(shape: Shape, **options) -> serializers.JSONField:
    """A field holding a `shape` built elsewhere: described by its component, answered as it is."""
    return _kind_field(shape, shape.name, **options)


def _field(field: Field) -> serializers.Field:
    options = {}
    if field.help:
        options["help_text"] = field.help
    if field.nullable:
        options["allow_null"] = True
    if field.optional:
        options["required"] = False
    return _kind_field(field.kind, field.name, **options)


_SERIALIZERS: dict[str, type[serializers.Serializer]] = {}


def serializer_for(shape: Shape) -> type[serializers.Serializer]:
    """The serializer describing `shape` (one class per shape: one component in the schema)."""
    if shape.name not in _SERIALIZERS:
        attributes = {"__doc__": shape.doc or None, "__module__": __name__}
        attributes.update((field.name, _field(field)) for field in shape.fields)
        _SERIALIZERS[shape.name] = type(f"{shape.name}Serializer", (serializers.Serializer,), attributes)
    return _SERIALIZERS[shape.name]


class ErrorSerializer(serializers.Serializer):
    """Every refusal: one sentence, and the messages of each field at fault."""

    success = success(False)
    error = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class Page(serializers.Serializer):
    success = success(True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class KeysetPage(Page):
    offset = serializers.IntegerField(allow_null=True, help_text="null on a page read by cursor.")
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as ?cursor= for the next page (keyset); null on the last page."
    )

"""The OpenAPI inspector: operation ids that do not collide.

Kept apart from the schema view: drf-spectacular's views module reads DEFAULT_SCHEMA_CLASS
(this module) while it is imported.
"""

from __future__ import annotations

from drf_spectacular import openapi


class AutoSchema(openapi.AutoSchema):
    """Operation ids named after the view function (`session_detail_retrieve`).

    drf-spectacular derives an id from the path and, for function views answering an envelope
    object rather than a serializer list, the same one for /sessions and /sessions/{id}
    (warning W001, which `check --deploy --fail-level WARNING` fails on). Each route has its
    own view function, so its name is unique.
    """

    def get_operation_id(self) -> str:
        view_name = type(self.view).__name__
        if view_name == "WrappedAPIView":  # not a function view: the path-derived id
            return super().get_operation_id()
        return f"{view_name}_{self.method_mapping[self.method.lower()]}"

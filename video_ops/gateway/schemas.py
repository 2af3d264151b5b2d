"""Each operation's request body for the API description, taken from the worker's pydantic model.

One source of truth: the body is the operation's input model without `operation` (the route names
it), so /docs and /openapi.json change when the worker's contract does.
"""

from __future__ import annotations

from typing import Any

from video_ops.jobkit.contract import Operation

REF = "#/components/schemas/{model}"


def body_name(operation: Operation) -> str:
    return f"{operation.input_model.__name__}Body"


def body_schemas(operations: dict[str, Operation]) -> dict[str, dict[str, Any]]:
    """The component schemas every route body needs: one per operation plus the models they nest."""
    components: dict[str, dict[str, Any]] = {}
    for operation in operations.values():
        schema = operation.input_model.model_json_schema(ref_template=REF)
        nested = schema.pop("$defs", {})
        schema["properties"] = {k: v for k, v in schema["properties"].items() if k != "operation"}
        schema["required"] = [name for name in schema.get("required", []) if name != "operation"]
        for name, definition in {**nested, body_name(operation): schema}.items():
            if components.setdefault(name, definition) != definition:
                raise ValueError(f"two operations define different schemas named {name}")
    return components


def request_body(operation: Operation) -> dict[str, Any]:
    """The route's `requestBody`, pointing at its component."""
    ref = REF.format(model=body_name(operation))
    return {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}

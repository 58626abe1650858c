"""Finishing touches on the generated OpenAPI document: API-key security and error responses.

The paths and schemas come from the blueprints' marshmallow schemas; this adds what holds
for every operation: the key (header or query), the 401 answer, the 400 answer for a body
that is not JSON, and the shared error schema.
"""

from __future__ import annotations

from typing import Any

from sublarr.core.web.api_auth import API_KEY_HEADER, API_KEY_QUERY, OPEN_PATHS

SECURITY_SCHEMES = {
    "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER},
    "ApiKeyQuery": {"type": "apiKey", "in": "query", "name": API_KEY_QUERY},
}
ERROR_REF = {"$ref": "#/components/schemas/ErrorSchema"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def finish_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Add security, the shared error responses and the server note to ``spec``."""
    spec["security"] = [{"ApiKeyHeader": []}, {"ApiKeyQuery": []}]
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "delete", "patch"):
                continue
            responses = operation.setdefault("responses", {})
            if path in OPEN_PATHS:
                operation["security"] = []
            else:
                responses.setdefault("401", _error("Missing or wrong API key"))
            if method in ("post", "put", "patch"):
                responses.setdefault("400", _error("The body is not JSON"))
                responses.setdefault("413", _error("The body is too large"))
            responses.setdefault("405", _error("Method not allowed"))
    return spec

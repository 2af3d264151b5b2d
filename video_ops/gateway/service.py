"""`GET /`: what this service is (name, version) and every route it serves, read from the app itself so a
route added anywhere is listed. No key: it says no more than the public OpenAPI document at /openapi.json.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

PACKAGE = "video-ops"


def version() -> str:
    """The installed package's version (pyproject.toml); "unknown" when run from a tree never installed."""
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def routes(app: FastAPI, guard: list[Any]) -> list[dict[str, Any]]:
    """The documented routes in the order they were added: method, path, what it does, whether it needs the key."""
    listed = []
    for route in app.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            keyed = any(dependency in guard for dependency in route.dependencies)
            for method in sorted(route.methods):
                listed.append({"method": method, "path": route.path, "summary": _summary(route),
                               "key": keyed})
    return listed


def _summary(route: APIRoute) -> str:
    return route.summary or route.description.strip().split("\n")[0] or route.name


def add_service_route(app: FastAPI, operations: list[str], guard: list[Any]) -> None:
    async def service() -> JSONResponse:
        """The service's name, version, operations and routes (no key needed)."""
        return JSONResponse({"name": app.title, "version": version(), "summary": app.summary,
                             "docs": app.docs_url, "openapi": app.openapi_url, "operations": operations,
                             "routes": routes(app, guard)})

    app.add_api_route("/", service, methods=["GET"], tags=["service"], name="service",
                      summary="the service's name, version, operations and routes")

"""The ASGI application: the API at `/` (any path, POST), plus the OpenAPI document."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route

from mimicast.config import Settings
from mimicast.server.openapi import docs_route, openapi_route
from mimicast.server.pipeline import handle
from mimicast.server.runtime import Runtime


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Starlette:
    """Build the app; the runtime (store, caches, limiter) is built at startup unless given."""
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.runtime = runtime or Runtime.build(settings)
        try:
            yield
        finally:
            await app.state.runtime.close()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    # The GET pages come first; the catch-all stays last and answers the API at every other
    # path (and a POST to /openapi.json, which it answers with an envelope).
    routes = [Route("/openapi.json", openapi_route, methods=["GET"]),
              Route("/docs", docs_route, methods=["GET"]),
              Route("/{path:path}", handle, methods=methods)]
    return Starlette(routes=routes, lifespan=lifespan)


def create_app_from_env() -> Starlette:
    """The factory uvicorn's worker processes call (`mimicast serve --workers N`)."""
    return create_app(Settings.from_env())

"""The ASGI application: the API at `/` (any path, POST), plus the OpenAPI document and the
docs page.

API calls go straight to the pipeline, which answers every outcome itself (errors included),
so they skip Starlette's router and exception middleware: on the hot path those layers cost
more than the signature check. Starlette serves the two pages and runs the lifespan.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mimicast.config import Settings
from mimicast.server.openapi import docs_route, openapi_route
from mimicast.server.pipeline import handle
from mimicast.server.runtime import Runtime

PAGES = frozenset({"/openapi.json", "/docs"})


class MimicastApp:
    def __init__(self, pages: Starlette) -> None:
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["path"] in PAGES
                                       and scope["method"] in ("GET", "HEAD")):
            await self.pages(scope, receive, send)
            return
        response = await handle(self.pages.state.runtime, Request(scope, receive))
        await response(scope, receive, send)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> MimicastApp:
    """Build the app; the runtime (store, caches, limiter) is built at startup unless given."""
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.runtime = runtime or Runtime.build(settings)
        try:
            yield
        finally:
            await app.state.runtime.close()

    pages = Starlette(routes=[Route("/openapi.json", openapi_route, methods=["GET"]),
                              Route("/docs", docs_route, methods=["GET"])], lifespan=lifespan)
    return MimicastApp(pages)


def create_app_from_env() -> MimicastApp:
    """The factory uvicorn's worker processes call (`mimicast serve --workers N`)."""
    return create_app(Settings.from_env())

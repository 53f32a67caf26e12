"""The ASGI application: the API at `/` (any path, POST), plus a few pages: the landing page,
the health checks, the OpenAPI document and the docs page; the upload URLs
(`PUT /uploads/…`) that `file/file-upload` hands out; and the control plane (`/__mimicast/`).

API calls go straight to the pipeline, which answers every outcome itself (errors included),
so they skip Starlette's router and exception middleware: on the hot path those layers cost
more than the signature check. Starlette serves the pages and runs the lifespan.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import AsyncIterator

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

import mimicast
from mimicast.config import Settings
from mimicast.server.control import PREFIX, ledger_route
from mimicast.server.openapi import docs_route, openapi_route
from mimicast.server.pipeline import handle
from mimicast.server.runtime import Runtime
from mimicast.server.uploads import upload_route
from mimicast.services.mail.uploads import UPLOAD_PATH
from mimicast.store import revision
from mimicast.store.engine import Store

PAGES = frozenset({"/", "/healthz", "/readyz", "/openapi.json", "/docs"})
# Probes and people, not API clients: never cached, never indexed.
NO_CACHE = {"cache-control": "no-store"}


class MimicastApp:
    def __init__(self, pages: Starlette) -> None:
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith((UPLOAD_PATH, PREFIX)) or (
                scope["path"] in PAGES and scope["method"] in ("GET", "HEAD")):
            await self.pages(scope, receive, send)
            return
        response = await handle(self.pages.state.runtime, Request(scope, receive))
        await response(scope, receive, send)


async def landing_route(request: Request) -> Response:
    base = html.escape(request.app.state.runtime.settings.base_url)
    version = html.escape(mimicast.__version__)
    page = LANDING.format(version=version, base=base)
    return HTMLResponse(page, headers=NO_CACHE)


async def healthz_route(request: Request) -> Response:
    """Liveness: the process answers. Touches nothing else, so a slow database never gets a
    healthy process restarted."""
    return JSONResponse({"status": "ok"}, headers=NO_CACHE)


async def readyz_route(request: Request) -> Response:
    """Readiness: the store answers a query and its schema is the newest this code knows."""
    store = request.app.state.runtime.deps.store
    reason = await run_in_threadpool(_store_problem, store)
    if reason is None:
        return JSONResponse({"status": "ready", "revision": revision.head_revision()},
                            headers=NO_CACHE)
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503,
                        headers=NO_CACHE)


def _store_problem(store: Store) -> str | None:
    """Why the store cannot serve, or None when it can."""
    try:
        with store.engine.connect() as connection:
            current = revision.current_revision(connection)
    except SQLAlchemyError as error:
        first = str(getattr(error, "orig", None) or error).splitlines()[0]
        return f"the database does not answer: {first}"
    head = revision.head_revision()
    if current != head:
        return f"the schema is at revision {current or 'none'}, not {head}"
    return None


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> MimicastApp:
    """Build the app; the runtime (store, caches, limiter) is built at startup unless given."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.runtime = runtime or Runtime.build(settings)
        app.state.runtime.start()
        try:
            yield
        finally:
            await app.state.runtime.close()

    pages = Starlette(routes=[Route("/", landing_route, methods=["GET"]),
                              Route("/healthz", healthz_route, methods=["GET"]),
                              Route("/readyz", readyz_route, methods=["GET"]),
                              Route("/openapi.json", openapi_route, methods=["GET"]),
                              Route("/docs", docs_route, methods=["GET"]),
                              Route(UPLOAD_PATH + "{ticket}", upload_route, methods=["PUT"]),
                              Route(PREFIX + "ledger", ledger_route, methods=["GET"])],
                      lifespan=lifespan)
    return MimicastApp(pages)


def create_app_from_env() -> MimicastApp:
    """The factory uvicorn calls in each worker process: `mimicast serve` hands its settings
    over in the environment (`Settings.to_env`)."""
    return create_app(Settings())


# Self-contained, like the docs page: the server may run with no internet access.
LANDING = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>mimicast {version}</title>
<style>
  body {{ font: 15px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto;
         padding: 0 1.5rem; color: #1d2330; }}
  code, pre {{ font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; }}
  pre {{ background: #1d2330; color: #e8ecf3; padding: .9rem 1rem; border-radius: 6px;
        overflow-x: auto; }}
</style>
</head>
<body>
<h1>mimicast {version}</h1>
<p>A self-hosted server that speaks the Mimecast API 1.0.</p>
<ul>
  <li><a href="/docs">API reference</a> (every endpoint, its permission and its fields)</li>
  <li><a href="/openapi.json">OpenAPI 3.1 document</a></li>
  <li><a href="/healthz">/healthz</a> (liveness) and <a href="/readyz">/readyz</a>
      (readiness: the database answers and its schema is current)</li>
</ul>
<h2>Point a client at it</h2>
<p>Use <code>{base}</code> where the integration expects
<code>https://xx-api.mimecast.com</code>. Every API call is a signed <code>POST</code> to a path
under <code>/api/</code>, for example <code>{base}/api/account/get-account</code>; discovery
(<code>/api/login/discover-authentication</code>) answers this URL as <code>region.api</code>.</p>
<pre>mimicast login --base-url {base} --app-id APP_ID --app-key APP_KEY --email EMAIL
mimicast call /api/account/get-account</pre>
</body>
</html>
"""

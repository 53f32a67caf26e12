"""What `mimicast serve` does with valid settings: open the store (creating the demo account
on an empty one), check Redis, bind the port, and only then print the credentials and
"serving" and run. Everything that can fail before serving is one red line and exit 1.

Worker processes get the settings from the environment (`Settings.to_env`) and build the app
with `create_app_from_env`; with one worker, the same factory runs in this process.
"""

from __future__ import annotations

import contextlib
import os
import socket

import uvicorn

from mimicast.cli.common import console, fail, open_deps
from mimicast.config import Settings, hide_password
from mimicast.server.protocol import header_limited
from mimicast.services.demo import DemoCredentials, demo_exists, ensure_demo, store_is_empty

APP_FACTORY = "mimicast.server.app:create_app_from_env"
REDIS_TIMEOUT_SECONDS = 3


def serve(settings: Settings) -> None:
    demo = _demo(settings)
    if settings.redis_url:
        _check_redis(settings.redis_url)
    config = uvicorn.Config(APP_FACTORY, factory=True, host=settings.host, port=settings.port,
                            workers=settings.workers, log_level=settings.log_level,
                            access_log=False, http=header_limited(settings.max_header_bytes))
    sock = _bind(settings.host, settings.port, config.backlog)
    if demo is not None:
        credentials, created = demo
        console().print("[bold]Created the demo account.[/bold]" if created
                      else "[bold]Demo account[/bold]")
        for name, value in credentials.as_dict().items():
            console().print(f"  {name:12} {value}", highlight=False, soft_wrap=True)
    console().print(f"mimicast serving {settings.base_url} "
                  f"(database {hide_password(settings.db)})", highlight=False, soft_wrap=True)
    os.environ.update(settings.to_env())
    if settings.workers == 1:
        server = uvicorn.Server(config)
        # uvicorn re-raises the Ctrl-C it handled once it has shut down: the end, not an error.
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
        if not server.started:
            raise fail("the server did not start (see uvicorn's message above)")
    else:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[sock]).run()


def _demo(settings: Settings) -> tuple[DemoCredentials, bool] | None:
    """The demo account's credentials (made now on an empty store), or None when the store
    holds other accounts only."""
    from sqlalchemy.exc import SQLAlchemyError

    deps = open_deps(settings)
    try:
        if store_is_empty(deps) or demo_exists(deps):
            return ensure_demo(deps)
        return None
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise fail(f"cannot write to the database {hide_password(settings.db)}: "
                   f"{reason}") from None
    finally:
        deps.store.dispose()


def _check_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                  socket_timeout=REDIS_TIMEOUT_SECONDS)
    try:
        client.ping()
    except redis.RedisError as error:
        raise fail(f"cannot reach Redis at {hide_password(url)}: {error}") from None
    finally:
        client.close()


def _bind(host: str, port: int, backlog: int) -> socket.socket:
    """The listening socket, made here so a taken port is one line before anything is
    printed (uvicorn's own bind logs and exits). Listening at once claims the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as error:
        sock.close()
        raise fail(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    # Worker processes inherit it.
    sock.set_inheritable(True)
    return sock

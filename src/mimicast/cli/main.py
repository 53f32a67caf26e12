"""`mimicast serve`, `mimicast init`, and the `admin` command group."""

from __future__ import annotations

import os

import typer

from mimicast.cli.common import DbOption, console, open_deps, print_json
from mimicast.config import Settings
from mimicast.services.demo import demo_exists, ensure_demo, store_is_empty

app = typer.Typer(help="mimicast: a self-hostable Mimecast API 1.0.", no_args_is_help=True,
                  pretty_exceptions_enable=False)


@app.command()
def serve(
    db: str | None = DbOption,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8080, help="Port to listen on."),
    public_url: str | None = typer.Option(
        None, help="Base URL clients reach (discovery's region.api); default http://HOST:PORT."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
    rate_limit: int | None = typer.Option(
        None, min=1, help="Calls per user per rate window, overriding every account's quota."),
    explain_auth: bool = typer.Option(
        False, help="On a 401, send the expected string-to-sign in a response header."),
    redis_url: str | None = typer.Option(
        None, help="Share rate-limit state through Redis (several workers or hosts)."),
    dns: str = typer.Option("simulated", help="'simulated' (mimicast admin dns) or 'real'."),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
) -> None:
    """Serve the API at / on HOST:PORT; on an empty store, create the demo account first."""
    import uvicorn

    settings = Settings.from_env(db=db, host=host, port=port, public_url=public_url,
                                 workers=workers, rate_limit=rate_limit,
                                 explain_auth=explain_auth or None, redis_url=redis_url, dns=dns)
    deps = open_deps(settings.db)
    if store_is_empty(deps) or demo_exists(deps):
        credentials, created = ensure_demo(deps)
        console.print("[bold]Created the demo account.[/bold]" if created
                      else "[bold]Demo account[/bold]")
        for name, value in credentials.as_dict().items():
            console.print(f"  {name:12} {value}", highlight=False, soft_wrap=True)
    deps.store.dispose()
    console.print(f"mimicast serving {settings.base_url} (database {settings.db})",
                  highlight=False, soft_wrap=True)
    # Workers are separate processes: they read the settings from the environment.
    os.environ.update(settings.to_env())
    uvicorn.run("mimicast.server.app:create_app_from_env", factory=True, host=settings.host,
                port=settings.port, workers=settings.workers, log_level=log_level,
                access_log=False)


@app.command()
def init(
    db: str | None = DbOption,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Create the demo account if it is missing and print its credentials."""
    deps = open_deps(db)
    credentials, created = ensure_demo(deps)
    deps.store.dispose()
    if as_json:
        print_json(credentials.as_dict())
        return
    console.print("Created the demo account." if created else "The demo account exists.")
    for name, value in credentials.as_dict().items():
        console.print(f"  {name:12} {value}", highlight=False, soft_wrap=True)


def _register_groups() -> None:
    from mimicast.cli import admin, client_commands

    app.add_typer(admin.app, name="admin")
    client_commands.register(app)


_register_groups()

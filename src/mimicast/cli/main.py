"""`mimicast serve`, `mimicast init`, `--version`, and the `admin` and client command groups.

Each `serve` flag is a setting of `mimicast.config.Settings` and reads its `MIMICAST_*`
variable when not given; the values go to Settings as given, which parses and validates them
all (a test keeps these flags and the settings in step). Nothing heavy is imported here:
`mimicast --help` builds every command of the tree.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperGroup

from mimicast.cli.common import DbOption, console, open_deps, print_json, settings_from
from mimicast.sim import DEFAULT_DAYS, DEFAULT_MESSAGES, DEFAULT_SEED

# Plain-text help, as every group's (see common.command_group).
app = typer.Typer(help="mimicast: a self-hostable Mimecast API 1.0.", no_args_is_help=True,
                  rich_markup_mode=None, pretty_exceptions_enable=False)


def _setting(name: str, help: str, default: str, metavar: str | None = None,
             flag: str | None = None) -> Any:
    """The option of setting `name`: its flag, its variable, and its default as help shows it
    (Settings holds the value itself)."""
    return typer.Option(flag or f"--{name.replace('_', '-')}", envvar=f"MIMICAST_{name.upper()}",
                        show_envvar=True, show_default=default, metavar=metavar, help=help)


def _switch(name: str, help: str) -> Any:
    dashed = name.replace("_", "-")
    return _setting(name, help, "off", flag=f"--{dashed}/--no-{dashed}")


def _version(value: bool) -> None:
    if value:
        import mimicast

        typer.echo(f"mimicast {mimicast.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_version,
        help="Print the version and exit.")] = False,
) -> None:
    """mimicast: a self-hostable Mimecast API 1.0."""


@app.command()
def serve(
    db: str | None = DbOption,
    host: Annotated[str | None, _setting(
        "host", "Address to listen on.", "127.0.0.1", "ADDRESS")] = None,
    port: Annotated[str | None, _setting("port", "Port to listen on.", "8080", "PORT")] = None,
    public_url: Annotated[str | None, _setting(
        "public_url", "Base URL clients reach (discovery's region.api).", "http://HOST:PORT",
        "URL")] = None,
    workers: Annotated[str | None, _setting(
        "workers", "Worker processes (with several, use --redis-url to share rate limits).",
        "1", "N")] = None,
    rate_limit: Annotated[str | None, _setting(
        "rate_limit", "Calls per user per rate window, overriding every account's quota.",
        "each account's own", "N")] = None,
    explain_auth: Annotated[bool | None, _switch(
        "explain_auth", "On a 401, send the expected string-to-sign in a response "
                        "header.")] = None,
    max_clock_skew: Annotated[str | None, _setting(
        "max_clock_skew", "Reject an x-mc-date further than this many seconds from now.",
        "off", "SECONDS")] = None,
    reject_replayed_request_ids: Annotated[bool | None, _switch(
        "reject_replayed_request_ids", "Reject a repeated x-mc-req-id.")] = None,
    key_file: Annotated[str | None, _setting(
        "key_file", "The key that encrypts secrets at rest (made on first use; "
                    "MIMICAST_SECRET_KEY instead holds the key itself).",
        "secret.key in the data directory", "PATH")] = None,
    dns: Annotated[str | None, _setting(
        "dns", "Where verify-domain reads TXT records: simulated (mimicast admin dns) or "
               "real.", "simulated", "simulated|real")] = None,
    redis_url: Annotated[str | None, _setting(
        "redis_url", "Share rate-limit and login-throttle state through Redis (several "
                     "workers or hosts).", "none: in memory", "URL")] = None,
    cache_seconds: Annotated[str | None, _setting(
        "cache_seconds", "How long applications and bindings stay cached; a revoked binding "
                         "stops within this.", "1.0", "SECONDS")] = None,
    log_level: Annotated[str | None, _setting(
        "log_level", "uvicorn's log level: critical, error, warning, info, debug or trace.",
        "warning", "LEVEL")] = None,
    store_threads: Annotated[str | None, _setting(
        "store_threads", "Threads per worker process that run store work; each keeps one "
                         "database connection.", "4", "N")] = None,
    login_concurrency: Annotated[str | None, _setting(
        "login_concurrency", "Password checks (argon2) run at once per process.", "2",
        "N")] = None,
    login_queue: Annotated[str | None, _setting(
        "login_queue", "Password checks that may wait; a login beyond that is answered "
                       "HTTP 429.", "32", "N")] = None,
    login_max_failures: Annotated[str | None, _setting(
        "login_max_failures", "Failed logins for one address before it is throttled.", "5",
        "N")] = None,
    login_max_failures_per_client: Annotated[str | None, _setting(
        "login_max_failures_per_client", "Failed logins from one client IP address before it "
                                         "is throttled.", "20", "N")] = None,
    login_backoff_seconds: Annotated[str | None, _setting(
        "login_backoff_seconds", "The first throttle period; it doubles with each further "
                                 "failure.", "30.0", "SECONDS")] = None,
    login_backoff_max_seconds: Annotated[str | None, _setting(
        "login_backoff_max_seconds", "The longest throttle period.", "900.0",
        "SECONDS")] = None,
    max_header_bytes: Annotated[str | None, _setting(
        "max_header_bytes", "The largest request head (request line + headers) accepted; a "
                            "larger one is answered HTTP 431.", "32768", "BYTES")] = None,
    max_upload_bytes: Annotated[str | None, _setting(
        "max_upload_bytes", "The largest file file/file-upload takes for sending (at most "
                            "104857600).", "26214400", "BYTES")] = None,
    siem_slice_minutes: Annotated[str | None, _setting(
        "siem_slice_minutes", "Minutes each SIEM log file covers (1-1440).", "30",
        "MINUTES")] = None,
    log_retention_days: Annotated[str | None, _setting(
        "log_retention_days", "Days the logs keep (the SIEM files and the log endpoints).",
        "7", "DAYS")] = None,
    simulate: Annotated[str | None, _setting(
        "simulate", "Simulate live mail while serving: RATE messages a minute to each "
                    "account (with --workers N, each worker sends RATE/N).", "off",
        "RATE")] = None,
) -> None:
    """Serve the API at / on HOST:PORT; on an empty store, create the demo account first."""
    # Every parameter is a setting, under its own name.
    settings = settings_from(**locals())
    from mimicast.cli import serving

    serving.serve(settings)


@app.command()
def init(
    db: str | None = DbOption,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Create the demo account if it is missing and print its credentials."""
    from mimicast.services.demo import ensure_demo

    deps = open_deps(settings_from(db=db))
    try:
        credentials, created = ensure_demo(deps)
    finally:
        deps.store.dispose()
    if as_json:
        print_json(credentials.as_dict())
        return
    console().print("Created the demo account." if created else "The demo account exists.")
    for name, value in credentials.as_dict().items():
        console().print(f"  {name:12} {value}", highlight=False, soft_wrap=True)


@app.command()
def simulate(
    messages: Annotated[str | None, typer.Option(
        "--messages", metavar="N", show_default=f"{DEFAULT_MESSAGES:,}",
        help="Messages the seed's run should have; only the missing ones are made.")] = None,
    days: Annotated[str | None, typer.Option(
        "--days", metavar="D", show_default=f"{DEFAULT_DAYS}, or the seed's first run's",
        help="Spread them over the last D days (a rerun keeps its seed's window).")] = None,
    seed: Annotated[str | None, typer.Option(
        "--seed", metavar="S", show_default=f"{DEFAULT_SEED}",
        help="The same seed makes the same messages.")] = None,
    account: Annotated[str | None, typer.Option(
        "--account", metavar="CODE", envvar="MIMICAST_ACCOUNT",
        show_default="the only account", help="Account code.")] = None,
    db: str | None = DbOption,
) -> None:
    """Backfill an account with simulated mail, through its policies: deterministic for a
    seed, and a rerun with the same seed adds only what is missing. Safe while `mimicast
    serve` uses the same database (it writes in batches of 1,000 messages)."""
    from mimicast.cli.simulating import simulate as run

    run(messages, days, seed, account, db)


@app.command()
def ledger(
    binding: Annotated[str | None, typer.Option(
        "--binding", metavar="ID", show_default="every binding",
        help="The binding (as listed under Collectors) whose fetches to check.")] = None,
    start: Annotated[str | None, typer.Option(
        "--from", metavar="DATE", show_default="the retention's start",
        help="The window's start (2026-11-30 or 2026-11-30T09:00:00Z).")] = None,
    end: Annotated[str | None, typer.Option(
        "--to", metavar="DATE", show_default="now", help="The window's end.")] = None,
    account: Annotated[str | None, typer.Option(
        "--account", metavar="CODE", envvar="MIMICAST_ACCOUNT",
        show_default="the only account", help="Account code.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
    db: str | None = DbOption,
) -> None:
    """What collectors were served of the logs: for the window, the SIEM events available,
    served once, served more than once and never served, tokens sent back for files already
    served, and the log pages each binding fetched."""
    from mimicast.cli.ledger import ledger as run

    run(binding, start, end, account, as_json, db)


class _AdminGroup(TyperGroup):
    """`mimicast admin`, built when a command under it is looked up (click's lazy-loading
    pattern): its forty commands take longer to build than the rest of `mimicast --help`."""

    @functools.cached_property
    def _loaded(self) -> TyperGroup:
        from mimicast.cli import admin

        return typer.main.get_group(admin.app)

    def list_commands(self, ctx: Any) -> list[str]:
        return self._loaded.list_commands(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self._loaded.get_command(ctx, cmd_name)


def _register_groups() -> None:
    from mimicast.cli import client_commands, logs, siem

    app.add_typer(typer.Typer(cls=_AdminGroup, no_args_is_help=True, rich_markup_mode=None),
                  name="admin", help="Administer accounts, domains, users, roles, groups, "
                                     "profiles, applications.")
    client_commands.register(app)
    app.add_typer(siem.app, name="siem")
    app.add_typer(logs.app, name="logs")


_register_groups()

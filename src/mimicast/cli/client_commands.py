"""The client half of the CLI: `mimicast login`, `whoami`, `call` and `endpoints`.

Everything goes through the SDK (`mimicast.client.Client`): the CLI only finds the keys (a
stored profile, overridden by environment variables), builds the body and prints the answer.

Environment variables (they override the profile's values):
MIMICAST_PROFILE, MIMICAST_BASE_URL, MIMICAST_APP_ID, MIMICAST_APP_KEY, MIMICAST_ACCESS_KEY and
MIMICAST_CLIENT_SECRET_KEY — not MIMICAST_SECRET_KEY, which is the server's key for secrets at
rest (`mimicast serve`), so one shell can run both.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import typer

from mimicast.cli import profiles
from mimicast.cli.common import console, errors, fail
from mimicast.cli.profiles import Profile, ProfileError

if TYPE_CHECKING:
    # The SDK (httpx with it) is imported where a command uses it: see cli/common.py.
    from mimicast.client import Client, MimicastError

ACCOUNT_PATH = "/api/account/get-account"
# Profile field → the environment variable that overrides it.
ENV_OVERRIDES = {
    "base_url": "MIMICAST_BASE_URL",
    "app_id": "MIMICAST_APP_ID",
    "app_key": "MIMICAST_APP_KEY",
    "access_key": "MIMICAST_ACCESS_KEY",
    "secret_key": "MIMICAST_CLIENT_SECRET_KEY",
}
# A command line is interactive: a dead server should fail in a second, not after a long
# back-off (429s still wait what the server asks).
CLIENT_OPTIONS: dict[str, Any] = {"max_retries": 2, "backoff": 0.2, "timeout": 30.0}

ProfileOption = typer.Option(profiles.DEFAULT_PROFILE, "--profile", "-p",
                             envvar="MIMICAST_PROFILE", help="The named profile to use.")


class CliError(Exception):
    """Bad input or state the user can fix: printed as one line, exit 1."""


def describe(error: MimicastError, base_url: str | None = None) -> str:
    from mimicast.client import TransportError

    if isinstance(error, TransportError):
        return f"cannot reach {base_url or 'the server'}: {error.message}"
    more = f" (+{len(error.errors) - 1} more)" if len(error.errors) > 1 else ""
    status = f", HTTP {error.status}" if error.status else ""
    where = f" ({error.path}{status})" if error.path else ""
    field = f" [{error.field}]" if error.field else ""
    return f"{error.code}: {error.message}{field}{more}{where}"


@contextlib.contextmanager
def one_line_errors(base_url: str | None = None) -> Iterator[None]:
    """Every failure the user can meet becomes one red line on stderr and exit 1."""
    from mimicast.client import MimicastError

    try:
        yield
    except MimicastError as error:
        raise fail(describe(error, base_url)) from None
    except (CliError, ProfileError, ValueError) as error:
        raise fail(str(error)) from None


def resolve(name: str) -> Profile:
    """The named profile with the environment's overrides applied; every value required."""
    stored = profiles.load(name)
    values: dict[str, Any] = {} if stored is None else vars(stored).copy()
    for field, variable in ENV_OVERRIDES.items():
        if os.environ.get(variable):
            values[field] = os.environ[variable]
    missing = [variable for field, variable in ENV_OVERRIDES.items() if not values.get(field)]
    if stored is None and missing:
        raise CliError(f"no profile {name!r} in {profiles.profiles_path()}; run `mimicast "
                       f"login` first (or set {', '.join(missing)})")
    values.setdefault("email", None)
    values.setdefault("auth_type", None)
    return Profile(**values)


def client_for(profile: Profile, **options: Any) -> Client:
    from mimicast.client import Client

    return Client(profile.base_url, profile.app_id, profile.app_key, profile.access_key,
                  profile.secret_key, **CLIENT_OPTIONS, **options)


def emit(value: Any) -> None:
    """JSON on stdout: indented for a person at a terminal, one compact line for a pipe."""
    if sys.stdout.isatty():
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    else:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    sys.stdout.write(text + "\n")


# --- login -----------------------------------------------------------------------------------

def login(
    profile: str = ProfileOption,
    base_url: str | None = typer.Option(None, "--base-url", envvar="MIMICAST_BASE_URL",
                                        help="The API's base URL (e.g. http://127.0.0.1:8080)."),
    region: str | None = typer.Option(None, "--region",
                                      help="A Mimecast region (eu, us, de, …) instead."),
    app_id: str = typer.Option(..., "--app-id", envvar="MIMICAST_APP_ID"),
    app_key: str = typer.Option(..., "--app-key", envvar="MIMICAST_APP_KEY"),
    email: str | None = typer.Option(None, "--email", help="Log in with this address…"),
    password: str | None = typer.Option(
        None, "--password", help="…and password (default: prompt, or one line of stdin)."),
    auth_type: str = typer.Option("cloud", "--auth-type", help="cloud or domain."),
    access_key: str | None = typer.Option(None, "--access-key",
                                          help="Or store existing keys: the access key…"),
    secret_key: str | None = typer.Option(None, "--secret-key", help="…and secret key."),
) -> None:
    """Log in (or check existing keys) and store the keys as a named profile."""
    with one_line_errors(base_url or region):
        if base_url and region:
            raise CliError("give --base-url or --region, not both")
        if email and (access_key or secret_key):
            raise CliError("give --email (and a password) or --access-key and --secret-key, "
                           "not both")
        if email:
            stored = _log_in(email, password, app_id, app_key, auth_type, base_url, region)
        elif access_key and secret_key:
            stored = _check_keys(base_url, region, app_id, app_key, access_key, secret_key)
        else:
            raise CliError("give --email, or both --access-key and --secret-key")
        where = profiles.save(profile, stored)
    who = stored.email or f"access key {stored.access_key}"
    from rich.markup import escape

    console().print(f"Logged in to {escape(stored.base_url)} as {escape(who)}; profile "
                  f"{escape(repr(profile))} saved in {escape(where)}.", highlight=False,
                  soft_wrap=True)


def _read_password(password: str | None) -> str:
    if password is not None:
        return password
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True))
    # A script may pipe the password in rather than show it in the process list.
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise CliError("no password: give --password, type it at the prompt, or pipe it in")
    return line


def _log_in(email: str, password: str | None, app_id: str, app_key: str, auth_type: str,
            base_url: str | None, region: str | None) -> Profile:
    from mimicast.client import Client

    secret = _read_password(password)
    with Client.login(email, secret, app_id, app_key, auth_type=auth_type, base_url=base_url,
                      region=region, **CLIENT_OPTIONS) as client:
        # Where calls go: the base URL or region given, else the region discovery returned.
        api = client.base_url
        return Profile(api, app_id, app_key, client.access_key, client.secret_key,
                       email=email, auth_type=auth_type.strip().lower())


def _check_keys(base_url: str | None, region: str | None, app_id: str, app_key: str,
                access_key: str, secret_key: str) -> Profile:
    from mimicast.client import AuthenticationError, Client, PermissionDeniedError

    if not base_url and not region:
        raise CliError("with --access-key, give --base-url or --region")
    with Client(base_url, app_id, app_key, access_key, secret_key, region=region,
                **CLIENT_OPTIONS) as client:
        api = client.base_url
        try:
            client.call(ACCOUNT_PATH)
        except PermissionDeniedError:
            # The signature was accepted; only the role lacks Account | Dashboard | Read.
            errors().print("[yellow]warning[/yellow]: the keys are valid, but their user may not "
                         f"call {ACCOUNT_PATH} (HTTP 403); storing them anyway",
                         soft_wrap=True, highlight=False)
        except AuthenticationError as error:
            raise CliError(f"the keys were refused: {describe(error)}") from None
    return Profile(api, app_id, app_key, access_key, secret_key)


# --- whoami ----------------------------------------------------------------------------------

def whoami(
    profile: str = ProfileOption,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show the account and user behind a profile (one signed call)."""
    with one_line_errors():
        keys = resolve(profile)
    with one_line_errors(keys.base_url), client_for(keys) as client:
        data = client.call(ACCOUNT_PATH)
    account = data[0] if data and isinstance(data[0], dict) else {}
    info = {"profile": profile, "baseUrl": keys.base_url, "user": keys.email,
            "accessKey": keys.access_key, "accountCode": account.get("accountCode"),
            "accountName": account.get("accountName")}
    if as_json:
        emit(info)
        return
    from rich.markup import escape

    lines = [("Account", f"{info['accountCode']} ({info['accountName']})"),
             ("Base URL", keys.base_url),
             ("User", keys.email or f"(keys only) access key {keys.access_key}"),
             ("Profile", profile)]
    for label, value in lines:
        console().print(f"{label:9} {escape(str(value))}", highlight=False, soft_wrap=True)


# --- call ------------------------------------------------------------------------------------

def call(
    path: str = typer.Argument(..., help="The endpoint, e.g. /api/account/get-account."),
    data: str | None = typer.Option(
        None, "--data", "-d",
        help="JSON: an object (one item), a list (items) or a whole {data, meta} body; "
             "@FILE reads a file, - reads stdin."),
    profile: str = ProfileOption,
    all_pages: bool = typer.Option(False, "--all-pages",
                                   help="Follow meta.pagination.next to the last page."),
) -> None:
    """Make one signed call and print the answer's data as JSON."""
    from mimicast.client import MimicastError

    with one_line_errors():
        if not path.startswith("/api/"):
            raise CliError(f"the path must start with /api/, not {path!r}")
        items, meta = request_parts(read_data(data))
        keys = resolve(profile)
    with one_line_errors(keys.base_url):
        try:
            result = _call_pages(keys, path, items, meta) if all_pages else \
                _call_once(keys, path, items, meta)
        except MimicastError as error:
            # Items that did succeed in a multi-item call are still worth printing.
            if error.data:
                emit(error.data)
            raise
    emit(result)


def read_data(option: str | None) -> Any:
    """The parsed `--data` value (None when not given)."""
    if option is None:
        return None
    if option == "-":
        text, source = sys.stdin.read(), "stdin"
    elif option.startswith("@"):
        name = option[1:]
        try:
            with open(name, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise CliError(f"cannot read {name}: {reason}") from None
        source = name
    else:
        text, source = option, "--data"
    try:
        return json.loads(text)
    except ValueError as error:
        raise CliError(f"{source} is not valid JSON: {error}") from None


def request_parts(value: Any) -> tuple[list[Any], dict[str, Any] | None]:
    """`(items, meta)` from the `--data` value: an object is one item, a list is the items,
    and an object of only `data` (and `meta`) is a whole body, passed through."""
    if value is None:
        return [], None
    if isinstance(value, dict) and "data" in value and set(value) <= {"data", "meta"}:
        meta = value.get("meta")
        if meta is not None and not isinstance(meta, dict):
            raise CliError("the body's meta must be a JSON object")
        items = value["data"]
        return (items if isinstance(items, list) else [items]), meta
    if isinstance(value, dict):
        return [value], None
    if isinstance(value, list):
        return value, None
    raise CliError("--data must be a JSON object, a list, or a {\"data\": [...]} body")


def _call_once(keys: Profile, path: str, items: list[Any], meta: dict[str, Any] | None) -> Any:
    with client_for(keys) as client:
        return client.call(path, items, meta)


def _call_pages(keys: Profile, path: str, items: list[Any],
                meta: dict[str, Any] | None) -> list[Any]:
    """Every page's data, in order: the call again with `pageToken = next` until no `next`."""
    from mimicast.client import RepeatedTokenError

    pagination = (meta or {}).get("pagination")
    pagination = pagination if isinstance(pagination, dict) else {}
    size = pagination.get("pageSize")
    token = pagination.get("pageToken")
    results: list[Any] = []
    with client_for(keys) as client:
        pager = client.paginate(path, items, page_size=size if isinstance(size, int) else None,
                                page_token=str(token) if token else None)
        try:
            for page in pager.pages():
                results.extend(page.data)
        except RepeatedTokenError as error:
            raise CliError(str(error)) from None
    return results


# --- endpoints -------------------------------------------------------------------------------

def endpoints(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
) -> None:
    """The implemented endpoints: path, permission, items per request, summary."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from mimicast.catalog import ENDPOINTS
    from mimicast.server.openapi import items_label, permission_label

    rows = [{"path": path, "namespace": endpoint.namespace,
             "permission": permission_label(endpoint), "items": items_label(endpoint),
             "summary": endpoint.summary, "unsigned": endpoint.unsigned}
            for path, endpoint in sorted(ENDPOINTS.items())]
    if as_json:
        emit(rows)
        return
    table = Table(show_lines=False)
    # Paths never wrap: they are what a reader copies into `mimicast call`.
    table.add_column("Path", no_wrap=True)
    table.add_column("Permission")
    table.add_column("Items")
    table.add_column("Summary")
    for row in rows:
        table.add_row(*(escape(str(row[column]))
                        for column in ("path", "permission", "items", "summary")))
    # Piped, the table is for grep and diff: wide rows rather than wrapped 80-column cells.
    (console() if console().is_terminal else Console(width=240)).print(table)


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("whoami")(whoami)
    app.command("call")(call)
    app.command("endpoints")(endpoints)

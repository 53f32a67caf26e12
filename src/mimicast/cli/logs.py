"""`mimicast logs ttp-url|ttp-attachment|impersonation|dlp`: a log endpoint's records between
two times, every page, through the SDK's generated pager: a table, or JSON lines (`--json`).

One table below names each log's endpoint and the columns its table shows; the endpoint's
request fields, wrapper (`clickLogs`, `attachmentLogs`, …) and record model come from the
catalog. A log whose endpoint this mimicast does not have yet says so in one line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from mimicast.cli.client_commands import (
    CliError,
    ProfileOption,
    client_for,
    one_line_errors,
    resolve,
)
from mimicast.cli.common import command_group, console

if TYPE_CHECKING:
    from mimicast.catalog.model import Endpoint


@dataclass(frozen=True)
class Log:
    path: str
    title: str
    columns: tuple[str, ...]  # what the table shows; --json prints every field


LOGS = {
    "ttp-url": Log("/api/ttp/url/get-logs", "URL Protect's clicks",
                   ("date", "userEmailAddress", "url", "scanResult", "action", "route")),
    "ttp-attachment": Log("/api/ttp/attachment/get-logs", "Attachment Protect's files",
                          ("date", "recipientAddress", "fileName", "result", "actionTriggered",
                           "route")),
    "impersonation": Log("/api/ttp/impersonation/get-logs", "Impersonation Protect's hits",
                         ("eventTime", "senderAddress", "recipientAddress", "subject",
                          "action", "definition")),
    "dlp": Log("/api/dlp/get-logs", "Data leak prevention's policy hits",
               ("eventTime", "senderAddress", "recipientAddress", "subject", "policy",
                "action")),
}

app = command_group("Read a log endpoint's records (TTP URL, attachment and impersonation, "
                    "DLP) between two times, every page.")


def endpoint_of(log: Log) -> Endpoint:
    """The catalog's entry of the log's endpoint; a CliError when this mimicast lacks it."""
    from mimicast.catalog import ENDPOINTS

    endpoint = ENDPOINTS.get(log.path)
    if endpoint is None or not endpoint.paged:
        raise CliError(f"this mimicast has no {log.path} yet (see `mimicast endpoints`)")
    return endpoint


def request_keywords(endpoint: Endpoint, given: dict[str, str | None]) -> dict[str, str]:
    """The generated method's keywords for the wire fields given (`from` is `from_`)."""
    from mimicast.client.resources import request_fields

    by_wire = {wire: name for name, (wire, _) in request_fields(endpoint).items()}
    keywords = {}
    for wire, value in given.items():
        if value is None:
            continue
        if wire not in by_wire:
            raise CliError(f"{endpoint.path} takes no --{wire}")
        keywords[by_wire[wire]] = value
    return keywords


def as_dict(record: Any) -> dict[str, Any]:
    """A record as the wire has it (a typed model is dumped by its field names)."""
    if hasattr(record, "model_dump"):
        return dict(record.model_dump(mode="json", by_alias=True))
    return dict(record)


def show(log: Log, start: str | None, end: str | None, as_json: bool, profile: str) -> None:
    with one_line_errors():
        keys = resolve(profile)
        endpoint = endpoint_of(log)
        keywords = request_keywords(endpoint, {"from": start, "to": end})
    from mimicast.client.resources import attribute_name

    with one_line_errors(keys.base_url), client_for(keys) as client:
        method = getattr(getattr(client, attribute_name(endpoint.namespace)),
                         attribute_name(endpoint.action))
        records = (as_dict(record) for record in method(**keywords))
        if as_json:
            # JSON lines, written as the pages arrive: for jq, grep and files.
            for record in records:
                sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            return
        _table(log, records)


def _table(log: Log, records: Iterable[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{log.title} ({log.path})")
    for column in log.columns:
        table.add_column(column)
    count = 0
    for record in records:
        table.add_row(*(escape("" if record.get(c) is None else str(record.get(c)))
                        for c in log.columns))
        count += 1
    # Piped, the table is for grep: wide rows rather than wrapped cells.
    out = console() if console().is_terminal else Console(width=240)
    out.print(table)
    out.print(f"{count:,} records", highlight=False)


def _command(log: Log) -> Callable[..., None]:
    def command(
        start: str | None = typer.Option(
            None, "--from", metavar="DATE", show_default="the endpoint's default",
            help="The oldest time (2026-11-30 or 2026-11-30T09:00:00+0000)."),
        end: str | None = typer.Option(None, "--to", metavar="DATE", show_default="now",
                                       help="The newest time."),
        as_json: bool = typer.Option(False, "--json", help="One JSON object a line."),
        profile: str = ProfileOption,
    ) -> None:
        show(log, start, end, as_json, profile)

    return command


for _name, _log in LOGS.items():
    app.command(_name, help=f"{_log.title}: {_log.path}, every page, newest first.")(
        _command(_log))

"""`mimicast ledger`: what each collector was served of the logs, against what the logs hold
(services/logs/coverage.py). Flags are read here so a bad one is one red line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mimicast.cli.admin_common import store
from mimicast.cli.common import console, fail, failures_as_exit, settings_from


def _moment(flag: str, given: str | None) -> datetime | None:
    from mimicast.wire.dates import parse_date
    from mimicast.wire.errors import ApiError

    if given is None:
        return None
    try:
        return parse_date(given, flag)
    except ApiError:
        raise fail(f"{flag}: {given!r} is not a date (2026-11-30 or 2026-11-30T09:00:00Z)",
                   code=2) from None


def ledger(binding: str | None, start: str | None, end: str | None, account: str | None,
           as_json: bool, db: str | None) -> None:
    chosen = None
    if binding is not None:
        try:
            chosen = int(binding)
        except ValueError:
            raise fail(f"--binding: {binding!r} is not a binding id (a whole number)",
                       code=2) from None
    since, until = _moment("--from", start), _moment("--to", end)
    settings_from(db=db)  # an unsupported URL: one line, exit 2, before anything else
    with store(db) as deps:
        from mimicast.services import identity
        from mimicast.services.context import Caller, Context
        from mimicast.services.logs import coverage

        with failures_as_exit(), deps.store.unit(write=False) as unit:
            found = identity.find_account(unit.session, account)
            ctx = Context(deps, unit, Caller(account_id=found.id, actor="cli"))
            until = until or ctx.now()
            since = since or until - deps.log_retention
            if since >= until:
                raise fail("--from must be before --to", code=2)
            report = coverage.report(ctx, chosen, since, until)
            bindings = coverage.collectors(ctx)
    if as_json:
        console().print_json(coverage.as_json({**report, "collectors": bindings}).decode())
        return
    _show(report, bindings, found.code)


def _show(report: dict[str, Any], bindings: list[dict[str, Any]], code: str) -> None:
    from rich.table import Table

    out = console()
    who = f"binding {report['binding']}" if report["binding"] is not None else "every binding"
    out.print(f"[bold]{code}[/] · {who} · {report['from']:%Y-%m-%d %H:%M} to "
              f"{report['to']:%Y-%m-%d %H:%M} UTC")
    siem = report["siem"]
    table = Table("SIEM", "files", "events", title="SIEM files in the window")
    table.add_row("available", f"{siem['files']:,}", f"{siem['events']:,}")
    table.add_row("served once", "", f"{siem['served_once']:,}")
    table.add_row("served more than once", f"{siem['files_served_more']:,}",
                  f"{siem['served_more']:,}")
    table.add_row("never served", f"{siem['files_never_served']:,}",
                  f"{siem['never_served']:,}")
    table.add_row("tokens re-sent", f"{siem['tokens_resent']:,}", "")
    out.print(table)
    if siem["missing_by_type"]:
        out.print("never served, by type: " + ", ".join(
            f"{kind} {count:,}" for kind, count in siem["missing_by_type"].items()))
    pages = report["pages"]
    if pages:
        paged = Table("log", "available", "served once", "more than once", "never served",
                      "pages", "pages repeated", "pages filtered",
                      title="Log entries in the window, and the pages served")
        for page in pages:
            paged.add_row(page["log"].removeprefix("/api/"),
                          *(f"{page[key]:,}" for key in (
                              "available", "served_once", "served_more", "never_served",
                              "pages", "pages_repeated", "pages_filtered")))
        out.print(paged)
    listed = Table("binding", "user", "files and pages", "events", "last served",
                   title="Collectors")
    for row in bindings:
        listed.add_row(str(row["binding"]), str(row["user"]), f"{row['served']:,}",
                       f"{row['events']:,}", f"{row['lastServed']:%Y-%m-%d %H:%M:%S}")
    out.print(listed)


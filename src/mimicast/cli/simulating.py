"""`mimicast simulate`: backfill an account with simulated mail, with a progress bar and a
one-line summary. Flags are read here (not by click) so a bad one is one red line."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from mimicast.cli.admin_common import store
from mimicast.cli.common import console, fail, failures_as_exit, settings_from

if TYPE_CHECKING:
    from rich.progress import Task
    from rich.text import Text

    from mimicast.sim.runs import Report


def number(flag: str, given: str | None, default: int, low: int, high: int) -> int:
    """The flag's whole number, or its default; anything else is one line and exit 2."""
    if given is None:
        return default
    try:
        value = int(given.strip().replace("_", "").replace(",", ""))
    except ValueError:
        raise fail(f"{flag}: {given!r} is not a whole number", code=2) from None
    if not low <= value <= high:
        raise fail(f"{flag}: give a whole number from {low:,} to {high:,} (not {value:,})",
                   code=2)
    return value


def simulate(messages: str | None, days: str | None, seed: str | None, account: str | None,
             db: str | None) -> None:
    from mimicast.sim import DEFAULT_MESSAGES, DEFAULT_SEED
    from mimicast.sim.runs import LIMITS

    count = number("--messages", messages, DEFAULT_MESSAGES, *LIMITS["messages"])
    window = None if days is None else number("--days", days, 0, *LIMITS["days"])
    chosen = number("--seed", seed, DEFAULT_SEED, *LIMITS["seed"])
    settings_from(db=db)  # an unsupported URL: one line, exit 2, before anything else
    with store(db) as deps:
        from mimicast.services import identity
        from mimicast.sim.runs import SimulationError, backfill

        with failures_as_exit(), deps.store.unit(write=False) as unit:
            found = identity.find_account(unit.session, account)
            account_id, code = found.id, found.code
        with _progress() as bar:
            task = bar.add_task("simulating", total=count)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done)

            try:
                report = backfill(deps, account_id, seed=chosen, messages=count, days=window,
                                  progress=advance)
            except SimulationError as error:
                raise fail(str(error)) from None
            except KeyboardInterrupt:
                done = int(bar.tasks[0].completed)
                raise fail(f"interrupted after {done:,} of {count:,} messages (the batches "
                           "made are kept): run the same command to go on", code=130) from None
    console().print(summary(code, report), highlight=False, soft_wrap=True, markup=False)


def summary(code: str, report: Report) -> str:
    """The one line a run ends with."""
    tally = report.tally
    window = f"seed {report.seed}, {report.days} days to {_when(report.anchor)}"
    if not tally.messages:
        return (f"{code} already has {report.total:,} messages of {window}: nothing to add "
                "(ask for more with --messages, or another --seed).")
    statuses = ", ".join(f"{count:,} {status}" for status, count in tally.statuses.items())
    added = (f"Simulated {tally.messages:,} messages" if not report.before else
             f"Added {tally.messages:,} messages ({report.total:,} in all)")
    return (f"{added} for {code} ({window}): {tally.recipients:,} recipients: {statuses}; "
            f"{tally.clicks:,} clicks.")


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _progress() -> Any:
    """A progress bar (messages, messages/s, time left) on a terminal; nothing elsewhere."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} messages/s" if speed else "", style="progress.data.speed")

    out = console()
    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TextColumn("messages"), Rate(),
                    TimeRemainingColumn(), console=out, disable=not out.is_terminal,
                    transient=False)

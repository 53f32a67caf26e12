"""`mimicast siem pull`: collect the SIEM log into a directory through the SDK's collector
(`client.siem.download`), with a live display of files, events, megabytes and rate.

A run goes on where the last one stopped (the checkpoint, by default in the directory), so
it can be killed at any moment and started again. Flags are read here (not by click) so a
bad one is one red line and exit 2; a failure of the server or the keys is one line and
exit 1; caught up (without --follow) is exit 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mimicast.cli.client_commands import ProfileOption, client_for, one_line_errors, resolve
from mimicast.cli.common import command_group, console, fail

if TYPE_CHECKING:
    from rich.progress import Progress, Task, TaskID
    from rich.text import Text

    from mimicast.client.siem import SavedFile, Summary

app = command_group("Collect the account's SIEM log (audit/get-siem-logs) into files.")

INVALID_TOKEN = "err_audit_siem_invalid_token"


def _interval(given: str) -> float:
    try:
        value = float(given)
    except ValueError:
        raise fail(f"--poll-interval: {given!r} is not a number of seconds", code=2) from None
    if not 0 < value <= 86_400:
        raise fail(f"--poll-interval: give seconds above 0, at most 86400 (not {given})",
                   code=2)
    return value


@app.command()
def pull(
    directory: str | None = typer.Option(
        None, "--dir", metavar="DIR", show_default=False,
        help="Where the files go, under their served names (made if missing). Required."),
    file_format: str = typer.Option("json", "--format", metavar="json|key_value",
                                    help="The files' format (zipped either way)."),
    follow: bool = typer.Option(False, "--follow",
                                help="Once caught up, keep polling for new files (Ctrl-C "
                                     "stops; the next run goes on from there)."),
    checkpoint: str | None = typer.Option(
        None, "--checkpoint", metavar="FILE", show_default="DIR/.siem-checkpoint.json",
        help="Where the position (the last token) and the counts are kept."),
    poll_interval: str = typer.Option(
        "30", "--poll-interval", metavar="SECONDS",
        help="With --follow: the first wait when caught up; it doubles up to 10 minutes "
             "while nothing comes."),
    profile: str = ProfileOption,
) -> None:
    """Download every SIEM file not fetched yet into DIR, and stop when caught up (or keep
    polling with --follow). Killed or interrupted, the same command goes on where it
    stopped: no file is lost or kept twice."""
    from mimicast.client import ApiFailure
    from mimicast.client.siem import FORMATS, MAX_POLL_INTERVAL
    from mimicast.client.siem_checkpoint import DEFAULT_NAME

    if directory is None:
        raise fail("--dir is required: the directory the SIEM files go to", code=2)
    chosen = file_format.strip().lower()
    if chosen not in FORMATS:
        raise fail(f"--format: {file_format!r} is not json or key_value", code=2)
    interval = _interval(poll_interval)
    folder = Path(directory)
    where = Path(checkpoint) if checkpoint else None
    with one_line_errors():
        keys = resolve(profile)
    display = _Display(follow)
    with one_line_errors(keys.base_url), client_for(keys) as client, display:
        try:
            summary = client.siem.download(
                folder, checkpoint=where, file_format=chosen, follow=follow,
                poll_interval=interval, max_poll_interval=max(interval, MAX_POLL_INTERVAL),
                on_file=display.add)
        except ApiFailure as error:
            if error.code != INVALID_TOKEN:
                raise
            kept = where or folder / DEFAULT_NAME
            raise fail(f"the server refused the token in {kept} ({error.message}): it is "
                       "another account's, or older than the log's retention; move the "
                       "file away to start where this binding last stopped") from None
        except OSError as error:
            raise fail(f"cannot write {error.filename or folder}: "
                       f"{error.strerror or error}") from None
        except KeyboardInterrupt:
            display.stop()
            raise fail(f"interrupted after {display.files:,} files (all saved): run the "
                       "same command to go on", code=130) from None
    console().print(_ended(summary, folder), highlight=False, soft_wrap=True, markup=False)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def _ended(summary: Summary, folder: Path) -> str:
    """The line a run ends with."""
    total = summary.checkpoint
    overall = f"{total.files:,} files, {total.events:,} events in all"
    if not summary.files:
        return f"Nothing new: caught up ({overall})."
    return (f"Saved {summary.files:,} files ({summary.events:,} events, "
            f"{_megabytes(summary.bytes)}) in {folder}; caught up ({overall}).")


class _Display:
    """Files, events, megabytes and events/s, live on a terminal; elsewhere (a log, a pipe)
    one plain line per file."""

    def __init__(self, follow: bool) -> None:
        self.files = 0
        self._size = 0
        self._live = console().is_terminal
        self._progress: Progress | None = _progress("following" if follow else "pulling") \
            if self._live else None
        self._task: TaskID | None = None

    def __enter__(self) -> _Display:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("", total=None, files=0, size="0.0 MB")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()

    def add(self, saved: SavedFile) -> None:
        self.files += 1
        self._size += saved.size
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=saved.events, files=self.files,
                                  size=_megabytes(self._size))
            return
        console().print(f"{saved.name}  {saved.events:,} events  {saved.size:,} bytes",
                        highlight=False, soft_wrap=True, markup=False)


def _progress(verb: str) -> Any:
    from rich.progress import (
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.speed
            return Text(f"{speed:,.0f} events/s" if speed else "", style="progress.data.speed")

    return Progress(SpinnerColumn(), TextColumn(verb),
                    TextColumn("{task.fields[files]:,} files"),
                    TextColumn("{task.completed:,.0f} events"),
                    TextColumn("{task.fields[size]}"), Rate(), TimeElapsedColumn(),
                    console=console(), transient=False)

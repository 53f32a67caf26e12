"""The SIEM log collector: `client.siem` on `Client` and `AsyncClient`.

    summary = client.siem.download("siem-logs")         # every file not fetched yet
    for event in client.siem.events(checkpoint="siem.json"):
        ...                                              # each record, parsed

`audit/get-siem-logs` hands out the MTA log one file per call, each with the bookmark for the
next (`mc-siem-token`); an answer without a file means "caught up", and the same token asked
again later yields the next file once there is one. Both methods walk that chain from a
checkpoint (`siem_checkpoint`), so a collector that is killed goes on where it stopped:

- `download` saves each file under its served name (written whole, then renamed) before the
  checkpoint moves past it: a restart asks again for the one file that was in flight, if
  any, and writes it under the same name. Nothing is lost and no file is kept twice; the
  server may have served that one file twice.
- `events` moves the checkpoint past a file only once every event of it has been yielded (and
  the next one asked for): an interrupted consumer sees the events of the file it was in
  again, never misses one. It asks for the next file while the consumer takes the events of
  the current one (`prefetch`), so a collector runs at the pace of the slower of the server
  and itself, not of the two in turn; a consumer that stops early leaves that one file
  served but not taken (the next call asks for it again: the server's ledger shows it served
  twice). `prefetch=False` asks only once a file is done.

Before its first file a collector holds no token, and a call without one starts after the
last file the server served its binding (or at the oldest file kept, for a new binding). So
the one window the checkpoint cannot cover is a first answer lost before it was saved: the
restart then begins one file later. Keep the checkpoint with the files, and give each
collector a binding of its own.

Caught up, both return, or with `follow=True` ask again after `poll_interval` seconds,
doubling up to `max_poll_interval` while nothing comes. A 429 waits what the server's
X-RateLimit-Reset says (the transport's own retries first, then as long as the server asks);
with `follow`, outages after the first answer are waited out the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mimicast.client import errors, siem_checkpoint
from mimicast.client.siem_checkpoint import Checkpoint
from mimicast.client.siem_files import parse_file
from mimicast.client.transport import DownloadedFile, RetryPolicy

if TYPE_CHECKING:
    from mimicast.client.aio import AsyncClient
    from mimicast.client.sync import Client

PATH = "/api/audit/get-siem-logs"
TOKEN_HEADER = "mc-siem-token"
FORMATS = ("json", "key_value")
POLL_INTERVAL = 30.0
MAX_POLL_INTERVAL = 600.0

PathArg = str | PathLike[str]


@dataclass(frozen=True)
class SavedFile:
    """A file `download` saved: its served name, where it is, its events and size (bytes as
    served, zipped when compressed)."""

    name: str
    path: Path
    events: int
    size: int


@dataclass
class Summary:
    """What one `download` fetched (`checkpoint` holds the totals over every run)."""

    checkpoint: Checkpoint
    files: int = 0
    events: int = 0
    bytes: int = 0
    caught_up: bool = False  # it stopped because the server had nothing more

    def add(self, saved: SavedFile) -> None:
        self.files += 1
        self.events += saved.events
        self.bytes += saved.size


class Poller:
    """The collector's decisions, free of I/O: whether to ask again, and after how long."""

    def __init__(self, policy: RetryPolicy, *, follow: bool, poll_interval: float,
                 max_poll_interval: float, max_files: int | None) -> None:
        if poll_interval <= 0 or max_poll_interval < poll_interval:
            raise ValueError("poll_interval must be > 0 and at most max_poll_interval")
        if max_files is not None and max_files < 1:
            raise ValueError("max_files must be at least 1")
        self._policy = policy
        self._follow = follow
        self._interval = poll_interval
        self._cap = max_poll_interval
        self._max_files = max_files
        self._idle = 0  # answers in a row that brought no file
        self._reached = False  # the server has answered once: later failures are outages
        self.files = 0
        self.caught_up = False

    def more(self) -> bool:
        return self._max_files is None or self.files < self._max_files

    def more_after_this(self) -> bool:
        """Whether another file will be wanted after the one in hand (to ask for it early)."""
        return self._max_files is None or self.files + 1 < self._max_files

    def got_file(self) -> None:
        self.files += 1
        self._idle = 0
        self._reached = True

    def nothing_new(self) -> float | None:
        """Caught up: seconds to wait before asking again, or None: stop."""
        self._reached = True
        if not self._follow:
            self.caught_up = True
            return None
        return self._idle_wait()

    def failed(self, error: errors.MimicastError) -> float | None:
        """Seconds to wait before asking again after `error`, or None: give up (raise)."""
        if isinstance(error, errors.RateLimitedError):
            return self._policy.rate_wait(error.reset_ms)
        outage = isinstance(error, errors.TransportError | errors.ServerError)
        if self._follow and self._reached and outage:
            return self._idle_wait()
        return None

    def _idle_wait(self) -> float:
        wait = min(self._cap, self._interval * 2.0 ** min(self._idle, 30))
        self._idle += 1
        return wait


def request_item(token: str | None, file_format: str, compress: bool) -> dict[str, Any]:
    """The request's one item; no `token` on the very first call."""
    item: dict[str, Any] = {"type": "MTA", "fileFormat": file_format, "compress": compress}
    if token:
        item["token"] = token
    return item


def served_file(data: list[Any]) -> DownloadedFile | None:
    """The file of an answer, or None when it is the caught-up envelope (no data)."""
    if not data:
        return None
    first = data[0]
    if isinstance(first, DownloadedFile):
        return first
    raise errors.ServerError([errors.ErrorDetail(
        "err_bad_response", "get-siem-logs answered data instead of a file")],
        status=200, path=PATH)


def next_token(file: DownloadedFile) -> str:
    token: str | None = file.headers.get(TOKEN_HEADER)
    if not token:
        raise errors.ServerError([errors.ErrorDetail(
            "err_bad_response", f"{file.filename or 'a SIEM file'} came without "
                                f"{TOKEN_HEADER}: the log cannot be followed past it")],
            status=200, path=PATH)
    return token


def _ahead(file: DownloadedFile, poller: Poller) -> str | None:
    """The token to ask for the next file with while `file` is taken, if one is wanted (a
    file without a token is refused when its consumer asks `next_token`)."""
    token: str | None = file.headers.get(TOKEN_HEADER)
    return token if token and poller.more_after_this() else None


def _format(value: str) -> str:
    chosen = value.strip().lower()
    if chosen not in FORMATS:
        raise ValueError(f"file_format must be json or key_value, not {value!r}")
    return chosen


def _open(directory: Path | None, checkpoint: Path | None) -> Checkpoint:
    """Ready the directory and load the checkpoint, clearing a killed run's leftovers."""
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        siem_checkpoint.remove_partials(directory)
    if checkpoint is None:
        return Checkpoint()
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    siem_checkpoint.remove_partials(checkpoint.parent)
    return siem_checkpoint.load(checkpoint)


def _keep(directory: Path, checkpoint: Path, state: Checkpoint, file: DownloadedFile
          ) -> SavedFile:
    """Parse (to count and check it), save, then checkpoint one file: in that order, so the
    checkpoint never passes a file that is not on disk."""
    token = next_token(file)
    events = len(parse_file(file.filename, file))
    path = siem_checkpoint.save_file(directory, file.filename, file)
    state.advance(token, file.filename, events, len(file))
    siem_checkpoint.save(checkpoint, state)
    return SavedFile(file.filename, path, events, len(file))


def _paths(directory: PathArg, checkpoint: PathArg | None) -> tuple[Path, Path]:
    folder = Path(directory)
    if checkpoint is None:
        return folder, folder / siem_checkpoint.DEFAULT_NAME
    return folder, Path(checkpoint)


class Siem:
    """The SIEM collector of a `Client` (`client.siem`)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def download(self, directory: PathArg, *, checkpoint: PathArg | None = None,
                 file_format: str = "json", compress: bool = True, follow: bool = False,
                 poll_interval: float = POLL_INTERVAL,
                 max_poll_interval: float = MAX_POLL_INTERVAL, max_files: int | None = None,
                 on_file: Callable[[SavedFile], object] | None = None) -> Summary:
        """Save every SIEM file not fetched yet into `directory` (made if missing), under
        its served name, and return what was fetched.

        `checkpoint` (default `<directory>/.siem-checkpoint.json`) is read first and
        replaced after each file: a run goes on where the last one stopped. `file_format`
        is `json` or `key_value`; `compress` asks for zips. Without `follow` it returns once
        caught up; with it, it keeps polling (see the module's notes) until `max_files`
        files were saved, or forever. `on_file` is called after each file is checkpointed.
        """
        folder, where = _paths(directory, checkpoint)
        fmt = _format(file_format)
        poller = Poller(self._client.policy, follow=follow, poll_interval=poll_interval,
                        max_poll_interval=max_poll_interval, max_files=max_files)
        state = _open(folder, where)
        summary = Summary(state)
        for file in self._files(state, fmt, compress, poller):
            saved = _keep(folder, where, state, file)
            summary.add(saved)
            if on_file is not None:
                on_file(saved)
        summary.caught_up = poller.caught_up
        return summary

    def events(self, *, checkpoint: PathArg | None = None, file_format: str = "json",
               follow: bool = False, poll_interval: float = POLL_INTERVAL,
               max_poll_interval: float = MAX_POLL_INTERVAL, max_files: int | None = None,
               prefetch: bool = True) -> Iterator[dict[str, Any]]:
        """Every SIEM event not fetched yet, parsed (`siem_files.parse_file`): dicts with
        the record's keys and `_type`, the record type its file's name gives (`receipt`,
        `process`, `delivery`, `av_tse`, `ttp_ap`, `ttp_url`, `spameventthread`,
        `impersonation`, `jrnl`). key_value values are strings, json ones keep their types.

        With a `checkpoint` file, a file's token is saved once all its events were yielded
        and the next one is asked for; without one, the position lives only in the
        iterator (and a new call starts where the server's ledger says this binding's last
        file ended). `follow`, `poll_interval`, `max_files` as for `download`; `prefetch`:
        ask for the next file while this one's events are taken (see the module's notes).
        """
        where = Path(checkpoint) if checkpoint is not None else None
        fmt = _format(file_format)
        poller = Poller(self._client.policy, follow=follow, poll_interval=poll_interval,
                        max_poll_interval=max_poll_interval, max_files=max_files)
        return self._events(_open(None, where), where, fmt, poller, prefetch)

    def _events(self, state: Checkpoint, where: Path | None, fmt: str, poller: Poller,
                prefetch: bool) -> Iterator[dict[str, Any]]:
        for file in self._files(state, fmt, True, poller, prefetch):
            token = next_token(file)
            events = parse_file(file.filename, file)
            yield from events
            state.advance(token, file.filename, len(events), len(file))
            if where is not None:
                siem_checkpoint.save(where, state)

    def _files(self, state: Checkpoint, fmt: str, compress: bool, poller: Poller,
               prefetch: bool = False) -> Iterator[DownloadedFile]:
        """The files from `state.token` on; the consumer advances `state` before the next.
        With `prefetch`, the next file is asked for (in a thread: one request at a time
        still) while the consumer takes this one; a failure of that request is met where a
        request of its own would have been."""
        def fetch(token: str | None) -> Any:
            return self._client.call(PATH, [request_item(token, fmt, compress)])

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="siem-prefetch") as pool:
            ahead: Future[Any] | None = None
            while poller.more():
                try:
                    answer, ahead = (ahead.result() if ahead else fetch(state.token)), None
                    file = served_file(answer)
                except errors.MimicastError as error:
                    ahead = None
                    wait = poller.failed(error)
                    if wait is None:
                        raise
                    time.sleep(wait)
                    continue
                if file is None:
                    wait = poller.nothing_new()
                    if wait is None:
                        return
                    time.sleep(wait)
                    continue
                if prefetch and (token := _ahead(file, poller)):
                    ahead = pool.submit(fetch, token)
                yield file
                poller.got_file()


class AsyncSiem:
    """`Siem` for `AsyncClient`: `await client.siem.download(...)`, `async for event in
    client.siem.events(...)`. Disk writes run in a worker thread."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def download(self, directory: PathArg, *, checkpoint: PathArg | None = None,
                       file_format: str = "json", compress: bool = True,
                       follow: bool = False, poll_interval: float = POLL_INTERVAL,
                       max_poll_interval: float = MAX_POLL_INTERVAL,
                       max_files: int | None = None,
                       on_file: Callable[[SavedFile], object] | None = None) -> Summary:
        """See `Siem.download`."""
        folder, where = _paths(directory, checkpoint)
        fmt = _format(file_format)
        poller = Poller(self._client.policy, follow=follow, poll_interval=poll_interval,
                        max_poll_interval=max_poll_interval, max_files=max_files)
        state = await asyncio.to_thread(_open, folder, where)
        summary = Summary(state)
        async for file in self._files(state, fmt, compress, poller):
            saved = await asyncio.to_thread(_keep, folder, where, state, file)
            summary.add(saved)
            if on_file is not None:
                on_file(saved)
        summary.caught_up = poller.caught_up
        return summary

    def events(self, *, checkpoint: PathArg | None = None, file_format: str = "json",
               follow: bool = False, poll_interval: float = POLL_INTERVAL,
               max_poll_interval: float = MAX_POLL_INTERVAL, max_files: int | None = None,
               prefetch: bool = True) -> AsyncIterator[dict[str, Any]]:
        """See `Siem.events`: `async for event in client.siem.events(...)`."""
        where = Path(checkpoint) if checkpoint is not None else None
        fmt = _format(file_format)
        poller = Poller(self._client.policy, follow=follow, poll_interval=poll_interval,
                        max_poll_interval=max_poll_interval, max_files=max_files)
        return self._events(where, fmt, poller, prefetch)

    async def _events(self, where: Path | None, fmt: str, poller: Poller, prefetch: bool
                      ) -> AsyncIterator[dict[str, Any]]:
        state = await asyncio.to_thread(_open, None, where)
        # Closed with this generator, so a request asked ahead ends while the client is open.
        async with contextlib.aclosing(self._files(state, fmt, True, poller, prefetch)) as files:
            async for file in files:
                token = next_token(file)
                events = parse_file(file.filename, file)
                for event in events:
                    yield event
                state.advance(token, file.filename, len(events), len(file))
                if where is not None:
                    await asyncio.to_thread(siem_checkpoint.save, where, state)

    async def _files(self, state: Checkpoint, fmt: str, compress: bool, poller: Poller,
                     prefetch: bool = False) -> AsyncGenerator[DownloadedFile, None]:
        """See `Siem._files` (the next file is asked for by a task)."""
        def fetch(token: str | None) -> Any:
            return self._client.call(PATH, [request_item(token, fmt, compress)])

        ahead: asyncio.Task[Any] | None = None
        try:
            while poller.more():
                try:
                    answer = await (ahead if ahead else fetch(state.token))
                    ahead = None
                    file = served_file(answer)
                except errors.MimicastError as error:
                    ahead = None
                    wait = poller.failed(error)
                    if wait is None:
                        raise
                    await asyncio.sleep(wait)
                    continue
                if file is None:
                    wait = poller.nothing_new()
                    if wait is None:
                        return
                    await asyncio.sleep(wait)
                    continue
                if prefetch and (token := _ahead(file, poller)):
                    ahead = asyncio.ensure_future(fetch(token))
                yield file
                poller.got_file()
        finally:
            # The consumer stopped: the file asked for ahead goes untaken. Its request ends
            # first (as in `Siem`), not cut off inside the transport.
            if ahead is not None:
                await asyncio.gather(ahead, return_exceptions=True)

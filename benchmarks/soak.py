"""A soak: a minute of mixed reads and writes at 16 connections against `mimicast serve`, on
SQLite (one worker), then on PostgreSQL with Redis and two workers. Zero errors, a flat RSS,
p50/p99 printed.

    python benchmarks/soak.py [--seconds 60] [--backends sqlite,postgresql]

Per backend: a fresh store seeded as `endpoints.py` seeds it (a fifth of its data by
default), the server started on it, and every request recipe of `endpoints.py` built and
checked. wrk then sends one mix: 80% reads spread over every read endpoint, 20% writes spread
over every measured write (one-off requests, each used once), each line signed for its own
path. A read-only probe sizes the warm-up, the warm-up sizes the measured run's supply of
writes. wrk's Lua `response()` callback tallies every answer that is not a 200, and every 200
whose `fail` is not empty (a write the server refused): both are errors. Meanwhile the own
(anonymous) RSS of the server's process tree (the supervisor and its workers) is sampled
every second; the SQLite file is memory-mapped, and its pages, resident once read, are the
OS page cache's, not the server's: they are reported at the end, not judged.

Exit 1 when a backend had an error or its RSS grew: flat means the last sample is at most
the first one (taken right after the warm-up) plus RSS_MARGIN of it, and at least
RSS_MARGIN_MIB MiB.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from endpoints import (  # noqa: E402
    READS,
    Api,
    Database,
    Plan,
    Scale,
    Seeded,
    Write,
    WrkRun,
    check_coverage,
    ensure_wrk,
    fresh_store,
    recent_dates,
    seed,
    signed_line,
    validate_rotation,
    validate_write,
    write_recipes,
)
from endpoints import Wrk as WrkLoad  # noqa: E402
from signed_calls import (  # noqa: E402
    LOAD_CPU,
    Credentials,
    Invalid,
    Server,
    clean_env,
    init_credentials,
)

RSS_MARGIN, RSS_MARGIN_MIB = 0.05, 4.0
PROBE_SECONDS = 2


# --- the mix --------------------------------------------------------------------------------

@dataclass
class Mix:
    """Requests over many endpoints: reads rotate through their recipes' bodies, writes take
    one-off requests from their supplies; each line is signed for its own path."""

    creds: Credentials
    db: Database
    reads: dict[str, list[bytes]]
    writes: list[Write]
    write_share: float
    rng: random.Random = field(default_factory=lambda: random.Random(2))
    read_at: dict[str, int] = field(default_factory=dict)

    def lines(self, count: int, with_writes: bool = True) -> list[str]:
        share = self.write_share if with_writes and self.writes else 0.0
        paths = self._paths(count, share)
        wanted = {w.path: paths.count(w.path) for w in self.writes}
        # Each write's supply in one go: deletions get their rows in one insert.
        supplies = {w.path: iter(w.take(self.db, wanted[w.path])) for w in self.writes
                    if wanted[w.path]}
        dates = recent_dates()
        lines = []
        for n, path in enumerate(paths):
            body = next(supplies[path]) if path in supplies else self._read_body(path)
            lines.append(signed_line(self.creds, path, body, dates[n % len(dates)]))
        return lines

    def _paths(self, count: int, write_share: float) -> list[str]:
        """Which endpoint each request goes to: reads evenly share 1 - write_share, writes
        evenly share write_share."""
        read_paths, write_paths = list(self.reads), [w.path for w in self.writes]
        paths = [*read_paths, *write_paths]
        weights = [(1 - write_share) / len(read_paths)] * len(read_paths) + (
            [write_share / len(write_paths)] * len(write_paths) if write_paths else [])
        return self.rng.choices(paths, weights, k=count)

    def _read_body(self, path: str) -> bytes:
        bodies = self.reads[path]
        at = self.read_at.get(path, 0)
        self.read_at[path] = at + 1
        return bodies[at % len(bodies)]


# --- RSS of a process tree ------------------------------------------------------------------

def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])


def tree_pids(root: int) -> set[int]:
    """The process and all its descendants (uvicorn's workers are the supervisor's
    children; `taskset` execs the server, so the root is the server itself)."""
    parents = {pid: _parent_of(pid) for pid in
               (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())}
    tree = {root}
    grew = True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return tree


def rss_mib(pids: set[int], field: str = "RssAnon:") -> float:
    """The tree's resident memory of one kind. By default its own (anonymous: heap, stacks):
    the SQLite file is memory-mapped, and its pages count as resident (`RssFile`) once read,
    though they are the OS page cache's, shared and reclaimable, not the server's."""
    total_kib = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue  # gone between the listing and now
        for line in status.splitlines():
            if line.startswith(field):
                total_kib += int(line.split()[1])
    return total_kib / 1024


class RssSampler:
    """The server tree's own RSS, once a second, in a thread, while a run lasts; and, at the
    end, its mapped file pages."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.samples: list[float] = []
        self.mapped = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while True:
            self.samples.append(rss_mib(tree_pids(self.root)))
            if self._stop.wait(1.0):
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(rss_mib(tree_pids(self.root)))  # the end, after the last request
        self.mapped = rss_mib(tree_pids(self.root), "RssFile:")


# --- one backend ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Backend:
    key: str  # as --backends names it
    name: str
    db: str  # "sqlite" or the PostgreSQL server's URL
    serve_options: tuple[str, ...]


@dataclass
class Outcome:
    backend: Backend
    run: WrkRun
    rss: list[float]
    warmup_errors: int
    mapped: float  # MiB of file pages resident at the end (the memory-mapped SQLite file)

    @property
    def errors(self) -> int:
        result = self.run.result
        return (result.bad_status + result.socket_errors + self.run.failed + self.run.wraps
                + self.warmup_errors)

    @property
    def rss_limit(self) -> float:
        start = self.rss[0]
        return start + max(start * RSS_MARGIN, RSS_MARGIN_MIB)

    @property
    def flat(self) -> bool:
        return self.rss[-1] <= self.rss_limit


def run_errors(run: WrkRun) -> int:
    result = run.result
    return result.bad_status + result.socket_errors + run.failed


def build_mix(api: Api, db: Database, creds: Credentials, seeded: Seeded,
              args: argparse.Namespace) -> Mix:
    """Every read recipe (checked) and every write recipe (checked) of endpoints.py."""
    reads: dict[str, list[bytes]] = {}
    plan = Plan(args.pages, None)
    for path, recipe in READS.items():
        rotation = recipe(api, path, seeded, plan)
        validate_rotation(api, path, rotation)
        reads[path] = rotation.bodies
    writes = list(write_recipes(seeded).values())
    check_coverage(READS, {w.path: w for w in writes})
    for write in writes:
        validate_write(api, db, write)
    return Mix(creds, db, reads, writes, args.write_share)


def soak(backend: Backend, args: argparse.Namespace, workdir: Path) -> Outcome:
    home = workdir / backend.key
    home.mkdir()
    with fresh_store(backend.db, home) as db_url:
        env = clean_env(home / "home")
        creds = init_credentials(env, db_url)
        db = Database(db_url)
        server: Server | None = None
        try:
            started = time.perf_counter()
            seeded = seed(db, Scale().times(args.scale))
            print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
            server = Server(backend.name, [
                sys.executable, "-m", "mimicast", "serve", "--port", "{port}", "--db", db_url,
                "--rate-limit", "1000000000", *backend.serve_options], env, home / "server.log")
            server.wait_ready()
            api = Api(server.port, creds)
            mix = build_mix(api, db, creds, seeded, args)
            api.close()
            print(f"  mix: {len(mix.reads)} read and {len(mix.writes)} write endpoints, "
                  f"{1 - args.write_share:.0%} / {args.write_share:.0%}; recipes checked",
                  flush=True)
            return drive(server, mix, creds, args, home, backend)
        except Invalid:
            if server is not None:
                print(f"--- {server.name} log ---\n{server.tail()}", file=sys.stderr)
            raise
        finally:
            if server is not None:
                server.stop()
            db.dispose()


def drive(server: Server, mix: Mix, creds: Credentials, args: argparse.Namespace,
          home: Path, backend: Backend) -> Outcome:
    """Probe (reads only) → warm-up (the mix, sized by the probe) → the measured run (sized by
    the warm-up's rate, so its one-off writes never run out)."""
    load = WrkLoad(home, creds, args.connections, tally=True)
    probe = load.run(server.port, load.write(mix.lines(20_000, with_writes=False)),
                     PROBE_SECONDS)
    warm_count = round(probe.result.rps * args.warmup * 1.3) + 1_000
    warm = load.run(server.port, load.write(mix.lines(warm_count)), args.warmup, start=0)
    count = round(warm.result.rps * args.seconds * 1.3) + 1_000
    requests = load.write(mix.lines(count))
    print(f"  warm-up: {warm.result.rps:,.0f} req/s; measured run: {count:,} one-off lines "
          f"for {args.seconds:g} s", flush=True)
    with RssSampler(server.pid) as sampler:
        run = load.run(server.port, requests, args.seconds, start=0)
    if run_errors(probe) or run_errors(warm) or warm.wraps:
        print(f"  warning: errors before the measured run: probe {describe_errors(probe)}, "
              f"warm-up {describe_errors(warm)}")
    return Outcome(backend, run, sampler.samples,
                   run_errors(probe) + run_errors(warm) + warm.wraps, sampler.mapped)


# --- output ---------------------------------------------------------------------------------

def describe_errors(run: WrkRun) -> str:
    result = run.result
    parts = [f"{count:,} x HTTP {status}" for status, count in sorted(run.statuses.items())]
    if run.failed:
        parts.append(f"{run.failed:,} x 200 with fail entries")
    if result.socket_errors:
        parts.append(f"{result.socket_errors:,} socket errors")
    if run.wraps:
        parts.append(f"the one-off supply ran out {run.wraps} time(s)")
    return ", ".join(parts) or "none"


def report(outcome: Outcome) -> list[str]:
    result, rss = outcome.run.result, outcome.rss
    verdict = "flat" if outcome.flat else "NOT flat"
    return [
        f"{outcome.backend.name}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms, {result.requests:,} requests, "
        f"errors: {describe_errors(outcome.run)}",
        f"  own RSS (anonymous) of the server tree: start {rss[0]:.1f} MiB, peak "
        f"{max(rss):.1f} MiB, end {rss[-1]:.1f} MiB ({len(rss)} samples) -> {verdict} (end <= "
        f"start + max({RSS_MARGIN:.0%}, {RSS_MARGIN_MIB:g} MiB) = {outcome.rss_limit:.1f} MiB); "
        f"file pages resident at the end: {outcome.mapped:.1f} MiB",
        "  own RSS every tenth of the run: "
        + ", ".join(f"{rss[i * (len(rss) - 1) // 10]:.1f}" for i in range(11)) + " MiB",
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--seconds", type=float, default=60.0, help="the measured run")
    # Long enough for the caches to fill — SQLite's per-connection pages (~10 MiB in the
    # first ~25 s); on PostgreSQL, two workers' pools and prepared statements (after 30 s
    # RSS still rose ~20 MiB over the next 30 s, then stayed flat): memory is judged from
    # the end of the warm-up.
    parser.add_argument("--warmup", type=float, default=60.0, help="warm-up before it")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="the PostgreSQL server (a fresh database is made there)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--workers", type=int, default=2, help="workers on PostgreSQL")
    parser.add_argument("--scale", type=float, default=0.2,
                        help="of endpoints.py's data (0.2: 2,000 users, 20,000 events…)")
    parser.add_argument("--write-share", type=float, default=0.2)
    parser.add_argument("--pages", type=int, default=10, help="pages of each list walk")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if args.seconds < 1 or args.warmup < 1 or not 0 <= args.write_share < 1:
        parser.error("--seconds and --warmup at least 1, --write-share in [0, 1)")
    return args


def backends(args: argparse.Namespace) -> Sequence[Backend]:
    known = {
        "sqlite": Backend("sqlite", "sqlite, 1 worker", "sqlite", ()),
        "postgresql": Backend(
            "postgresql", f"postgresql+redis, {args.workers} workers", args.pg,
            ("--redis-url", args.redis_url, "--workers", str(args.workers))),
    }
    chosen = [name.strip() for name in args.backends.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        raise Invalid(f"--backends takes sqlite and/or postgresql, not {args.backends!r}")
    return [known[name] for name in chosen]


def main() -> int:
    args = parse_args()
    if shutil.which("taskset") and len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {int(LOAD_CPU)})  # this process shares the load's CPU
    workdir = Path(tempfile.mkdtemp(prefix="mimicast-soak-"))
    outcomes: list[Outcome] = []
    try:
        ensure_wrk()
        for backend in backends(args):
            print(f"\n{backend.name}: {args.warmup:g} s warm-up, then {args.seconds:g} s at "
                  f"{args.connections} connections", flush=True)
            outcome = soak(backend, args, workdir)
            outcomes.append(outcome)
            for line in report(outcome):
                print("  " + line, flush=True)
    except Invalid as error:
        print(f"\n*** INVALID RUN: {error} ***", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\nsummary:")
    for outcome in outcomes:
        for line in report(outcome):
            print("  " + line)
    failed = [o.backend.name for o in outcomes if o.errors or not o.flat]
    if failed:
        print(f"\n*** FAILED: {', '.join(failed)} (errors or growing RSS) ***", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

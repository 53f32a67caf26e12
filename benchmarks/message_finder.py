"""Message Finder and the hold queue at scale: the latency of indexed searches over 1,000,000
simulated messages, next to a page of `/api/user/get-internal-users` in the same run, and a
deep page of the hold list next to its second page.

    python benchmarks/message_finder.py [--messages 1000000] [--users 10000] [--samples 200]

1. `mimicast init --json` (the demo account) on a fresh SQLite file, `--users` users in its
   domain (bulk, as `paging.py` makes them), then the simulator backfills `--messages`
   messages over 30 days (`sim.runs.backfill`, the path `mimicast simulate` takes): its
   throughput is printed.
2. `mimicast serve` serves the store (rate limit off); our SDK calls it, one call at a time.
3. Interleaved rounds, shuffled each time, `--samples` each: Message Finder searches by
   sender, by recipient, by Message-ID and over a one-hour window (each rotating through 200
   values drawn from the store: senders and recipients with mail in the window, hours with
   mail), all over the last day, the search's first page as a client asks for it; the first
   page of get-internal-users (which also counts the account's users); the hold list's second
   page and a page at 90% of it (admin, 30 days). Medians and p99 are printed.
Targets: each search's median ≤ 2× the users page's; the deep hold page ≤ 1.2× the second.
Every answer is checked (records present where the store says there are some); a wrong
answer makes the run invalid (exit 1).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from paging import interleaved  # noqa: E402
from paging import seed as seed_users  # noqa: E402
from signed_calls import Invalid, Server, clean_env, init_credentials  # noqa: E402

SEARCH_TARGET = 2.0
DEEP_TARGET = 1.2
ROTATION = 200
WALK_PAGE = 500


def backfill(db: str, messages: int) -> float:
    """The simulator's backfill of the demo account; its messages per second."""
    from sqlalchemy import select

    from mimicast.cli.common import open_deps, settings_from
    from mimicast.services.demo import DEMO_CODE
    from mimicast.sim import runs
    from mimicast.store.schema import Account

    deps = open_deps(settings_from(db=db))
    try:
        with deps.store.session() as session:
            account_id = session.scalar(select(Account.id).where(Account.code == DEMO_CODE))
        started = time.perf_counter()
        last = [started]

        def progress(done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 10:
                last[0] = time.perf_counter()
                print(f"  … {done:,} of {total:,}", flush=True)

        runs.backfill(deps, int(account_id), seed=7, messages=messages, days=30,
                      progress=progress)
        return messages / (time.perf_counter() - started)
    finally:
        deps.store.dispose()


def rotations(db: str, since: datetime) -> dict[str, list[Any]]:
    """Values the searches rotate through, drawn from the last day's mail."""
    from sqlalchemy import create_engine, text

    from mimicast.store.engine import normalise_url

    engine = create_engine(normalise_url(db))
    picks: dict[str, list[Any]] = {}
    with engine.connect() as connection:
        def values(sql: str) -> list[Any]:
            return list(connection.execute(text(sql), {"since": since, "n": ROTATION})
                        .scalars())
        picks["sender"] = values("SELECT sender FROM messages WHERE received_at >= :since "
                                 "GROUP BY sender ORDER BY count(*) DESC LIMIT :n")
        picks["recipient"] = values(
            "SELECT address FROM message_recipients WHERE received_at >= :since "
            "GROUP BY address ORDER BY count(*) DESC LIMIT :n")
        picks["message_id"] = values("SELECT message_id FROM messages WHERE received_at >= "
                                     ":since ORDER BY id DESC LIMIT :n")
        held = connection.execute(text(
            "SELECT count(*) FROM message_recipients WHERE status = 'held'")).scalar_one()
    engine.dispose()
    hours = [since + timedelta(hours=h) for h in range(23)]
    picks["window"] = hours
    if not all(picks.values()):
        raise Invalid(f"the store has no mail to search in the last day: {picks}")
    picks["held"] = [held]
    return picks


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if args.messages < 10_000 or args.users < 100 or args.samples < 10:
        parser.error("--messages at least 10000, --users at least 100, --samples at least 10")

    from mimicast.client import Client

    workdir = Path(tempfile.mkdtemp(prefix="mimicast-finder-bench-"))
    server: Server | None = None
    try:
        env = clean_env(workdir / "home")
        db_file = workdir / "bench.db"
        db = f"sqlite:///{db_file}"
        creds = init_credentials(env, db)
        domain = seed_users(db_file, args.users)
        print(f"{args.users:,} users in {domain}; simulating {args.messages:,} messages over "
              "30 days …", flush=True)
        rate = backfill(db, args.messages)
        print(f"backfilled {args.messages:,} messages at {rate:,.0f} messages/s")
        now = datetime.now(UTC)
        since = now - timedelta(days=1)
        picks = rotations(db, since)
        server = Server("mimicast", [sys.executable, "-m", "mimicast", "serve", "--port",
                                     "{port}", "--db", db, "--rate-limit", "1000000000"],
                        env, workdir / "mimicast.log")
        server.wait_ready()
        client = Client(f"http://127.0.0.1:{server.port}", creds.app_id, creds.app_key,
                        creds.access_key, creds.secret_key)
        with client:
            window = {"start": stamp(since), "end": stamp(now)}
            hold = {"admin": True}
            walked, token = 0, None
            second = client.page("/api/gateway/get-hold-message-list", [hold]).next
            target = int(picks["held"][0] * 0.9)
            for page in client.gateway.get_hold_message_list(
                    admin=True, page_size=WALK_PAGE).pages():
                walked += len(page.items)
                token = page.next
                if walked >= target or token is None:
                    break
            if second is None or token is None:
                raise Invalid(f"the hold list is too short to page: {picks['held'][0]} held")
            print(f"{picks['held'][0]:,} held; the deep hold page starts at {walked + 1:,}")
            turn = {name: 0 for name in picks}

            def rotating(name: str) -> Any:
                values = picks[name]
                turn[name] += 1
                return values[turn[name] % len(values)]

            def search(item: dict[str, Any]) -> Callable[[], None]:
                def call() -> None:
                    found = client.call("/api/message-finder/search", [{**window, **item}])
                    if not found or not found[0]["trackedEmails"]:
                        raise Invalid(f"no mail found for {item}")
                return call

            def by_window() -> None:
                start = rotating("window")
                found = client.call("/api/message-finder/search", [
                    {"start": stamp(start), "end": stamp(start + timedelta(hours=1))}])
                if not found[0]["trackedEmails"]:
                    raise Invalid(f"no mail in the hour from {start}")

            def users() -> None:
                if not client.call("/api/user/get-internal-users", [{}])[0]["users"]:
                    raise Invalid("no users")

            def hold_page(page_token: str) -> Callable[[], None]:
                def call() -> None:
                    page = client.page("/api/gateway/get-hold-message-list", [hold],
                                       page_token=page_token)
                    if len(page.items) != 25:
                        raise Invalid(f"a hold page of {len(page.items)}")
                return call

            calls: dict[str, Callable[[], None]] = {
                "get-internal-users page": users,
                "search by sender": lambda: search({"advancedTrackAndTraceOptions": {
                    "from": rotating("sender")}})(),
                "search by recipient": lambda: search({"advancedTrackAndTraceOptions": {
                    "to": rotating("recipient")}})(),
                "search by message id": lambda: search({"messageId": rotating("message_id")})(),
                "search by 1-hour window": by_window,
                "hold list, page 2": hold_page(second),
                "hold list, deep page": hold_page(token),
            }
            timings = interleaved(calls, args.samples, warmup_rounds=10)

        medians = {name: statistics.median(values) for name, values in timings.items()}
        reference = medians["get-internal-users page"]
        print(f"\n{args.samples} interleaved samples each over {args.messages:,} messages; "
              "one call at a time; ms")
        print(f"  {'call':28} {'p50':>8} {'p99':>8} {'ratio':>7}")
        for name, values in timings.items():
            values.sort()
            p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
            ratio = medians[name] / (reference if name.startswith("search") or
                                     name.startswith("get-") else medians["hold list, page 2"])
            print(f"  {name:28} {medians[name]:8.2f} {p99:8.2f} {ratio:6.2f}x")
        worst = max((medians[n] / reference, n) for n in calls if n.startswith("search"))
        deep = medians["hold list, deep page"] / medians["hold list, page 2"]
        print(f"\nworst search / users page: {worst[0]:.2f}x ({worst[1]})  -> target <= "
              f"{SEARCH_TARGET:g}x {'MET' if worst[0] <= SEARCH_TARGET else 'NOT MET'}")
        print(f"deep hold page / page 2:   {deep:.2f}x  -> target <= {DEEP_TARGET:g}x "
              f"{'MET' if deep <= DEEP_TARGET else 'NOT MET'}")
        return 0
    except Invalid as error:
        print(f"\n*** INVALID RUN: {error} ***", file=sys.stderr)
        if server is not None:
            print(server.tail(), file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

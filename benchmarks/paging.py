"""Key-based paging: the latency of the first page and of a page deep in 1,000,000 users of
`/api/user/get-internal-users`, measured in the same run against one `mimicast serve`.

    python benchmarks/paging.py [--users 1000000] [--depth 0.9] [--samples 200]

1. `mimicast init --json` (demo account) on a fresh SQLite file; the users are then inserted
   straight into the store (the demo account's internal domain), in bulk, without passwords.
2. `mimicast serve` serves the store (rate limit off). Our SDK walks the list with pageSize
   500 to the page at `--depth` (90% by default) and keeps its `next` token.
3. Interleaved requests, in a shuffled order each round: the first page (no token), page 2
   (the first page's `next`) and the deep page (the kept token), with the default page size
   and the same filter, `--samples` each; medians and p90 are reported. The first page also
   counts the list (totalCount, then carried in the tokens), so the headline compares the deep
   page with page 2, the same work but for where the index walk starts (target: ≤ 1.5);
   deep/first is printed too. As a point of comparison, the same page by OFFSET in
   SQL directly is timed too: what offset paging would cost at that depth.
Every answer is checked (page size, first address, a `next` token): a wrong answer makes the
run invalid (exit 1).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from signed_calls import Invalid, Server, clean_env, init_credentials  # noqa: E402

PATH = "/api/user/get-internal-users"
TARGET = 1.5
WALK_PAGE = 500


def seed(db_file: Path, count: int) -> str:
    """`count` users in the demo account's internal domain; answers the domain."""
    connection = sqlite3.connect(db_file)
    try:
        account_id, domain = connection.execute(
            "SELECT account_id, name FROM domains WHERE status = 'internal' "
            "ORDER BY id LIMIT 1").fetchone()
        now = datetime.now(UTC).isoformat(sep=" ")
        rows = ((account_id, f"user{n:07d}@{domain}", domain, f"User {n}", now)
                for n in range(count))
        with connection:
            connection.executemany(
                "INSERT INTO users (account_id, email, domain, name, locked, disabled, "
                "force_password_change, password_never_expires, allow_pop, allow_smtp, "
                "source, created_at) VALUES (?, ?, ?, ?, 0, 0, 0, 0, 0, 0, 'cloud', ?)", rows)
        connection.execute("ANALYZE")
        return str(domain)
    finally:
        connection.close()


def offset_page_ms(db_file: Path, domain: str, offset: int, samples: int) -> tuple[float, float]:
    """Median ms of the first page and of the page at `offset`, paged by OFFSET in SQL."""
    connection = sqlite3.connect(db_file)
    query = ("SELECT id, email FROM users WHERE account_id = "
             "(SELECT account_id FROM domains WHERE name = ?) AND domain = ? "
             "ORDER BY email LIMIT 26 OFFSET ?")
    timings: dict[int, list[float]] = {0: [], offset: []}
    for _ in range(samples):
        for at in (0, offset):
            start = time.perf_counter()
            connection.execute(query, (domain, domain, at)).fetchall()
            timings[at].append((time.perf_counter() - start) * 1000)
    connection.close()
    return statistics.median(timings[0]), statistics.median(timings[offset])


def interleaved(calls: dict[str, Callable[[], None]], samples: int, warmup_rounds: int
                ) -> dict[str, list[float]]:
    """Each call's latencies in ms over `samples` rounds, in a new shuffled order each round
    (no call always follows another, whose traces in the caches it would inherit), after
    `warmup_rounds` unmeasured rounds (connections, caches, the database's pages)."""
    for _ in range(warmup_rounds):
        for call in calls.values():
            call()
    timings: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls)
    shuffler = random.Random(1)
    for _ in range(samples):
        shuffler.shuffle(order)
        for name in order:
            started = time.perf_counter()
            calls[name]()
            timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--depth", type=float, default=0.9,
                        help="where the deep page lies, as a fraction of the list")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if args.users < 1000 or not 0 < args.depth < 1 or args.samples < 1:
        parser.error("--users at least 1000, --depth in (0, 1), --samples at least 1")

    from mimicast.client import Client

    workdir = Path(tempfile.mkdtemp(prefix="mimicast-paging-bench-"))
    server: Server | None = None
    try:
        env = clean_env(workdir / "home")
        db_file = workdir / "bench.db"
        db = f"sqlite:///{db_file}"
        creds = init_credentials(env, db)
        started = time.perf_counter()
        domain = seed(db_file, args.users)
        print(f"seeded {args.users:,} users in {domain} in "
              f"{time.perf_counter() - started:.1f} s")
        server = Server("mimicast", [sys.executable, "-m", "mimicast", "serve", "--port",
                                     "{port}", "--db", db, "--rate-limit", "1000000000"],
                        env, workdir / "mimicast.log")
        server.wait_ready()
        client = Client(f"http://127.0.0.1:{server.port}", creds.app_id, creds.app_key,
                        creds.access_key, creds.secret_key)
        with client:
            target = int(args.users * args.depth)
            started = time.perf_counter()
            seen, token = 0, None
            for page in client.user.get_internal_users(domain=domain,
                                                       page_size=WALK_PAGE).pages():
                seen += len(page.items)
                token = page.next
                if seen >= target or token is None:
                    break
            if token is None:
                raise Invalid(f"the walk ended after {seen:,} records, before {target:,}")
            print(f"walked {seen:,} records ({seen // WALK_PAGE:,} pages of {WALK_PAGE}) in "
                  f"{time.perf_counter() - started:.1f} s; deep page starts at record "
                  f"{seen + 1:,}")

            near = client.user.get_internal_users(domain=domain).first().next
            if near is None:
                raise Invalid("the first page has no next token")

            # All users sort after "admin@", so the first page starts with the administrator.
            def first() -> None:
                page = client.user.get_internal_users(domain=domain).first()
                if len(page.items) != 25 or page.next is None or page.previous is not None:
                    raise Invalid(f"first page: {len(page.items)} items, next {page.next}")

            def second() -> None:
                page = client.user.get_internal_users(domain=domain, page_token=near).first()
                if len(page.items) != 25 or page.items[0].emailAddress != \
                        f"user{24:07d}@{domain}" or page.next is None:
                    raise Invalid(f"second page: {len(page.items)} items")

            def deep() -> None:
                page = client.user.get_internal_users(domain=domain, page_token=token).first()
                if len(page.items) != 25 or page.items[0].emailAddress != \
                        f"user{seen - 1:07d}@{domain}" or page.next is None:
                    raise Invalid(f"deep page: {len(page.items)} items starting "
                                  f"{page.items[0].emailAddress if page.items else None}")

            timings = interleaved({"first": first, "second": second, "deep": deep},
                                  args.samples, warmup_rounds=20)

        print(f"\n{args.samples} interleaved samples each, default page size (25), domain "
              f"filter. The first page (no token) also counts the list for totalCount; the "
              f"tokens carry that count, so the second and the deep page are the same work "
              f"but for where the index walk starts.")
        for name, values in timings.items():
            values.sort()
            print(f"  {name:6} page   median {statistics.median(values):7.2f} ms   "
                  f"p90 {values[int(len(values) * 0.9)]:7.2f} ms")
        medians = {name: statistics.median(values) for name, values in timings.items()}
        ratio = medians["deep"] / medians["second"]
        verdict = "MET" if ratio <= TARGET else "NOT MET"
        print(f"\nheadline: deep page / page 2 = {ratio:.2f}x  -> target <= {TARGET:g}x "
              f"{verdict}")
        print(f"  deep page / first page (which counts {args.users:,} rows) = "
              f"{medians['deep'] / medians['first']:.2f}x")
        first_sql, deep_sql = offset_page_ms(db_file, domain, seen, min(args.samples, 50))
        print(f"  for comparison, OFFSET paging in SQL alone: first {first_sql:.2f} ms, at "
              f"offset {seen:,} {deep_sql:.2f} ms ({deep_sql / first_sql:.0f}x)")
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

"""Calls per second for the same signed `get-account` call made by our SDK (`mimicast.client`)
and by the PyPI client `mimecast-api`, against one `mimicast serve` in the same run.

    python benchmarks/client_overhead.py [--seconds 5] [--rounds 3] [--profile FILE]

What is measured is a client's own cost: one thread making sequential calls, so each call's
time is the client's work, the loopback round trip and the server's work, and the server's
share is the same for every client. The server runs on CPU 0 and this process on CPU 1 (with
`taskset`). Rounds alternate the clients (ours, theirs, ours, theirs, …); the median of the
rounds is reported, with p50/p99 per-call latency and CPU per call on each side.

Contenders:
  ours          `Client(...).account.get_account()` — the typed path (headline).
  ours raw      `Client(...).call("/api/account/get-account")` — the untyped envelope data.
  theirs        `MimecastAPI(...)._all_request(PATH)` as the package is used by default: no
                session, so `requests.post` opens a new connection for every call (headline).
  theirs+sess   the same with `session=requests.Session()`: keep-alive, for fairness.

Every call is checked: ours must return the demo account (typed), theirs its `data`. A wrong
answer or an exception makes the run invalid (exit 1). The ≥ 2x target is reported, met or not,
with exit 0.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the shared server/credential helpers live next to this file

import signed_calls as shared  # noqa: E402
from signed_calls import (  # noqa: E402
    LOAD_CPU,
    PATH,
    TICK,
    Credentials,
    Invalid,
    Server,
    clean_env,
    init_credentials,
)

TARGET = 2.0
CLIENT_CPU = LOAD_CPU


# --- the contenders -------------------------------------------------------------------------

@dataclass
class Contender:
    """One way of making the call: `call()` makes it once and checks the answer."""

    name: str
    description: str
    call: Callable[[], None]
    close: Callable[[], None]


def ours(base_url: str, creds: Credentials, *, typed: bool) -> Contender:
    from mimicast.client import Client

    client = Client(base_url, creds.app_id, creds.app_key, creds.access_key, creds.secret_key)
    expected = creds.account_code

    def call_typed() -> None:
        accounts = client.account.get_account()
        if not accounts or accounts[0].accountCode != expected:
            raise Invalid(f"ours (typed) returned {accounts!r:.300}")

    def call_raw() -> None:
        data = client.call(PATH)
        if not data or data[0].get("accountCode") != expected:
            raise Invalid(f"ours (raw) returned {data!r:.300}")

    if typed:
        return Contender("ours", "Client.account.get_account() (typed)", call_typed,
                         client.close)
    return Contender("ours raw", "Client.call(PATH) (raw data)", call_raw, client.close)


def theirs(base_url: str, creds: Credentials, *, session: bool) -> Contender:
    import requests
    from mimecast_api.api_object import MimecastAPI

    http = requests.Session() if session else None
    api = MimecastAPI(base_url=base_url, access_key=creds.access_key,
                      secret_key=creds.secret_key, app_id=creds.app_id, app_key=creds.app_key,
                      session=http)
    expected = creds.account_code

    def call() -> None:
        # simple_exchange raises MimecastAPIFail on any fail entry and returns `data`.
        data = api._all_request(PATH)
        if not data or data[0].get("accountCode") != expected:
            raise Invalid(f"mimecast-api returned {data!r:.300}")

    if session:
        return Contender("theirs+sess", "MimecastAPI(session=requests.Session())", call,
                         http.close if http else (lambda: None))
    return Contender("theirs", "MimecastAPI() default: requests.post, new connection per call",
                     call, lambda: None)


# --- measuring ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    calls: int
    seconds: float
    p50_ms: float
    p99_ms: float
    client_cpu_s: float
    server_cpu_s: float
    other_cpu_s: float  # everything else on the machine: neighbours make the figures noisy

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    @property
    def other_share(self) -> float:
        return self.other_cpu_s / self.seconds

    @property
    def client_us(self) -> float:
        return self.client_cpu_s * 1e6 / self.calls

    @property
    def server_us(self) -> float:
        return self.server_cpu_s * 1e6 / self.calls


def server_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:  # no /proc: CPU figures read as 0
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime, all threads


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all but idle and iowait)."""
    try:
        with open("/proc/stat") as f:
            cpu = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return 0.0
    return (sum(cpu[:8]) - cpu[3] - cpu[4]) / TICK


def measure(contender: Contender, seconds: float, server_pid: int) -> Run:
    """Sequential calls for `seconds` in this thread; any failed call ends the run (Invalid)."""
    latencies: list[float] = []
    call, clock = contender.call, time.perf_counter
    cpu0, server0, busy0 = time.process_time(), server_cpu(server_pid), machine_busy()
    began = clock()
    deadline = began + seconds
    end = began
    while end < deadline:
        start = clock()
        try:
            call()
        except Invalid:
            raise
        except Exception as exc:  # the client's own error for a failed call
            raise Invalid(f"{contender.name}: {type(exc).__name__}: {exc}") from exc
        end = clock()
        latencies.append(end - start)
    cpu = time.process_time() - cpu0
    server = server_cpu(server_pid) - server0
    other = max(0.0, machine_busy() - busy0 - server - cpu)
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return Run(len(latencies), end - began, pct(0.50), pct(0.99), cpu, server, other)


def describe(name: str, run: Run) -> str:
    return (f"{name:11} {run.rate:8,.0f} calls/s  p50 {run.p50_ms:6.2f} ms  "
            f"p99 {run.p99_ms:6.2f} ms  client CPU {run.client_us:5.0f} us/call  "
            f"server CPU {run.server_us:5.0f} us/call  other processes {run.other_share:4.0%}  "
            f"({run.calls:,} calls)")


@dataclass(frozen=True)
class Summary:
    rate: float
    p50_ms: float
    p99_ms: float
    client_us: float
    server_us: float


def summarise(runs: list[Run]) -> Summary:
    return Summary(statistics.median(r.rate for r in runs),
                   statistics.median(r.p50_ms for r in runs),
                   statistics.median(r.p99_ms for r in runs),
                   statistics.median(r.client_us for r in runs),
                   statistics.median(r.server_us for r in runs))


# --- profile --------------------------------------------------------------------------------

def profile(contender: Contender, seconds: float, server_pid: int, out: Path) -> None:
    """py-spy on this process during one more (unreported) run of `contender`: where the
    client's CPU goes, per call.

    Only samples taken while the thread holds the GIL count (`--gil`): a blocking socket read
    releases it, and py-spy's idle filter alone does not always recognise that wait. Time in
    C with the GIL released (the kernel's share of send/recv) is spread over the rest.
    """
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("profile: py-spy not found (pip install py-spy into the venv)")
        return
    rate = 500
    recorder = subprocess.Popen(
        shared.pinned(shared.SERVER_CPU) + [
            spy, "record", "--pid", str(os.getpid()), "--duration", str(max(1, round(seconds))),
            "--rate", str(rate), "--gil", "--nonblocking", "--nolineno", "--format", "raw",
            "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # let py-spy attach before the calls start
    run = measure(contender, seconds, server_pid)
    _, err = recorder.communicate(timeout=seconds + 60)
    if recorder.returncode != 0 or not out.exists():
        print(f"profile: py-spy failed: {err.strip()[-500:]}")
        return
    self_time: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if "client_overhead.py" not in f
                  and "<frozen runpy>" not in f and "(<module>)" not in f]
        if not frames:
            continue
        total += count
        self_time[frames[-1]] = self_time.get(frames[-1], 0) + count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
    if not total:
        print("profile: no samples")
        return
    per_call = run.client_us
    print(f"\nprofile of {contender.name} ({contender.description}): {run.rate:,.0f} calls/s "
          f"under py-spy, {per_call:.0f} us client CPU per call; raw stacks in {out}")
    for title, table in (("self", self_time), ("inclusive", inclusive)):
        print(f"  top by {title} time (share of GIL-held samples, ~us per call):")
        for frame, count in sorted(table.items(), key=lambda kv: -kv[1])[:25]:
            share = count / total
            print(f"    {share:6.1%} {share * per_call:6.0f} us  {frame}")


# --- the run --------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--seconds", type=float, default=3.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="warm-up time per client, before the first round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of all four clients")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="afterwards, py-spy our typed client during one more run and "
                        "write the raw stacks to FILE")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if args.seconds <= 0 or args.rounds < 1 or args.warmup < 0:
        parser.error("--seconds must be positive, --rounds at least 1, --warmup not negative")

    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {int(CLIENT_CPU)})  # this process is the client
    else:
        print("warning: no taskset or one CPU: server and client share the CPUs")

    workdir = Path(tempfile.mkdtemp(prefix="mimicast-client-bench-"))
    server: Server | None = None
    contenders: list[Contender] = []
    try:
        env = clean_env(workdir / "home")
        db = f"sqlite:///{workdir / 'bench.db'}"
        creds = init_credentials(env, db)
        server = Server("mimicast", [sys.executable, "-m", "mimicast", "serve", "--port",
                                     "{port}", "--db", db, "--rate-limit", "1000000000"],
                        env, workdir / "mimicast.log")
        server.wait_ready()
        base_url = f"http://127.0.0.1:{server.port}"
        # Alternating order: ours, theirs, ours, theirs within every round.
        contenders = [ours(base_url, creds, typed=True), theirs(base_url, creds, session=False),
                      ours(base_url, creds, typed=False), theirs(base_url, creds, session=True)]
        for contender in contenders:  # also the first check that each one gets the account
            contender.call()
            if args.warmup:
                measure(contender, args.warmup, server.pid)

        print(f"{args.warmup:g} s warm-up per client, then {args.rounds} round(s) of "
              f"{args.seconds:g} s per client; one thread, sequential calls; "
              f"server on CPU {shared.SERVER_CPU}, client on CPU {CLIENT_CPU}")
        for contender in contenders:
            print(f"  {contender.name:11} {contender.description}")
        runs: dict[str, list[Run]] = {c.name: [] for c in contenders}
        for number in range(1, args.rounds + 1):
            for contender in contenders:
                run = measure(contender, args.seconds, server.pid)
                runs[contender.name].append(run)
                print(f"  round {number} {describe(contender.name, run)}")

        results = {name: summarise(r) for name, r in runs.items()}
        print(f"\nmedian of {args.rounds} round(s)  calls/s   p50 ms   p99 ms   "
              f"client us/call  server us/call")
        for contender in contenders:
            s = results[contender.name]
            print(f"  {contender.name:11} {s.rate:10,.0f} {s.p50_ms:8.2f} {s.p99_ms:8.2f} "
                  f"{s.client_us:15.0f} {s.server_us:15.0f}")

        ours_s, raw_s = results["ours"], results["ours raw"]
        theirs_s, sess_s = results["theirs"], results["theirs+sess"]
        headline = ours_s.rate / theirs_s.rate
        verdict = "MET" if headline >= TARGET else "NOT MET"
        print(f"\nheadline: ours (typed) / theirs (default, no session) = {headline:.2f}x  "
              f"-> target >= {TARGET:g}x {verdict}")
        print(f"  ours (typed) / theirs with a requests.Session = "
              f"{ours_s.rate / sess_s.rate:.2f}x"
              f" ({'meets' if ours_s.rate / sess_s.rate >= TARGET else 'below'} "
              f"{TARGET:g}x; not the default usage)")
        print(f"  ours (raw call) / theirs (default) = {raw_s.rate / theirs_s.rate:.2f}x; "
              f"ours (raw call) / theirs with a session = {raw_s.rate / sess_s.rate:.2f}x")
        print(f"  client CPU per call, theirs/ours: default "
              f"{theirs_s.client_us / ours_s.client_us:.2f}x, with a session "
              f"{sess_s.client_us / ours_s.client_us:.2f}x "
              f"(the clients' own cost, whatever the server's share)")
        busiest = max(r.other_share for rs in runs.values() for r in rs)
        if busiest > 0.15:
            print(f"  warning: other processes used up to {busiest:.0%} of a CPU during a run: "
                  f"calls/s are noisy; the alternating rounds and medians damp it, and client "
                  f"CPU per call is the steadier comparison")
        if args.profile:
            profile(contenders[0], args.seconds, server.pid, args.profile.resolve())
        return 0
    except Invalid as error:
        print(f"\n*** INVALID RUN: {error} ***", file=sys.stderr)
        if server is not None:
            print(server.tail(), file=sys.stderr)
        return 1
    finally:
        for contender in contenders:
            contender.close()
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

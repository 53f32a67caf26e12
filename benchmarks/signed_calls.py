"""Throughput and latency of signed `get-account` calls against `mimicast serve`, next to a bare
Starlette endpoint (`bare_app.py`) served by uvicorn with the same options, measured in the
same run with the same load generator.

    python benchmarks/signed_calls.py [--seconds 10] [--distinct-signatures] [--profile FILE]

Each server runs on CPU 0 and the load generator on CPU 1 (with `taskset`), one uvicorn worker
each. Rounds alternate bare / mimicast (warm-up, then measure) and the median of the rounds is
reported. The load generator is `wrk` when installed (`apt-get install wrk`); otherwise an
asyncio keep-alive client in this process, which tops out far lower and so understates both
servers (the ratio is still printed, but read it with that in mind).

Before measuring, both servers must answer a signed call with 200 and the demo account in
`data`, and a tampered signature must get 401; during a run any non-2xx response or socket
error makes the run invalid (exit 1).
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import hmac
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.utils import formatdate
from pathlib import Path

HERE = Path(__file__).resolve().parent
PATH = "/api/account/get-account"
BODY = b'{"data":[]}'
SERVER_CPU, LOAD_CPU = "0", "1"
TARGET_RATIO = 0.5


class Invalid(Exception):
    """The run cannot be trusted: a wrong answer, a non-2xx response, a socket error."""


# --- signing (independent of mimicast's own code, as a client would do it) -----------------

@dataclass(frozen=True)
class Credentials:
    app_id: str
    app_key: str
    access_key: str
    secret_key: str
    account_code: str


@dataclass(frozen=True)
class SignedHeaders:
    date: str
    request_id: str
    authorization: str

    def as_dict(self, app_id: str) -> dict[str, str]:
        return {"x-mc-app-id": app_id, "x-mc-date": self.date, "x-mc-req-id": self.request_id,
                "Authorization": self.authorization, "Content-Type": "application/json",
                "Accept": "application/json"}


def sign(creds: Credentials, date: str, request_id: str) -> SignedHeaders:
    data = f"{date}:{request_id}:{PATH}:{creds.app_key}".encode()
    digest = hmac.new(base64.b64decode(creds.secret_key), data, hashlib.sha1).digest()
    auth = f"MC {creds.access_key}:{base64.b64encode(digest).decode('ascii')}"
    return SignedHeaders(date, request_id, auth)


def header_sets(creds: Credentials, count: int) -> list[SignedHeaders]:
    """`count` signed header sets, each with its own request id (and so its own HMAC)."""
    now = time.time()
    return [sign(creds, formatdate(now - i % 60, usegmt=True).replace("GMT", "UTC"),
                 str(uuid.uuid4())) for i in range(count)]


# --- servers --------------------------------------------------------------------------------

def pinned(cpu: str) -> list[str]:
    return ["taskset", "-c", cpu] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.port, self.log = name, free_port(), log
        argv = [arg.replace("{port}", str(self.port)) for arg in argv]
        with log.open("wb") as out:
            self.process = subprocess.Popen(pinned(SERVER_CPU) + argv, env=env, stdout=out,
                                            stderr=subprocess.STDOUT, cwd=HERE.parent)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Invalid(f"{self.name} exited ({self.process.returncode}):\n{self.tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise Invalid(f"{self.name} did not listen on port {self.port}:\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def clean_env(home: Path) -> dict[str, str]:
    # The caller's MIMICAST_* settings (a database, a rate limit) must not leak into the run.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIMICAST_")}
    env["MIMICAST_HOME"] = str(home)
    return env


def init_credentials(env: dict[str, str], db: str) -> Credentials:
    done = subprocess.run([sys.executable, "-m", "mimicast", "init", "--json", "--db", db],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise Invalid(f"mimicast init failed ({done.returncode}):\n{done.stderr[-2000:]}")
    raw = json.loads(done.stdout)
    return Credentials(raw["appId"], raw["appKey"], raw["accessKey"], raw["secretKey"],
                       raw["accountCode"])


# --- validation -----------------------------------------------------------------------------

def post(port: int, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", PATH, body=BODY, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def validate(server: Server, creds: Credentials, sets: list[SignedHeaders],
             check_signature: bool) -> None:
    """A sample of the header sets must each get 200 with the account; a tampered one 401."""
    sample = [sets[0], sets[-1]] + random.sample(sets, min(len(sets), 30))
    for signed in sample:
        status, body = post(server.port, signed.as_dict(creds.app_id))
        data = body.get("data")
        if status != 200 or not isinstance(data, list) or not data or \
                data[0].get("accountCode") != creds.account_code or body.get("fail"):
            raise Invalid(f"{server.name} answered {status}: {json.dumps(body)[:300]}")
    if check_signature:
        bad = sets[0].as_dict(creds.app_id)
        bad["x-mc-req-id"] = str(uuid.uuid4())  # the signature no longer covers the request
        status, body = post(server.port, bad)
        if status != 401:
            raise Invalid(f"{server.name} accepted a tampered signature ({status})")


# --- load generators ------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    bad_status: int
    socket_errors: int
    cpu: Usage | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu.server_s * 1e6 / self.requests if self.cpu and self.requests else 0.0


# --- CPU accounting: is the server saturated, and is anything else eating the CPUs? --------

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Usage:
    """CPU seconds over one run: the server's, the load side's (this process and its
    children), and everything else on the machine."""

    wall_s: float
    server_s: float
    load_s: float
    other_s: float


class CpuProbe:
    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid

    def sample(self) -> tuple[float, float, float, float]:
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        server = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime, all threads
        with open("/proc/stat") as f:
            cpu = [int(v) for v in f.readline().split()[1:]]
        busy = (sum(cpu[:8]) - cpu[3] - cpu[4]) / TICK  # everything but idle and iowait
        mine = os.times()  # this process (the Python load generator) and reaped children (wrk)
        return time.monotonic(), server, busy, mine[0] + mine[1] + mine[2] + mine[3]

    def around(self, run: Callable[[], Result]) -> Result:
        try:
            before = self.sample()
        except OSError:  # no /proc: report without CPU figures
            return run()
        result = run()
        after = self.sample()
        wall, server, busy, load = (b - a for a, b in zip(before, after, strict=True))
        usage = Usage(wall, server, load, max(0.0, busy - server - load))
        return replace(result, cpu=usage)


WRK_SCRIPT = r"""
-- Signed header sets, one per line: date \t request id \t authorization. Each request is
-- pre-formatted in init(), so request() costs one table lookup.
local requests, count, index = {}, 0, 0

function init(args)
  local app_id = args[2]
  for line in io.lines(args[1]) do
    local date, request_id, auth = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
    local headers = {["Host"] = wrk.host .. ":" .. wrk.port, ["x-mc-app-id"] = app_id,
                     ["x-mc-date"] = date, ["x-mc-req-id"] = request_id,
                     ["Authorization"] = auth, ["Content-Type"] = "application/json",
                     ["Accept"] = "application/json"}
    count = count + 1
    requests[count] = wrk.format("POST", wrk.path, headers, '{"data":[]}')
  end
  index = math.random(count) - 1  -- threads start at different places in the rotation
end

function request()
  index = index % count + 1
  return requests[index]
end

function done(summary, latency, _requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"status":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


class Wrk:
    name = "wrk"

    def __init__(self, workdir: Path, creds: Credentials, sets: list[SignedHeaders],
                 connections: int) -> None:
        self.script = workdir / "signed.lua"
        self.script.write_text(WRK_SCRIPT)
        self.headers = workdir / "headers.tsv"
        self.headers.write_text("".join(f"{s.date}\t{s.request_id}\t{s.authorization}\n"
                                        for s in sets))
        self.app_id, self.connections = creds.app_id, connections

    def run(self, port: int, seconds: float) -> Result:
        argv = pinned(LOAD_CPU) + [
            "wrk", "-t1", f"-c{self.connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(self.script), f"http://127.0.0.1:{port}{PATH}",
            "--", str(self.headers), self.app_id]
        # wrk stops by itself after -d; the timeout only guards against a wedged run.
        out = subprocess.run(argv, capture_output=True, text=True, check=True,
                             timeout=seconds + 60).stdout
        line = next((ln for ln in out.splitlines() if ln.startswith("BENCH_JSON ")), None)
        if line is None:
            raise Invalid(f"wrk printed no summary:\n{out}")
        raw = json.loads(line.removeprefix("BENCH_JSON "))
        # wrk counts responses with status > 399 as status errors; validation has already
        # shown both servers answer 200, and neither ever redirects.
        return Result(raw["requests"], raw["duration_us"] / 1e6, raw["p50_us"] / 1000,
                      raw["p99_us"] / 1000, raw["status"],
                      raw["connect"] + raw["read"] + raw["write"] + raw["timeout"])


class PythonLoad:
    """Keep-alive connections on raw asyncio streams; measures lower than wrk (the client
    shares the interpreter's per-request overhead), so both figures come out understated."""

    name = "python asyncio (fallback; install wrk for real figures)"

    def __init__(self, creds: Credentials, sets: list[SignedHeaders], connections: int) -> None:
        self.connections = connections
        self.raw = [self._format(s.as_dict(creds.app_id)) for s in sets]

    @staticmethod
    def _format(headers: dict[str, str]) -> bytes:
        lines = [f"POST {PATH} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(BODY)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + BODY

    def run(self, port: int, seconds: float) -> Result:
        import asyncio

        try:
            import uvloop
            return uvloop.run(self._run(port, seconds))
        except ImportError:
            return asyncio.run(self._run(port, seconds))

    async def _run(self, port: int, seconds: float) -> Result:
        import asyncio

        latencies: list[float] = []
        counts = {"bad": 0, "errors": 0}
        deadline = time.perf_counter() + seconds

        async def one(start_at: int) -> None:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                counts["errors"] += 1
                return
            index = start_at
            try:
                while time.perf_counter() < deadline:
                    index = (index + 1) % len(self.raw)
                    began = time.perf_counter()
                    writer.write(self.raw[index])
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    await reader.readexactly(length)
                    latencies.append(time.perf_counter() - began)
                    if not head[9:12].startswith(b"2"):
                        counts["bad"] += 1
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                counts["errors"] += 1
            finally:
                writer.close()

        began = time.perf_counter()
        try:
            async with asyncio.timeout(seconds + 30):  # a wedged server must not hang the run
                await asyncio.gather(*(one(i * 97) for i in range(self.connections)))
        except TimeoutError:
            counts["errors"] += 1
        elapsed = time.perf_counter() - began
        latencies.sort()

        def pct(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 \
                if latencies else 0.0
        return Result(len(latencies), elapsed, pct(0.50), pct(0.99), counts["bad"],
                      counts["errors"])


# --- profile --------------------------------------------------------------------------------

BOOT_FRAMES = ("(<frozen runpy>)", "(typer/", "(mimicast/__main__.py)", "serve (mimicast/cli/",
               "(uvicorn/main.py)", "(uvicorn/_compat.py)", "Server.run (uvicorn/server.py)",
               "Runner.run (asyncio/runners.py)", "Thread._bootstrap", "WorkerThread.run")


def profile(server: Server, load: Wrk | PythonLoad, seconds: float, out: Path) -> None:
    """py-spy on the server during one extra (unreported) run: top functions per request.

    Only samples taken while a thread holds the GIL count (`--gil`): on one core that is where
    the Python time goes. py-spy's idle filter does not recognise the thread pool's waiting
    workers, so without it they would swamp the table. Time in C with the GIL released (the
    SQLite engine itself, socket I/O) is not in these figures.
    """
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("profile: py-spy not found (pip install py-spy into the venv)")
        return
    rate = 250
    recorder = subprocess.Popen(
        pinned(LOAD_CPU) + [spy, "record", "--pid", str(server.pid), "--duration",
                            str(max(1, round(seconds))), "--rate", str(rate), "--gil",
                            "--nonblocking", "--nolineno", "--format", "raw", "--output",
                            str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # let py-spy attach before the load starts
    result = CpuProbe(server.pid).around(functools.partial(load.run, server.port, seconds))
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
            continue  # blank lines
        count = int(count_text)
        frames = stack.split(";")
        total += count
        self_time[frames[-1]] = self_time.get(frames[-1], 0) + count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
    if not total:
        print("profile: no samples")
        return
    # A share of the GIL-held samples, times the server's CPU per request, is that
    # function's CPU per request (approximately: GIL-free C time is spread over the rest).
    per_request = result.cpu_us_per_request or 1e6 / result.rps
    print(f"\nprofile of {server.name}: {result.rps:,.0f} req/s under py-spy, "
          f"{per_request:.0f} us server CPU per request; GIL held in "
          f"{total / (rate * seconds):.0%} of samples; raw stacks in {out}")
    for frame in [f for f in inclusive if any(part in f for part in BOOT_FRAMES)]:
        del inclusive[frame]  # the process's and threads' entry points: in every stack
    for title, table in (("self", self_time), ("inclusive", inclusive)):
        print(f"  top by {title} time (share of GIL-held samples, us per request):")
        for frame, count in sorted(table.items(), key=lambda kv: -kv[1])[:25]:
            share = count / total
            print(f"    {share:6.1%} {share * per_request:7.0f} us  {frame}")


# --- the run --------------------------------------------------------------------------------

def summarise(results: list[Result]) -> tuple[float, float, float, float]:
    return (statistics.median(r.rps for r in results),
            statistics.median(r.p50_ms for r in results),
            statistics.median(r.p99_ms for r in results),
            statistics.median(r.cpu_us_per_request for r in results))


def check(name: str, result: Result) -> None:
    if result.bad_status or result.socket_errors or not result.requests:
        raise Invalid(f"{name}: {result.bad_status} non-2xx responses, "
                      f"{result.socket_errors} socket errors in {result.requests} requests")


def describe(name: str, result: Result) -> str:
    line = (f"{name:8} {result.rps:9,.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
            f"p99 {result.p99_ms:7.2f} ms  ({result.requests:,} requests)")
    if result.cpu:
        cpu = result.cpu
        line += (f"  server CPU {cpu.server_s / cpu.wall_s:4.0%}, "
                 f"{result.cpu_us_per_request:5.0f} us/req; load {cpu.load_s / cpu.wall_s:4.0%}; "
                 f"other processes {cpu.other_s / cpu.wall_s:4.0%}")
    return line


def noise_warnings(results: list[Result]) -> list[str]:
    """Why the figures may not be the server's own: unsaturated server, busy neighbours."""
    warnings = []
    for result in results:
        if result.cpu is None:
            continue
        cpu = result.cpu
        if cpu.server_s / cpu.wall_s < 0.85:
            warnings.append("a server used under 85% of its CPU: the load generator or other "
                            "processes limited it, not its own cost")
        if cpu.other_s / cpu.wall_s > 0.15:
            warnings.append("other processes used over 15% of a CPU during a run: throughput "
                            "and latency are noisy; 'us/req' (server CPU per request) is the "
                            "steadier figure")
    return sorted(set(warnings))


def main() -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up time per run")
    parser.add_argument("--rounds", type=int, default=2, help="bare/mimicast rounds")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--distinct-signatures", type=int, nargs="?", const=10_000, default=1,
                        metavar="N", help="rotate through N distinct signed header sets "
                        "(default N=10000) instead of one")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="afterwards, py-spy the mimicast server during one more run and "
                        "write its raw stacks to FILE")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if args.seconds < 1 or args.rounds < 1 or args.distinct_signatures < 1:
        parser.error("--seconds, --rounds and --distinct-signatures must be at least 1")

    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {int(LOAD_CPU)})  # this process is the load side too
    else:
        print("warning: no taskset or one CPU: server and load share the CPUs")
    has_wrk = shutil.which("wrk") is not None
    if args.generator == "wrk" and not has_wrk:
        print("wrk is not installed: apt-get install -y wrk")
        return 1
    use_wrk = args.generator == "wrk" or (args.generator == "auto" and has_wrk)
    if not use_wrk and args.generator == "auto":
        print("wrk not found (apt-get install -y wrk): falling back to the Python load "
              "generator, which measures lower")

    workdir = Path(tempfile.mkdtemp(prefix="mimicast-bench-"))
    servers: list[Server] = []
    try:
        env = clean_env(workdir / "home")
        db = f"sqlite:///{workdir / 'bench.db'}"
        creds = init_credentials(env, db)
        sets = header_sets(creds, args.distinct_signatures)
        mimicast = Server("mimicast", [sys.executable, "-m", "mimicast", "serve", "--port",
                                       "{port}", "--db", db, "--rate-limit", "1000000000"],
                          env, workdir / "mimicast.log")
        servers.append(mimicast)
        bare = Server("bare", [sys.executable, str(HERE / "bare_app.py"), "--port", "{port}"],
                      env, workdir / "bare.log")
        servers.append(bare)
        for server in servers:
            server.wait_ready()
        validate(mimicast, creds, sets, check_signature=True)
        validate(bare, creds, sets, check_signature=False)

        load: Wrk | PythonLoad = (Wrk(workdir, creds, sets, args.connections) if use_wrk
                                  else PythonLoad(creds, sets, args.connections))
        print(f"load: {load.name}, {args.connections} connections, "
              f"{args.distinct_signatures} signed header set(s); "
              f"{args.warmup:g} s warm-up + {args.seconds:g} s per run, {args.rounds} rounds; "
              f"server on CPU {SERVER_CPU}, load on CPU {LOAD_CPU}")
        results: dict[str, list[Result]] = {"bare": [], "mimicast": []}
        for round_number in range(1, args.rounds + 1):
            for server in (bare, mimicast):
                if args.warmup > 0:
                    check(f"{server.name} warm-up", load.run(server.port, args.warmup))
                result = CpuProbe(server.pid).around(
                    functools.partial(load.run, server.port, args.seconds))
                check(server.name, result)
                results[server.name].append(result)
                print(f"  round {round_number} {describe(server.name, result)}")
        validate(mimicast, creds, sets, check_signature=True)

        bare_rps, bare_p50, bare_p99, bare_cpu = summarise(results["bare"])
        mc_rps, mc_p50, mc_p99, mc_cpu = summarise(results["mimicast"])
        ratio = mc_rps / bare_rps
        print(f"\nmedian of {args.rounds} round(s)     req/s    p50 ms   p99 ms  "
              f"server CPU us/req")
        print(f"  bare Starlette   {bare_rps:10,.0f} {bare_p50:8.2f} {bare_p99:8.2f} "
              f"{bare_cpu:10.0f}")
        print(f"  mimicast         {mc_rps:10,.0f} {mc_p50:8.2f} {mc_p99:8.2f} {mc_cpu:10.0f}")
        verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
        print(f"  throughput ratio mimicast/bare: {ratio:.2f} "
              f"(target >= {TARGET_RATIO} on one worker: {verdict})")
        print(f"  latency mimicast/bare: p50 x{mc_p50 / bare_p50:.1f}, "
              f"p99 x{mc_p99 / bare_p99:.1f}")
        if bare_cpu and mc_cpu:
            # At saturation req/s = 1 / CPU per request: this is the throughput ratio the two
            # would show each with a core to itself, whatever else ran during the measurement.
            print(f"  CPU per request bare/mimicast: {bare_cpu / mc_cpu:.2f}")
        for warning in noise_warnings(results["bare"] + results["mimicast"]):
            print(f"  warning: {warning}")
        if args.profile:
            profile(mimicast, load, args.seconds, args.profile.resolve())
        return 0
    except Invalid as error:
        print(f"\n*** INVALID RUN: {error} ***", file=sys.stderr)
        return 1
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

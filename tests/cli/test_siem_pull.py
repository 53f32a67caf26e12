"""`mimicast siem pull` and `mimicast logs …` as real subprocesses against the live test
server: a pull killed (SIGKILL) mid-run and started again ends with exactly the files of a
clean run, and the server's ledger shows what the design promises (each file served once,
but for the one in flight at each kill); --follow picks up the next slice and stops cleanly
on Ctrl-C; bad flags, URLs, keys and checkpoints are one line and a non-zero exit; the log
commands print what the SDK's pagers read.

The SIEM walk's SQL is tested on both stores in tests/server/test_siem.py; what is checked
here is the collector's and the command line's, the same on either (`store_agnostic`)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mimicast.catalog import ENDPOINTS
from mimicast.cli.client_commands import CliError
from mimicast.cli.logs import LOGS, as_dict, endpoint_of, request_keywords
from mimicast.client import Client
from mimicast.client.resources import attribute_name
from mimicast.client.siem_checkpoint import DEFAULT_NAME
from mimicast.client.siem_files import parse_file, record_type
from mimicast.services.crypto import digest
from mimicast.services.mail import accept
from mimicast.services.mail.facts import Draft, Recipient
from mimicast.sim import runs
from mimicast.store.schema import Binding, LedgerEntry
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant, free_port

pytestmark = pytest.mark.store_agnostic

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # on a slice boundary
FROM, TO = "2026-11-19T00:00:00+0000", "2026-11-20T13:00:00+0000"
Run = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    """The commands' environment: no MIMICAST_* of the developer's, a config dir of their
    own, no keyring."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("MIMICAST_")}
    base.update(MIMICAST_CONFIG_DIR=str(tmp_path / "config"), MIMICAST_HOME=str(tmp_path),
                MIMICAST_KEYRING="0")
    return base


@pytest.fixture
def run(environment: dict[str, str]) -> Run:
    def invoke(*args: str, env: dict[str, str] | None = None, code: int = 0
               ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "mimicast", *args],
                                env={**environment, **(env or {})}, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == code, (args, result.returncode, result.stdout,
                                           result.stderr)
        return result

    return invoke


@pytest.fixture
def tenant(harness: Harness) -> Iterator[Tenant]:
    """A day of simulated mail (a couple of hundred SIEM files), the clock past its end."""
    harness.clock.freeze()
    harness.clock.set(NOW)
    made = harness.tenant()
    runs.backfill(harness.deps, made.account_id, seed=11, messages=300, days=1)
    harness.clock.advance(minutes=30)
    yield made
    harness.clock.reset()


def new_keys(harness: Harness, tenant: Tenant) -> dict[str, str]:
    """The environment of a collector on a binding of its own (a fresh login)."""
    keys = tenant.keys
    with Client.login(tenant.email, tenant.password, keys.app_id, keys.app_key,
                      base_url=harness.url) as client:
        return {"MIMICAST_BASE_URL": harness.url, "MIMICAST_APP_ID": keys.app_id,
                "MIMICAST_APP_KEY": keys.app_key, "MIMICAST_ACCESS_KEY": client.access_key,
                "MIMICAST_CLIENT_SECRET_KEY": client.secret_key}


def ledger(harness: Harness, env: dict[str, str]) -> list[Any]:
    """The ledger's rows of the SIEM files served to the binding of `env`, in order: `name`,
    `events`, and `start`, the position a file starts at (its identity, whatever its
    format)."""
    with harness.deps.store.unit() as unit:
        binding = unit.session.scalar(select(Binding.id).where(
            Binding.access_key_hash == digest(env["MIMICAST_ACCESS_KEY"])))
        return list(unit.session.execute(
            select(LedgerEntry.name, LedgerEntry.events, LedgerEntry.start).where(
                LedgerEntry.binding_id == binding, LedgerEntry.log == "siem")
            .order_by(LedgerEntry.id)).all())


def served(harness: Harness, env: dict[str, str]) -> list[tuple[str, int]]:
    """(name, events) of the SIEM files the server served the binding of `env`, in order."""
    return [(row.name, row.events) for row in ledger(harness, env)]


def siem_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir()
                  if p.name != DEFAULT_NAME and not p.name.endswith(".partial"))


def contents(directory: Path) -> dict[str, bytes]:
    """Each file's name and its member's bytes (a zip's own bytes carry its time of
    writing)."""
    found = {}
    for path in siem_files(directory):
        with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
            (member,) = archive.namelist()
            found[path.name] = archive.read(member)
    return found


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one `error: …` line of a failed command (nothing on stdout, no traceback)."""
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def start(environment: dict[str, str], *args: str, env: dict[str, str]
          ) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "mimicast", *args],
                            env={**environment, **env}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(check: Callable[[], bool], process: subprocess.Popen[str],
             timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the pull ended ({process.returncode}) too early:\n{out}\n{err}")
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_killed_pull_resumes_without_loss_or_duplicates(
        harness: Harness, tenant: Tenant, environment: dict[str, str], run: Run,
        tmp_path: Path) -> None:
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    env = new_keys(harness, tenant)
    kills = 0
    for at_least in (5, 40, 90):
        process = start(environment, "siem", "pull", "--dir", str(killed), env=env)
        wait_for(lambda n=at_least: killed.exists() and len(siem_files(killed)) >= n, process)
        process.send_signal(signal.SIGKILL)
        process.communicate()
        kills += 1
    finished = run("siem", "pull", "--dir", str(killed), env=env)
    assert "caught up" in finished.stdout.splitlines()[-1]
    # Again: nothing new, exit 0.
    again = run("siem", "pull", "--dir", str(killed), env=env)
    assert again.stdout.startswith("Nothing new: caught up")
    clean_env = new_keys(harness, tenant)
    run("siem", "pull", "--dir", str(clean), env=clean_env)

    # The same files, byte for byte, as a run that was never killed.
    files = contents(killed)
    assert files == contents(clean) and len(files) > 100
    assert not [p for p in killed.iterdir() if p.name.endswith(".partial")]
    # The clean binding was served each file once, the files it saved.
    clean_served = served(harness, clean_env)
    assert sorted(name for name, _ in clean_served) == sorted(files)
    # The killed binding was served each file once, but for the one in flight at a kill
    # (served, not yet checkpointed), which the restart asks for again at once: at most one
    # position per kill served twice, in consecutive rows.
    rows = ledger(harness, env)
    starts = [row.start for row in rows]
    repeated = [position for position, count in Counter(starts).items() if count > 1]
    assert len(repeated) <= kills and max(Counter(starts).values()) <= 2
    for position in repeated:
        first = starts.index(position)
        assert starts[first + 1] == position, rows[first - 1:first + 3]
    # Every zip served is on disk, and every file on disk was served. (A request cut off
    # between its headers and its body is still run by the server, as an empty one: its
    # file, in the default format — key_value, not zipped — went to no one, and the row
    # after it, the restart's, repeats its position.)
    assert {row.name for row in rows if row.name.endswith(".zip")} == set(files)
    for index, row in enumerate(rows):
        if not row.name.endswith(".zip"):
            assert rows[index + 1].start == row.start, rows[index:index + 2]
    # Events: the ledger's count of each file is what the file holds.
    events = {name: len(parse_file(name, (killed / name).read_bytes())) for name in files}
    assert dict(clean_served) == events
    state = json.loads((killed / DEFAULT_NAME).read_text())
    assert (state["files"], state["events"]) == (len(files), sum(events.values()))


def test_pull_follows_the_next_slice_and_stops_on_ctrl_c(
        harness: Harness, tenant: Tenant, environment: dict[str, str], tmp_path: Path
        ) -> None:
    # How many files there are to catch up on: a binding of its own fetches them first.
    reference = new_keys(harness, tenant)
    with Client(harness.url, reference["MIMICAST_APP_ID"], reference["MIMICAST_APP_KEY"],
                reference["MIMICAST_ACCESS_KEY"],
                reference["MIMICAST_CLIENT_SECRET_KEY"]) as client:
        total = client.siem.download(tmp_path / "reference").files
    env = new_keys(harness, tenant)
    folder = tmp_path / "logs"
    checkpoint = tmp_path / "state" / "siem.json"
    process = start(environment, "siem", "pull", "--dir", str(folder), "--follow",
                    "--poll-interval", "0.05", "--checkpoint", str(checkpoint),
                    "--format", "key_value", env=env)
    wait_for(lambda: checkpoint.exists()
             and json.loads(checkpoint.read_text())["files"] == total, process)
    before = {p.name for p in siem_files(folder)}
    draft = Draft(sender="news@partner.example.org", recipients=(Recipient(tenant.email),),
                  received_at=harness.clock(), external=True, subject="Followed",
                  sender_ip="198.51.100.7")
    with harness.session_ctx(tenant) as ctx:
        accept.accept(ctx, [draft])
    harness.clock.advance(minutes=30)

    def new_receipts() -> list[str]:
        return [p.name for p in siem_files(folder)
                if p.name not in before and record_type(p.name) == "receipt"]

    # The next slice's first file (its receipts) saved and checkpointed.
    wait_for(lambda: json.loads(checkpoint.read_text())["files"] > total, process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert err.strip().startswith("error: interrupted after") and len(err.splitlines()) == 1
    # Not on a terminal: a plain line per file.
    assert len(out.splitlines()) >= total
    (name,) = new_receipts()
    (event,) = parse_file(name, (folder / name).read_bytes())
    assert event["Subject"] == "Followed" and event["_type"] == "receipt"
    assert not (folder / DEFAULT_NAME).exists()  # --checkpoint put it elsewhere


def test_pull_failures_are_one_line(harness: Harness, tenant: Tenant, run: Run,
                                    tmp_path: Path) -> None:
    env = new_keys(harness, tenant)
    folder = tmp_path / "logs"
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    wrong = {**env, "MIMICAST_CLIENT_SECRET_KEY": new_keys(harness, harness.tenant())[
        "MIMICAST_CLIENT_SECRET_KEY"]}
    dead = {**env, "MIMICAST_BASE_URL": f"http://127.0.0.1:{free_port()}"}
    usage = [
        ([], env, "--dir is required"),
        (["--dir", str(folder), "--format", "xml"], env, "--format: 'xml' is not"),
        (["--dir", str(folder), "--poll-interval", "soon"], env, "--poll-interval"),
        (["--dir", str(folder), "--poll-interval", "0"], env, "--poll-interval"),
    ]
    for arguments, extra, expected in usage:
        assert expected in error_line(run("siem", "pull", *arguments, env=extra, code=2))
    failures = [
        (["--dir", str(folder)], {}, "no profile 'default'"),
        (["--dir", str(folder)], wrong, "err_xdk_"),
        (["--dir", str(folder)], {**env, "MIMICAST_BASE_URL": "not a url"}, "cannot reach"),
        (["--dir", str(folder)], dead, "cannot reach http://127.0.0.1:"),
        (["--dir", str(a_file)], env, f"cannot write {a_file}: File exists"),
    ]
    for arguments, extra, expected in failures:
        assert expected in error_line(run("siem", "pull", *arguments, env=extra, code=1))
    # A checkpoint another account's collector wrote: its token is refused, with a hint.
    other = harness.tenant()
    runs.backfill(harness.deps, other.account_id, seed=11, messages=20, days=1)
    theirs = tmp_path / "theirs"
    run("siem", "pull", "--dir", str(theirs), env=new_keys(harness, other))
    line = error_line(run("siem", "pull", "--dir", str(folder), "--checkpoint",
                          str(theirs / DEFAULT_NAME), env=env, code=1))
    assert "refused the token" in line and "move the file away" in line
    (folder / DEFAULT_NAME).write_text("{broken")
    assert "is not a SIEM checkpoint" in error_line(
        run("siem", "pull", "--dir", str(folder), env=env, code=1))


# `mimicast logs` -----------------------------------------------------------------------------

def sdk_records(harness: Harness, env: dict[str, str], path: str) -> list[dict[str, Any]]:
    """What the SDK's generated pager reads of the log, as dicts."""
    log = next(log for log in LOGS.values() if log.path == path)
    endpoint = endpoint_of(log)
    with Client(harness.url, env["MIMICAST_APP_ID"], env["MIMICAST_APP_KEY"],
                env["MIMICAST_ACCESS_KEY"], env["MIMICAST_CLIENT_SECRET_KEY"]) as client:
        method = getattr(getattr(client, attribute_name(endpoint.namespace)),
                         attribute_name(endpoint.action))
        return [as_dict(record) for record in method(**request_keywords(
            endpoint, {"from": FROM, "to": TO}))]


@pytest.mark.parametrize("name", sorted(LOGS))
def test_logs_print_every_page_as_json_lines_or_a_table(
        harness: Harness, tenant: Tenant, run: Run, name: str) -> None:
    log = LOGS[name]
    if log.path not in ENDPOINTS:
        pytest.skip(f"{log.path} is not in the catalog yet")
    env = new_keys(harness, tenant)
    expected = sdk_records(harness, env, log.path)
    lines = run("logs", name, "--from", FROM, "--to", TO, "--json", env=env).stdout
    assert [json.loads(line) for line in lines.splitlines()] == expected
    table = run("logs", name, "--from", FROM, "--to", TO, env=env).stdout
    assert table.rstrip().endswith(f"{len(expected):,} records")
    for column in log.columns:
        assert column in table
    if expected:
        assert str(expected[0][log.columns[1]]) in table


def test_log_failures_are_one_line(harness: Harness, tenant: Tenant, run: Run) -> None:
    env = new_keys(harness, tenant)
    name, log = next((name, log) for name, log in LOGS.items() if log.path in ENDPOINTS)
    # A bad time is the server's validation error.
    assert "err_validation" in error_line(
        run("logs", name, "--from", "yesterday-ish", env=env, code=1))
    assert "no profile 'default'" in error_line(run("logs", name, code=1))
    # A log whose endpoint this mimicast lacks (dlp and impersonation did, for a while).
    with pytest.raises(CliError, match="this mimicast has no /api/nothing/get-logs yet"):
        endpoint_of(replace(log, path="/api/nothing/get-logs"))
    with pytest.raises(CliError, match="takes no --until"):
        request_keywords(endpoint_of(log), {"until": "2026-11-20"})

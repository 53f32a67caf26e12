"""`mimicast simulate` and `mimicast serve --simulate` as a user runs them (subprocesses on
the test's own data directory): the summary, a rerun that adds nothing, every bad flag one
line and a non-zero exit, and live mail while serving."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from mimicast.store.engine import Store
from mimicast.store.schema import Message, Simulation

Cli = Callable[..., Any]


def messages(home: Path) -> int:
    store = Store(f"sqlite:///{home / 'mimicast.db'}")
    try:
        with store.session() as session:
            return int(session.scalar(select(func.count()).select_from(Message)) or 0)
    finally:
        store.dispose()


def test_simulate_backfills_once_per_seed(cli: Cli, tmp_path: Path) -> None:
    cli("init")
    first = cli("simulate", "--messages", "1500", "--seed", "7").stdout.strip()
    assert re.fullmatch(r"Simulated 1,500 messages for CUSA0DEMO \(seed 7, 7 days to "
                        r"\S+ \S+ UTC\): [\d,]+ recipients: [\d,]+ delivered, [\d,]+ held, "
                        r"[\d,]+ rejected, [\d,]+ bounced; [\d,]+ clicks\.", first), first
    again = cli("simulate", "--messages", "1500", "--seed", "7").stdout
    assert "already has 1,500 messages of seed 7" in again and "nothing to add" in again
    more = cli("simulate", "--messages", "1700", "--seed", "7").stdout
    assert more.startswith("Added 200 messages (1,700 in all) for CUSA0DEMO")
    assert messages(tmp_path) == 1_700


BAD = [
    (("--messages", "-1"), "--messages: give a whole number from 1 to"),
    (("--messages", "lots"), "--messages: 'lots' is not a whole number"),
    (("--days", "0"), "--days: give a whole number from 1 to"),
    (("--seed", "-3"), "--seed: give a whole number from 0 to"),
    (("--account", "CNOSUCH"), "Account not found: CNOSUCH"),
    (("--db", "mysql://db.example/m"), "unsupported database 'mysql'"),
    (("--days", "3", "--seed", "7"), "seed 7 was simulated over 7 days"),
]


def test_bad_flags_are_one_line(cli: Cli) -> None:
    cli("init")
    cli("simulate", "--messages", "10", "--seed", "7")
    for args, message in BAD:
        result = cli("simulate", *args, check=False)
        assert result.returncode != 0 and result.stdout == "", args
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("error: ") and message in line, (args, line)


def test_serve_simulate_sends_live_mail(serve: Any, tmp_path: Path) -> None:
    serve("--simulate", "1200")  # 20 a second
    deadline = time.monotonic() + 30
    while messages(tmp_path) < 20 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert messages(tmp_path) >= 20
    store = Store(f"sqlite:///{tmp_path / 'mimicast.db'}")
    try:
        with store.session() as session:
            assert session.scalar(select(Simulation.mode)) == "live"
    finally:
        store.dispose()

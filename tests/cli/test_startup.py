"""What a command costs before it does anything: `--help` imports none of the heavy modules,
and commands migrate the store only when it is empty or behind (Alembic is not even imported
otherwise). The schema revisions come from the migration scripts, as Alembic reads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from mimicast.store import revision
from mimicast.store.engine import MIGRATIONS, Store

HEAVY = ("sqlalchemy", "alembic", "pydantic", "pydantic_settings", "uvicorn", "starlette",
         "httpx", "rich", "mimicast.client", "mimicast.services", "mimicast.store",
         "mimicast.server", "mimicast.config")


def run_in_process(home: Path, *args: str,
                   watched: tuple[str, ...] = HEAVY) -> tuple[int, list[str]]:
    """Run `mimicast ARGS…` in a fresh interpreter; its exit code and which of the `watched`
    modules it had imported by the end."""
    script = (
        "import json, sys\n"
        "from mimicast.cli.main import app\n"
        f"sys.argv = ['mimicast', *{list(args)!r}]\n"
        "try:\n"
        "    app()\n"
        "except SystemExit as end:\n"
        "    code = end.code or 0\n"
        f"loaded = [m for m in {watched!r} if m in sys.modules]\n"
        "print(json.dumps([code, loaded]))\n")
    env = {name: value for name, value in os.environ.items() if not name.startswith("MIMICAST_")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=dict(env, MIMICAST_HOME=str(home)), timeout=120)
    code, loaded = json.loads(result.stdout.strip().splitlines()[-1])
    return int(code), list(loaded)


@pytest.mark.parametrize(("args", "by_typer"), [
    (["--help"], []), (["--version"], []),
    # typer itself imports pydantic to process a command's options (its group's too, on the
    # way to a subcommand): only the top-level --help goes without.
    (["serve", "--help"], ["pydantic"]), (["admin", "--help"], ["pydantic"]),
    (["admin", "user", "create", "--help"], ["pydantic"]), (["call", "--help"], ["pydantic"]),
])
def test_help_imports_nothing_heavy(tmp_path: Path, args: list[str],
                                    by_typer: list[str]) -> None:
    assert run_in_process(tmp_path, *args) == (0, by_typer)


def test_top_level_help_leaves_the_admin_commands_unbuilt(tmp_path: Path) -> None:
    assert run_in_process(tmp_path, "--help", watched=("mimicast.cli.admin",)) == (0, [])
    assert run_in_process(tmp_path, "admin", "--help",
                          watched=("mimicast.cli.admin",)) == (0, ["mimicast.cli.admin"])


def test_a_current_store_is_not_migrated_again(tmp_path: Path) -> None:
    code, loaded = run_in_process(tmp_path, "admin", "account", "list", "--json")
    assert code == 0 and "alembic" in loaded  # the empty store was migrated
    code, loaded = run_in_process(tmp_path, "admin", "account", "list", "--json")
    assert code == 0 and "alembic" not in loaded


def upgrade_to(store: Store, target: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def test_a_store_behind_is_upgraded(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'mimicast.db'}")
    upgrade_to(store, "0001")
    assert run_in_process(tmp_path, "admin", "account", "list", "--json")[0] == 0
    with store.engine.connect() as connection:
        assert revision.current_revision(connection) == revision.head_revision()
    store.dispose()


def test_a_store_from_a_newer_mimicast_is_one_line(cli: Any, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'mimicast.db'}")
    store.migrate()
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.dispose()
    result = cli("admin", "account", "list", check=False)
    assert result.returncode == 1
    assert result.stderr == (
        f"error: cannot open the database sqlite:///{tmp_path / 'mimicast.db'}: the database "
        f"is at schema revision 9999, which this mimicast does not know (its newest is "
        f"{revision.head_revision()}): upgrade mimicast\n")


def test_the_head_is_alembics() -> None:
    assert revision.head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_an_empty_store_has_no_revision(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    with store.engine.connect() as connection:
        assert revision.current_revision(connection) is None
        assert revision.needs_upgrade(connection)
    store.dispose()


def script(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(body)


def test_branching_migrations_are_refused(tmp_path: Path) -> None:
    script(tmp_path, "0001_a", "revision = '0001'\ndown_revision = None\n")
    script(tmp_path, "0002_b", "revision = '0002'\ndown_revision = '0001'\n")
    script(tmp_path, "0002_c", "revision = '0003'\ndown_revision = '0001'\n")
    with pytest.raises(RuntimeError, match=r"one line; heads: \['0002', '0003'\]"):
        revision.head_of(revision.read_scripts(tmp_path))


def test_computed_revisions_are_refused(tmp_path: Path) -> None:
    script(tmp_path, "0001_a", "revision = '0001'\ndown_revision = None\n")
    script(tmp_path, "0002_b", "revision = '0002'\ndown_revision = ('0001',)\n")
    with pytest.raises(RuntimeError, match="0002_b.py: revision and down_revision"):
        revision.read_scripts(tmp_path)

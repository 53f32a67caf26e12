"""The README's endpoint table: generated from the catalog, checked against the real README."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mimicast.catalog import ENDPOINTS
from mimicast.docs import END, START, MarkersMissing, endpoint_table, render_readme, update_readme
from mimicast.server.openapi import items_label, permission_label

REPO_README = Path(__file__).resolve().parents[1] / "README.md"
BEFORE = "# Project\n\nIntro text | with a pipe.\n\n"
AFTER = "\n\n## Later\n\nMore text.\n"


def cells(row: str) -> list[str]:
    """A Markdown row's cells, splitting only on unescaped pipes."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def run_docs(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mimicast.docs", *args], check=False, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_table_has_one_well_formed_row_per_endpoint() -> None:
    lines = endpoint_table().splitlines()
    assert cells(lines[0]) == ["Path", "Namespace", "Permission", "Items", "Summary"]
    assert cells(lines[1]) == ["---"] * 5
    rows = [cells(line) for line in lines[2:]]
    assert len(rows) == len(ENDPOINTS)
    assert [row[0] for row in rows] == [f"`{path}`" for path in sorted(ENDPOINTS)]
    for row in rows:
        assert len(row) == 5, row  # "Account | Dashboard | Read" must not split the cell
        endpoint = ENDPOINTS[row[0].strip("`")]
        assert row[1] == endpoint.namespace
        assert row[2].replace("\\|", "|") == permission_label(endpoint)
        assert row[3] == items_label(endpoint)
        assert row[4].replace("\\|", "|") == " ".join(endpoint.summary.split())


def test_update_fills_the_markers_and_keeps_the_rest(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"{BEFORE}{START}\nold table\n{END}{AFTER}", encoding="utf-8")
    assert update_readme(readme) is True
    text = readme.read_text(encoding="utf-8")
    assert text == f"{BEFORE}{START}\n{endpoint_table()}{END}{AFTER}"
    assert update_readme(readme) is False  # idempotent
    assert readme.read_text(encoding="utf-8") == text


def test_check_only_reports(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    stale = f"{START}{END}\n"
    readme.write_text(stale, encoding="utf-8")
    assert update_readme(readme, check=True) is True
    assert readme.read_text(encoding="utf-8") == stale


@pytest.mark.parametrize("text", ["no markers at all\n", f"{END}\n{START}\n",
                                  f"{START}\n{END}\n{START}\n{END}\n", f"{START} only\n"])
def test_missing_or_misplaced_markers_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(MarkersMissing):
        render_readme(text)
    readme = tmp_path / "README.md"
    readme.write_text(text, encoding="utf-8")
    result = run_docs(tmp_path)
    assert result.returncode == 2
    assert "endpoints:start" in result.stderr
    assert readme.read_text(encoding="utf-8") == text


def test_command_line_check_then_update(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"{BEFORE}{START}\n{END}{AFTER}", encoding="utf-8")
    stale = run_docs(tmp_path, "--check")
    assert stale.returncode == 1
    assert "stale" in stale.stderr
    assert readme.read_text(encoding="utf-8") == f"{BEFORE}{START}\n{END}{AFTER}"

    updated = run_docs(tmp_path)
    assert updated.returncode == 0, updated.stderr
    assert "updated" in updated.stdout
    assert endpoint_table() in readme.read_text(encoding="utf-8")

    current = run_docs(tmp_path, "--check")
    assert current.returncode == 0, current.stderr
    assert "up to date" in current.stdout


def test_command_line_without_a_readme_fails_cleanly(tmp_path: Path) -> None:
    result = run_docs(tmp_path, "--check")
    assert result.returncode == 2
    assert "README.md" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_repository_readme_holds_the_current_table() -> None:
    """Fails until README.md has the markers; then whenever the catalog changes without
    `python -m mimicast.docs` being run."""
    text = REPO_README.read_text(encoding="utf-8")
    assert START in text and END in text, "README.md lacks the endpoint table markers"
    between = text.split(START, 1)[1].split(END, 1)[0]
    assert between == "\n" + endpoint_table(), "run `python -m mimicast.docs` to update README.md"

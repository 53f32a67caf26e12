"""The README's endpoint table, generated from the catalog.

    python -m mimicast.docs            rewrite README.md (current directory) between the markers
    python -m mimicast.docs --check    exit 1 when README.md is stale, 0 when current
    python -m mimicast.docs PATH       another file

Exit 2 when the file or its markers are missing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mimicast.catalog import ENDPOINTS, Endpoint
from mimicast.server.openapi import items_label, permission_label

START = "<!-- endpoints:start -->"
END = "<!-- endpoints:end -->"


class MarkersMissing(ValueError):
    pass


def _cell(text: str) -> str:
    # Permission strings ("Account | Dashboard | Read") would otherwise split the cell.
    return " ".join(text.split()).replace("|", "\\|")


def endpoint_table(endpoints: dict[str, Endpoint] | None = None) -> str:
    """A Markdown table of the implemented endpoints, one row per catalog entry, by path."""
    endpoints = ENDPOINTS if endpoints is None else endpoints
    rows = ["| Path | Namespace | Permission | Items | Summary |",
            "|---|---|---|---|---|"]
    for path, endpoint in sorted(endpoints.items()):
        rows.append(f"| `{path}` | {_cell(endpoint.namespace)} "
                    f"| {_cell(permission_label(endpoint))} | {_cell(items_label(endpoint))} "
                    f"| {_cell(endpoint.summary)} |")
    return "\n".join(rows) + "\n"


def render_readme(text: str, table: str | None = None) -> str:
    """`text` with the table between the markers replaced; the rest is left byte for byte."""
    start = text.find(START)
    end = text.find(END)
    if start < 0 or end < 0 or end < start or text.count(START) != 1 or text.count(END) != 1:
        raise MarkersMissing(f"expected one {START} followed by one {END}")
    table = endpoint_table() if table is None else table
    return text[:start + len(START)] + "\n" + table + text[end:]


def update_readme(path: str | Path, *, check: bool = False) -> bool:
    """Bring the table in `path` up to date; True when it was stale. With `check`, only say."""
    file = Path(path)
    text = file.read_text(encoding="utf-8")
    wanted = render_readme(text)
    stale = wanted != text
    if stale and not check:
        file.write_text(wanted, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimicast.docs",
                                     description="Regenerate the README's endpoint table.")
    parser.add_argument("path", nargs="?", default="README.md")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 when the table is stale")
    args = parser.parse_args(argv)
    try:
        stale = update_readme(args.path, check=args.check)
    except (OSError, MarkersMissing) as error:
        print(f"{args.path}: {error}", file=sys.stderr)
        return 2
    if args.check and stale:
        print(f"{args.path}: the endpoint table is stale; run `python -m mimicast.docs`",
              file=sys.stderr)
        return 1
    print(f"{args.path}: {'updated' if stale else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

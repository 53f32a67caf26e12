"""`mimicast admin url-protect …`: issue a rewritten URL Protect link as delivered mail would
carry it, and decode one back, without sending mail."""

from __future__ import annotations

from typing import Annotated

import typer

from mimicast.cli.admin_common import AccountCode, Db, Json, done, store, unit
from mimicast.cli.common import command_group

app = command_group("URL Protect: rewritten links (issue, decode).")


@app.command("rewrite")
def rewrite(url: Annotated[str, typer.Argument(help="The original URL, e.g. "
                                                    "https://example.com/page.")],
            db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """Issue a rewritten link for URL; prints the link (ttp/url/decode-url turns it back)."""
    from mimicast.services import url_rewrite

    with store(db) as deps, unit(deps, account) as ctx:
        link = url_rewrite.rewrite(ctx, url)
    done(as_json, {"url": url.strip(), "rewrittenUrl": link}, link)


@app.command("decode")
def decode(link: Annotated[str, typer.Argument(help="A rewritten link of the account.")],
           db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """Print the original URL behind a rewritten link the account was issued."""
    from mimicast.services import url_rewrite

    with store(db) as deps, unit(deps, account) as ctx:
        original = url_rewrite.decode(ctx, link)
    done(as_json, {"url": original, "rewrittenUrl": link.strip()}, original)

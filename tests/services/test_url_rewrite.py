"""Rewritten URL Protect links, straight on the services, on SQLite and PostgreSQL: the link's
form, decoding it back in its many spellings, and what never decodes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from mimicast.services import identity, url_rewrite
from mimicast.services.context import Caller, Context, Deps
from mimicast.services.crypto import Vault
from mimicast.services.dns import SimulatedResolver
from mimicast.store.engine import Store
from mimicast.store.schema import AuditEvent, RewrittenUrl
from mimicast.wire.errors import ApiError


@dataclass
class World:
    deps: Deps
    us: int  # account ids: one in the us region, one in eu
    eu: int

    def run(self, account_id: int, work: Callable[[Context], Any]) -> Any:
        with self.deps.store.session() as session:
            result = work(Context(self.deps, session,
                                  Caller(account_id=account_id, actor="tester")))
            session.commit()
            return result

    def rewrite(self, account_id: int, url: str) -> str:
        link: str = self.run(account_id, lambda ctx: url_rewrite.rewrite(ctx, url))
        return link

    def decode(self, account_id: int, link: str) -> str:
        original: str = self.run(account_id, lambda ctx: url_rewrite.decode(ctx, link))
        return original

    def fails(self, account_id: int, work: Callable[[Context], Any]) -> ApiError:
        with pytest.raises(ApiError) as caught:
            self.run(account_id, work)
        return caught.value


@pytest.fixture
def world(store_url: str, tmp_path: Path) -> Iterator[World]:
    store = Store(store_url)
    store.migrate()
    deps = Deps(store=store, vault=Vault(str(tmp_path / "secret.key")),
                resolver=SimulatedResolver(store.sessions))
    with store.session() as session:
        us = identity.create_account(session, name="US", region="us", code="CUS1")
        eu = identity.create_account(session, name="EU", region="EU", code="CEU1")
        session.commit()
        ids = us.id, eu.id
    yield World(deps, *ids)
    store.dispose()


def test_a_link_names_the_region_and_the_original_host(world: World) -> None:
    link = world.rewrite(world.us, "  https://Docs.Example.com/a/b?c=d  ")
    parts = urlsplit(link)
    assert (parts.scheme, parts.hostname) == ("https", "protect-us.mimecast.com")
    assert re.fullmatch(r"/s/[A-Za-z0-9_-]{22}", parts.path)
    assert parse_qs(parts.query) == {"domain": ["docs.example.com"]}
    assert urlsplit(world.rewrite(world.eu, "http://x.example")).hostname == (
        "protect-eu.mimecast.com")
    # The original is kept as given (trimmed), under the link's code, for its account only.
    with world.deps.store.session() as session:
        row = session.scalar(select(RewrittenUrl).where(
            RewrittenUrl.code == parts.path.removeprefix("/s/")))
        assert row is not None and row.account_id == world.us
        assert row.url == "https://Docs.Example.com/a/b?c=d"
        # Mail flow, not administration: no audit event.
        assert session.scalar(select(AuditEvent.id).where(
            AuditEvent.account_id == world.us, AuditEvent.category == "ttp_url_logs")) is None


def test_every_rewrite_gets_its_own_code(world: World) -> None:
    links = {world.rewrite(world.us, "https://same.example/") for _ in range(20)}
    assert len(links) == 20
    assert {world.decode(world.us, link) for link in links} == {"https://same.example/"}


def test_bare_domains_are_rewritten(world: World) -> None:
    link = world.rewrite(world.us, "bare.example/page")
    assert link.endswith("?domain=bare.example")
    assert world.decode(world.us, link) == "bare.example/page"


def test_decode_accepts_the_link_in_its_usual_spellings(world: World) -> None:
    original = "https://files.example/report.pdf"
    link = world.rewrite(world.us, original)
    bare = link.split("?")[0]
    for spelling in (link, bare, bare + "/", bare.replace("https:", "http:"),
                     bare.replace("https://", ""), bare + "?domain=elsewhere.example&x=1",
                     bare.replace("protect-us", "PROTECT-US"), f"\t{link}\n"):
        assert world.decode(world.us, spelling) == original, spelling


def test_decode_refuses_everything_else(world: World) -> None:
    link = world.rewrite(world.us, "https://real.example/")
    code = urlsplit(link).path.removeprefix("/s/")
    for bad in ("", "garbage", "https://real.example/", "https://protect-us.mimecast.com/",
                "https://protect-us.mimecast.com/s/", f"https://protect-us.mimecast.com/{code}",
                f"https://protect-us.mimecast.com/s/{code.lower()}X",
                f"https://protect-us.mimecast.com/s/{code}/extra",
                f"https://protect-us.mimecast.com.evil.example/s/{code}",
                f"https://evil.example/s/{code}", f"ftp://protect-us.mimecast.com/s/{code}",
                f"https://protect-us.mimecast.com:99999/s/{code}", "https://[::1/s/x"):
        error = world.fails(world.us, lambda ctx, bad=bad: url_rewrite.decode(ctx, bad))
        assert (error.code, error.field) == ("err_ttp_url_decode_failed", "url"), bad


def test_another_accounts_link_does_not_decode(world: World) -> None:
    link = world.rewrite(world.us, "https://private.example/")
    error = world.fails(world.eu, lambda ctx: url_rewrite.decode(ctx, link))
    assert error.code == "err_ttp_url_decode_failed"
    assert world.decode(world.us, link) == "https://private.example/"


def test_only_urls_are_rewritten(world: World) -> None:
    for bad in ("", "http://", "not a url", "https://x.example:70000/", "mailto:"):
        error = world.fails(world.us, lambda ctx, bad=bad: url_rewrite.rewrite(ctx, bad))
        assert (error.code, error.field) == ("err_validation_invalid_value", "url"), bad
    with world.deps.store.session() as session:
        assert session.scalar(select(RewrittenUrl.id)) is None

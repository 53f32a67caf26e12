"""URL Protect managed URLs: links an account always permits or always blocks, by exact URL or
by domain (spec 6.9).

A managed URL is unique per account and match type by its normalised form: scheme and host in
lower case, no default port, no fragment; the path and query are kept as given (the real
service lists `http://x.net` and `http://x.net/` as two entries). A domain entry is unique by
its host alone. Clients often send a bare `example.com/path`: that parses with scheme "".

Ids are `ids.secure_id("managedurl", row)`: opaque like the real service's (which are not
`eNo…`-style, spec 9), and never valid as another kind of object's id.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import String, bindparam, delete, exc, insert, or_, select

from mimicast.services import audit, ids, paging
from mimicast.services.context import Context
from mimicast.store.query import LIKE_ESCAPE, Query, contains
from mimicast.store.schema import ManagedUrl
from mimicast.wire.errors import ApiError

ID_KIND = "managedurl"
EXPLICIT, DOMAIN = "explicit", "domain"
MAX_URL_LENGTH = 2048  # the column's size
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A dotted name (a bare word is a typo, not a link), or an IP address.
_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)+")

# The real service echoes a duplicate's request item with `overrideUrl: false` added (spec 6.9,
# R7 fixture create_managed_url_bad).
OVERRIDE_ECHO = {"overrideUrl": False}


def secure_id(number: int) -> str:
    return ids.secure_id(ID_KIND, number)


# Parsing ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UrlParts:
    scheme: str  # "" for a bare `example.com/path`
    host: str
    port: int  # -1: none, or the scheme's default
    path: str
    query: str

    @property
    def explicit_key(self) -> str:
        """The normalised URL an explicit entry is unique by."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = host if self.port == -1 else f"{host}:{self.port}"
        prefix = f"{self.scheme}://" if self.scheme else ""
        return prefix + netloc + self.path + (f"?{self.query}" if self.query else "")

    def key(self, match_type: str) -> str:
        return self.host if match_type == DOMAIN else self.explicit_key


def parse_url(value: str, field: str = "url") -> UrlParts:
    """A URL, with or without a scheme, split and normalised; a validation error otherwise."""
    text = value.strip()
    if len(text) > MAX_URL_LENGTH or any(ch.isspace() for ch in text):
        raise _invalid(value, field)
    # Without "://", urlsplit reads `example.com:8080/x` as scheme "example.com": give it the
    # network-location marker so the host lands in netloc.
    if "://" not in text and not text.startswith("//"):
        text = "//" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # a bad port or a broken IPv6 literal
        raise _invalid(value, field) from None
    host = (parts.hostname or "").rstrip(".")
    if not host or not (_HOST.fullmatch(host) or _is_ipv6(host)):
        raise _invalid(value, field)
    scheme = parts.scheme.lower()
    if port is None or _DEFAULT_PORTS.get(scheme) == port:
        port = -1
    return UrlParts(scheme, host, port, parts.path, parts.query)


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False


def _invalid(value: str, field: str) -> ApiError:
    shown = value if len(value) <= 60 else value[:57] + "..."
    return ApiError("err_validation_invalid_value", field=field, reason=f"not a URL: {shown!r}")


# Views --------------------------------------------------------------------------------------

def view(row: Any) -> dict[str, Any]:
    return {"id": secure_id(row.id), "scheme": row.scheme, "domain": row.domain,
            "port": row.port, "path": row.path, "queryString": row.query_string,
            "matchType": row.match_type, "action": row.action, "comment": row.comment,
            "disableUserAwareness": row.disable_user_awareness,
            "disableRewrite": row.disable_rewrite, "disableLogClick": row.disable_log_click}


# Operations ---------------------------------------------------------------------------------

_EXISTS = Query(select(ManagedUrl.id).where(ManagedUrl.account_id == bindparam("account"),
                                            ManagedUrl.match_type == bindparam("match_type"),
                                            ManagedUrl.url == bindparam("url")))
_INSERT = Query(insert(ManagedUrl).values(
    {column: bindparam(column) for column in (
        "account_id", "url", "scheme", "domain", "port", "path", "query_string", "match_type",
        "action", "comment", "disable_rewrite", "disable_user_awareness", "disable_log_click",
        "created_at")}).returning(ManagedUrl.id))


def create_managed_url(ctx: Context, url: str, action: str, match_type: str = EXPLICIT, *,
                       comment: str = "", disable_rewrite: bool = False,
                       disable_user_awareness: bool = False,
                       disable_log_click: bool = False) -> dict[str, Any]:
    parts = parse_url(url)
    key = parts.key(match_type)
    account_id = ctx.caller.account_id
    if _EXISTS.first(ctx.unit, account=account_id, match_type=match_type, url=key) is not None:
        raise ApiError("err_managed_url_exists_code", echo=OVERRIDE_ECHO)
    row = {"account_id": account_id, "url": key, "scheme": parts.scheme, "domain": parts.host,
           "port": parts.port, "path": parts.path, "query_string": parts.query,
           "match_type": match_type, "action": action, "comment": comment,
           "disable_rewrite": disable_rewrite, "disable_user_awareness": disable_user_awareness,
           "disable_log_click": disable_log_click, "created_at": ctx.now()}
    try:
        with ctx.unit.savepoint():
            number = _INSERT.scalar(ctx.unit, **row)
    except exc.IntegrityError:
        # A concurrent request created the same entry first (PostgreSQL: SQLite's writers
        # take turns).
        raise ApiError("err_managed_url_exists_code", echo=OVERRIDE_ECHO) from None
    audit.record(ctx, audit.URL_PROTECT, "Managed URL created", f"{action} {match_type} {key}")
    return view(SimpleNamespace(id=number, query_string=parts.query, **{
        name: value for name, value in row.items() if name != "query_string"}))


EXACT, CONTAINS = "exact", "contains"


@functools.cache
def _urls(match: str | None) -> paging.Keyset:
    """By normalised URL along (account, url, id); `exact` keeps entries whose domain or URL
    is one of `keys`, `contains` those whose URL holds `needle`."""
    base = select(ManagedUrl.id, ManagedUrl.url, ManagedUrl.scheme, ManagedUrl.domain,
                  ManagedUrl.port, ManagedUrl.path, ManagedUrl.query_string,
                  ManagedUrl.match_type, ManagedUrl.action, ManagedUrl.comment,
                  ManagedUrl.disable_user_awareness, ManagedUrl.disable_rewrite,
                  ManagedUrl.disable_log_click).where(
        ManagedUrl.account_id == bindparam("account"))
    if match == EXACT:
        keys = bindparam("keys", expanding=True, type_=String())
        base = base.where(or_(ManagedUrl.domain.in_(keys), ManagedUrl.url.in_(keys)))
    elif match == CONTAINS:
        base = base.where(ManagedUrl.url.ilike(bindparam("needle"), escape=LIKE_ESCAPE))
    return paging.Keyset(base, order=[ManagedUrl.url, ManagedUrl.id],
                         pinned=[ManagedUrl.account_id])


def list_managed_urls(ctx: Context, domain_or_url: str | None,
                      exact_match: bool) -> paging.Paged:
    """The account's managed URLs by normalised URL, optionally narrowed: `exact_match` keeps
    entries whose domain or whole URL equals the filter, otherwise those containing it."""
    needle = (domain_or_url or "").strip()
    params: dict[str, Any] = {"account": ctx.caller.account_id}
    match = None
    if needle and exact_match:
        keys = {needle.lower()}
        try:
            keys.add(parse_url(needle, "domainOrUrl").explicit_key)
        except ApiError:
            pass  # not a URL: only a literal domain can equal it
        match, params["keys"] = EXACT, sorted(keys)
    elif needle:
        match, params["needle"] = CONTAINS, contains(needle)
    page = _urls(match).page(ctx, f"ttp/url/get-all-managed-urls|{needle}|{exact_match}",
                             **params)
    return paging.Paged(data=[view(row) for row in page.rows], pagination=page.pagination)


_ONE = Query(select(ManagedUrl.__table__).where(ManagedUrl.id == bindparam("id"),
                                                ManagedUrl.account_id == bindparam("account")))
_REMOVE = Query(delete(ManagedUrl).where(ManagedUrl.id == bindparam("id")))


def delete_managed_url(ctx: Context, managed_url_id: str) -> None:
    number = ids.row_id(ID_KIND, managed_url_id)
    row = (_ONE.first(ctx.unit, id=number, account=ctx.caller.account_id)
           if number is not None else None)
    if row is None:
        raise ApiError("err_managed_url_not_found")
    _REMOVE.execute(ctx.unit, id=row.id)
    audit.record(ctx, audit.URL_PROTECT, "Managed URL deleted",
                 f"{row.action} {row.match_type} {row.url}")

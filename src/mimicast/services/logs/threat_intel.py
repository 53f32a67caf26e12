"""The threat-intel feed (`ttp/threat-intel/get-feed`, spec 6.9, data families 9): what the
gateway found malicious, as a file to download — a STIX 2.0 bundle or a CSV — a page at a
time, the next page's token in the `x-mc-threat-feed-next-token` response header.

An indicator is one sighting, as in the recorded real bundles (one malware / indicator /
relationship triple per detection, the same hash again for each message carrying it):

- a malicious attachment (verdict "malicious") of a message: `file`, by its SHA-256;
- a link of a message to a known-malicious host (`world.MALICIOUS_HOSTS`, the same test the
  policy engine scores with): `url`. A link an administrator's managed URL blocked is policy,
  not intelligence, and stays out (the TTP URL log calls it "clean" too).

`malware_customer` lists the account's own sightings; `malware_grid` every account's, named
without their messages' subjects or senders, after the known-bad list itself
(`world.MALWARE_HASHES` as `file`, `world.MALICIOUS_HOSTS` as `domain`) as of the window's
start. Sightings go oldest first (by message time, then message, files before links), so a
token re-sent once the feed is caught up picks up what arrived since (the Alert Logic
collector re-sends its last token that way). The window is `start`..`end` (both inclusive),
by default the 7 days up to now.

CSV columns are not recovered (data families 9): the file is pipe-separated, with the column
names the one client known to parse it reads (Netskope's plugin: `MD5`, `SHA256`,
`SenderAddress`): `Timestamp|IndicatorType|Indicator|MD5|SHA256|FileName|SenderAddress|Subject`.
Files are named `<feedType>_<fileType>_<yyyyMMddHHmmssSSS>.csv|.stix` (`.stix` as in
Elastic's recorded download), `.zip` when compressed, the zip's one member keeping the
unzipped name.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import BigInteger, ColumnElement, Integer, bindparam, or_, select, tuple_

from mimicast.services import audit
from mimicast.services.context import Context
from mimicast.services.downloads import OCTET_STREAM, Download
from mimicast.services.mail.render import attachment_data
from mimicast.services.mail.rules import parse_link
from mimicast.services.mail.views import window, window_scope
from mimicast.services.mail.world import MALICIOUS_HOSTS, MALWARE_HASHES
from mimicast.services.paging import AnySelect
from mimicast.store.query import Query
from mimicast.store.schema import Account, Message, MessageAttachment, MessageLink
from mimicast.wire import pagetokens
from mimicast.wire.errors import ApiError

CUSTOMER, GRID = "malware_customer", "malware_grid"
CSV, STIX = "csv", "stix"
NEXT_TOKEN_HEADER = "x-mc-threat-feed-next-token"
# Indicators in one file; more than this and the answer carries the next page's token.
PAGE_SIZE = 1000
WINDOW_DAYS = 7
EVENT_TYPE = "Threat Intel Feed Download"
CSV_COLUMNS = ("Timestamp", "IndicatorType", "Indicator", "MD5", "SHA256", "FileName",
               "SenderAddress", "Subject")
JSON_CONTENT_TYPE = "application/json"
FILE, URL, DOMAIN = "file", "url", "domain"
_PATTERNS = {FILE: "[file:hashes.'SHA-256' = '{}']", URL: "[url:value = '{}']",
             DOMAIN: "[domain-name:value = '{}']"}
# Object ids are uuid5s in this namespace, so the same sightings give the same file.
_NAMESPACE = uuid.UUID("0b5f3c2e-6f5d-5e63-9a51-7d2b8e4c1a90")
# The known-bad list, in a fixed order: the grid's first entries.
_LISTED = ([(FILE, sha256) for sha256 in sorted(MALWARE_HASHES)]
           + [(DOMAIN, host) for host in sorted(MALICIOUS_HOSTS)])
# Row bounds within the key's own message: after 0 comes every row of an arm (ids are
# positive), after the largest id none.
_BEFORE_ANY_ROW, _AFTER_EVERY_ROW = 0, 2**63 - 1


# Sightings: per feed, one query per kind, built once. Each walks messages by time on the
# (account, received_at) index and takes their files or links from the message_id index; the
# grid walks that index account by account (there is no index on time alone).

def _sightings(table: type[MessageAttachment] | type[MessageLink], kind: ColumnElement[bool],
               columns: tuple[Any, ...], grid: bool) -> AnySelect:
    at = Message.received_at
    base: AnySelect = select(at.label("at"), Message.id.label("message"),
                             table.id.label("row"), *columns)
    # The grid: every account's messages, account by account ("IN" makes the planner walk
    # the index per account rather than scan the files or links).
    base = base.where(Message.account_id.in_(select(Account.id)) if grid
                      else Message.account_id == bindparam("account"))
    base = base.join(table, table.message_id == Message.id).where(
        kind,
        # `lower` repeats the key's time as a bound the index range can start from.
        at >= bindparam("lower"), at <= bindparam("end"),
        tuple_(at, Message.id, table.id) > tuple_(bindparam("key_at", type_=at.type),
                                                  bindparam("key_message", type_=Integer()),
                                                  # BIGINT: the bounds below exceed INT.
                                                  bindparam("key_row", type_=BigInteger())))
    return base.order_by(at, Message.id, table.id).limit(bindparam("limit", type_=Integer()))


_FILE_COLUMNS = (MessageAttachment.sha256.label("value"), MessageAttachment.name,
                 MessageAttachment.size, Message.seed, Message.subject, Message.sender)
_LINK_COLUMNS = (MessageLink.url.label("value"), Message.subject, Message.sender)


def _names_bad_host(fold: bool) -> ColumnElement[bool]:
    """A link naming a known-malicious host anywhere (`parse_link` then keeps those on one),
    in any case: SQLite's LIKE ignores ASCII case (at half the cost of folding the URL);
    PostgreSQL's needs ILIKE."""
    url = MessageLink.url
    return or_(*((url.ilike if fold else url.like)(f"%{host}%")
                 for host in sorted(MALICIOUS_HOSTS)))


def _arms(grid: bool) -> tuple[Query, Query]:
    """A feed's queries in the order of their rows within a message: files, then links."""
    links = {dialect: _sightings(MessageLink, _names_bad_host(dialect == "postgresql"),
                                 _LINK_COLUMNS, grid) for dialect in ("sqlite", "postgresql")}
    return (Query(_sightings(MessageAttachment, MessageAttachment.verdict == "malicious",
                             _FILE_COLUMNS, grid)), Query(links))


_ARMS = {CUSTOMER: _arms(grid=False), GRID: _arms(grid=True)}
_STORED = Query(select(MessageAttachment.content)
                .where(MessageAttachment.id == bindparam("id")))


@dataclass(frozen=True)
class Indicator:
    """One line of the feed: a sighting, or an entry of the known-bad list."""

    ident: str  # what its objects' uuid5s are made from
    kind: str  # FILE, URL or DOMAIN
    value: str  # the SHA-256, the URL or the host
    seen: datetime
    name: str  # the malware object's name
    file_name: str = ""
    md5: str = ""
    sender: str = ""
    subject: str = ""


@dataclass(frozen=True)
class _Candidate:
    # (0, index) an entry of the list; (1, time, message, arm, row) a sighting.
    key: tuple[Any, ...]
    row: Any = None


def get_feed(ctx: Context, feed: str, file_type: str, compress: bool, start_text: str | None,
             end_text: str | None, token: str | None) -> Download:
    """`ttp/threat-intel/get-feed`: one page of the feed as a file, with the next page's token
    in its `x-mc-threat-feed-next-token` header when more remain; each download is audited."""
    given = {"start": start_text, "end": end_text}
    start, end = window(ctx, given, default_days=WINDOW_DAYS)
    scope = (f"ttp/threat-intel/get-feed|{ctx.caller.account_id}|{feed}|{file_type}|"
             f"{window_scope(given)}")
    secret = ctx.deps.vault.mac_key
    indicators, last = _page(ctx, feed, start, end, _after(secret, scope, token))
    now = ctx.now()
    stem = f"{feed}_{file_type}_{now:%Y%m%d%H%M%S}{now.microsecond // 1000:03d}"
    if file_type == STIX:
        name, content, content_type = f"{stem}.stix", _stix(indicators), JSON_CONTENT_TYPE
    else:
        name, content, content_type = f"{stem}.csv", _csv(indicators), OCTET_STREAM
    if compress:
        name, content, content_type = f"{stem}.zip", _zipped(name, content, now), OCTET_STREAM
    headers: tuple[tuple[str, str], ...] = ()
    if last is not None:
        headers = ((NEXT_TOKEN_HEADER,
                    pagetokens.encode(secret, scope, pagetokens.AFTER, _token_key(last))),)
    audit.record(ctx, audit.REPORTING, EVENT_TYPE,
                 f"Threat intel feed download - {name}, Date: {now:%Y-%m-%d}, "
                 f"Time: {now:%H:%M:%S}+0000")
    return Download(content, name, content_type, headers)


# Paging -------------------------------------------------------------------------------------

def _bad_token() -> ApiError:
    return ApiError("err_validation_invalid_value", field="token",
                    reason="token is not an x-mc-threat-feed-next-token of this feed (the "
                           "same feedType, fileType, start and end)")


def _after(secret: bytes, scope: str, token: str | None) -> tuple[Any, ...] | None:
    """The position a token continues after; None for no token ("" included: Elastic's
    template sends it when the last answer had no header). A token this server did not issue
    for this account's feed, with these filters, fails on `token`."""
    if not token:
        return None
    try:
        direction, key, _total = pagetokens.decode(secret, scope, token)
    except ApiError:
        raise _bad_token() from None
    match key:
        case [0, int(index)] if direction == pagetokens.AFTER and 0 <= index < len(_LISTED):
            return (0, index)
        case [1, str(at), int(message), int(arm), int(row)] if direction == pagetokens.AFTER:
            try:
                return (1, datetime.fromisoformat(at), message, arm, row)
            except ValueError:
                pass
    raise _bad_token()


def _token_key(position: tuple[Any, ...]) -> list[Any]:
    if position[0] == 0:
        return list(position)
    _sighting, at, message, arm, row = position
    return [1, at.isoformat(), message, arm, row]


def _page(ctx: Context, feed: str, start: datetime, end: datetime,
          after: tuple[Any, ...] | None) -> tuple[list[Indicator], tuple[Any, ...] | None]:
    """The indicators after `after` (from the beginning: None), at most PAGE_SIZE, and the
    position of the last one when more follow."""
    limit = PAGE_SIZE + 1
    candidates: list[_Candidate] = []
    if feed == GRID and (after is None or after[0] == 0):
        first = 0 if after is None else after[1] + 1
        candidates += [_Candidate((0, index))
                       for index in range(first, min(len(_LISTED), first + limit))]
    # Sightings from the window's start (message ids are positive: message 0 is before all).
    at, message, key_arm, key_row = after[1:] if after and after[0] == 1 else (start, 0, 0, 0)
    params: dict[str, Any] = {"lower": max(start, at), "end": end, "key_at": at,
                              "key_message": message, "limit": limit}
    if feed == CUSTOMER:
        params["account"] = ctx.caller.account_id
    for arm, query in enumerate(_ARMS[feed]):
        # Within the key's own message: an earlier arm is done, a later one not begun.
        bound = (key_row if arm == key_arm else
                 _AFTER_EVERY_ROW if arm < key_arm else _BEFORE_ANY_ROW)
        candidates += [_Candidate((1, row.at, row.message, arm, row.row), row)
                       for row in query.all(ctx.unit, key_row=bound, **params)]
    candidates.sort(key=lambda candidate: candidate.key)
    taken = candidates[:PAGE_SIZE]
    last = taken[-1].key if len(candidates) > PAGE_SIZE else None
    md5s: dict[str, str] = {}
    found = (_indicator(ctx, feed, candidate, start, md5s) for candidate in taken)
    return [indicator for indicator in found if indicator is not None], last


def _indicator(ctx: Context, feed: str, candidate: _Candidate, start: datetime,
               md5s: dict[str, str]) -> Indicator | None:
    """A candidate as the feed shows it; None for a link that names a bad host only in its path
    or query, not as its host. The grid shows no account's subjects or senders."""
    if candidate.key[0] == 0:
        kind, value = _LISTED[candidate.key[1]]
        return Indicator(f"{feed}|listed|{kind}|{value}|{start.isoformat()}", kind, value,
                         start, value if kind == DOMAIN else "Known malicious file")
    _sighting, _at, _message, arm, _row = candidate.key
    row = candidate.row
    own = feed == CUSTOMER
    sender, subject = (row.sender, row.subject) if own else ("", "")
    if arm == 0:
        if row.value not in md5s:  # a page sees the same few files again and again
            md5s[row.value] = _md5(ctx, row)
        return Indicator(f"{feed}|{FILE}|{row.row}|{row.value}", FILE, row.value, row.at,
                         subject or row.name, row.name, md5s[row.value], sender, subject)
    parts = parse_link(row.value)
    if parts is None or parts.host not in MALICIOUS_HOSTS:
        return None
    return Indicator(f"{feed}|{URL}|{row.row}|{row.value}", URL, row.value, row.at,
                     subject or parts.host, sender=sender, subject=subject)


def _md5(ctx: Context, row: Any) -> str:
    """The MD5 of a malicious file: a sent one's stored bytes, a simulated one's rendered."""
    stored = _STORED.scalar(ctx.unit, id=row.row) if row.seed is None else None
    data = attachment_data(row.seed, row.name, row.size, "malicious", stored)
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


# Files --------------------------------------------------------------------------------------

def _time(moment: datetime) -> str:
    """`2021-11-19T01:28:37.099Z`, as the recorded bundles write times."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _object_id(kind: str, ident: str) -> str:
    return f"{kind}--{uuid.uuid5(_NAMESPACE, f'{kind}|{ident}')}"


def _stix_value(value: str) -> str:
    """A pattern's string literal: STIX patterning escapes `\\` and `'`."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _stix(indicators: list[Indicator]) -> bytes:
    """A STIX 2.0 bundle: per indicator a malware, an indicator and the relationship that the
    indicator indicates the malware, all stamped with when it was seen."""
    objects: list[dict[str, Any]] = []
    for indicator in indicators:
        stamp = _time(indicator.seen)
        malware = _object_id("malware", indicator.ident)
        pattern = _object_id("indicator", indicator.ident)
        objects += [
            {"type": "malware", "id": malware, "created": stamp, "modified": stamp,
             "name": indicator.name, "labels": ["virus"]},
            {"type": "indicator", "id": pattern, "created": stamp, "modified": stamp,
             "labels": ["malicious-activity"],
             "pattern": _PATTERNS[indicator.kind].format(_stix_value(indicator.value)),
             "valid_from": stamp},
            {"type": "relationship", "id": _object_id("relationship", indicator.ident),
             "created": stamp, "modified": stamp, "relationship_type": "indicates",
             "source_ref": pattern, "target_ref": malware}]
    bundle = _object_id("bundle", ",".join(str(item["id"]) for item in objects))
    return orjson.dumps({"type": "bundle", "id": bundle, "spec_version": "2.0",
                         "objects": objects})


def _flat(text: str) -> str:
    # Some readers split the file on newlines before parsing it (Netskope's does).
    return text.replace("\r", " ").replace("\n", " ")


def _csv(indicators: list[Indicator]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="|", lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for indicator in indicators:
        writer.writerow([_time(indicator.seen), indicator.kind, _flat(indicator.value),
                         indicator.md5, indicator.value if indicator.kind == FILE else "",
                         _flat(indicator.file_name), indicator.sender, _flat(indicator.subject)])
    return buffer.getvalue().encode()


def _zipped(member: str, content: bytes, now: datetime) -> bytes:
    """A zip holding the file as `member`, dated `now` (not the wall clock: the same page at
    the same moment is the same zip)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(member, date_time=now.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, content)
    return buffer.getvalue()

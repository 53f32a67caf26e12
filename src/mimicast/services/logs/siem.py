"""`audit/get-siem-logs`: the MTA log as a stream of files, one per call.

The log is cut into fixed time slices (30 minutes by default, `Deps.siem_slice`); a slice
becomes available once it has ended, and holds one file per record type that has records
(receipt, process, delivery, …, in that order; a type with more than `FILE_MESSAGES` messages
or clicks in a slice is cut into several files). A file is read from the facts when asked
(`mta` renders its records), so it never disagrees with the hold queue or Message Finder.

Where the stream stands is a `Position`: the slice, the record type, the last message (or
release, or click) served of it, and how many files of it were served. The `mc-siem-token` a
file comes with is the position after it, sealed (tamper-proof, bound to the account): sent
back, it yields the next file, or — caught up — the envelope with `isLastToken`, and the same
token sent again later yields the next file once its slice has ended. A call without a token
starts where this binding's last file ended (the ledger knows), else at the oldest slice the
retention (`Deps.log_retention`) keeps. Slices older than the retention are gone: a token
pointing into one is refused.
"""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Integer, String, and_, bindparam, exists, func, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from mimicast.services.context import Context
from mimicast.services.downloads import Download, NoFile
from mimicast.services.logs import ledger, mta
from mimicast.services.mail.facts import BOUNCED, DELIVERED
from mimicast.store.query import Query
from mimicast.store.schema import (
    Account,
    HoldAction,
    LinkClick,
    Message,
    MessageAttachment,
    MessageLink,
    MessageRecipient,
)
from mimicast.wire.errors import ApiError
from mimicast.wire.sealed import seal, unseal

# A file holds the records of at most this many messages (or releases, or clicks): it is
# built whole in memory, so this bounds what one call holds.
FILE_MESSAGES = 2000
FORMATS = ("key_value", "json")
_TOKEN_TAG = "siem"


@dataclass(frozen=True)
class Position:
    slice: int  # the slice's start, in seconds since the epoch
    kind: int  # index into KINDS
    after: tuple[int, int] | None  # the last served (time in µs, row id) of this kind here
    part: int  # files of this kind and slice served before


# What a file's records come from: a range of messages, of releases or of clicks, each
# walked along its account-and-time index by (time, id).
_AT = bindparam("at", type_=Message.received_at.type)
_ID = bindparam("after_id", type_=Integer())
_UNTIL = bindparam("until", type_=Message.received_at.type)
_UNTIL_ID = bindparam("until_id", type_=Integer())
_START = bindparam("start", type_=Message.received_at.type)
_END = bindparam("end", type_=Message.received_at.type)
_ACCOUNT = bindparam("account", type_=Integer())


def _walk(time: Any, row_id: Any, account: Any) -> Any:
    """Rows of the account after the key `(at, after_id)`, which lies in the slice (its
    start, id 0, for the first file). The key alone bounds the walk below: with a
    `time >= start` beside it, SQLite began each file's index range at the slice's start,
    and a slice's last files cost as many times the first as they came after it."""
    return and_(account == _ACCOUNT, tuple_(time, row_id) > tuple_(_AT, _ID))


def _boundary(time: Any, row_id: Any, account: Any, table: Any) -> Query:
    """The key of the FILE_MESSAGES-th row of the slice after the key, if there is one."""
    return Query(select(time, row_id).select_from(table)
                 .where(_walk(time, row_id, account), time < _END)
                 .order_by(time, row_id).limit(1).offset(FILE_MESSAGES - 1))


def _ranges(base: Any, time: Any, row_id: Any) -> tuple[Query, Query]:
    """`base` (a walk) to the boundary `(until, until_id)`, and to the slice's end. Each has
    one upper bound, which ends the index range: with both, the walk to a boundary went on
    to the slice's end."""
    return (Query(base.where(tuple_(time, row_id) <= tuple_(_UNTIL, _UNTIL_ID))),
            Query(base.where(time < _END)))


class wire_time(FunctionElement[str]):  # noqa: N801 (an SQL function, named as one)
    """A stored time as the API writes it (`2015-11-16T14:49:18+0000`, `format_date`'s
    form, seconds truncated), formatted by the database: a file holds thousands of records,
    and turning each time into a datetime only to format it again cost a fifth of a
    file."""

    type = String()
    inherit_cache = True


@compiles(wire_time, "sqlite")
def _wire_time_sqlite(element: wire_time, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps a time as UTC text, `YYYY-MM-DD HH:MM:SS[.ffffff]` (SQLAlchemy's form).
    value = compiler.process(element.clauses, **kw)
    return f"substr({value}, 1, 10) || 'T' || substr({value}, 12, 8) || '+0000'"


@compiles(wire_time, "postgresql")
def _wire_time_postgresql(element: wire_time, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    return f"to_char({value} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+0000\"')"


_MESSAGE_WALK = _walk(Message.received_at, Message.id, Message.account_id)
_MESSAGE_ORDER = (Message.received_at, Message.id)
_MESSAGE_BOUNDARY = _boundary(Message.received_at, Message.id, Message.account_id, Message)
# A message's arrival as its records give it (the walk orders and bounds by the column).
_TIME = wire_time(Message.received_at).label("time")


def _copies(columns: Sequence[Any], *where: Any) -> tuple[Query, Query]:
    """A message range's copies that `where` keeps, each row the message's id, its `time`
    and `columns`: to a boundary, and to the slice's end. A record type reads the columns
    its renderer uses, no more: a row costs by its columns (each one a value to decode and
    an object to make), and most types need few."""
    base = (select(Message.id, _TIME, *columns)
            .join(MessageRecipient, MessageRecipient.message_id == Message.id)
            .where(_MESSAGE_WALK, *where).order_by(*_MESSAGE_ORDER, MessageRecipient.id))
    return _ranges(base, Message.received_at, Message.id)


def _files(columns: Sequence[Any], *where: Any) -> tuple[Query, Query]:
    """A message range's files that `where` keeps, each row its message's id and `columns`,
    a message's files in their order."""
    base = (select(MessageAttachment.message_id, *columns)
            .join(Message, Message.id == MessageAttachment.message_id)
            .where(_MESSAGE_WALK, *where)
            .order_by(*_MESSAGE_ORDER, MessageAttachment.id))
    return _ranges(base, Message.received_at, Message.id)


_M, _R, _A = Message, MessageRecipient, MessageAttachment
# Copies the gateway took in (a copy rejected later, from the hold queue, was taken in).
_ACCEPTED = _R.reason_code.not_in(mta.REFUSED_AT_RECEIPT)
# A message's files, counted and summed by the database: a delivery line wants no more.
_FILE_COUNT = select(func.count()).where(_A.message_id == _M.id).scalar_subquery()
_FILE_BYTES = (select(func.coalesce(func.sum(_A.size), 0)).where(_A.message_id == _M.id)
               .scalar_subquery())
_DELIVERY = (_M.message_id, _M.route, _M.sender, _M.subject, _M.size, _R.id.label("copy"),
             _R.address, _R.status, _R.reason, _FILE_COUNT.label("files"),
             _FILE_BYTES.label("file_bytes"))
_RECEIPTS = _copies((_M.message_id, _M.route, _M.sender, _M.header_from, _M.subject,
                     _M.sender_ip, _M.spf, _M.dkim, _M.dmarc, _M.spam_score,
                     _M.detection_level, _R.original, _R.reason, _R.reason_code))
_DELIVERIES = _copies(_DELIVERY, _R.status.in_((DELIVERED, BOUNCED)),
                      _R.reason_code != "released")
# The copies a file's records are made of: only those of messages with such files (most
# have none, and a copy costs its row whether or not it yields a record).
_MALICIOUS_COPIES = _copies(
    (_M.message_id, _M.route, _M.sender, _M.sender_ip, _M.subject, _M.seed, _R.address),
    _ACCEPTED, exists().where(_A.message_id == _M.id, _A.verdict == "malicious"))
_SCANNED_COPIES = _copies(
    (_M.route, _M.sender, _M.sender_ip, _M.seed, _R.address),
    _ACCEPTED, _M.route.in_(mta.SCANNED_ROUTES), exists().where(_A.message_id == _M.id))
_SPAM_COPIES = _copies(
    (_M.message_id, _M.route, _M.sender, _M.header_from, _M.sender_ip, _M.subject,
     _R.address), _ACCEPTED, _M.detection_level != "")
_IMPERSONATED_COPIES = _copies(
    (_M.message_id, _M.route, _M.sender, _M.sender_ip, _M.subject, _M.impersonation,
     _R.address, _R.status, _R.reason_code, _R.policy), _ACCEPTED, _M.impersonation != "")
_JOURNALED_COPIES = _copies((_M.route, _M.sender, _R.address), _ACCEPTED,
                            _M.route == "internal")
_FILE = (_A.name, _A.size, _A.content_type, _A.sha256, _A.verdict, _A.content)
_SCANNED_FILES = _files(_FILE, _M.route.in_(mta.SCANNED_ROUTES))
_MALICIOUS_FILES = _files(_FILE, _A.verdict == "malicious")

_PROCESSED = _copies((_M.message_id, _M.sender, _M.subject, _M.size, _M.impersonation,
                      _R.status, _R.reason_code, _R.policy), _ACCEPTED)
_FILE_NAMES = _files((_A.name, _A.size))

_RELEASE_WALK = _walk(HoldAction.created_at, HoldAction.id, HoldAction.account_id)
_RELEASES = select(_M.id, _TIME, *_DELIVERY,
                   wire_time(HoldAction.created_at).label("released_at")) \
    .join(MessageRecipient, MessageRecipient.id == HoldAction.recipient_id) \
    .join(Message, Message.id == MessageRecipient.message_id) \
    .where(_RELEASE_WALK, HoldAction.action == "released") \
    .order_by(HoldAction.created_at, HoldAction.id)
_RELEASE_RANGE = _ranges(_RELEASES, HoldAction.created_at, HoldAction.id)
_RELEASE_BOUNDARY = _boundary(HoldAction.created_at, HoldAction.id, HoldAction.account_id,
                              HoldAction)

_CLICKS = select(LinkClick.id, wire_time(LinkClick.clicked_at).label("time"),
                 LinkClick.recipient, LinkClick.action, LinkClick.source_ip, MessageLink.url,
                 MessageLink.action.label("link_action"), Message.message_id, Message.route,
                 Message.sender, Message.subject) \
    .join(MessageLink, MessageLink.id == LinkClick.link_id) \
    .join(Message, Message.id == MessageLink.message_id) \
    .where(_walk(LinkClick.clicked_at, LinkClick.id, LinkClick.account_id)) \
    .order_by(LinkClick.clicked_at, LinkClick.id)
_CLICK_RANGE = _ranges(_CLICKS, LinkClick.clicked_at, LinkClick.id)
_CLICK_BOUNDARY = _boundary(LinkClick.clicked_at, LinkClick.id, LinkClick.account_id,
                            LinkClick)

# Where the next slice with anything in it starts.
_NEXT_TIMES = (
    Query(select(func.min(Message.received_at))
          .where(Message.account_id == _ACCOUNT, Message.received_at >= _START)),
    Query(select(func.min(HoldAction.created_at))
          .where(HoldAction.account_id == _ACCOUNT, HoldAction.created_at >= _START,
                 HoldAction.action == "released")),
    Query(select(func.min(LinkClick.clicked_at))
          .where(LinkClick.account_id == _ACCOUNT, LinkClick.clicked_at >= _START)))
_ACCOUNT_CODE = Query(select(Account.code).where(Account.id == _ACCOUNT))


@dataclass
class Batch:
    """A file's worth of records of one kind, and the key of the last row they came from
    (None: no rows were left in the slice)."""

    records: list[mta.Record]
    last: tuple[int, int] | None
    more: bool  # rows of this kind remain in the slice after `last`


Reader = Callable[[Context, str, dict[str, Any], bool], tuple[list[mta.Record], list[Any]]]


@dataclass(frozen=True)
class Kind:
    name: str
    prefix: str  # the file name's, which collectors read the record type from
    source: str  # "messages" | "releases" | "clicks"
    read: Reader


def _micros(when: datetime) -> int:
    return int(when.replace(tzinfo=when.tzinfo or UTC).timestamp() * 1_000_000)


def _moment(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000, UTC)


def _by_message(rows: Sequence[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.message_id].append(row)
    return grouped


def _pick(pair: tuple[Query, Query], bounded: bool) -> Query:
    return pair[0] if bounded else pair[1]


def _read_receipt(ctx: Context, account: str, params: dict[str, Any], bounded: bool
                  ) -> tuple[list[mta.Record], list[Any]]:
    rows = _pick(_RECEIPTS, bounded).all(ctx.unit, **params)
    return [mta.receipt(account, row) for row in rows], rows


def _read_process(ctx: Context, account: str, params: dict[str, Any], bounded: bool
                  ) -> tuple[list[mta.Record], list[Any]]:
    rows = _pick(_PROCESSED, bounded).all(ctx.unit, **params)
    files = _by_message(_pick(_FILE_NAMES, bounded).all(ctx.unit, **params)) if rows else {}
    records = []
    start = 0
    for index in range(1, len(rows) + 1):
        if index == len(rows) or rows[index].id != rows[start].id:
            copies = rows[start:index]
            records.append(mta.process(account, copies[0], copies, files.get(copies[0].id, ())))
            start = index
    return records, rows


def _read_delivery(ctx: Context, account: str, params: dict[str, Any], bounded: bool
                   ) -> tuple[list[mta.Record], list[Any]]:
    rows = _pick(_DELIVERIES, bounded).all(ctx.unit, **params)
    return [mta.delivery(account, row) for row in rows], rows


def _read_released(ctx: Context, account: str, params: dict[str, Any], bounded: bool
                   ) -> tuple[list[mta.Record], list[Any]]:
    rows = _pick(_RELEASE_RANGE, bounded).all(ctx.unit, **params)
    return [mta.delivery(account, row, when=row.released_at) for row in rows], rows


def _per_file(copies: tuple[Query, Query], files: tuple[Query, Query],
              render: Callable[[str, Any, Any], mta.Record]) -> Reader:
    """A record per file and recipient the message reached."""
    def read(ctx: Context, account: str, params: dict[str, Any], bounded: bool
             ) -> tuple[list[mta.Record], list[Any]]:
        found = _by_message(_pick(files, bounded).all(ctx.unit, **params))
        if not found:
            return [], []
        rows = _pick(copies, bounded).all(ctx.unit, **params)
        return [render(account, row, file) for row in rows for file in found.get(row.id, [])
                ], rows
    return read


def _per_copy(copies: tuple[Query, Query], render: Callable[[str, Any], mta.Record]
              ) -> Reader:
    def read(ctx: Context, account: str, params: dict[str, Any], bounded: bool
             ) -> tuple[list[mta.Record], list[Any]]:
        rows = _pick(copies, bounded).all(ctx.unit, **params)
        return [render(account, row) for row in rows], rows
    return read


def _read_clicks(ctx: Context, account: str, params: dict[str, Any], bounded: bool
                 ) -> tuple[list[mta.Record], list[Any]]:
    rows = _pick(_CLICK_RANGE, bounded).all(ctx.unit, **params)
    return [mta.url_click(account, row) for row in rows], rows


def _antivirus(account: str, row: Any, file: Any) -> mta.Record:
    return mta.antivirus(account, row, file, internal=row.route != "inbound")


# The serving order within a slice. "delivery" is read twice: copies delivered as they came
# in, then copies released from the hold queue (at their release).
KINDS = (
    Kind("receipt", "receipt", "messages", _read_receipt),
    Kind("process", "process", "messages", _read_process),
    Kind("delivery", "delivery", "messages", _read_delivery),
    Kind("release", "delivery", "releases", _read_released),
    Kind("av", "av_tse", "messages", _per_file(_MALICIOUS_COPIES, _MALICIOUS_FILES, _antivirus)),
    Kind("ttp_ap", "ttp_ap", "messages",
         _per_file(_SCANNED_COPIES, _SCANNED_FILES, mta.attachment_protect)),
    Kind("spam", "spameventthread", "messages", _per_copy(_SPAM_COPIES, mta.spam_event)),
    Kind("impersonation", "impersonation", "messages",
         _per_copy(_IMPERSONATED_COPIES, mta.impersonation)),
    Kind("jrnl", "jrnl", "messages", _per_copy(_JOURNALED_COPIES, mta.journal)),
    Kind("ttp_url", "ttp_url", "clicks", _read_clicks),
)
_BOUNDARIES = {"messages": _MESSAGE_BOUNDARY, "releases": _RELEASE_BOUNDARY,
               "clicks": _CLICK_BOUNDARY}


def _batch(ctx: Context, kind: Kind, account: str, start: datetime, end: datetime,
           after: tuple[int, int] | None) -> Batch:
    """The next file's records of `kind` in the slice: the rows of the next FILE_MESSAGES
    messages (releases, clicks) after `after`, or of all that are left."""
    at, after_id = (_moment(after[0]), after[1]) if after else (start, 0)
    params: dict[str, Any] = {"account": ctx.caller.account_id, "end": end, "at": at,
                              "after_id": after_id}
    boundary = _BOUNDARIES[kind.source].first(ctx.unit, **params)
    if boundary is not None:
        params["until"], params["until_id"] = boundary[0], boundary[1]
    records, _ = kind.read(ctx, account, params, boundary is not None)
    last = (_micros(boundary[0]), boundary[1]) if boundary is not None else None
    return Batch(records, last, boundary is not None)


def _next_slice(ctx: Context, after: int, length: int, now: int) -> int:
    """The start of the first slice from `after` on with anything in it (or the slice now
    open, when none has)."""
    start = _moment(after * 1_000_000)
    times = [found for query in _NEXT_TIMES
             if (found := query.scalar(ctx.unit, account=ctx.caller.account_id,
                                       start=start)) is not None]
    if not times:
        return now - now % length
    first = int(min(_micros(t) for t in times) // 1_000_000)
    return min(first - first % length, now - now % length)


@dataclass(frozen=True)
class File:
    kind: Kind
    position: Position  # where the file starts
    records: list[mta.Record]
    following: Position  # where the next one starts


def next_file(ctx: Context, position: Position, length: int) -> File | None:
    """The first file at or after `position` in the slices that have ended; None when
    caught up."""
    now = int(ctx.now().timestamp())
    account = _ACCOUNT_CODE.scalar(ctx.unit, account=ctx.caller.account_id)
    while position.slice + length <= now:
        if position.kind >= len(KINDS):
            position = Position(_next_slice(ctx, position.slice + length, length, now), 0,
                                None, 0)
            continue
        kind = KINDS[position.kind]
        start = _moment(position.slice * 1_000_000)
        batch = _batch(ctx, kind, account, start, start + timedelta(seconds=length),
                       position.after)
        following = (replace(position, after=batch.last, part=position.part + 1) if batch.more
                     else Position(position.slice, position.kind + 1, None, 0))
        if batch.records:
            return File(kind, position, batch.records, following)
        position = replace(following, part=position.part) if batch.more else following
    return None


# Tokens -------------------------------------------------------------------------------------

def token(ctx: Context, position: Position) -> str:
    return seal(ctx.deps.vault.mac_key,
                [_TOKEN_TAG, ctx.caller.account_id, *_as_list(position)])


def _invalid(reason: str) -> ApiError:
    return ApiError("err_audit_siem_invalid_token", field="token", reason=reason)


def read_token(ctx: Context, value: str) -> Position:
    """The position a token this server gave this account names."""
    sealed = unseal(ctx.deps.vault.mac_key, value)
    if (not isinstance(sealed, list) or len(sealed) != 6 or sealed[0] != _TOKEN_TAG
            or sealed[1] != ctx.caller.account_id):
        raise _invalid("not a token of this account's SIEM log")
    try:
        return _from_list(sealed[2:])
    except (TypeError, ValueError, IndexError):
        raise _invalid("not a token of this account's SIEM log") from None


# The request --------------------------------------------------------------------------------

def _flag(value: Any) -> bool:
    """`compress` as clients send it: a boolean, "true", or Python's repr `True`."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def file_format(value: Any) -> str:
    chosen = str(value or "key_value").strip().lower()
    if chosen not in FORMATS:
        raise ApiError("err_validation_invalid_value", field="fileFormat",
                       reason="fileFormat must be key_value or json")
    return chosen


def _stamp(position: Position, length: int) -> str:
    """yyyyMMddHHmmssSSS of the slice's end, the milliseconds counting the slice's files of
    one kind (names stay distinct)."""
    end = _moment((position.slice + length) * 1_000_000)
    return end.strftime("%Y%m%d%H%M%S") + f"{position.part % 1000:03d}"


def render(found: File, fmt: str, compress: bool, length: int) -> tuple[bytes, str]:
    """A file's bytes and name."""
    name = f"{found.kind.prefix}_{_stamp(found.position, length)}"
    if fmt == "json":
        body = orjson.dumps({"type": "MTA", "data": found.records})
        member = f"{name}.json"
    else:
        body = "".join(mta.key_value(record) for record in found.records).encode()
        member = f"{name}.siem"
    if not compress:
        return body, member
    buffer = io.BytesIO()
    # Fast compression: a SIEM file is fetched once and unpacked at once.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(member, body)
    return buffer.getvalue(), f"{name}.zip"


def _as_list(position: Position) -> list[Any]:
    return [position.slice, position.kind, list(position.after) if position.after else None,
            position.part]


def _from_list(value: list[Any]) -> Position:
    start, kind, after, part = value
    return Position(int(start), int(kind), (int(after[0]), int(after[1])) if after else None,
                    int(part))


def position_key(position: Position) -> str:
    """A file's identity as the ledger records where it starts."""
    return orjson.dumps(_as_list(position)).decode()


def start_position(ctx: Context, length: int) -> Position:
    """Where a call without a token starts: after this binding's last file, or at the oldest
    slice the retention keeps."""
    last = ledger.last_siem_position(ctx)
    oldest = _oldest(ctx, length)
    if last is not None and (resumed := _from_list(last)).slice >= oldest:
        return resumed
    return Position(oldest, 0, None, 0)


def _oldest(ctx: Context, length: int) -> int:
    since = int((ctx.now() - ctx.deps.log_retention).timestamp())
    return since - since % length


def get_siem_logs(ctx: Context, item: Any) -> Download | NoFile:
    """One SIEM file (the next after `token`), or the caught-up answer."""
    if str(item.type or "MTA").strip().upper() != "MTA":
        raise ApiError("err_validation_invalid_value", field="type",
                       reason="type must be MTA")
    fmt = file_format(item.fileFormat)
    compress = _flag(item.compress)
    length = int(ctx.deps.siem_slice.total_seconds())
    given = (item.token or "").strip()
    position = read_token(ctx, given) if given else start_position(ctx, length)
    if position.slice < _oldest(ctx, length):
        raise _invalid("the token is older than the log's retention; start again without one")
    found = next_file(ctx, position, length)
    if found is None:
        return NoFile({"isLastToken": True})
    content, name = render(found, fmt, compress, length)
    next_token = token(ctx, found.following)
    start = _moment(found.position.slice * 1_000_000)
    ledger.record(ctx, ledger.SIEM, kind=found.kind.name, name=name,
                  window=(start, start + timedelta(seconds=length)),
                  start=_as_list(found.position), following=_as_list(found.following),
                  events=len(found.records), token_sent=bool(given))
    return Download(content, name, headers=(("mc-siem-token", next_token),))


"""`audit/get-siem-logs` over HTTP: files and their headers as collectors parse them (spec
client-compatibility 17), both formats, the token walk to "caught up" and on once more mail
arrives, every message's records exactly once and in agreement with the facts, bad input,
permissions and tenant isolation."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from api import Namespace, call, forbidden, only_error, post
from sqlalchemy import select

from mimicast.services.mail import accept, views
from mimicast.services.mail.facts import Draft, Recipient
from mimicast.sim import runs
from mimicast.store.schema import (
    HoldAction,
    LedgerEntry,
    LinkClick,
    Message,
    MessageRecipient,
)
from mimicast.testing import Harness
from mimicast.testing.harness import Keys, Tenant
from mimicast.wire import signing

# Both stores: the walk is SQL of its own (row-value comparisons, time windows).
PATH = "/api/audit/get-siem-logs"
# A moment on a slice boundary, so the backfill's window ends where a slice does.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PREFIXES = ("receipt", "process", "delivery", "av_tse", "ttp_ap", "spameventthread",
            "impersonation", "jrnl", "ttp_url")


@dataclass
class SiemFile:
    name: str  # the Content-Disposition file name
    member: str  # the zip member's (or the name itself)
    records: list[dict[str, Any]]
    token: str


@pytest.fixture
def tenant(harness: Harness) -> Tenant:
    harness.clock.freeze()
    harness.clock.set(NOW)
    yield harness.tenant()  # type: ignore[misc]
    harness.clock.reset()


def request(token: str | None = None, fmt: str = "json", compress: Any = True
            ) -> list[dict[str, Any]]:
    item: dict[str, Any] = {"type": "MTA", "fileFormat": fmt, "compress": compress}
    if token is not None:
        item["token"] = token
    return [item]


def parse_records(member: str, body: bytes) -> list[dict[str, Any]]:
    if member.endswith(".json"):
        document = orjson.loads(body)
        assert document["type"] == "MTA" and set(document) == {"type", "data"}
        return list(document["data"])
    text = body.decode()
    assert text.endswith("\r\n")
    records = []
    for line in text.split("\r\n")[:-1]:
        assert line.startswith("datetime=")
        records.append(dict(field.split("=", 1) for field in line.split("|")))
    return records


def as_file(response: httpx.Response) -> SiemFile:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.endswith('"')
    name = disposition.split('="')[1][:-1]  # as collectors slice it
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            (member,) = archive.namelist()
            body = archive.read(member)
        assert member.rsplit(".", 1)[0] == name.rsplit(".", 1)[0]
    else:
        member, body = name, response.content
    prefix, _, rest = member.rpartition("_")
    assert prefix in PREFIXES and rest.split(".")[0].isdigit() and len(rest.split(".")[0]) == 17
    return SiemFile(name, member, parse_records(member, body), response.headers["mc-siem-token"])


def caught_up(response: httpx.Response) -> bool:
    if response.headers["content-type"] != "application/json":
        return False
    assert response.json() == {"meta": {"status": 200, "isLastToken": True}, "data": [],
                               "fail": []}
    assert "mc-siem-token" not in response.headers
    return True


def drain(harness: Harness, tenant: Tenant, token: str | None = None, **options: Any
          ) -> tuple[list[SiemFile], str | None]:
    """Every file from `token` on, and the last token (to poll with later)."""
    files: list[SiemFile] = []
    while True:
        response = call(harness, tenant, PATH, request(token, **options))
        if caught_up(response):
            return files, token
        files.append(as_file(response))
        token = files[-1].token


def simulate(harness: Harness, tenant: Tenant, messages: int = 400) -> None:
    """`messages` simulated over the day before NOW, then the clock past NOW's slice."""
    runs.backfill(harness.deps, tenant.account_id, seed=5, messages=messages, days=1)


def second_binding(harness: Harness, tenant: Tenant) -> Keys:
    """Another binding of the tenant's administrator (a second collector)."""
    response = harness.http.post("/api/login/login", content=orjson.dumps(
        {"data": [{"userName": tenant.email}]}), headers={
        "Authorization": signing.basic(signing.REALM_CLOUD, tenant.email, tenant.password),
        "x-mc-app-id": tenant.keys.app_id, "Content-Type": "application/json"})
    data = response.json()["data"][0]
    return Keys(tenant.keys.app_id, tenant.keys.app_key, data["accessKey"], data["secretKey"])


def by_prefix(files: list[SiemFile]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for file in files:
        found.setdefault(file.member.rpartition("_")[0], []).extend(file.records)
    return found


def test_a_drain_serves_every_record_once_in_agreement_with_the_facts(
        harness: Harness, tenant: Tenant) -> None:
    simulate(harness, tenant)
    # Release one held copy: its delivery line comes at its release.
    with harness.session_ctx(tenant) as ctx:
        held = ctx.session.execute(select(MessageRecipient.id).where(
            MessageRecipient.account_id == tenant.account_id,
            MessageRecipient.status == "held")).scalars().first()
    assert held is not None
    Namespace("/api/gateway/").ok(harness, tenant, "hold-release",
                                  [{"id": views.secure_id(held)}])
    harness.clock.advance(minutes=30)
    files, last = drain(harness, tenant)
    assert last is not None and files
    records = by_prefix(files)
    with harness.session_ctx(tenant) as ctx:
        session = ctx.session
        messages = session.execute(select(Message.id).where(
            Message.account_id == tenant.account_id)).scalars().all()
        copies = session.execute(select(MessageRecipient).where(
            MessageRecipient.account_id == tenant.account_id)).scalars().all()
        clicks = session.execute(select(LinkClick).where(
            LinkClick.account_id == tenant.account_id)).scalars().all()
        released = session.execute(select(HoldAction).where(
            HoldAction.account_id == tenant.account_id)).scalars().all()
    # Receipt: one line per recipient, refused ones as such.
    assert len(records["receipt"]) == len(copies)
    assert Counter(r["Act"] for r in records["receipt"]) == Counter(
        "Rej" if c.status == "rejected" else "Acc" for c in copies)
    # Process: one line per message the gateway accepted for anyone; held ones say why.
    accepted = {c.message_id for c in copies if c.status != "rejected"}
    assert len(records["process"]) == len(accepted)
    # held when the gateway processed it: the copy released since counts.
    assert sum(r["Act"] == "Hld" for r in records["process"]) == len(
        {c.message_id for c in copies if c.status == "held" or c.reason_code == "released"})
    # Delivery: one line per delivered or bounced copy, the released one included.
    delivered = [c for c in copies if c.status in ("delivered", "bounced")]
    assert len(released) == 1
    assert len(records["delivery"]) == len(delivered)
    assert Counter(r["Delivered"] for r in records["delivery"]) == Counter(
        c.status == "delivered" for c in delivered)
    # Clicks: one URL Protect line each.
    assert len(records["ttp_url"]) == len(clicks)
    # A message's lines share its aCode; every receipt aCode is a message's.
    codes = {r["aCode"] for r in records["receipt"]}
    assert len(codes) == len(messages)
    assert {r["aCode"] for r in records["process"]} <= codes
    assert {r["aCode"] for r in records["delivery"]} <= codes
    # Files are in time order and never repeat a record.
    for prefix, found in records.items():
        keyed = [orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in found]
        assert len(set(keyed)) == len(keyed) or prefix in ("ttp_ap", "av_tse"), prefix
    for file in files:
        times = [r["datetime"] for r in file.records]
        assert times == sorted(times)
    assert all(r["acc"] == tenant.code for r in records["receipt"])


def test_record_keys_and_types_are_the_real_ones(harness: Harness, tenant: Tenant) -> None:
    simulate(harness, tenant, 300)
    harness.clock.advance(minutes=30)
    records = by_prefix(drain(harness, tenant)[0])
    receipt = records["receipt"][0]
    assert list(receipt)[:3] == ["datetime", "aCode", "acc"]
    assert isinstance(receipt["SpamScore"], int) and isinstance(receipt["SpamLimit"], int)
    assert receipt["Act"] in ("Acc", "Rej") and receipt["Dir"] in ("Inbound", "Outbound",
                                                                    "Internal")
    assert set(receipt["SpamProcessingDetail"]) >= {"spf", "dkim"}
    process = records["process"][0]
    assert isinstance(process["AttCnt"], int) and isinstance(process["MsgSize"], int)
    assert process["IPNewDomain"] in ("true", "false")
    delivery = records["delivery"][0]
    assert isinstance(delivery["Delivered"], bool) and delivery["UseTls"] in ("Yes", "No")
    assert "aCode" not in records["ttp_url"][0] and records["ttp_url"][0]["route"] in (
        "inbound", "outbound", "internal")
    for prefix in ("av_tse", "ttp_ap"):
        for record in records.get(prefix, []):
            assert "aCode" not in record and len(record["sha256"]) == 64
            assert len(record["md5"]) == 32 and len(record["sha1"]) == 40
    # Only URL records carry `reason`; only file records carry `fileName` (Elastic's rules).
    for prefix, found in records.items():
        assert all(("reason" in r) == (prefix == "ttp_url") for r in found)
        assert all(("fileName" in r) == (prefix in ("av_tse", "ttp_ap")) for r in found)


def test_key_value_files_uncompressed(harness: Harness, tenant: Tenant) -> None:
    simulate(harness, tenant, 200)
    harness.clock.advance(minutes=30)
    response = call(harness, tenant, PATH, request(fmt="KEY_VALUE", compress=False))
    file = as_file(response)
    assert file.name.endswith(".siem") and file.name.startswith("receipt_")
    line = response.content.decode().split("\r\n")[0]
    subject = next(f for f in line.split("|") if f.startswith("Subject="))
    assert subject.startswith("Subject=\\") and subject.endswith("\\")
    assert "SpamProcessingDetail={" in line
    # The uncompressed json file is the document itself; compress as a string or a repr.
    for compress in (False, "false"):
        body = call(harness, tenant, PATH, request(file.token, "json", compress))
        assert body.headers["content-disposition"].endswith('.json"')
        assert orjson.loads(body.content)["type"] == "MTA"
    for compress in ("true", "True", True):
        body = call(harness, tenant, PATH, request(file.token, "json", compress))
        assert body.headers["content-disposition"].endswith('.zip"')


def test_a_caught_up_token_yields_the_next_file_once_there_is_one(
        harness: Harness, tenant: Tenant) -> None:
    simulate(harness, tenant, 100)
    harness.clock.advance(minutes=30)
    first, token = drain(harness, tenant)
    assert first and token is not None
    # The same token again: still caught up.
    assert caught_up(call(harness, tenant, PATH, request(token)))
    # New mail in the open slice: not served until the slice ends.
    draft = Draft(sender="news@partner.example.org",
                  recipients=(Recipient(tenant.email),), received_at=harness.clock(),
                  external=True, subject="Later news", sender_ip="198.51.100.7")
    with harness.session_ctx(tenant) as ctx:
        accept.accept(ctx, [draft, replace(draft, subject="Later still")])
    assert caught_up(call(harness, tenant, PATH, request(token)))
    harness.clock.advance(minutes=30)
    later, _ = drain(harness, tenant, token)
    records = by_prefix(later)
    assert sorted(r["Subject"] for r in records["receipt"]) == ["Later news", "Later still"]
    # Nothing from the first drain came again.
    assert not {f.name for f in first} & {f.name for f in later}


def test_without_a_token_a_binding_resumes_after_its_last_file(
        harness: Harness, tenant: Tenant) -> None:
    simulate(harness, tenant, 150)
    harness.clock.advance(minutes=30)
    first = as_file(call(harness, tenant, PATH, request()))
    second = as_file(call(harness, tenant, PATH, request()))
    assert second.name != first.name
    again = as_file(call(harness, tenant, PATH, request("")))
    assert again.name not in (first.name, second.name)
    # The first token again serves the second file again (a collector that lost its place).
    assert as_file(call(harness, tenant, PATH, request(first.token))).name == second.name


def test_bad_requests_fail_cleanly(harness: Harness, tenant: Tenant) -> None:
    simulate(harness, tenant, 50)
    harness.clock.advance(minutes=30)
    cases = [({"token": "not-a-token"}, "err_audit_siem_invalid_token", "token"),
             ({"fileFormat": "csv"}, "err_validation_invalid_value", "fileFormat"),
             ({"type": "AUDIT"}, "err_validation_invalid_value", "type")]
    for item, code, field in cases:
        body = call(harness, tenant, PATH, [{"type": "MTA", **item}]).json()
        error = only_error(body)
        assert (error["code"], error["field"]) == (code, field), body
    # Another account's token is refused.
    token = as_file(call(harness, tenant, PATH, request())).token
    error = only_error(call(harness, harness.tenant(), PATH, request(token)).json())
    assert error["code"] == "err_audit_siem_invalid_token"


def test_files_older_than_the_retention_are_gone(harness: Harness) -> None:
    harness.clock.freeze()
    harness.clock.set(NOW)
    try:
        keeper = harness.tenant(ttl_seconds=30 * 86400)  # a binding that outlives the wait
        simulate(harness, keeper, 50)
        harness.clock.advance(minutes=30)
        token = as_file(call(harness, keeper, PATH, request())).token
        harness.clock.advance(days=8)
        error = only_error(call(harness, keeper, PATH, request(token)).json())
        assert error["code"] == "err_audit_siem_invalid_token" and "retention" in \
            error["message"]
        # Without a token: the oldest slice kept, which holds nothing now.
        assert caught_up(call(harness, keeper, PATH, request()))
    finally:
        harness.clock.reset()


def test_isolation_and_permission(harness: Harness, tenant: Tenant) -> None:
    simulate(harness, tenant, 80)
    other = harness.tenant()
    harness.clock.advance(minutes=30)
    assert caught_up(call(harness, other, PATH, request()))
    assert "Gateway | Tracking | Read" in forbidden(harness, harness.tenant(role=None), PATH,
                                                    request())


def test_the_ledger_tells_what_each_binding_was_served(harness: Harness, tenant: Tenant
                                                       ) -> None:
    simulate(harness, tenant, 300)
    harness.clock.advance(minutes=30)
    files, _ = drain(harness, tenant)
    # The collector goes back one file (a lost checkpoint): that file is served twice.
    again = as_file(call(harness, tenant, PATH, request(files[0].token)))
    assert again.name == files[1].name
    with harness.session_ctx(tenant) as ctx:
        (binding,) = set(ctx.session.execute(select(LedgerEntry.binding_id).where(
            LedgerEntry.account_id == tenant.account_id)).scalars())
    report = harness.http.get("/__mimicast/ledger", params={
        "account": tenant.code, "binding": binding}).json()
    siem = report["siem"]
    total = sum(len(f.records) for f in files)
    assert (siem["files"], siem["events"]) == (len(files), total)
    assert siem["served_more"] == len(files[1].records) and siem["files_served_more"] == 1
    assert siem["served_once"] == total - len(files[1].records)
    assert (siem["never_served"], siem["tokens_resent"]) == (0, 1)
    assert report["collectors"][0]["served"] == len(files) + 1
    # Another binding of the account that took two files has the rest never served.
    other = second_binding(harness, tenant)
    for _ in range(2):
        as_file(call(harness, other, PATH, request()))
    with harness.session_ctx(tenant) as ctx:
        (second,) = set(ctx.session.execute(select(LedgerEntry.binding_id).where(
            LedgerEntry.account_id == tenant.account_id,
            LedgerEntry.binding_id != binding)).scalars())
    siem = harness.http.get("/__mimicast/ledger", params={
        "account": tenant.code, "binding": second}).json()["siem"]
    first_two = len(files[0].records) + len(files[1].records)
    assert (siem["served_once"], siem["never_served"]) == (first_two, total - first_two)
    assert sum(siem["missing_by_type"].values()) == total - first_two
    bad = harness.http.get("/__mimicast/ledger", params={"binding": "x", "account": tenant.code})
    assert bad.status_code == 400 and "binding" in bad.json()["error"]


def _pages(harness: Harness, who: Tenant | Keys, path: str, wrapper: str, size: int,
           limit: int | None = None, **filters: Any) -> list[dict[str, Any]]:
    """Pages of a log over the day before NOW, oldest first (`limit`: stop after so many)."""
    window = {"from": "2026-11-19T12:00:00+0000", "to": "2026-11-20T12:00:00+0000",
              "oldestFirst": True, **filters}
    pages, token = [], None
    while limit is None or len(pages) < limit:
        meta = {"pagination": {"pageSize": size, **({"pageToken": token} if token else {})}}
        body = post(harness, who, path, [window], meta)
        pages.append(body)
        token = body["meta"]["pagination"].get("next")
        if not token:
            break
    return pages


def test_the_ledger_counts_log_entries_served_once_repeatedly_and_never(
        harness: Harness, tenant: Tenant) -> None:
    simulate(harness, tenant, 300)
    harness.clock.advance(minutes=30)
    url, dlp = "/api/ttp/url/get-logs", "/api/dlp/get-logs"
    clicks = [c for page in _pages(harness, tenant, url, "clickLogs", 4)
              for c in page["data"][0]["clickLogs"]]
    assert len(clicks) > 8
    # The collector reads the first page again, and a page filtered by route.
    first = _pages(harness, tenant, url, "clickLogs", 4, limit=1)[0]["data"][0]["clickLogs"]
    _pages(harness, tenant, url, "clickLogs", 4, limit=1, route="inbound")
    # Of the DLP log it reads one page of two copies only.
    _pages(harness, tenant, dlp, "dlpLogs", 2, limit=1)
    report = harness.http.get("/__mimicast/ledger", params={
        "account": tenant.code, "from": "2026-11-19T00:00:00Z",
        "to": "2026-11-21T00:00:00Z"}).json()
    pages = {page["log"]: page for page in report["pages"]}
    clicked = pages[url]
    assert (clicked["available"], clicked["served_more"], clicked["served_once"],
            clicked["never_served"]) == (len(clicks), len(first), len(clicks) - len(first), 0)
    assert (clicked["pages_filtered"], clicked["pages_repeated"]) == (1, 1)
    leaks = pages[dlp]
    assert leaks["available"] > leaks["served_once"] > 0 and leaks["served_more"] == 0
    assert leaks["never_served"] == leaks["available"] - leaks["served_once"]
    # The logs nobody read: every entry never served.
    for log in ("/api/ttp/attachment/get-logs", "/api/ttp/impersonation/get-logs"):
        assert pages[log]["available"] == pages[log]["never_served"] > 0
        assert pages[log]["pages"] == 0


def test_mimicast_ledger_reports_from_the_store(harness: Harness, tenant: Tenant,
                                                cli: Any) -> None:
    simulate(harness, tenant, 120)
    harness.clock.advance(minutes=30)
    files, _ = drain(harness, tenant)
    total = sum(len(f.records) for f in files)
    # The CLI reads the store with the wall clock: the window is given.
    window = ["--from", "2026-11-18T00:00:00Z", "--to", "2026-11-21T00:00:00Z"]
    report = orjson.loads(cli("ledger", "--db", harness.settings.db, "--account", tenant.code,
                              *window, "--json").stdout)
    assert (report["siem"]["events"], report["siem"]["served_once"]) == (total, total)
    (collector,) = report["collectors"]
    assert (collector["user"], collector["served"]) == (tenant.email, len(files))
    shown = cli("ledger", "--db", harness.settings.db, "--account", tenant.code, *window,
                "--binding", str(collector["binding"])).stdout
    assert "never served" in shown and f"{total:,}" in shown
    for flags, message in ((["--binding", "x"], "--binding: 'x' is not a binding id"),
                           (["--from", "yesterday"], "--from: 'yesterday' is not a date")):
        result = cli("ledger", "--db", harness.settings.db, *flags, check=False)
        assert result.returncode == 2 and message in result.stderr

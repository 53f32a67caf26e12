"""Every log is a view of the same facts: simulated mail, drained through the SIEM stream and
walked through each TTP and DLP log, shows each message's events exactly once, the logs agree
with each other, and each message's lines agree with what Message Finder says of it."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api import Namespace, post
from test_siem import by_prefix, drain

from mimicast.sim import runs
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant
from mimicast.wire.dates import format_date

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
WINDOW = {"from": format_date(NOW - timedelta(days=2)), "to": format_date(NOW)}


@pytest.fixture
def tenant(harness: Harness) -> Tenant:
    harness.clock.freeze()
    harness.clock.set(NOW)
    yield harness.tenant()  # type: ignore[misc]
    harness.clock.reset()


def walk(harness: Harness, tenant: Tenant, path: str, wrapper: str) -> list[dict[str, Any]]:
    """Every entry of a log over the window, page by page (500 a page)."""
    entries: list[dict[str, Any]] = []
    token = None
    while True:
        pagination: dict[str, Any] = {"pageSize": 500, **({"pageToken": token} if token else {})}
        body = post(harness, tenant, path, [{**WINDOW, "oldestFirst": True}],
                    {"pagination": pagination})
        assert body["fail"] == [], body
        entries += body["data"][0][wrapper]
        token = body["meta"]["pagination"].get("next")
        if not token:
            return entries


def once(keys: list[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    counted = Counter(keys)
    assert max(counted.values(), default=1) == 1, counted.most_common(3)
    return counted


def test_the_logs_agree_with_each_other_and_with_message_finder(
        harness: Harness, tenant: Tenant) -> None:
    runs.backfill(harness.deps, tenant.account_id, seed=11, messages=700, days=1)
    harness.clock.advance(minutes=30)
    siem = by_prefix(drain(harness, tenant)[0])
    clicks = walk(harness, tenant, "/api/ttp/url/get-logs", "clickLogs")
    scans = walk(harness, tenant, "/api/ttp/attachment/get-logs", "attachmentLogs")
    posing = walk(harness, tenant, "/api/ttp/impersonation/get-logs", "impersonationLogs")
    leaks = walk(harness, tenant, "/api/dlp/get-logs", "dlpLogs")
    assert clicks and scans and posing and leaks, "the simulation covers every log"

    # URL Protect: the same clicks, once each, with the same verdicts.
    assert once([(c["userEmailAddress"], c["url"], c["date"], c["messageId"]) for c in clicks]) \
        == once([(r["recipient"], r["url"], r["datetime"], r["msgid"])
                 for r in siem["ttp_url"]])
    assert Counter(c["scanResult"] for c in clicks) == Counter(r["reason"]
                                                               for r in siem["ttp_url"])
    # Attachment Protect: the same files and copies (a ttp_ap record names no message, as
    # the real ones: the same file sent twice to one recipient is two equal records).
    once([(s["recipientAddress"], s["fileHash"], s["messageId"]) for s in scans])
    assert Counter((s["recipientAddress"], s["fileHash"]) for s in scans) == \
        Counter((r["Recipient"], r["sha256"]) for r in siem["ttp_ap"])
    malicious = {(s["recipientAddress"], s["fileHash"]) for s in scans
                 if s["result"] == "malicious"}
    assert malicious == {(r["Recipient"], r["sha256"]) for r in siem["av_tse"]}
    # Impersonation: the same copies, the same hits and actions.
    assert once([(p["recipientAddress"], p["messageId"], p["hits"], p["action"])
                 for p in posing]) == once([(r["Recipient"], r["MsgId"], int(r["Hits"]),
                                             r["Action"].lower()) for r in siem["impersonation"]])
    # DLP: a held line for each copy whose message the process line says DLP held.
    held = {r["MsgId"] for r in siem["process"] if r.get("Hld") == "Dpp"}
    assert {line["messageId"] for line in leaks if line["action"] == "hold"} == held

    # Message Finder, for a sample of messages: every copy's status agrees with its lines.
    receipts = {(r["MsgId"], r["Rcpt"]): r for r in siem["receipt"]}
    deliveries = Counter((r["MsgId"], r["Rcpt"], r["Delivered"]) for r in siem["delivery"])
    processed = {r["MsgId"]: r for r in siem["process"]}
    finder = Namespace("/api/message-finder/")
    sample = random.Random(3).sample(sorted({r["MsgId"] for r in siem["receipt"]}), 25)
    checked = Counter()
    for message_id in sample:
        (found,) = finder.ok(harness, tenant, "search", [{
            "messageId": message_id, "start": WINDOW["from"], "end": WINDOW["to"]}])
        for copy in found["trackedEmails"]:
            (to,) = copy["to"]
            receipt = receipts.get((message_id, to["emailAddress"]))
            status = copy["status"]
            checked[status] += 1
            if status == "rejected" and receipt is not None and receipt["Act"] == "Rej":
                continue  # refused at the door: no other line
            if status == "held":
                assert processed[message_id]["Act"] == "Hld", (message_id, copy)
            elif status == "archived":
                assert deliveries[(message_id, to["emailAddress"], True)] == 1
            elif status == "bounced":
                assert deliveries[(message_id, to["emailAddress"], False)] == 1
            else:
                assert status == "rejected", copy  # rejected from the hold queue
    assert checked["archived"] and sum(checked.values()) >= len(sample)

"""The threat-intel feed over HTTP: the account's malicious files and links (and, on the grid,
every account's and the known-bad list) as CSV or a STIX 2.0 bundle, zipped or not, paged
through the `x-mc-threat-feed-next-token` header; tokens bound to their feed; the download
audited; permission and bad values."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from api import Namespace, audit_events, failures, only_error

from mimicast.client import Client, DownloadedFile
from mimicast.services import audit
from mimicast.services.logs import threat_intel
from mimicast.services.mail import accept, content
from mimicast.services.mail.facts import Attachment, Draft, Recipient
from mimicast.services.mail.world import MALICIOUS_HOSTS, MALWARE_HASHES
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant
from mimicast.wire.dates import format_date

intel = Namespace("/api/ttp/threat-intel/")
FEED = "get-feed"
PARTNER = "billing@partner.example.org"
BAD_LINK = "https://secure-login.account-verify.test/login?id=42"
# Links that only name a bad host, and a clean one: not indicators.
NAMES_BAD_HOST = "https://docs.partner.example.org/r?next=secure-login.account-verify.test"
CLEAN_LINK = "https://docs.partner.example.org/a"
STAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"
NEXT = threat_intel.NEXT_TOKEN_HEADER


@pytest.fixture
def tenant(harness: Harness) -> Tenant:
    """A fresh account per test: each sees exactly its own mail in its customer feed."""
    return harness.tenant()


def malicious(name: str, seed: int = 7, size: int = 4000) -> Attachment:
    """A file the sandbox finds malicious (it carries the marker), as the simulator sends it."""
    data = content.attachment_bytes(seed, name, size, malicious=True)
    return Attachment(name, "application/pdf", len(data), content.sha256(data), content=data)


def clean(name: str, seed: int = 7, size: int = 3000) -> Attachment:
    data = content.attachment_bytes(seed, name, size)
    return Attachment(name, "application/pdf", size, content.sha256(data))


def inbound(harness: Harness, tenant: Tenant, minutes_ago: float, **changes: Any) -> Draft:
    draft = Draft(sender=PARTNER, recipients=(Recipient(tenant.email, "Admin"),),
                  received_at=harness.clock() - timedelta(minutes=minutes_ago), external=True,
                  from_name="Billing", subject="Your invoice", text="Please see attached.",
                  sender_ip="198.51.100.7", seed=7)
    return replace(draft, **changes)


def send(harness: Harness, tenant: Tenant, *drafts: Draft) -> None:
    with harness.session_ctx(tenant) as ctx:
        accept.accept(ctx, list(drafts))


def mail(harness: Harness, tenant: Tenant, name: str = "invoice.pdf") -> dict[str, Any]:
    """Two messages: an invoice with a malicious file, a bad link, a link that only names a
    bad host and a clean one; later a reminder with the same file and a clean one."""
    invoice, other = malicious(name), clean("terms.pdf")
    first = inbound(harness, tenant, 20, subject="Invoice 1001", attachments=(invoice,),
                    links=(BAD_LINK, NAMES_BAD_HOST, CLEAN_LINK))
    second = inbound(harness, tenant, 10, subject="Reminder: invoice 1001",
                     attachments=(other, invoice))
    send(harness, tenant, first, second)
    return {"file": invoice, "first": first, "second": second}


def download(harness: Harness, tenant: Tenant, **item: Any) -> httpx.Response:
    response = intel.call(harness, tenant, FEED, [item])
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"], response.text
    return response


def filename(response: httpx.Response) -> str:
    found = re.fullmatch(r'attachment; filename="([^"]+)"',
                         response.headers["content-disposition"])
    assert found is not None, response.headers["content-disposition"]
    return found.group(1)


def rows(data: bytes) -> list[dict[str, str]]:
    """A CSV feed's lines, after checking its header."""
    text = data.decode()
    assert text.splitlines()[0] == "|".join(threat_intel.CSV_COLUMNS)
    return list(csv.DictReader(io.StringIO(text), delimiter="|"))


def stix_time(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def walk(harness: Harness, tenant: Tenant, **item: Any) -> list[httpx.Response]:
    """Every page of a feed, each asked for with the token the page before gave."""
    pages = [download(harness, tenant, **item)]
    while NEXT in pages[-1].headers:
        assert len(pages) < 100, "the token never ran out"
        pages.append(download(harness, tenant, **item, token=pages[-1].headers[NEXT]))
    return pages


def test_csv_lists_each_sighting_oldest_first(harness: Harness, tenant: Tenant) -> None:
    sent = mail(harness, tenant)
    response = download(harness, tenant)
    assert response.headers["content-type"] == "application/octet-stream"
    assert re.fullmatch(r"malware_customer_csv_\d{17}\.csv", filename(response))
    assert NEXT not in response.headers
    invoice: Attachment = sent["file"]
    assert invoice.content is not None
    md5 = hashlib.md5(invoice.content, usedforsecurity=False).hexdigest()
    first, second = sent["first"].received_at, sent["second"].received_at
    assert rows(response.content) == [
        {"Timestamp": stix_time(first), "IndicatorType": "file", "Indicator": invoice.sha256,
         "MD5": md5, "SHA256": invoice.sha256, "FileName": "invoice.pdf",
         "SenderAddress": PARTNER, "Subject": "Invoice 1001"},
        {"Timestamp": stix_time(first), "IndicatorType": "url", "Indicator": BAD_LINK,
         "MD5": "", "SHA256": "", "FileName": "", "SenderAddress": PARTNER,
         "Subject": "Invoice 1001"},
        {"Timestamp": stix_time(second), "IndicatorType": "file", "Indicator": invoice.sha256,
         "MD5": md5, "SHA256": invoice.sha256, "FileName": "invoice.pdf",
         "SenderAddress": PARTNER, "Subject": "Reminder: invoice 1001"}]
    # The same mail gives the same file.
    assert download(harness, tenant, fileType="CSV").content == response.content


def test_stix_is_a_bundle_of_malware_indicator_and_relationship(harness: Harness,
                                                                tenant: Tenant) -> None:
    sent = mail(harness, tenant)
    response = download(harness, tenant, fileType="stix", compress=False)
    assert response.headers["content-type"] == "application/json"
    assert re.fullmatch(r"malware_customer_stix_\d{17}\.stix", filename(response))
    bundle = response.json()
    assert list(bundle) == ["type", "id", "spec_version", "objects"]
    assert bundle["type"] == "bundle" and bundle["spec_version"] == "2.0"
    assert re.fullmatch(f"bundle--{UUID}", bundle["id"])
    objects = bundle["objects"]
    assert [o["type"] for o in objects] == ["malware", "indicator", "relationship"] * 3
    assert len({o["id"] for o in objects}) == 9
    patterns, names = [], []
    for malware, indicator, relationship in zip(objects[::3], objects[1::3], objects[2::3],
                                                strict=True):
        for stix, kind in ((malware, "malware"), (indicator, "indicator"),
                           (relationship, "relationship")):
            assert re.fullmatch(f"{kind}--{UUID}", stix["id"])
            assert re.fullmatch(STAMP, stix["created"]) and stix["modified"] == stix["created"]
        assert malware["labels"] == ["virus"]
        assert indicator["labels"] == ["malicious-activity"]
        assert indicator["valid_from"] == indicator["created"] == malware["created"]
        assert relationship["relationship_type"] == "indicates"
        assert relationship["source_ref"] == indicator["id"]
        assert relationship["target_ref"] == malware["id"]
        patterns.append(indicator["pattern"])
        names.append(malware["name"])
    sha256 = sent["file"].sha256
    assert patterns == [f"[file:hashes.'SHA-256' = '{sha256}']", f"[url:value = '{BAD_LINK}']",
                        f"[file:hashes.'SHA-256' = '{sha256}']"]
    assert names == ["Invoice 1001", "Invoice 1001", "Reminder: invoice 1001"]
    assert objects[0]["created"] == stix_time(sent["first"].received_at)
    # Deterministic: the same sightings, the same ids.
    assert download(harness, tenant, fileType="Stix").json() == bundle


def test_an_empty_feed_is_a_header_or_an_empty_bundle(harness: Harness,
                                                      tenant: Tenant) -> None:
    assert rows(download(harness, tenant).content) == []
    assert download(harness, tenant, fileType="stix").json()["objects"] == []


@pytest.mark.parametrize(("file_type", "compress", "extension"), [
    ("csv", True, "csv"), ("csv", "true", "csv"), ("stix", "True", "stix")])
def test_compress_zips_the_one_file(harness: Harness, tenant: Tenant, file_type: str,
                                    compress: Any, extension: str) -> None:
    mail(harness, tenant)
    plain = download(harness, tenant, fileType=file_type)
    zipped = download(harness, tenant, fileType=file_type, compress=compress)
    assert zipped.headers["content-type"] == "application/octet-stream"
    name = filename(zipped)
    assert re.fullmatch(rf"malware_customer_{file_type}_\d{{17}}\.zip", name)
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        [member] = archive.namelist()
        assert member == f"{name.removesuffix('.zip')}.{extension}"
        assert archive.read(member) == plain.content
    assert download(harness, tenant, fileType=file_type, compress="false").content == \
        plain.content


def test_pages_follow_the_token_until_no_header(harness: Harness, tenant: Tenant,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    invoice = malicious("invoice.pdf")
    send(harness, tenant, *(inbound(harness, tenant, 30 - minute, subject=f"Invoice {minute}",
                                    attachments=(invoice,), links=(BAD_LINK,))
                            for minute in range(4)))
    everything = rows(download(harness, tenant).content)
    assert len(everything) == 8
    monkeypatch.setattr(threat_intel, "PAGE_SIZE", 3)
    pages = walk(harness, tenant)
    assert [len(rows(page.content)) for page in pages] == [3, 3, 2]
    assert [row for page in pages for row in rows(page.content)] == everything
    # STIX pages likewise: every object once.
    bundles = [page.json() for page in walk(harness, tenant, fileType="stix")]
    ids = [o["id"] for bundle in bundles for o in bundle["objects"]]
    assert len(bundles) == 3 and len(ids) == len(set(ids)) == 24
    # A token re-sent once caught up picks up what arrived since.
    last = pages[-2].headers[NEXT]
    send(harness, tenant, inbound(harness, tenant, 1, subject="Late", attachments=(invoice,)))
    again = download(harness, tenant, token=last)
    assert [row["Subject"] for row in rows(again.content)] == ["Invoice 3", "Invoice 3", "Late"]
    assert NEXT not in again.headers


def test_the_grid_holds_the_known_bad_list_and_every_accounts_sightings(
        harness: Harness, tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    start = format_date(harness.clock() - timedelta(hours=1))
    # A file of its own: the grid holds every test's mail.
    sent = mail(harness, harness.tenant(), f"grid-{secrets.token_hex(4)}.pdf")
    grid = rows(download(harness, tenant, feedType="MALWARE_GRID", start=start).content)
    listed = len(MALWARE_HASHES) + len(MALICIOUS_HOSTS)
    assert {(row["IndicatorType"], row["Indicator"]) for row in grid[:listed]} == {
        *(("file", sha256) for sha256 in MALWARE_HASHES),
        *(("domain", host) for host in MALICIOUS_HOSTS)}
    assert {row["Timestamp"] for row in grid[:listed]} == {
        stix_time(datetime.fromisoformat(start))}
    theirs = [row for row in grid[listed:] if row["Indicator"] == sent["file"].sha256]
    assert len(theirs) == 2
    # Another account's sightings, without its mail's subjects or senders.
    assert {(row["SenderAddress"], row["Subject"], row["FileName"]) for row in theirs} == {
        ("", "", sent["file"].name)}
    # Paged across the list and the sightings alike.
    monkeypatch.setattr(threat_intel, "PAGE_SIZE", 4)
    bundles = [page.json() for page in walk(harness, tenant, feedType="malware_grid",
                                            fileType="stix", start=start)]
    patterns = [o["pattern"] for bundle in bundles for o in bundle["objects"]
                if o["type"] == "indicator"]
    assert len(patterns) == len(grid)
    assert f"[domain-name:value = '{sorted(MALICIOUS_HOSTS)[0]}']" in patterns


def test_the_customer_feed_is_the_accounts_own(harness: Harness, tenant: Tenant) -> None:
    other = harness.tenant()
    mail(harness, other)
    assert rows(download(harness, tenant).content) == []
    assert len(rows(download(harness, other).content)) == 3


def test_the_window_bounds_the_sightings(harness: Harness, tenant: Tenant) -> None:
    invoice = malicious("invoice.pdf")
    send(harness, tenant, inbound(harness, tenant, 60 * 24 * 8, subject="Old",
                                  attachments=(invoice,)),
         inbound(harness, tenant, 60, subject="New", attachments=(invoice,)))
    # The last 7 days by default.
    assert [row["Subject"] for row in rows(download(harness, tenant).content)] == ["New"]
    now = harness.clock()
    nine_days = {"start": format_date(now - timedelta(days=9))}
    assert [row["Subject"] for row in rows(download(harness, tenant, **nine_days).content)] \
        == ["Old", "New"]
    assert rows(download(harness, tenant, end=format_date(now - timedelta(hours=2))).content) \
        == []


def test_tokens_are_bound_to_their_account_and_feed(harness: Harness, tenant: Tenant,
                                                    other: Tenant,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    mail(harness, tenant)
    monkeypatch.setattr(threat_intel, "PAGE_SIZE", 1)
    token = download(harness, tenant).headers[NEXT]
    assert download(harness, tenant, token=token).status_code == 200
    for who, item in ((other, {}), (tenant, {"fileType": "stix"}),
                      (tenant, {"feedType": "malware_grid"}),
                      (tenant, {"start": format_date(harness.clock() - timedelta(days=1))}),
                      (tenant, {"token": "bm90IGEgdG9rZW4"}),
                      (tenant, {"token": token[:-2]})):
        body = intel.post(harness, who, FEED, [{"token": token, **item}])
        assert failures(body) == [({"token": token, **item}, "err_validation_invalid_value",
                                   "token")]


def test_each_download_is_audited(harness: Harness, tenant: Tenant) -> None:
    name = filename(download(harness, tenant, feedType="malware_grid", compress=True))
    [event] = audit_events(harness, tenant, category=audit.REPORTING)
    assert event.event_type == "Threat Intel Feed Download"
    assert event.actor == tenant.email
    assert re.fullmatch(rf"Threat intel feed download - {re.escape(name)}, "
                        r"Date: \d{4}-\d{2}-\d{2}, Time: \d{2}:\d{2}:\d{2}\+0000", event.info)
    assert audit.CATEGORIES[audit.REPORTING] == "Reporting Logs"


def test_the_feed_needs_its_permission(harness: Harness, basic: Tenant) -> None:
    no_role = harness.tenant(role=None)
    assert "Services | Threat Intel | Read" in intel.forbidden(harness, no_role, FEED, [{}])
    # A read-only administrator may download it.
    download(harness, basic)


@pytest.mark.store_agnostic
@pytest.mark.parametrize(("item", "field"), [
    ({"feedType": "malware_all"}, "feedType"), ({"feedType": ""}, "feedType"),
    ({"fileType": "xml"}, "fileType"), ({"compress": "maybe"}, "compress"),
    ({"start": "yesterday"}, "start"), ({"end": "soon"}, "end"),
    ({"start": "2026-02-02T00:00:00+0000", "end": "2026-02-01T00:00:00+0000"}, "end"),
    ({"token": "bm90IGEgdG9rZW4"}, "token"), ({"token": 42}, "token")])
def test_bad_values_fail_on_their_field(harness: Harness, tenant: Tenant, item: dict[str, Any],
                                        field: str) -> None:
    error = only_error(intel.post(harness, tenant, FEED, [item]), key=item)
    assert error["field"] == field and error["code"].startswith("err_validation"), error


def test_the_sdk_hands_back_the_file_and_its_next_token(harness: Harness, tenant: Tenant,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    mail(harness, tenant)
    monkeypatch.setattr(threat_intel, "PAGE_SIZE", 2)
    keys = tenant.keys
    with Client(harness.url, keys.app_id, keys.app_key, keys.access_key,
                keys.secret_key) as client:
        first = client.ttp_threat_intel.get_feed(fileType="stix")
        assert isinstance(first, DownloadedFile)
        assert first.filename.startswith("malware_customer_stix_")
        token = first.headers[NEXT]
        second = client.ttp_threat_intel.get_feed(fileType="stix", token=token)
        assert NEXT not in second.headers
    objects = [*json.loads(first)["objects"], *json.loads(second)["objects"]]
    assert len({o["id"] for o in objects}) == 9

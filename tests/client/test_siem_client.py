"""`client.siem`: the SIEM collector against a live server, sync and async. Files saved under
their served names with a checkpoint, resumed from it without loss or duplicates (checked
against the server's ledger), events parsed from both formats, caught up and then the next
file once more mail's slice has ended, 429s waited out, and the parser on its own.

The SIEM walk's SQL is tested on both stores in tests/server/test_siem.py; these tests check
the client's bookkeeping, which no store changes (`store_agnostic`)."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sdk_helpers import Requests
from sqlalchemy import select

from mimicast.client import ApiFailure, AsyncClient, Client
from mimicast.client.siem import SavedFile
from mimicast.client.siem_checkpoint import DEFAULT_NAME, CheckpointError
from mimicast.client.siem_files import SiemFileError, parse_file, parse_line, record_type
from mimicast.services import identity
from mimicast.services.crypto import digest
from mimicast.services.mail import accept
from mimicast.services.mail.facts import Draft, Recipient
from mimicast.sim import runs
from mimicast.store.schema import Binding, LedgerEntry
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

pytestmark = pytest.mark.store_agnostic

# On a slice boundary, as in tests/server/test_siem.py: the backfill ends where a slice does.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PREFIXES = {"receipt", "process", "delivery", "av_tse", "ttp_ap", "spameventthread",
            "impersonation", "jrnl", "ttp_url"}


@pytest.fixture
def tenant(harness: Harness) -> Iterator[Tenant]:
    """A tenant with a day of simulated mail, the clock frozen past its last slice."""
    harness.clock.freeze()
    harness.clock.set(NOW)
    made = harness.tenant()
    runs.backfill(harness.deps, made.account_id, seed=7, messages=150, days=1)
    harness.clock.advance(minutes=30)
    yield made
    harness.clock.reset()


def new_binding(harness: Harness, tenant: Tenant, **options: Any) -> Client:
    """A client on a binding of its own: a fresh collector, which the server starts at the
    oldest retained file (a binding's ledger decides where a call without a token starts)."""
    keys = tenant.keys
    return Client.login(tenant.email, tenant.password, keys.app_id, keys.app_key,
                        base_url=harness.url, **options)


def async_client(client: Client) -> AsyncClient:
    """An AsyncClient on `client`'s binding."""
    return AsyncClient(client.base_url, client.app_id, client.app_key, client.access_key,
                       client.secret_key)


def ledger(harness: Harness, client: Client) -> list[tuple[str, int]]:
    """(name, events) of every SIEM file the server served `client`'s binding, in order."""
    with harness.deps.store.unit() as unit:
        binding = unit.session.scalar(select(Binding.id).where(
            Binding.access_key_hash == digest(client.access_key)))
        rows = unit.session.execute(select(LedgerEntry.name, LedgerEntry.events).where(
            LedgerEntry.binding_id == binding, LedgerEntry.log == "siem")
            .order_by(LedgerEntry.id)).all()
    return [(row.name, row.events) for row in rows]


def saved_files(directory: Path) -> dict[str, bytes]:
    """The SIEM files in `directory` by name (the checkpoint left out), unzipped: a zip's
    bytes carry its time of writing, its member does not."""
    found = {}
    for path in sorted(directory.iterdir()):
        if path.name == DEFAULT_NAME:
            continue
        with zipfile.ZipFile(path) as archive:
            (member,) = archive.namelist()
            found[path.name] = archive.read(member)
    return found


def checkpoint(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def add_mail(harness: Harness, tenant: Tenant, *subjects: str) -> None:
    draft = Draft(sender="news@partner.example.org", recipients=(Recipient(tenant.email),),
                  received_at=harness.clock(), external=True, subject="",
                  sender_ip="198.51.100.7")
    with harness.session_ctx(tenant) as ctx:
        accept.accept(ctx, [replace(draft, subject=subject) for subject in subjects])


def test_download_saves_every_file_once_and_checkpoints_it(
        harness: Harness, tenant: Tenant, tmp_path: Path) -> None:
    seen: list[SavedFile] = []
    with new_binding(harness, tenant) as client:
        summary = client.siem.download(tmp_path / "logs", on_file=seen.append)
        served = ledger(harness, client)
    assert summary.caught_up and summary.files == len(served) > 10
    files = saved_files(tmp_path / "logs")
    # Exactly the files the server served, once each, under their served names.
    assert [name for name, _ in served] == [saved.name for saved in seen]
    assert sorted(files) == sorted(name for name, _ in served)
    assert {record_type(name) for name in files} <= PREFIXES
    assert {record_type(name) for name in files} >= {"receipt", "process", "delivery"}
    # The events counted are the ledger's, file by file.
    assert [(saved.name, saved.events) for saved in seen] == served
    assert summary.events == sum(events for _, events in served)
    assert summary.bytes == sum(saved.path.stat().st_size for saved in seen)
    state = checkpoint(tmp_path / "logs" / DEFAULT_NAME)
    assert state["version"] == 1 and state["token"] and state["last_file"] == seen[-1].name
    assert (state["files"], state["events"], state["bytes"]) == (
        summary.files, summary.events, summary.bytes)
    # No temporary file is left behind.
    assert not [p for p in (tmp_path / "logs").iterdir() if p.name.endswith(".partial")]


def test_caught_up_then_more_mail_then_the_next_files(
        harness: Harness, tenant: Tenant, tmp_path: Path) -> None:
    with new_binding(harness, tenant) as client:
        first = client.siem.download(tmp_path)
        token = checkpoint(tmp_path / DEFAULT_NAME)["token"]
        # Caught up: nothing, and the checkpoint keeps its token to ask with later.
        again = client.siem.download(tmp_path)
        assert again.caught_up and again.files == 0
        assert checkpoint(tmp_path / DEFAULT_NAME)["token"] == token
        # Mail in the open slice is not served before the slice ends.
        add_mail(harness, tenant, "Later news", "Later still")
        assert client.siem.download(tmp_path).files == 0
        harness.clock.advance(minutes=30)
        later = client.siem.download(tmp_path)
        assert later.caught_up and later.files >= 1
        served = ledger(harness, client)
    assert len(served) == first.files + later.files  # nothing was served twice
    receipts = [event for name, body in saved_files(tmp_path).items()
                if name not in {n for n, _ in served[:first.files]}
                for event in parse_file(name, body) if event["_type"] == "receipt"]
    assert sorted(event["Subject"] for event in receipts) == ["Later news", "Later still"]
    assert checkpoint(tmp_path / DEFAULT_NAME)["files"] == first.files + later.files


def test_a_stopped_download_resumes_from_its_checkpoint(
        harness: Harness, tenant: Tenant, tmp_path: Path) -> None:
    resumed, clean = tmp_path / "resumed", tmp_path / "clean"
    with new_binding(harness, tenant) as client:
        parts = [client.siem.download(resumed, max_files=4) for _ in range(3)]
        rest = client.siem.download(resumed)
        served = [name for name, _ in ledger(harness, client)]
    assert [part.files for part in parts] == [4, 4, 4] and not parts[0].caught_up
    assert rest.caught_up
    with new_binding(harness, tenant) as other:
        other.siem.download(clean)
    # The same files, byte for byte, and the server served each once.
    assert saved_files(resumed) == saved_files(clean)
    assert len(served) == len(set(served)) == len(saved_files(clean))


def test_events_in_both_formats_agree(harness: Harness, tenant: Tenant) -> None:
    with new_binding(harness, tenant) as client:
        as_json = list(client.siem.events())
    with new_binding(harness, tenant) as client:
        as_text = list(client.siem.events(file_format="key_value"))
    assert len(as_json) == len(as_text) > 100
    assert [e["_type"] for e in as_json] == [e["_type"] for e in as_text]
    assert set(Counter(e["_type"] for e in as_json)) >= {"receipt", "process", "delivery"}
    for parsed, text in zip(as_json, as_text, strict=True):
        assert set(parsed) == set(text)
        # key_value holds strings only; free text comes unwrapped from its backslashes.
        assert all(isinstance(value, str) for value in text.values())
        for key, value in parsed.items():
            if isinstance(value, str):
                assert text[key] == value, key
            elif isinstance(value, bool):
                assert text[key] == str(value).lower(), key
            elif isinstance(value, int):
                assert text[key] == str(value), key
    subjects = [e["Subject"] for e in as_text if e["_type"] == "receipt" and e["Subject"]]
    assert subjects and not any(s.startswith("\\") for s in subjects)


def test_events_checkpoint_a_file_only_after_all_its_events(
        harness: Harness, tenant: Tenant, tmp_path: Path) -> None:
    where = tmp_path / "events.json"
    with new_binding(harness, tenant) as client:
        list(client.siem.events(max_files=2))
        (first_file, first_count), (second_file, _) = ledger(harness, client)
    with new_binding(harness, tenant) as client:
        events = client.siem.events(checkpoint=where)
        taken = [next(events) for _ in range(first_count)]
        # Every event of the first file yielded, but the next not asked for: not yet done.
        assert not where.exists()
        following = next(events)
        assert checkpoint(where)["files"] == 1 and checkpoint(where)["last_file"] == first_file
        events.close()
        # A new iterator goes on from the checkpoint: the second file, from its first event.
        again = client.siem.events(checkpoint=where, max_files=1)
        assert next(again) == following
    assert {event["_type"] for event in taken} == {record_type(first_file)}
    assert following["_type"] == record_type(second_file)


def test_events_ask_for_the_next_file_while_one_is_taken(
        harness: Harness, tenant: Tenant) -> None:
    """Prefetch: a drain is served each file once; max_files is not overstepped; a consumer
    that stops inside a file leaves the one file asked for ahead served but not taken (the
    next call asks for it again), and without prefetch nothing is asked ahead."""
    with new_binding(harness, tenant) as client:
        drained = list(client.siem.events())
        served = ledger(harness, client)
    assert len(served) == len({name for name, _ in served}) > 3
    assert len(drained) == sum(events for _, events in served)
    with new_binding(harness, tenant) as client:
        list(client.siem.events(max_files=2))
        assert len(ledger(harness, client)) == 2
    for prefetch, asked in ((True, 2), (False, 1)):
        with new_binding(harness, tenant) as client:
            events = client.siem.events(prefetch=prefetch)
            next(events)
            events.close()
            assert [name for name, _ in ledger(harness, client)] == \
                [name for name, _ in served[:asked]]


def test_async_events_prefetch_and_stop(harness: Harness, tenant: Tenant) -> None:
    async def first_event_then_stop(binding: Client) -> None:
        async with async_client(binding) as client:
            events = client.siem.events()
            await anext(events)
            await events.aclose()

    async def drain(binding: Client) -> list[dict[str, Any]]:
        async with async_client(binding) as client:
            return [event async for event in client.siem.events()]

    with new_binding(harness, tenant) as binding:
        asyncio.run(first_event_then_stop(binding))
        assert len(ledger(harness, binding)) == 2  # the one taken from, and the one ahead
    with new_binding(harness, tenant) as binding:
        drained = asyncio.run(drain(binding))
        served = ledger(harness, binding)
    assert len(served) == len({name for name, _ in served}) > 3
    assert len(drained) == sum(events for _, events in served)


def test_follow_waits_for_the_next_slice(harness: Harness, tenant: Tenant,
                                         tmp_path: Path) -> None:
    with new_binding(harness, tenant) as client:
        drained = client.siem.download(tmp_path / "a").files
        arrived = threading.Event()
        names: list[str] = []

        def on_file(saved: SavedFile) -> None:
            names.append(saved.name)
            arrived.set()

        # Following from the same checkpoint: caught up, it polls until the slice ends.
        worker = threading.Thread(target=lambda: client.siem.download(
            tmp_path / "a", follow=True, poll_interval=0.02, max_poll_interval=0.05,
            max_files=1, on_file=on_file))
        worker.start()
        add_mail(harness, tenant, "Followed")
        assert not arrived.wait(0.3)  # the slice is still open
        harness.clock.advance(minutes=30)
        worker.join(timeout=30)
        assert not worker.is_alive() and len(names) == 1
    assert record_type(names[0]) == "receipt"
    assert checkpoint(tmp_path / "a" / DEFAULT_NAME)["files"] == drained + 1


def test_rate_limited_calls_wait_for_the_reset(harness: Harness, tenant: Tenant,
                                               tmp_path: Path,
                                               requests_seen: Requests) -> None:
    with harness.session_ctx(tenant) as ctx:
        identity.set_account_limits(ctx, rate_limit=4, rate_window_ms=400)
    # No retries of its own in the transport: every 429 reaches the collector's loop.
    with new_binding(harness, tenant, max_retries=0,
                     event_hooks=requests_seen.hooks()) as client:
        summary = client.siem.download(tmp_path, max_files=12)
    assert summary.files == 12
    assert 429 in requests_seen.statuses
    assert len(saved_files(tmp_path)) == 12


def test_a_refused_checkpoint_token_is_an_error(harness: Harness, tenant: Tenant,
                                                tmp_path: Path) -> None:
    other = harness.tenant()
    with new_binding(harness, tenant) as client:
        client.siem.download(tmp_path, max_files=1)
    # Another account's collector pointed at this checkpoint: the token is not its own.
    with new_binding(harness, other) as client, pytest.raises(ApiFailure) as refused:
        client.siem.download(tmp_path)
    assert refused.value.code == "err_audit_siem_invalid_token"
    (tmp_path / DEFAULT_NAME).write_text("{broken")
    with new_binding(harness, tenant) as client, pytest.raises(CheckpointError):
        client.siem.download(tmp_path)
    with new_binding(harness, tenant) as client, pytest.raises(ValueError):
        client.siem.download(tmp_path / "x", file_format="xml")


def test_async_download_events_and_resume(harness: Harness, tenant: Tenant,
                                          tmp_path: Path) -> None:
    with new_binding(harness, tenant) as client:
        expected = list(client.siem.events())
    with new_binding(harness, tenant) as client:
        client.siem.download(tmp_path / "sync")
    with new_binding(harness, tenant) as binding:

        async def download() -> tuple[int, bool]:
            async with async_client(binding) as client:
                first = await client.siem.download(tmp_path / "async", max_files=3)
                rest = await client.siem.download(tmp_path / "async")
                # Caught up: the checkpoint's last token yields nothing more.
                assert (await client.siem.download(tmp_path / "async")).files == 0
            return first.files + rest.files, rest.caught_up

        files, caught_up = asyncio.run(download())
        assert caught_up and files == len(ledger(harness, binding))
    assert saved_files(tmp_path / "async") == saved_files(tmp_path / "sync")
    with new_binding(harness, tenant) as binding:

        async def events() -> list[dict[str, Any]]:
            async with async_client(binding) as client:
                return [event async for event in client.siem.events(
                    checkpoint=tmp_path / "events.json")]

        assert asyncio.run(events()) == expected
    assert checkpoint(tmp_path / "events.json")["events"] == len(expected)


# The parser on its own -----------------------------------------------------------------------

def test_parse_file_reads_zips_json_and_key_value() -> None:
    line = ("datetime=2026-11-20T11:00:00+0000|aCode=abc|acc=C0A0|Subject=\\a|b = c\\|"
            "Empty=|SpamInfo=[]|Detail={\"spf\":{\"allow\":true}}\r\n")
    text = line.encode() + line.replace("abc", "def").encode()
    records = parse_file("receipt_20261120113000000.siem", text)
    assert [r["aCode"] for r in records] == ["abc", "def"]
    assert records[0] == {"datetime": "2026-11-20T11:00:00+0000", "aCode": "abc",
                          "acc": "C0A0", "Subject": "a|b = c", "Empty": "", "SpamInfo": "[]",
                          "Detail": '{"spf":{"allow":true}}', "_type": "receipt"}
    document = json.dumps({"type": "MTA", "data": [{"url": "https://example.com/"}]}).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ttp_url_20261120113000000.json", document)
    assert parse_file("whatever.zip", buffer.getvalue()) == [
        {"url": "https://example.com/", "_type": "ttp_url"}]
    assert parse_file("av_tse_20261120113000001.json", document)[0]["_type"] == "av_tse"
    assert parse_line("Subject=\\unclosed|Next=1") == {"Subject": "\\unclosed", "Next": "1"}
    for bad in (b"PK\x03\x04broken", b'{"type": "MTA"}', b"{not json"):
        with pytest.raises(SiemFileError):
            parse_file("receipt_1.json", bad)
    assert record_type("spameventthread_20261120113000000.zip") == "spameventthread"
    assert record_type("odd.json") == "odd"

"""An administrator's session through the SDK, over HTTP: a group with members paged through,
a blocked-sender policy, a managed URL — and every one of those changes found again in the
audit trail, attributed to the administrator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mimicast.client import Client
from mimicast.services import identity
from mimicast.testing import Harness


def test_changes_are_paged_and_audited(harness: Harness) -> None:
    tenant = harness.tenant()
    members = [f"member{n}@{tenant.domain}" for n in range(7)]
    with harness.session_ctx(tenant) as ctx:
        for address in members[:3]:  # some members are users, others plain addresses
            identity.create_user(ctx, address, name=address.split("@")[0].title())
    keys = tenant.keys
    started = datetime.now(UTC) - timedelta(minutes=1)
    with Client(harness.url, keys.app_id, keys.app_key, keys.access_key,
                keys.secret_key) as client:
        (group,) = client.directory.create_group(description="Scenario Sales")
        added = client.directory.add_group_member(
            items=[{"id": group.id, "emailAddress": address} for address in members]
            + [{"id": group.id, "domain": "partner.example.net"}])
        assert len(added) == 8

        pages = list(client.directory.get_group_members(id=group.id, page_size=3).pages())
        assert [len(page.items) for page in pages] == [3, 3, 2]
        listed = [m.emailAddress or m.domain for page in pages for m in page.items]
        assert sorted(listed) == sorted([*members, "partner.example.net"])
        assert {m.name for page in pages for m in page.items
                if m.emailAddress in members[:3]} == {"Member0", "Member1", "Member2"}
        (found,) = [f for f in client.directory.find_groups(query="scenario")]
        assert found.id == group.id and found.userCount == 8

        (policy,) = client.policy_blockedsenders.create_policy(option="block_sender", policy={
            "description": "Scenario block", "fromPart": "envelope_from",
            "from": {"type": "email_domain", "emailDomain": "spam.example"},
            "to": {"type": "everyone"}})
        (url,) = client.ttp_url.create_managed_url(url="https://scenario.example/phish",
                                                   action="block", comment="scenario")

        until = datetime.now(UTC) + timedelta(minutes=1)
        events = list(client.audit.get_audit_events(
            startDateTime=started.isoformat(), endDateTime=until.isoformat(), page_size=4))
    # The tenant (by "system") and the users seeded above (by the harness operator) came first.
    assert {event.user for event in events} == {"system", "test", tenant.email}
    events = [event for event in events if event.user == tenant.email]
    kinds = [(event.category, event.auditType) for event in events]
    assert ("directory_logs", "Profile group created") in kinds
    assert kinds.count(("directory_logs", "Profile group member added")) == 8
    assert ("policy_logs", "Blocked sender policy created") in kinds
    assert ("ttp_url_logs", "Managed URL created") in kinds
    infos = " ".join(event.eventInfo for event in events)
    assert "Scenario Sales" in infos and "spam.example" in infos
    assert "scenario.example/phish" in infos
    # Newest first: the managed URL was the last change.
    assert events[0].auditType == "Managed URL created"
    assert policy.id and url.id

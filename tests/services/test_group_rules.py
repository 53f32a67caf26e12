"""The profile-group rules the CLI (by folder path) and the API (by id) share."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from mimicast.services import dirsync, profiles
from mimicast.store.schema import GroupMember
from mimicast.testing import Harness
from mimicast.wire.errors import ApiError


def test_domain_members_are_kept_as_domains(harness: Harness) -> None:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        group = profiles.create_group(ctx, "Partners/Trusted")
        profiles.add_group_member(ctx, "Partners/Trusted", " Partner.Example.NET ")
        profiles.add_group_member(ctx, "Partners/Trusted", "Ann@Partner.example.net")
        members = ctx.session.execute(select(GroupMember.address, GroupMember.kind).where(
            GroupMember.group_id == group.id).order_by(GroupMember.address)).all()
    assert members == [("ann@partner.example.net", "email"), ("partner.example.net", "domain")]


def test_the_cli_cannot_change_a_synced_group(harness: Harness, tmp_path: Path) -> None:
    tenant = harness.tenant()
    source = tmp_path / "people.csv"
    source.write_text(f"emailAddress,name,groups\nerin@{tenant.domain},Erin,Sales\n")
    with harness.session_ctx(tenant) as ctx:
        dirsync.add_connection(ctx, "Corp", "csv", str(source))
        dirsync.sync(ctx)
    with harness.session_ctx(tenant) as ctx:
        for change in (lambda: profiles.add_group_member(ctx, "Corp/Sales", tenant.email),
                       lambda: profiles.remove_group_member(ctx, "Corp/Sales",
                                                            f"erin@{tenant.domain}"),
                       lambda: profiles.create_group(ctx, "Corp/Sales/Local")):
            with pytest.raises(ApiError) as refused:
                change()
            assert refused.value.code == "err_folder_managed_by_sync"

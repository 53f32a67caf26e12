"""Directory namespace: groups (the profile-group folder tree) and their members, and
Directory Sync (spec 5.5, 6.7).

Shapes the spec leaves open ([1]/[I] or silent), chosen here and kept small:
- find-groups answers only `source`'s groups, "cloud" by default (the real default); `query`
  is echoed only when given (as in the real fixture), and matches part of a name in any case.
- get-group-members `type`: "created_manually" in cloud groups, "ldap" in synced ones.
- add/remove-group-member `id` is the membership's own opaque id (stable for group + member).
- create-group and update-group answer the folder object, delete-group `{id, description,
  deleted}`. Folder names hold no "/" (the CLI names groups by path).
- execute-sync syncs synchronously, then answers the real `{syncStatus: "started", type}`;
  `type` is always "full" (every sync reads the whole export). The counts are on
  get-connection's `lastResult`.
- get-connection lists the account's connections (real fields `id`, `description`,
  `serverType`, `enabled`, `status`, `info`, `lastSync`, and `sourcePath`, `lastResult`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from mimicast.catalog.model import MAX_SEARCH_LENGTH, Endpoint, Item, NoItem
from mimicast.services import directory, dirsync, permissions


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


GroupSource = Annotated[Literal["cloud", "ldap"], BeforeValidator(_lower)]


# Requests -----------------------------------------------------------------------------------

class FindGroupsItem(Item):
    query: str | None = Field(default=None, max_length=MAX_SEARCH_LENGTH,
                              description="Part of the group's name (any case).")
    source: GroupSource | None = Field(
        default=None, description="Groups made here (cloud, the default) or synced (ldap).")


class GroupRefItem(Item):
    id: str = Field(min_length=1, description="The group's id (find-groups `id`).")


class GroupMemberItem(GroupRefItem):
    emailAddress: str | None = Field(default=None, description="An address to add or remove.")
    domain: str | None = Field(default=None, description="Or a whole domain.")
    notes: str = Field(default="", max_length=1000, description="Kept with the member.")


class CreateGroupItem(Item):
    description: str = Field(min_length=1, max_length=200, description="The group's name.")
    parentId: str | None = Field(default=None,
                                 description="The folder to create it in; absent: the root.")


class UpdateGroupItem(GroupRefItem):
    description: str | None = Field(default=None, min_length=1, max_length=200,
                                    description="A new name.")
    parentId: str | None = Field(default=None,
                                 description="A new parent folder; \"\" moves it to the root.")


class ExecuteSyncItem(Item):
    connectionId: str | None = Field(
        default=None, min_length=1,
        description="Sync only this connection (enabled or not); absent: every enabled one.")


# Responses ----------------------------------------------------------------------------------

class Folder(BaseModel):
    id: str
    description: str = Field(description="The group's name.")
    source: Literal["cloud", "ldap"]
    parentId: str = Field(description="The parent folder's id; \"\" for a root folder.")
    userCount: int = Field(description="Members (addresses and domains) of the folder itself.")
    folderCount: int = Field(description="Folders directly below it.")


class FoundGroups(BaseModel):
    folders: list[Folder]
    source: Literal["cloud", "ldap"]
    query: str | None = Field(default=None, description="The query, when one was given.")


class GroupMemberView(BaseModel):
    emailAddress: str = Field(description="The member address; \"\" for a domain member.")
    domain: str = Field(description="The member domain; \"\" for an address member.")
    internal: bool = Field(description="In one of the account's internal domains.")
    type: Literal["created_manually", "ldap"]
    name: str = Field(description="The user's name when the address is a user of the account.")
    notes: str


class GroupMembers(BaseModel):
    groupMembers: list[GroupMemberView]


class MemberChange(BaseModel):
    id: str = Field(description="The membership's id.")
    folderId: str
    emailAddress: str | None = Field(default=None, description="For an address member.")
    domain: str | None = Field(default=None, description="For a domain member.")
    internal: bool


class DeletedGroup(BaseModel):
    id: str
    description: str
    deleted: bool


class SyncStarted(BaseModel):
    syncStatus: Literal["started"]
    type: Literal["full"]


class SyncCounts(BaseModel):
    created: int = Field(description="Users created.")
    updated: int = Field(description="Users renamed.")
    removed: int = Field(description="Users deleted: imported before, no longer in the file.")
    groupsCreated: int
    groupsRemoved: int
    membershipsAdded: int
    membershipsRemoved: int
    skipped: int = Field(description="Addresses not imported: not valid, outside the internal "
                                     "domains, or another user's.")


class Connection(BaseModel):
    id: str
    description: str = Field(description="The connection's name.")
    serverType: Literal["ldif", "csv"]
    enabled: bool = Field(description="Synced by an execute-sync without connectionId.")
    sourcePath: str = Field(description="The export file, read at each sync.")
    status: Literal["", "ok", "failed"] = Field(description="How the last sync ended; \"\" "
                                                            "before the first.")
    info: str = Field(description="Why the last sync failed; \"\" otherwise.")
    lastSync: str = Field(description="When the last sync ran; \"\" before the first.")
    lastResult: SyncCounts = Field(description="What the last sync did (zeros if it failed).")


# Entries ------------------------------------------------------------------------------------

ENDPOINTS = [
    Endpoint("/api/directory/find-groups",
             "The account's groups from `source` (cloud by default, or ldap: synced), "
             "optionally only those whose name contains `query`; paged, oldest first, in "
             "`data[0].folders`.",
             lambda ctx, item: directory.find_groups(ctx, item.query, item.source),
             permissions.GROUPS_READ, FindGroupsItem, FoundGroups, per_item=False,
             max_items=1, paged=True, page_items="folders", read_only=True),
    Endpoint("/api/directory/get-group-members",
             "A group's members (addresses and domains), paged by address, in "
             "`data[0].groupMembers`.",
             lambda ctx, item: directory.group_members(ctx, item.id),
             permissions.GROUPS_READ, GroupRefItem, GroupMembers, per_item=False,
             min_items=1, max_items=1, paged=True, page_items="groupMembers", read_only=True),
    Endpoint("/api/directory/add-group-member",
             "Add an address (`emailAddress`) or a whole `domain` to a group; a member already "
             "there is `err_folder_group_member_already_exists`.",
             lambda ctx, item: directory.add_member(ctx, item.id, item.emailAddress,
                                                    item.domain, item.notes),
             permissions.GROUPS_EDIT, GroupMemberItem, MemberChange, min_items=1),
    Endpoint("/api/directory/remove-group-member",
             "Remove an address or a domain from a group; one that is not a member is "
             "`err_folder_email_address_not_found`.",
             lambda ctx, item: directory.remove_member(ctx, item.id, item.emailAddress,
                                                       item.domain),
             permissions.GROUPS_EDIT, GroupMemberItem, MemberChange, min_items=1),
    Endpoint("/api/directory/create-group",
             "Create a group named `description` at the root or in the folder `parentId`; "
             "answers the folder.",
             lambda ctx, item: directory.create_group(ctx, item.description, item.parentId),
             permissions.GROUPS_EDIT, CreateGroupItem, Folder, min_items=1),
    Endpoint("/api/directory/update-group",
             "Rename a group (`description`) and/or move it (`parentId`, \"\" for the root; "
             "never into itself or below itself); answers the folder.",
             lambda ctx, item: directory.update_group(ctx, item.id, item.description,
                                                      item.parentId),
             permissions.GROUPS_EDIT, UpdateGroupItem, Folder, min_items=1),
    Endpoint("/api/directory/delete-group",
             "Delete a group with every folder below it, their members and the application "
             "settings that use them.",
             lambda ctx, item: directory.delete_group(ctx, item.id),
             permissions.GROUPS_EDIT, GroupRefItem, DeletedGroup, min_items=1),
    Endpoint("/api/directory/execute-sync",
             "Sync every enabled directory connection (or `connectionId`) now, all or "
             "nothing: users, groups and memberships follow the export file. A file that "
             "cannot be read or parsed is `err_directory_sync_failed`.",
             lambda ctx, item: dirsync.execute_sync(ctx, item.connectionId),
             permissions.DIRECTORY_SYNC_EDIT, ExecuteSyncItem, SyncStarted, per_item=False,
             max_items=1, slow=True),
    Endpoint("/api/directory/get-connection",
             "The account's directory connections, with how and when each last synced and "
             "what that sync did.",
             lambda ctx, item: [dirsync.connection_view(row)
                                for row in dirsync.connection_rows(ctx)],
             permissions.DIRECTORY_SYNC_READ, NoItem, Connection,
             per_item=False, read_only=True),
]

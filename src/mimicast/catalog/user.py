"""User namespace: create and update users, list the internal users, attributes, the profile,
aliases and delegates.

create-user, update-user and get-internal-users follow spec 6.8. The other endpoints have no
published shape (5.10); the models below are this server's answer, kept small and explicit:
get-internal-users lists primary addresses only (`alias: false`, `addressType: "internal"`),
aliases being listed by get-aliases and get-profile; update-attributes sets each attribute
given, an empty value removing it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints

from mimicast.catalog.model import Endpoint, Item
from mimicast.services import permissions, users

ADDRESS_MAX = 320
# A password is taken verbatim: spaces at either end are part of it.
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1)]


# Requests -----------------------------------------------------------------------------------

class UserItem(Item):
    emailAddress: str = Field(min_length=1, max_length=ADDRESS_MAX,
                              description="The user's primary address.")


class CreateUserItem(UserItem):
    password: Password | None = Field(default=None, description="The cloud password (for "
                                      "Basic-Cloud logins); none: the user cannot log in.")
    name: str | None = Field(default=None, max_length=200,
                             description="Display name; the address when not given.")
    forcePasswordChange: bool | None = None
    accountCode: str | None = Field(default=None, description="When given, the caller's own "
                                    "account code; any other code is refused.")


class UpdateUserItem(UserItem):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    password: Password | None = None
    passwordNeverExpires: bool | None = None
    forcePasswordChange: bool | None = None
    archiveStartDate: str | None = Field(default=None, min_length=1)
    allowPop: bool | None = None
    allowSmtp: bool | None = None
    accountDisabled: bool | None = Field(default=None, description="True: the user can no "
                                         "longer log in or use its keys, at once.")
    accountLocked: bool | None = Field(default=None, description="As accountDisabled.")


class InternalUsersItem(Item):
    domain: str | None = Field(default=None, description="Only this internal domain's users.")


class AttributeValue(Item):
    # Directory attributes are text; a number (`"costCentre": 42`) is taken as its digits.
    model_config = ConfigDict(coerce_numbers_to_str=True)

    name: str = Field(min_length=1, max_length=200)
    value: str | None = Field(default=None, description="Empty or absent: remove the attribute.")


class UpdateAttributesItem(UserItem):
    attributes: list[AttributeValue] = Field(min_length=1)


class AliasItem(UserItem):
    aliasAddress: str = Field(min_length=1, max_length=ADDRESS_MAX)


class RemoveAliasItem(Item):
    aliasAddress: str = Field(min_length=1, max_length=ADDRESS_MAX)
    emailAddress: str | None = Field(default=None, min_length=1, max_length=ADDRESS_MAX,
                                     description="When given, the alias must be this user's.")


class DelegateItem(Item):
    # `primaryAddress` is what some clients send (gh-tking/mimecast-sdk).
    emailAddress: str = Field(min_length=1, max_length=ADDRESS_MAX,
                              validation_alias=AliasChoices("emailAddress", "primaryAddress"),
                              description="The user whose mailbox the delegate may act on.")
    delegateAddress: str = Field(min_length=1, max_length=ADDRESS_MAX)


# Responses ----------------------------------------------------------------------------------

class CreatedUser(BaseModel):
    emailAddress: str
    id: str


class UserSettings(BaseModel):
    emailAddress: str
    name: str
    forcePasswordChange: bool
    passwordNeverExpires: bool
    accountLocked: bool
    accountDisabled: bool
    allowSmtp: bool
    allowPop: bool
    archiveStartDate: str = Field(description="\"\" when not set.")


class InternalUser(BaseModel):
    name: str
    emailAddress: str
    domain: str
    alias: bool = Field(description="Always false: only primary addresses are listed.")
    addressType: str = Field(description="\"internal\".")
    source: str = Field(description="\"cloud\" (made here) or \"ldap\" (directory sync).")


class InternalUsers(BaseModel):
    users: list[InternalUser]
    userCount: int = Field(description="The number of matching users, on all pages.")


class Profile(UserSettings):
    id: str
    domain: str
    source: str
    created: str
    roles: list[str] = Field(description="Names of the user's administrative roles.")
    aliases: list[str]


class Attribute(BaseModel):
    name: str
    value: str


class UserAttributes(BaseModel):
    emailAddress: str
    attributes: list[Attribute]


class Alias(BaseModel):
    aliasAddress: str
    created: str


class UserAliases(BaseModel):
    emailAddress: str
    aliases: list[Alias]


class AliasChange(BaseModel):
    emailAddress: str = Field(description="The user the alias belongs (or belonged) to.")
    aliasAddress: str


class Delegate(BaseModel):
    emailAddress: str
    name: str
    created: str


class UserDelegates(BaseModel):
    emailAddress: str
    delegates: list[Delegate]


class DelegateChange(BaseModel):
    emailAddress: str
    delegateAddress: str


# Entries ------------------------------------------------------------------------------------

READ, EDIT = permissions.USERS_READ, permissions.USERS_EDIT

ENDPOINTS = [
    Endpoint("/api/user/create-user",
             "Create a user in one of the account's internal domains; an address that is "
             "already a user or an alias (in any account) is refused.",
             lambda ctx, item: users.create_user(
                 ctx, item.emailAddress, password=item.password, name=item.name,
                 force_password_change=item.forcePasswordChange,
                 account_code=item.accountCode),
             EDIT, CreateUserItem, CreatedUser, min_items=1),
    Endpoint("/api/user/update-user",
             "Change a user's name, password or settings; answers them all. Locking or "
             "disabling ends the user's logins and bindings at once; unlocking restores them.",
             lambda ctx, item: users.update_user(
                 ctx, item.emailAddress, name=item.name, password=item.password,
                 archive_start=item.archiveStartDate,
                 force_password_change=item.forcePasswordChange,
                 password_never_expires=item.passwordNeverExpires, allow_pop=item.allowPop,
                 allow_smtp=item.allowSmtp, locked=item.accountLocked,
                 disabled=item.accountDisabled),
             EDIT, UpdateUserItem, UserSettings, min_items=1),
    Endpoint("/api/user/get-internal-users",
             "The account's users by address (primary addresses), all or one domain's "
             "(`data: [{domain}]`), a page at a time; `userCount` is the total.",
             lambda ctx, item: users.internal_users(ctx, item.domain),
             READ, InternalUsersItem, InternalUsers, per_item=False, paged=True,
             page_items="users", read_only=True),
    Endpoint("/api/user/get-profile",
             "A user's settings, domain, source, creation date, roles and aliases.",
             lambda ctx, item: users.profile(ctx, item.emailAddress),
             READ, UserItem, Profile, min_items=1, read_only=True),
    Endpoint("/api/user/get-attributes", "A user's attributes, by name.",
             lambda ctx, item: users.attributes(ctx, item.emailAddress),
             READ, UserItem, UserAttributes, min_items=1, read_only=True),
    Endpoint("/api/user/update-attributes",
             "Set a user's attributes; an empty value removes one. Answers all of the user's "
             "attributes.",
             lambda ctx, item: users.update_attributes(
                 ctx, item.emailAddress, [(a.name, a.value) for a in item.attributes]),
             EDIT, UpdateAttributesItem, UserAttributes, min_items=1),
    Endpoint("/api/user/get-aliases", "A user's alias addresses.",
             lambda ctx, item: users.aliases(ctx, item.emailAddress),
             READ, UserItem, UserAliases, min_items=1, read_only=True),
    Endpoint("/api/user/update-alias",
             "Give a user an alias address, in one of the account's internal domains and in "
             "use nowhere yet.",
             lambda ctx, item: users.add_alias(ctx, item.emailAddress, item.aliasAddress),
             EDIT, AliasItem, AliasChange, min_items=1),
    Endpoint("/api/user/remove-alias", "Remove an alias address of one of the account's users.",
             lambda ctx, item: users.remove_alias(ctx, item.aliasAddress, item.emailAddress),
             EDIT, RemoveAliasItem, AliasChange, min_items=1),
    Endpoint("/api/user/add-delegate-user",
             "Let another user of the account (`delegateAddress`) act on a user's mailbox.",
             lambda ctx, item: users.add_delegate(ctx, item.emailAddress, item.delegateAddress),
             EDIT, DelegateItem, DelegateChange, min_items=1),
    Endpoint("/api/user/find-delegate-users", "The delegates of a user, by address.",
             lambda ctx, item: users.delegates(ctx, item.emailAddress),
             READ, UserItem, UserDelegates, min_items=1, read_only=True),
    Endpoint("/api/user/remove-delegate-user", "End a delegate's access to a user's mailbox.",
             lambda ctx, item: users.remove_delegate(ctx, item.emailAddress,
                                                     item.delegateAddress),
             EDIT, DelegateItem, DelegateChange, min_items=1),
]

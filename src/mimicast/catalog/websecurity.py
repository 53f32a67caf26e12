"""Web Security block/allow lists: the policy/webwhiteurl namespace.

The four paths are known (spec 5.8) but their shapes are not published ([1]); the models below
are this server's design, after the blocked-sender policy (spec 6.6): a `policy` object saying to
whom and when, and `targets`, the URLs and domains blocked or allowed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from mimicast.catalog.model import Endpoint, Item
from mimicast.services import permissions, web_security
from mimicast.services.context import Context


def _lower(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("missing", "Field required")
    return value.strip().lower() if isinstance(value, str) else value


FromType = Annotated[Literal["everyone", "internal_addresses", "individual_email_address",
                             "email_domain", "profile_group"], BeforeValidator(_lower)]
TargetAction = Annotated[Literal["block", "allow"], BeforeValidator(_lower)]
TargetType = Annotated[Literal["url", "domain"], BeforeValidator(_lower)]

_DATES = (f"Defaults: fromDate {web_security.FROM_DATE_DEFAULT}, toDate "
          f"{web_security.TO_DATE_DEFAULT}, both eternal; a side given a date and no eternal "
          "flag is not eternal.")


# Requests -----------------------------------------------------------------------------------

class WebPolicySender(Item):
    """To whom the policy applies; the type says which one other field is needed."""

    type: FromType
    emailAddress: str | None = Field(default=None, min_length=1,
                                     description="For individual_email_address.")
    emailDomain: str | None = Field(default=None, min_length=1, description="For email_domain.")
    groupId: str | None = Field(default=None, min_length=1,
                                description="For profile_group: a directory group id.")


class WebPolicyChanges(Item):
    """Policy settings; on update, each given field replaces the stored one."""

    description: str | None = Field(default=None, min_length=1)
    fromDate: str | None = None
    toDate: str | None = None
    fromEternal: bool | None = None
    toEternal: bool | None = None
    enabled: bool | None = Field(default=None, description="Default true.")
    sender: WebPolicySender | None = Field(default=None, alias="from",
                                           description="Default {type: everyone}.")


class WebPolicySettings(WebPolicyChanges):
    description: str = Field(min_length=1)


class WebTarget(Item):
    action: TargetAction
    type: TargetType = Field(description="url: an http(s) URL with a host; domain: a host name "
                                         "(and everything under it).")
    value: str = Field(min_length=1)


Targets = list[WebTarget]


class CreateWebPolicyItem(Item):
    policy: WebPolicySettings
    targets: Targets = Field(min_length=1, max_length=web_security.MAX_TARGETS)


class WebPolicyRefItem(Item):
    id: str = Field(min_length=1)


class WebPolicyFilterItem(Item):
    """Optional: only the first item of `data` is read."""

    id: str | None = Field(default=None, min_length=1)


class UpdateWebPolicyItem(WebPolicyRefItem):
    policy: WebPolicyChanges | None = None
    targets: Targets | None = Field(default=None, min_length=1,
                                    max_length=web_security.MAX_TARGETS)


# Responses ----------------------------------------------------------------------------------

class WebPolicySenderView(BaseModel):
    type: str
    emailAddress: str | None = None
    emailDomain: str | None = None
    groupId: str | None = None


class WebPolicyView(BaseModel):
    description: str
    fromDate: str
    toDate: str
    fromEternal: bool
    toEternal: bool
    enabled: bool
    sender: WebPolicySenderView = Field(alias="from")
    createTime: str
    lastUpdated: str


class WebTargetView(BaseModel):
    action: Literal["block", "allow"]
    type: Literal["url", "domain"]
    value: str


class WebPolicyResult(BaseModel):
    id: str
    policy: WebPolicyView
    targets: list[WebTargetView]


class RemovedWebPolicy(BaseModel):
    id: str


# Entries ------------------------------------------------------------------------------------

def _given(changes: WebPolicyChanges) -> dict[str, Any]:
    """The settings the caller sent (wire names), for the service to lay over the stored ones."""
    return changes.model_dump(by_alias=True, exclude_none=True)


def _plain(targets: Targets) -> list[dict[str, Any]]:
    return [target.model_dump() for target in targets]


def _update(ctx: Context, item: UpdateWebPolicyItem) -> dict[str, Any]:
    return web_security.update_policy(
        ctx, item.id, _given(item.policy) if item.policy is not None else None,
        _plain(item.targets) if item.targets is not None else None)


ENDPOINTS = [
    Endpoint("/api/policy/webwhiteurl/create-policy-with-targets",
             "Create a Web Security block/allow policy: `policy{description, from{type: "
             "everyone|internal_addresses|individual_email_address|email_domain|profile_group, "
             "emailAddress|emailDomain|groupId}, fromDate, toDate, fromEternal, toEternal, "
             f"enabled}}` and `targets[{{action: block|allow, type: url|domain, value}}]` (1 to "
             f"{web_security.MAX_TARGETS}). {_DATES} Targets are normalised; a repeated target "
             "is kept once, one both blocked and allowed is refused.",
             lambda ctx, item: web_security.create_policy(ctx, _given(item.policy),
                                                          _plain(item.targets)),
             permissions.WEB_SECURITY_EDIT, CreateWebPolicyItem, WebPolicyResult, min_items=1),
    Endpoint("/api/policy/webwhiteurl/get-policy-with-targets",
             "The account's Web Security policies with their targets, oldest first; "
             "`data: [{id}]` answers that one policy.",
             lambda ctx, item: web_security.get_policies(ctx, item.id),
             permissions.WEB_SECURITY_READ, WebPolicyFilterItem, WebPolicyResult,
             per_item=False, read_only=True),
    Endpoint("/api/policy/webwhiteurl/update-policy-with-targets",
             "Change a policy by `id`: each given `policy` field replaces the stored one "
             "(`from` as a whole), given `targets` replace the whole list.",
             _update,
             permissions.WEB_SECURITY_EDIT, UpdateWebPolicyItem, WebPolicyResult, min_items=1),
    Endpoint("/api/policy/webwhiteurl/delete-policy-with-targets",
             "Delete policies by `id`, with their targets.",
             lambda ctx, item: web_security.delete_policy(ctx, item.id),
             permissions.WEB_SECURITY_EDIT, WebPolicyRefItem, RemovedWebPolicy, min_items=1),
]

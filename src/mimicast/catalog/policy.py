"""Gateway policies: blocked senders, address alteration, anti-spoofing bypass.

Blocked-sender shapes follow spec 6.6 (both documented request shapes; the R7 fixture's answer).
Address alteration and anti-spoofing bypass follow Mimecast's endpoint pages (spec 5.8: the
`policy` object of the blocked-sender model, `addressAlterationSetId` beside it, `option`
disable_bypass|enable_bypass); their answers take the same `policy` shape. Not published, and
this server's own: the definition answer, and delete-address-alteration-set.

The `policy` models here (`PolicySettings`, `PolicyView`) are the shared policy model's wire
side; any other policy family may reuse them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, Field

from mimicast.catalog.model import Endpoint, Item
from mimicast.services import address_alteration, permissions, policies
from mimicast.services.context import Context


def _one(value: Any) -> Any:
    """Mimecast's pages print `policy` as a one-element array; clients copying them send one."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _as_list(value: Any) -> Any:
    """A lone string (`"198.51.100.0/24, 192.0.2.1"`) is read as the list it names."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


StrList = Annotated[list[str], BeforeValidator(_as_list)]
TYPES = ", ".join(policies.TARGET_TYPES)


# Requests: the shared policy object ---------------------------------------------------------

class PolicyAttribute(Item):
    id: str | None = None
    name: str | None = None
    value: str | None = None


class PolicyTarget(Item):
    """Who a side of the policy names: `type`, and the one field that type needs."""

    type: str | None = Field(default=None, description=f"One of: {TYPES}.")
    emailAddress: str | None = Field(default=None, description="For individual_email_address.")
    emailDomain: str | None = Field(default=None, description="For email_domain.")
    groupId: str | None = Field(default=None, description="For profile_group: a directory "
                                                          "group id of the account.")
    attribute: PolicyAttribute | None = Field(
        default=None, description="For address_attribute_value: value, and id or name.")
    headerDisplayName: str | None = Field(default=None, description="For header_display_name.")


class PolicyConditions(Item):
    sourceIPs: StrList | None = Field(default=None, description="IP addresses or CIDR ranges.")
    hostnames: StrList | None = None
    spfDomains: StrList | None = None


class PolicySettings(Item):
    """A policy, in either documented shape (`from{…}`/`to{…}` or `fromType`/`fromValue`…).
    On update, each field given replaces the stored one."""

    description: str | None = None
    comment: str | None = None
    fromPart: str | None = Field(default=None,
                                 description="envelope_from (default), header_from or both.")
    sender: PolicyTarget | None = Field(default=None, alias="from",
                                        description="Default {type: everyone}.")
    to: PolicyTarget | None = Field(default=None, description="Default {type: everyone}.")
    fromType: str | None = Field(default=None, description="Old shape: from.type.")
    fromValue: str | None = Field(default=None, description="Old shape: the value it needs.")
    toType: str | None = None
    toValue: str | None = None
    fromDate: str | None = Field(default=None, description="Given: fromEternal is false.")
    toDate: str | None = Field(default=None, description="Given: toEternal is false.")
    fromEternal: bool | None = Field(default=None, description="Default true.")
    toEternal: bool | None = Field(default=None, description="Default true.")
    override: bool | None = Field(default=None, description="Default false.")
    bidirectional: bool | None = Field(default=None, description="Default false.")
    enabled: bool | None = Field(default=None, description="Default true.")
    enforced: bool | None = Field(default=None, description="Default false.")
    conditions: PolicyConditions | None = None


Settings = Annotated[PolicySettings, BeforeValidator(_one)]


def given(settings: PolicySettings | None) -> dict[str, Any]:
    """The fields the request gave, as the services read them (`from`, not `sender`)."""
    return settings.model_dump(by_alias=True, exclude_unset=True) if settings else {}


class PolicyFilterItem(Item):
    """Optional: only the first item of `data` is read."""

    id: str | None = Field(default=None, min_length=1)


class PolicyRefItem(Item):
    id: str = Field(min_length=1)


# Requests: the families ---------------------------------------------------------------------

class BlockedSenderItem(Item):
    option: str = Field(min_length=1, description="no_action or block_sender.")
    policy: Settings


class AntispoofingItem(Item):
    option: str = Field(min_length=1, description="disable_bypass or enable_bypass.")
    policy: Settings


class AntispoofingUpdateItem(PolicyRefItem):
    option: str | None = Field(default=None, min_length=1)
    policy: Annotated[PolicySettings | None, BeforeValidator(_one)] = None


def _set_field() -> Any:
    return Field(default=None, min_length=1,
                 validation_alias=AliasChoices("addressAlterationSetId", "folderId"),
                 description="The address alteration set (folderId is read too).")


class AlterationSetItem(Item):
    description: str = Field(min_length=1)


class AlterationSetFilterItem(Item):
    """`addressAlterationSetId` (or `folderId`); only the first item of `data` is read."""

    addressAlterationSetId: str | None = _set_field()


class AlterationEntry(Item):
    originalAddress: str | None = Field(
        default=None, description="user@example.com, example.com, *@example.com or user@*.")
    alteredAddress: str | None = Field(
        default=None, validation_alias=AliasChoices("alteredAddress", "newAddress"),
        description="Of the original's kind (newAddress is read too).")
    routing: str | None = Field(default=None, description="all (default), inbound or outbound.")


class AlterationDefinitionItem(AlterationEntry):
    """One definition, or the documented `addressAlterations[]` list of them."""

    addressAlterationSetId: str | None = _set_field()
    addressAlterations: list[AlterationEntry] | None = Field(default=None, min_length=1)


class AlterationPolicySettings(PolicySettings):
    addressAlterationSetId: str | None = Field(default=None, min_length=1,
                                               description="Read here too.")


AlterationSettings = Annotated[AlterationPolicySettings, BeforeValidator(_one)]


class AlterationPolicyItem(Item):
    addressAlterationSetId: str | None = _set_field()
    policy: AlterationSettings


class AlterationPolicyUpdateItem(PolicyRefItem):
    addressAlterationSetId: str | None = _set_field()
    policy: Annotated[AlterationPolicySettings | None, BeforeValidator(_one)] = None


def _set_id(item: AlterationPolicyItem | AlterationPolicyUpdateItem) -> str | None:
    inner = item.policy.addressAlterationSetId if item.policy else None
    return item.addressAlterationSetId or inner


def _definitions(ctx: Context, item: AlterationDefinitionItem) -> list[dict[str, Any]]:
    if item.addressAlterations is not None:
        entries = [entry.model_dump() for entry in item.addressAlterations]
        return address_alteration.create_definitions(ctx, item.addressAlterationSetId, entries,
                                                     "addressAlterations.{index}.")
    entry = item.model_dump(include={"originalAddress", "alteredAddress", "routing"})
    return address_alteration.create_definitions(ctx, item.addressAlterationSetId, [entry])


# Responses ----------------------------------------------------------------------------------

class PolicyAttributeView(BaseModel):
    id: str | None = None
    name: str | None = None
    value: str


class PolicyTargetView(BaseModel):
    type: str
    emailAddress: str | None = None
    emailDomain: str | None = None
    groupId: str | None = None
    attribute: PolicyAttributeView | None = None
    headerDisplayName: str | None = None


class PolicyConditionsView(BaseModel):
    sourceIPs: list[str] | None = None
    hostnames: list[str] | None = None
    spfDomains: list[str] | None = None


class PolicyView(BaseModel):
    description: str
    comment: str | None = Field(default=None, description="Only when set.")
    fromPart: str
    sender: PolicyTargetView = Field(alias="from")
    to: PolicyTargetView
    fromType: str
    fromValue: str | None = Field(default=None, description="When from.type has a value.")
    toType: str
    toValue: str | None = Field(default=None, description="When to.type has a value.")
    fromEternal: bool
    toEternal: bool
    fromDate: str = Field(description=f"{policies.ETERNAL['from']} when eternal.")
    toDate: str = Field(description=f"{policies.ETERNAL['to']} when eternal.")
    override: bool
    bidirectional: bool
    conditions: PolicyConditionsView = Field(description="Only the lists that are set.")
    enabled: bool
    enforced: bool
    createTime: str
    lastUpdated: str


class OptionPolicyResult(BaseModel):
    option: str
    id: str
    policy: PolicyView


class AlterationPolicyResult(BaseModel):
    id: str
    addressAlterationSetId: str
    policy: PolicyView


class AlterationSetResult(BaseModel):
    id: str
    description: str


class AlterationDefinitionResult(BaseModel):
    id: str
    addressAlterationSetId: str
    originalAddress: str
    alteredAddress: str
    routing: str


class DeletedPolicyObject(BaseModel):
    id: str


# Entries ------------------------------------------------------------------------------------

BLOCKED = policies.BLOCKED_SENDERS
BYPASS = policies.ANTISPOOFING_BYPASS
ALTERATION = "Address alteration policy"
_SHAPE = (f"`from`/`to` types: {TYPES}. Defaults: fromPart envelope_from, everyone to "
          "everyone, eternal dates, override/bidirectional/enforced false, enabled true.")
_UPDATE = ("each given `policy` field replaces the stored one (`from`/`to` as a whole, each "
           "condition list as a whole); the rest stays.")

BLOCKED_SENDER_ENDPOINTS = [
    Endpoint("/api/policy/blockedsenders/create-policy",
             "Create blocked-sender policies: `option` no_action|block_sender and `policy` in "
             "either documented shape; answered in the full shape (`fromType`/`toType` mirror "
             f"`from.type`/`to.type`). {_SHAPE}",
             lambda ctx, item: policies.create_option_policy(ctx, BLOCKED, item.option,
                                                             given(item.policy)),
             permissions.POLICIES_EDIT, BlockedSenderItem, OptionPolicyResult, min_items=1),
    Endpoint("/api/policy/blockedsenders/get-policy",
             "The account's blocked-sender policies, oldest first; `data: [{id}]` answers "
             "that one policy.",
             lambda ctx, item: policies.get_option_policies(ctx, BLOCKED, item.id),
             permissions.POLICIES_READ, PolicyFilterItem, OptionPolicyResult, per_item=False,
             read_only=True),
    Endpoint("/api/policy/blockedsenders/delete-policy",
             "Delete blocked-sender policies by `id`; an unknown id is a fail entry "
             "(`err_policy_not_found`).",
             lambda ctx, item: policies.delete_policy(ctx, BLOCKED.name, BLOCKED.label, item.id),
             permissions.POLICIES_EDIT, PolicyRefItem, DeletedPolicyObject, min_items=1),
]

ADDRESS_ALTERATION_ENDPOINTS = [
    Endpoint("/api/policy/address-alteration/create-address-alteration-set",
             "Create an address alteration set (`description`) for definitions and policies.",
             lambda ctx, item: address_alteration.create_set(ctx, item.description),
             permissions.POLICIES_EDIT, AlterationSetItem, AlterationSetResult, min_items=1),
    Endpoint("/api/policy/address-alteration/get-address-alteration-set",
             "The account's address alteration sets, oldest first; `data: [{id}]` answers "
             "that one set.",
             lambda ctx, item: address_alteration.get_sets(ctx, item.id),
             permissions.POLICIES_READ, PolicyFilterItem, AlterationSetResult, per_item=False,
             read_only=True),
    Endpoint("/api/policy/address-alteration/delete-address-alteration-set",
             "Delete sets by `id`, with their definitions; refused while a policy applies "
             "the set (`err_address_alteration_set_in_use`). Not in the published API.",
             lambda ctx, item: address_alteration.delete_set(ctx, item.id),
             permissions.POLICIES_EDIT, PolicyRefItem, DeletedPolicyObject, min_items=1),
    Endpoint("/api/policy/address-alteration/create-definition",
             "Add definitions to a set: `{addressAlterationSetId, originalAddress, "
             "alteredAddress, routing?}`, or the documented `{folderId, addressAlterations: "
             "[{originalAddress, newAddress, routing}]}`. Both addresses are of one kind: "
             "address, domain (`example.com`, `*@example.com`) or local part (`user@*`); a set "
             "alters an original address once. Routing: all (default), inbound, outbound.",
             _definitions,
             permissions.POLICIES_EDIT, AlterationDefinitionItem, AlterationDefinitionResult,
             min_items=1),
    Endpoint("/api/policy/address-alteration/get-definition",
             "The definitions of the set `addressAlterationSetId` (or `folderId`), oldest "
             "first.",
             lambda ctx, item: address_alteration.get_definitions(ctx,
                                                                  item.addressAlterationSetId),
             permissions.POLICIES_READ, AlterationSetFilterItem, AlterationDefinitionResult,
             per_item=False, read_only=True),
    Endpoint("/api/policy/address-alteration/delete-definition",
             "Delete definitions by `id`.",
             lambda ctx, item: address_alteration.delete_definition(ctx, item.id),
             permissions.POLICIES_EDIT, PolicyRefItem, DeletedPolicyObject, min_items=1),
    Endpoint("/api/policy/address-alteration/create-policy",
             "Create policies applying a set: `addressAlterationSetId` (beside `policy` or "
             f"inside it) and `policy`. {_SHAPE}",
             lambda ctx, item: address_alteration.create_policy(ctx, _set_id(item),
                                                                given(item.policy)),
             permissions.POLICIES_EDIT, AlterationPolicyItem, AlterationPolicyResult,
             min_items=1),
    Endpoint("/api/policy/address-alteration/get-policy",
             "The account's address alteration policies, oldest first; `data: [{id}]` answers "
             "that one policy.",
             lambda ctx, item: address_alteration.get_policies(ctx, item.id),
             permissions.POLICIES_READ, PolicyFilterItem, AlterationPolicyResult,
             per_item=False, read_only=True),
    Endpoint("/api/policy/address-alteration/update-policy",
             f"Change a policy by `id`: a given `addressAlterationSetId` moves it; {_UPDATE}",
             lambda ctx, item: address_alteration.update_policy(ctx, item.id, _set_id(item),
                                                                given(item.policy)),
             permissions.POLICIES_EDIT, AlterationPolicyUpdateItem, AlterationPolicyResult,
             min_items=1),
    Endpoint("/api/policy/address-alteration/delete-policy",
             "Delete address alteration policies by `id` (their sets stay).",
             lambda ctx, item: policies.delete_policy(ctx, address_alteration.POLICY,
                                                      ALTERATION, item.id),
             permissions.POLICIES_EDIT, PolicyRefItem, DeletedPolicyObject, min_items=1),
]

ANTISPOOFING_ENDPOINTS = [
    Endpoint("/api/policy/antispoofing-bypass/create-policy",
             "Create anti-spoofing SPF bypass policies: `option` disable_bypass|enable_bypass "
             f"and `policy`. {_SHAPE}",
             lambda ctx, item: policies.create_option_policy(ctx, BYPASS, item.option,
                                                             given(item.policy)),
             permissions.POLICIES_EDIT, AntispoofingItem, OptionPolicyResult, min_items=1),
    Endpoint("/api/policy/antispoofing-bypass/get-policy",
             "The account's anti-spoofing bypass policies, oldest first; `data: [{id}]` "
             "answers that one policy.",
             lambda ctx, item: policies.get_option_policies(ctx, BYPASS, item.id),
             permissions.POLICIES_READ, PolicyFilterItem, OptionPolicyResult, per_item=False,
             read_only=True),
    Endpoint("/api/policy/antispoofing-bypass/update-policy",
             f"Change a policy by `id`: a given `option` replaces it; {_UPDATE}",
             lambda ctx, item: policies.update_option_policy(ctx, BYPASS, item.id, item.option,
                                                             given(item.policy)),
             permissions.POLICIES_EDIT, AntispoofingUpdateItem, OptionPolicyResult, min_items=1),
    Endpoint("/api/policy/antispoofing-bypass/delete-policy",
             "Delete anti-spoofing bypass policies by `id`.",
             lambda ctx, item: policies.delete_policy(ctx, BYPASS.name, BYPASS.label, item.id),
             permissions.POLICIES_EDIT, PolicyRefItem, DeletedPolicyObject, min_items=1),
]

ENDPOINTS = BLOCKED_SENDER_ENDPOINTS + ADDRESS_ALTERATION_ENDPOINTS + ANTISPOOFING_ENDPOINTS

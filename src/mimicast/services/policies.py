"""Gateway policies: the model the policy families share, and the families that add only an
`option` to it (blocked senders, anti-spoofing bypass).

A policy says who sends (`from`) to whom (`to`), on which sender address (`fromPart`), when
(`fromDate`/`toDate`, or eternal), under which connection conditions (source IPs, hostnames,
SPF domains), and carries flags (`override`, `bidirectional`, `enabled`, `enforced`). Spec 6.6
documents two request shapes; both are read here:

- old: `fromType`/`fromValue`, `toType`/`toValue`;
- new: `from{type, emailAddress|emailDomain|groupId|attribute|headerDisplayName}`, `to{…}`.

Answers always use the full shape the real service shows (R7 fixture): `from`/`to` objects,
`fromType`/`toType` and `fromValue`/`toValue` mirroring them, eternal dates as 1900-01-01 and
2100-01-01T23:59:59.

Storage: a generic `Policy` row per policy, its canonical settings in the JSON `body`; a date
of None there means "eternal". `validate_policy(ctx, given, current)` turns a request's policy
object (over the stored body, for an update) into that canonical body, and `policy_view(row)`
turns a row back into the answer, so any policy family (address alteration here, Web Security
elsewhere) reuses both.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from mimicast.services import audit, directory, ids
from mimicast.services.context import Context
from mimicast.services.identity import normalise_domain, normalise_email
from mimicast.store.query import Query
from mimicast.store.schema import Policy
from mimicast.wire.dates import format_date, parse_date
from mimicast.wire.errors import ApiError

# Who a side of the policy names, and the `from`/`to` key holding the value that type needs.
TARGET_TYPES: dict[str, str | None] = {
    "everyone": None,
    "internal_addresses": None,
    "external_addresses": None,
    "free_mail_domains": None,
    "email_domain": "emailDomain",
    "individual_email_address": "emailAddress",
    "profile_group": "groupId",
    "address_attribute_value": "attribute",
    "header_display_name": "headerDisplayName",
}
FROM_PARTS = ("envelope_from", "header_from", "both")
# What an eternal start or end reads as (R7 fixture).
ETERNAL = {"from": "1900-01-01T00:00:00+0000", "to": "2100-01-01T23:59:59+0000"}
FLAGS = {"override": False, "bidirectional": False, "enabled": True, "enforced": False}
CONDITIONS = ("sourceIPs", "hostnames", "spfDomains")


# Validation ---------------------------------------------------------------------------------

def validate_policy(ctx: Context, given: Mapping[str, Any],
                    current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The canonical body of a policy: `given` (a request's `policy` object, None values
    meaning "not given") over `current` (the stored body, for an update) or the defaults."""
    base = current or {}
    body: dict[str, Any] = {
        "description": _text(given, base, "description"),
        "comment": _text(given, base, "comment"),
        "fromPart": _from_part(given, base),
    }
    for side in ("from", "to"):
        body[side] = _side(ctx, given, side) or base.get(side) or {"type": "everyone"}
    for side in ("from", "to"):
        body[f"{side}Date"] = _date(given, base, side)
    if (body["fromDate"] is not None and body["toDate"] is not None
            and body["toDate"] < body["fromDate"]):  # one format, so text order is time order
        raise ApiError("err_validation_invalid_value", field="policy.toDate",
                       reason="toDate is before fromDate")
    for flag, default in FLAGS.items():
        value = given.get(flag)
        body[flag] = bool(value) if value is not None else bool(base.get(flag, default))
    body["conditions"] = _conditions(given.get("conditions") or {}, base.get("conditions") or {})
    return body


def _text(given: Mapping[str, Any], base: Mapping[str, Any], key: str) -> str:
    value = given.get(key)
    return str(value).strip() if value is not None else str(base.get(key, ""))


def _from_part(given: Mapping[str, Any], base: Mapping[str, Any]) -> str:
    value = given.get("fromPart")
    if value is None:
        return str(base.get("fromPart", "envelope_from"))
    part = str(value).strip().lower()
    if part not in FROM_PARTS:
        raise ApiError("err_validation_invalid_value", field="policy.fromPart",
                       reason="fromPart must be one of " + ", ".join(FROM_PARTS))
    return part


def _side(ctx: Context, given: Mapping[str, Any], side: str) -> dict[str, Any] | None:
    """The `from` or `to` target given in either shape, or None when neither names it."""
    target = given.get(side)
    if target is not None:
        return _target(ctx, target, f"policy.{side}.type", f"policy.{side}.")
    kind, value = given.get(f"{side}Type"), given.get(f"{side}Value")
    if kind is None and value is None:
        return None
    if kind is None:
        raise ApiError("err_validation_null", field=f"policy.{side}Type")
    key = TARGET_TYPES.get(str(kind).strip().lower())
    if key == "attribute":
        raise ApiError("err_validation_invalid_value", field=f"policy.{side}Type",
                       reason=f"address_attribute_value needs the {side}.attribute object")
    old = {"type": kind, key: value} if key else {"type": kind}
    return _target(ctx, old, f"policy.{side}Type", f"policy.{side}Value")


def _target(ctx: Context, given: Mapping[str, Any], type_field: str,
            value_field: str) -> dict[str, Any]:
    """A target reduced to its type and the one value that type needs. `value_field` is the
    error field of the value: a prefix ending in "." (new shape) or the old shape's field."""
    kind = str(given.get("type") or "").strip().lower()
    if not kind:
        raise ApiError("err_validation_null", field=type_field)
    if kind not in TARGET_TYPES:
        raise ApiError("err_validation_invalid_value", field=type_field,
                       reason="type must be one of " + ", ".join(TARGET_TYPES))
    key = TARGET_TYPES[kind]
    if key is None:
        return {"type": kind}
    field = value_field + key if value_field.endswith(".") else value_field
    if key == "attribute":
        return {"type": kind, key: _attribute(given.get(key), field)}
    value = str(given.get(key) or "").strip()
    if not value:
        raise ApiError("err_validation_null", field=field)
    if key == "emailAddress":
        value = normalise_email(value, field)
    elif key == "emailDomain":
        value = normalise_domain(value, field)
    elif key == "groupId":
        directory.group_row(ctx, value, field)  # the caller's group, or err_folder_not_found
    return {"type": kind, key: value}


def _attribute(given: Any, field: str) -> dict[str, str]:
    """An address attribute `{id?, name?, value}`: its value, and its id or its name."""
    if not isinstance(given, Mapping):
        raise ApiError("err_validation_null", field=field)
    attribute = {key: str(given[key]).strip() for key in ("id", "name", "value")
                 if given.get(key) is not None and str(given[key]).strip()}
    if "value" not in attribute:
        raise ApiError("err_validation_null", field=f"{field}.value")
    if "id" not in attribute and "name" not in attribute:
        raise ApiError("err_validation_null", field=f"{field}.name")
    return attribute


def _date(given: Mapping[str, Any], base: Mapping[str, Any], side: str) -> str | None:
    """A side's date, None when eternal. A date given wins over the eternal flag (as the
    real service documents); the eternal sentinels read back from get-policy stay eternal."""
    date_key, eternal_key = f"{side}Date", f"{side}Eternal"
    if given.get(date_key) is not None:
        text = format_date(parse_date(given[date_key], f"policy.{date_key}"))
        return None if text == ETERNAL[side] else text
    eternal = given.get(eternal_key)
    if eternal is None:
        return base.get(date_key)
    if eternal:
        return None
    if base.get(date_key) is None:
        raise ApiError("err_validation_null", field=f"policy.{date_key}")
    return str(base[date_key])


def _conditions(given: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, list[str]]:
    """Each condition list given replaces the stored one; an empty list clears it."""
    conditions = {key: list(base[key]) for key in CONDITIONS if base.get(key)}
    for key in CONDITIONS:
        values = given.get(key)
        if values is None:
            continue
        field = f"policy.conditions.{key}"
        check = _network if key == "sourceIPs" else normalise_domain
        checked = list(dict.fromkeys(check(str(value), field) for value in values))
        if checked:
            conditions[key] = checked
        else:
            conditions.pop(key, None)
    return conditions


def _network(value: str, field: str) -> str:
    """An IP address or CIDR range, in its canonical form."""
    text = value.strip()
    try:
        if "/" in text:
            return str(ipaddress.ip_network(text, strict=False))
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ApiError("err_validation_invalid_value", field=field,
                       reason=f"not an IP address or CIDR range: {text[:60]}") from None


# Views --------------------------------------------------------------------------------------

def target_value(target: Mapping[str, Any]) -> str | None:
    """The one value a target compares against (`fromValue`/`toValue`), if its type has one."""
    key = TARGET_TYPES.get(str(target.get("type")))
    if key is None:
        return None
    value = target.get(key)
    return str(value["value"]) if isinstance(value, Mapping) else str(value)


def policy_view(row: Any) -> dict[str, Any]:
    """A stored policy in the answer's `policy` shape (spec 6.6, R7 fixture order)."""
    body: Mapping[str, Any] = row.body
    view: dict[str, Any] = {"description": body["description"]}
    if body.get("comment"):
        view["comment"] = body["comment"]
    view["fromPart"] = body["fromPart"]
    view["from"], view["to"] = dict(body["from"]), dict(body["to"])
    for side in ("from", "to"):
        view[f"{side}Type"] = body[side]["type"]
        value = target_value(body[side])
        if value is not None:
            view[f"{side}Value"] = value
    for side in ("from", "to"):
        view[f"{side}Eternal"] = body[f"{side}Date"] is None
    for side in ("from", "to"):
        view[f"{side}Date"] = body[f"{side}Date"] or ETERNAL[side]
    view["override"], view["bidirectional"] = body["override"], body["bidirectional"]
    view["conditions"] = {key: list(values) for key, values in body["conditions"].items()}
    view["enabled"], view["enforced"] = body["enabled"], body["enforced"]
    view["createTime"] = format_date(row.created_at)
    view["lastUpdated"] = format_date(row.updated_at)
    return view


def describe(body: Mapping[str, Any]) -> str:
    """A policy in one line, for the audit trail: `Block spam: email_domain x.com → everyone`."""
    def side(target: Mapping[str, Any]) -> str:
        value = target_value(target)
        return f"{target['type']} {value}" if value is not None else str(target["type"])

    scope = f"{side(body['from'])} → {side(body['to'])}"
    return f"{body['description']}: {scope}" if body.get("description") else scope


# Rows ---------------------------------------------------------------------------------------

_ROWS = select(Policy.__table__).where(Policy.account_id == bindparam("account"),
                                       Policy.family == bindparam("family"))
_ONE = Query(_ROWS.where(Policy.id == bindparam("id")))
_FAMILY = Query(_ROWS.order_by(Policy.id))
_CHILDREN = Query(_ROWS.where(Policy.parent_id == bindparam("parent")).order_by(Policy.id))
_ADD = Query(insert(Policy).values(
    account_id=bindparam("account"), family=bindparam("family"), parent_id=bindparam("parent"),
    body=bindparam("body"), lookup=bindparam("lookup"), created_at=bindparam("at"),
    updated_at=bindparam("at")).returning(Policy.id))
_SAVE = Query(update(Policy).where(Policy.id == bindparam("id")).values(
    body=bindparam("body"), parent_id=bindparam("parent"), updated_at=bindparam("at")))
_REMOVE = Query(delete(Policy).where(Policy.id == bindparam("id")))


def find_row(ctx: Context, family: str, value: str, code: str = "err_policy_not_found",
             field: str = "id") -> Any:
    """The caller's row of `family` behind a secure id (a row of the policies columns);
    another account's, or another family's, is unknown too."""
    number = ids.row_id(family, value)
    row = (_ONE.first(ctx.unit, account=ctx.caller.account_id, family=family, id=number)
           if number is not None else None)
    if row is None:
        raise ApiError(code, field=field, id=value)
    return row


def family_rows(ctx: Context, family: str, parent_id: int | None = None) -> list[Any]:
    """The caller's rows of `family` (only those under `parent_id` when given), oldest
    first."""
    if parent_id is None:
        return _FAMILY.all(ctx.unit, account=ctx.caller.account_id, family=family)
    return _CHILDREN.all(ctx.unit, account=ctx.caller.account_id, family=family,
                         parent=parent_id)


def add_row(ctx: Context, family: str, body: dict[str, Any],
            parent_id: int | None = None, lookup: str | None = None) -> Any:
    """A new row (`lookup`: what the family finds it by); answers it as stored."""
    number = _ADD.scalar(ctx.unit, account=ctx.caller.account_id, family=family,
                         parent=parent_id, body=body, lookup=lookup, at=ctx.now())
    return _ONE.first(ctx.unit, account=ctx.caller.account_id, family=family, id=number)


def save_row(ctx: Context, row: Any, body: dict[str, Any],
             parent_id: int | None = None) -> Any:
    """The row with a new body (and, when given, a new parent); answers it as stored."""
    _SAVE.execute(ctx.unit, id=row.id, body=body, at=ctx.now(),
                  parent=row.parent_id if parent_id is None else parent_id)
    return _ONE.first(ctx.unit, account=ctx.caller.account_id, family=row.family, id=row.id)


def remove_row(ctx: Context, row: Any) -> None:
    _REMOVE.execute(ctx.unit, id=row.id)


# Families whose policies add an option to the shared model ---------------------------------

@dataclass(frozen=True)
class OptionFamily:
    """A policy family whose policies are the shared model plus an `option` (the action)."""

    name: str  # the `Policy.family` value, also the kind of its secure ids
    label: str  # "Blocked sender policy": the audit events' subject
    options: tuple[str, ...]


BLOCKED_SENDERS = OptionFamily("blockedsenders", "Blocked sender policy",
                               ("no_action", "block_sender"))
ANTISPOOFING_BYPASS = OptionFamily("antispoofing-bypass", "Anti-spoofing bypass policy",
                                   ("disable_bypass", "enable_bypass"))


def _option(family: OptionFamily, value: str) -> str:
    option = value.strip().lower()
    if option not in family.options:
        raise ApiError("err_validation_invalid_value", field="option",
                       reason="option must be one of " + ", ".join(family.options))
    return option


def _option_view(row: Any) -> dict[str, Any]:
    return {"option": row.body["option"], "id": ids.secure_id(row.family, row.id),
            "policy": policy_view(row)}


def create_option_policy(ctx: Context, family: OptionFamily, option: str,
                         given: Mapping[str, Any]) -> dict[str, Any]:
    """Create a policy: answers `{option, id, policy{…}}` with every default filled in."""
    body = {"option": _option(family, option), **validate_policy(ctx, given)}
    row = add_row(ctx, family.name, body)
    audit.record(ctx, audit.POLICY, f"{family.label} created",
                 f"{body['option']}: {describe(body)}")
    return _option_view(row)


def get_option_policies(ctx: Context, family: OptionFamily,
                        policy_id: str | None) -> list[dict[str, Any]]:
    """All the account's policies of the family, oldest first, or the one `policy_id` names."""
    if policy_id is not None:
        return [_option_view(find_row(ctx, family.name, policy_id))]
    return [_option_view(row) for row in family_rows(ctx, family.name)]


def update_option_policy(ctx: Context, family: OptionFamily, policy_id: str,
                         option: str | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """Change a policy: each field given replaces the stored one (`from`/`to` as a whole, each
    condition list as a whole); the rest stays."""
    row = find_row(ctx, family.name, policy_id)
    chosen = _option(family, option) if option is not None else str(row.body["option"])
    body = {"option": chosen, **validate_policy(ctx, given, row.body)}
    saved = save_row(ctx, row, body)
    audit.record(ctx, audit.POLICY, f"{family.label} updated", f"{chosen}: {describe(body)}")
    return _option_view(saved)


def delete_policy(ctx: Context, family: str, label: str, policy_id: str) -> dict[str, Any]:
    """Delete a policy of `family` (`label` names it in the audit trail): answers `{id}`."""
    row = find_row(ctx, family, policy_id)
    remove_row(ctx, row)
    audit.record(ctx, audit.POLICY, f"{label} deleted", describe(row.body))
    return {"id": policy_id}

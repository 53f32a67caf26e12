"""Address alteration: sets of definitions that rewrite addresses, and the policies that say
when a set applies.

- A *set* (the console's folder) has a description. Deleting one removes its definitions and
  is refused while a policy uses it.
- A *definition* belongs to a set and rewrites `originalAddress` to `alteredAddress` on a
  route (`all`, `inbound`, `outbound`). Both sides are of one kind: an address
  (`user@example.com`), a domain (`example.com` or `*@example.com`) or a local part
  (`user@*`). A set alters an original address once.
- A *policy* is the shared policy model (services/policies.py) plus the set it applies,
  kept in the row's `parent_id` so the store itself ties the two together.

Each kind is a generic `Policy` row with its own family, and so its own id kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, select

from mimicast.services import audit, ids
from mimicast.services.context import Context
from mimicast.services.identity import normalise_domain, normalise_email
from mimicast.services.policies import (
    add_row,
    describe,
    family_rows,
    find_row,
    policy_view,
    remove_row,
    save_row,
    validate_policy,
)
from mimicast.store.query import Query
from mimicast.store.schema import Policy
from mimicast.wire.errors import ApiError

SET = "address-alteration-set"
DEFINITION = "address-alteration-definition"
POLICY = "address-alteration"
ROUTES = ("all", "inbound", "outbound")
SET_FIELD = "addressAlterationSetId"


def _set(ctx: Context, set_id: str | None) -> Any:
    """The set a definition or policy names (a row, to read)."""
    if set_id is None:
        raise ApiError("err_validation_null", field=SET_FIELD)
    return find_row(ctx, SET, set_id, "err_address_alteration_set_not_found", SET_FIELD)


def _parent_id(row: Any) -> str:
    assert row.parent_id is not None  # definitions and policies always belong to a set
    return ids.secure_id(SET, row.parent_id)


# Sets ---------------------------------------------------------------------------------------

def _set_view(row: Any) -> dict[str, Any]:
    return {"id": ids.secure_id(SET, row.id), "description": row.body["description"]}


def create_set(ctx: Context, description: str) -> dict[str, Any]:
    text = description.strip()
    if not text:
        raise ApiError("err_validation_blank", field="description")
    row = add_row(ctx, SET, {"description": text})
    audit.record(ctx, audit.POLICY, "Address alteration set created", text)
    return _set_view(row)


def get_sets(ctx: Context, set_id: str | None) -> list[dict[str, Any]]:
    """All the account's sets, oldest first, or the one `set_id` names."""
    if set_id is not None:
        return [_set_view(find_row(ctx, SET, set_id, "err_address_alteration_set_not_found"))]
    return [_set_view(row) for row in family_rows(ctx, SET)]


_USERS = Query(select(func.count()).select_from(Policy).where(
    Policy.account_id == bindparam("account"), Policy.family == POLICY,
    Policy.parent_id == bindparam("set")))
_REMOVE_DEFINITIONS = Query(delete(Policy).where(
    Policy.account_id == bindparam("account"), Policy.family == DEFINITION,
    Policy.parent_id == bindparam("set")))


def delete_set(ctx: Context, set_id: str) -> dict[str, Any]:
    """Delete a set and its definitions; refused while a policy applies it."""
    row = find_row(ctx, SET, set_id, "err_address_alteration_set_not_found")
    users = _USERS.scalar(ctx.unit, account=ctx.caller.account_id, set=row.id)
    if users:
        raise ApiError("err_address_alteration_set_in_use", field="id", count=users)
    _REMOVE_DEFINITIONS.execute(ctx.unit, account=ctx.caller.account_id, set=row.id)
    remove_row(ctx, row)
    audit.record(ctx, audit.POLICY, "Address alteration set deleted",
                 str(row.body["description"]))
    return {"id": set_id}


# Definitions --------------------------------------------------------------------------------

def _pattern(value: str, field: str) -> tuple[str, str]:
    """An address pattern as (kind, canonical text): kind is address, domain or local."""
    text = value.strip().lower()
    if "@" not in text:
        return "domain", normalise_domain(text, field)
    local, _, domain = text.rpartition("@")
    if local == "*":
        return "domain", "*@" + normalise_domain(domain, field)
    if domain == "*":
        if not local or "@" in local or any(c.isspace() for c in local):
            raise ApiError("err_validation_invalid_email_address", field=field)
        return "local", text
    return "address", normalise_email(text, field)


def _definition_view(row: Any) -> dict[str, Any]:
    return {"id": ids.secure_id(DEFINITION, row.id),
            SET_FIELD: _parent_id(row),
            "originalAddress": row.body["originalAddress"],
            "alteredAddress": row.body["alteredAddress"], "routing": row.body["routing"]}


# Whether a set already alters an address: one entry of ix_policies_lookup.
_DEFINED = Query(select(Policy.id).where(
    Policy.account_id == bindparam("account"), Policy.family == DEFINITION,
    Policy.parent_id == bindparam("set"), Policy.lookup == bindparam("original")).limit(1))


def create_definitions(ctx: Context, set_id: str | None, entries: Sequence[Mapping[str, Any]],
                       prefix: str = "") -> list[dict[str, Any]]:
    """Add definitions `{originalAddress, alteredAddress, routing?}` to a set. `prefix` places
    an entry's error fields inside the request (`addressAlterations.0.`)."""
    parent = _set(ctx, set_id)
    taken: set[str] = set()  # the originals this request adds
    created = []
    for index, entry in enumerate(entries):
        where = prefix.format(index=index)
        original_kind, original = _pattern(_required(entry, "originalAddress", where),
                                           where + "originalAddress")
        altered_kind, altered = _pattern(_required(entry, "alteredAddress", where),
                                         where + "alteredAddress")
        if altered_kind != original_kind:
            raise ApiError("err_validation_invalid_value", field=where + "alteredAddress",
                           reason=f"the original is a {original_kind}; alter it to a "
                                  f"{original_kind} too")
        if altered == original:
            raise ApiError("err_validation_invalid_value", field=where + "alteredAddress",
                           reason="the altered address is the original one")
        routing = str(entry.get("routing") or "all").strip().lower()
        if routing not in ROUTES:
            raise ApiError("err_validation_invalid_value", field=where + "routing",
                           reason="routing must be one of " + ", ".join(ROUTES))
        if original in taken or _DEFINED.first(ctx.unit, account=ctx.caller.account_id,
                                               set=parent.id, original=original) is not None:
            raise ApiError("err_address_alteration_definition_exists",
                           field=where + "originalAddress", address=original)
        taken.add(original)
        row = add_row(ctx, DEFINITION, {"originalAddress": original, "alteredAddress": altered,
                                        "routing": routing}, parent.id, lookup=original)
        audit.record(ctx, audit.POLICY, "Address alteration definition created",
                     f"{parent.body['description']}: {original} → {altered} ({routing})")
        created.append(_definition_view(row))
    return created


def _required(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if value is None:
        raise ApiError("err_validation_null", field=where + key)
    if not str(value).strip():
        raise ApiError("err_validation_blank", field=where + key)
    return str(value)


def get_definitions(ctx: Context, set_id: str | None) -> list[dict[str, Any]]:
    """A set's definitions, oldest first."""
    parent = _set(ctx, set_id)
    return [_definition_view(row) for row in family_rows(ctx, DEFINITION, parent.id)]


def delete_definition(ctx: Context, definition_id: str) -> dict[str, Any]:
    row = find_row(ctx, DEFINITION, definition_id, "err_address_alteration_definition_not_found")
    remove_row(ctx, row)
    audit.record(ctx, audit.POLICY, "Address alteration definition deleted",
                 f"{row.body['originalAddress']} → {row.body['alteredAddress']}")
    return {"id": definition_id}


# Policies -----------------------------------------------------------------------------------

def _policy_view(row: Any) -> dict[str, Any]:
    return {"id": ids.secure_id(POLICY, row.id), SET_FIELD: _parent_id(row),
            "policy": policy_view(row)}


def create_policy(ctx: Context, set_id: str | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """A policy applying the set `set_id`: answers `{id, addressAlterationSetId, policy{…}}`."""
    parent = _set(ctx, set_id)
    body = validate_policy(ctx, given)
    row = add_row(ctx, POLICY, body, parent.id)
    audit.record(ctx, audit.POLICY, "Address alteration policy created",
                 f"{describe(body)} (set {parent.body['description']})")
    return _policy_view(row)


def get_policies(ctx: Context, policy_id: str | None) -> list[dict[str, Any]]:
    if policy_id is not None:
        return [_policy_view(find_row(ctx, POLICY, policy_id))]
    return [_policy_view(row) for row in family_rows(ctx, POLICY)]


def update_policy(ctx: Context, policy_id: str, set_id: str | None,
                  given: Mapping[str, Any]) -> dict[str, Any]:
    """Change a policy: each field given replaces the stored one; a set id moves it."""
    row = find_row(ctx, POLICY, policy_id)
    parent = _set(ctx, set_id).id if set_id is not None else None
    body = validate_policy(ctx, given, row.body)
    saved = save_row(ctx, row, body, parent)
    audit.record(ctx, audit.POLICY, "Address alteration policy updated", describe(body))
    return _policy_view(saved)

"""Web Security block/allow lists (`policy/webwhiteurl`): a policy says to whom it applies and
when; its targets are the URLs and domains it blocks or allows.

The real request and response shapes are not published (spec 5.8, [1]); this server follows the
blocked-sender policy's conventions (spec 6.6): `from{type, …}`, `fromDate`/`toDate` with
`fromEternal`/`toEternal`, `enabled`, `createTime`, `lastUpdated`. Stored as a generic `Policy`
row of family "webwhiteurl" whose JSON body holds `{"policy": {…}, "targets": […]}`.

Targets are normalised (a URL's scheme and host lowercased, its fragment dropped, an empty path
made "/"; a domain lowercased without its trailing dot); a target repeated in one list is kept
once, and one that is both blocked and allowed is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from mimicast.services import audit, directory, ids, managed_urls, policies
from mimicast.services.context import Context
from mimicast.services.identity import normalise_domain, normalise_email
from mimicast.services.managed_urls import UrlParts
from mimicast.wire.dates import format_date, parse_date
from mimicast.wire.errors import ApiError

FAMILY = "webwhiteurl"  # also the kind of its ids
# What an eternal start or end reads as, as blocked-sender policies show it.
FROM_DATE_DEFAULT = policies.ETERNAL["from"]
TO_DATE_DEFAULT = policies.ETERNAL["to"]
# Who a policy applies to, and the field naming the sender for the types that need one.
FROM_TYPES: dict[str, str | None] = {
    "everyone": None,
    "internal_addresses": None,
    "individual_email_address": "emailAddress",
    "email_domain": "emailDomain",
    "profile_group": "groupId",
}
TARGET_ACTIONS = ("block", "allow")
TARGET_TYPES = ("url", "domain")
MAX_TARGETS = 500
URL_SCHEMES = ("http", "https")


def secure_id(number: int) -> str:
    return ids.secure_id(FAMILY, number)


# Validation ---------------------------------------------------------------------------------

def _sender(ctx: Context, given: Mapping[str, Any]) -> dict[str, Any]:
    """The `from` object, reduced to its type and the one value that type needs."""
    kind = str(given.get("type") or "").strip().lower()
    if kind not in FROM_TYPES:
        raise ApiError("err_validation_invalid_value", field="policy.from.type",
                       reason="type must be one of " + ", ".join(FROM_TYPES))
    key = FROM_TYPES[kind]
    if key is None:
        return {"type": kind}
    field = f"policy.from.{key}"
    value = given.get(key)
    if value is None or not str(value).strip():
        raise ApiError("err_validation_null", field=field)
    if key == "emailAddress":
        return {"type": kind, key: normalise_email(str(value), field)}
    if key == "emailDomain":
        return {"type": kind, key: normalise_domain(str(value), field)}
    # The directory group must be the account's (err_folder_not_found otherwise).
    group = directory.group_row(ctx, str(value), field)
    return {"type": kind, key: directory.secure_id(group.id)}


def _settings(ctx: Context, given: Mapping[str, Any],
              current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The policy's settings: `given` over `current` (an update) or over the defaults.

    A side (from/to) given a date and no eternal flag is no longer eternal; one given
    neither keeps what it had (eternal, for a new policy).
    """
    base = dict(current or {})
    description = str(given.get("description", base.get("description", ""))).strip()
    if not description:
        raise ApiError("err_validation_blank", field="policy.description")
    settings: dict[str, Any] = {"description": description}
    for side, default in (("from", FROM_DATE_DEFAULT), ("to", TO_DATE_DEFAULT)):
        date_key, eternal_key = f"{side}Date", f"{side}Eternal"
        if date_key in given:
            settings[date_key] = format_date(parse_date(given[date_key], f"policy.{date_key}"))
        else:
            settings[date_key] = base.get(date_key, default)
        if eternal_key in given:
            settings[eternal_key] = bool(given[eternal_key])
        else:
            settings[eternal_key] = date_key not in given and bool(base.get(eternal_key, True))
    if (not settings["fromEternal"] and not settings["toEternal"]
            and parse_date(settings["toDate"], "policy.toDate")
            < parse_date(settings["fromDate"], "policy.fromDate")):
        raise ApiError("err_validation_invalid_value", field="policy.toDate",
                       reason="toDate is before fromDate")
    settings["enabled"] = bool(given.get("enabled", base.get("enabled", True)))
    if "from" in given:
        settings["from"] = _sender(ctx, given["from"])
    else:
        settings["from"] = base.get("from", {"type": "everyone"})
    return settings


def _url(value: str, field: str) -> str:
    """An http(s) URL as URL Protect normalises it, with "/" for an empty path and no
    credentials in it."""
    parts = managed_urls.parse_url(value, field)
    if parts.scheme not in URL_SCHEMES or urlsplit(value.strip()).username is not None:
        raise ApiError("err_validation_invalid_value", field=field,
                       reason="a URL needs an http:// or https:// scheme and a host name")
    return UrlParts(parts.scheme, parts.host, parts.port, parts.path or "/",
                    parts.query).explicit_key


def _targets(given: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Normalised targets in the order given, each once; a target both blocked and allowed is
    refused (the policy would contradict itself)."""
    if not given:
        raise ApiError("err_validation_null", field="targets")
    if len(given) > MAX_TARGETS:
        raise ApiError("err_validation_invalid_value", field="targets",
                       reason=f"at most {MAX_TARGETS} targets per policy")
    actions: dict[tuple[str, str], str] = {}
    targets: list[dict[str, str]] = []
    for index, target in enumerate(given):
        where = f"targets.{index}"
        action = str(target.get("action") or "").strip().lower()
        kind = str(target.get("type") or "").strip().lower()
        if action not in TARGET_ACTIONS:
            raise ApiError("err_validation_invalid_value", field=f"{where}.action",
                           reason="action must be block or allow")
        if kind not in TARGET_TYPES:
            raise ApiError("err_validation_invalid_value", field=f"{where}.type",
                           reason="type must be url or domain")
        raw = str(target.get("value") or "")
        value = (_url(raw, f"{where}.value") if kind == "url"
                 else normalise_domain(raw, f"{where}.value"))
        seen = actions.get((kind, value))
        if seen == action:
            continue
        if seen is not None:
            raise ApiError("err_validation_invalid_value", field=f"{where}.action",
                           reason=f"{value} is both blocked and allowed")
        actions[(kind, value)] = action
        targets.append({"action": action, "type": kind, "value": value})
    return targets


# Storage ------------------------------------------------------------------------------------

def _view(row: Any) -> dict[str, Any]:
    settings: Any = row.body["policy"]
    policy = {key: settings[key] for key in ("description", "fromDate", "toDate",
                                             "fromEternal", "toEternal", "enabled", "from")}
    policy["createTime"] = format_date(row.created_at)
    policy["lastUpdated"] = format_date(row.updated_at)
    return {"id": secure_id(row.id), "policy": policy, "targets": row.body["targets"]}


# Operations ---------------------------------------------------------------------------------

def create_policy(ctx: Context, policy: Mapping[str, Any],
                  targets: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A new block/allow policy; answers `{id, policy{…, createTime, lastUpdated}, targets}`."""
    settings = _settings(ctx, policy)
    row = policies.add_row(ctx, FAMILY, {"policy": settings, "targets": _targets(targets)})
    audit.record(ctx, audit.POLICY, "Web security policy created", settings["description"])
    return _view(row)


def get_policies(ctx: Context, policy_id: str | None = None) -> list[dict[str, Any]]:
    """All of the account's policies, oldest first, or the one named by `policy_id`."""
    if policy_id is not None:
        return [_view(policies.find_row(ctx, FAMILY, policy_id))]
    return [_view(row) for row in policies.family_rows(ctx, FAMILY)]


def update_policy(ctx: Context, policy_id: str, policy: Mapping[str, Any] | None = None,
                  targets: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Change a policy: each given `policy` field replaces the stored one (`from` as a whole),
    and given `targets` replace the whole list."""
    if policy is None and targets is None:
        raise ApiError("err_validation_null", field="policy",
                       message="Give policy, targets or both")
    row = policies.find_row(ctx, FAMILY, policy_id)
    current: Any = row.body
    settings = _settings(ctx, policy or {}, current["policy"])
    new_targets = _targets(targets) if targets is not None else current["targets"]
    saved = policies.save_row(ctx, row, {"policy": settings, "targets": new_targets})
    audit.record(ctx, audit.POLICY, "Web security policy updated", settings["description"])
    return _view(saved)


def delete_policy(ctx: Context, policy_id: str) -> dict[str, Any]:
    row = policies.find_row(ctx, FAMILY, policy_id)
    description: Any = row.body["policy"]
    policies.remove_row(ctx, row)
    audit.record(ctx, audit.POLICY, "Web security policy deleted", description["description"])
    return {"id": secure_id(row.id)}

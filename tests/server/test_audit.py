"""The audit endpoints over real HTTP: the event shape, newest-first key paging over several
pages, the 60-day limit, the date window, category and query filters, bad input, permissions
and tenant isolation."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from api import DATE, forbidden, ok, only_error, post

from mimicast.services import audit, identity, permissions
from mimicast.services.context import Caller, Context, utcnow
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant
from mimicast.wire.dates import format_date

EVENTS = "/api/audit/get-audit-events"


def seed(harness: Harness, tenant: Tenant, when: datetime, event_type: str, info: str = "",
         category: str = audit.POLICY, actor: str = "seed@example.net") -> None:
    """One event written by the audit writer, as of `when`."""
    deps = dataclasses.replace(harness.deps, clock=lambda: when)
    with deps.store.unit() as unit:
        audit.record(Context(deps, unit, Caller(account_id=tenant.account_id, actor=actor)),
                     category, event_type, info)


def window(days_back: float = 1, days_ahead: float = 1, **extra: Any) -> dict[str, Any]:
    now = utcnow()
    return {"startDateTime": format_date(now - timedelta(days=days_back)),
            "endDateTime": format_date(now + timedelta(days=days_ahead)), **extra}


def events(harness: Harness, tenant: Tenant, item: dict[str, Any],
           pagination: dict[str, Any] | None = None) -> dict[str, Any]:
    """get-audit-events of one item (and one page): the body."""
    return post(harness, tenant, EVENTS, [item],
                None if pagination is None else {"pagination": pagination})


def found(harness: Harness, tenant: Tenant, item: dict[str, Any]) -> list[dict[str, Any]]:
    return ok(harness, tenant, EVENTS, [item], {"pagination": {"pageSize": 500}})


# get-categories -----------------------------------------------------------------------------

def test_get_categories_lists_every_code(harness: Harness, tenant: Tenant) -> None:
    response = harness.call(tenant.keys, "/api/audit/get-categories", {"data": []})
    body = response.json()
    assert body["fail"] == []
    assert body["data"] == [{"code": code, "name": name}
                            for code, name in audit.CATEGORIES.items()]
    assert {"code": "ttp_url_logs", "name": "URL Protect Logs"} in body["data"]


# get-audit-events ---------------------------------------------------------------------------

def test_events_answer_the_documented_shape_newest_first(harness: Harness) -> None:
    owner = harness.tenant()
    setup = found(harness, owner, window())
    # Making the tenant wrote its own events (domain, user, role membership, …).
    assert {"Internal domain added", "User created"} <= {e["auditType"] for e in setup}
    response = harness.call(owner.keys, "/api/ttp/url/create-managed-url",
                            {"data": [{"url": "https://audited.example/", "action": "block"}]})
    assert response.json()["fail"] == []
    body = events(harness, owner, window())
    latest = body["data"][0]
    assert set(latest) == {"id", "auditType", "user", "eventTime", "eventInfo", "category"}
    assert latest["id"].startswith("eN") and DATE.match(latest["eventTime"])
    assert {k: latest[k] for k in ("auditType", "user", "eventInfo", "category")} == {
        "auditType": "Managed URL created", "user": owner.email, "category": "ttp_url_logs",
        "eventInfo": "block explicit https://audited.example/"}
    assert body["data"][1:] == setup
    times = [e["eventTime"] for e in body["data"]]
    assert times == sorted(times, reverse=True)
    assert body["meta"]["pagination"] == {"pageSize": len(setup) + 1,
                                          "totalCount": len(setup) + 1}


def test_events_walk_three_pages_both_ways(harness: Harness, tenant: Tenant) -> None:
    now = utcnow()
    for i in range(12):
        seed(harness, tenant, now - timedelta(minutes=30 - i), "Paging step", f"walk-{i:02d}")
    item = window(query="walk-")
    pages: list[dict[str, Any]] = []
    token = None
    while True:
        pagination: dict[str, Any] = {"pageSize": "5"}  # a numeric string, as EL sends it
        if token:
            pagination["pageToken"] = token
        body = events(harness, tenant, item, pagination)
        meta = body["meta"]["pagination"]
        assert body["fail"] == [] and meta["totalCount"] == 12
        assert meta["pageSize"] == len(body["data"])
        assert ("previous" in meta) == bool(pages)
        pages.append(body)
        token = meta.get("next")
        if token is None:
            break
    assert [len(p["data"]) for p in pages] == [5, 5, 2]
    infos = [e["eventInfo"] for p in pages for e in p["data"]]
    assert infos == [f"walk-{i:02d}" for i in reversed(range(12))]  # newest first, no gaps
    assert len({e["id"] for p in pages for e in p["data"]}) == 12
    back = events(harness, tenant, item,
                  {"pageSize": 5, "pageToken": pages[2]["meta"]["pagination"]["previous"]})
    assert back["data"] == pages[1]["data"]
    # A forged token, and a token of the same list with other filters, are refused.
    for other, bad in ((item, "forged"),
                       (window(query="walk-0"), pages[0]["meta"]["pagination"]["next"])):
        error = only_error(events(harness, tenant, other, {"pageToken": bad}), other)
        assert (error["code"], error["field"]) == ("err_validation_invalid_value", "pageToken")


def test_a_walk_through_events_of_one_instant_loses_none(harness: Harness,
                                                        tenant: Tenant) -> None:
    """Pages continue from (time, id): a page boundary inside a run of equal times (the
    window narrowed to the key's time must keep them) neither repeats nor drops one."""
    instant = utcnow() - timedelta(minutes=5)
    for i in range(12):
        seed(harness, tenant, instant, "Same instant", f"tie-{i:02d}")
    item = window(query="tie-")
    seen: list[str] = []
    token, pages = None, []
    while True:
        body = events(harness, tenant, item,
                      {"pageSize": 5, **({"pageToken": token} if token else {})})
        pages.append(body)
        seen += [e["eventInfo"] for e in body["data"]]
        token = body["meta"]["pagination"].get("next")
        if token is None:
            break
    assert seen == [f"tie-{i:02d}" for i in reversed(range(12))]
    back = events(harness, tenant, item,
                  {"pageSize": 5, "pageToken": pages[-1]["meta"]["pagination"]["previous"]})
    assert back["data"] == pages[-2]["data"]


def test_history_is_limited_to_60_days(harness: Harness, tenant: Tenant) -> None:
    now = utcnow()
    seed(harness, tenant, now - timedelta(days=30), "Old change", "month-old")
    item = window(days_back=61)
    error = only_error(events(harness, tenant, item), item)
    assert error == {"code": "err_audit_history_limit", "field": "startDateTime",
                     "retryable": False,
                     "message": "Historical lookup is restricted to the last 60 days"}
    assert [e["eventInfo"] for e in found(harness, tenant, window(days_back=59,
                                                                  query="month-old"))] == [
        "month-old"]
    # The window is honoured at both ends.
    month_ago = found(harness, tenant, window(days_back=31, days_ahead=-29))
    assert [e["eventInfo"] for e in month_ago] == ["month-old"]
    assert found(harness, tenant, window(days_back=29, query="month-old")) == []


def test_category_and_query_filters(harness: Harness, tenant: Tenant) -> None:
    now = utcnow()
    seed(harness, tenant, now, "Sender blocked", "filters-one", audit.POLICY,
         "Carol@Filters.example")
    seed(harness, tenant, now, "User created", "filters-two", audit.USERS)
    seed(harness, tenant, now, "Group renamed", "filters-three", audit.DIRECTORY)

    def infos(**extra: Any) -> list[str]:
        return [e["eventInfo"] for e in found(harness, tenant, window(**extra))]

    assert infos(query="filters-") == ["filters-three", "filters-two", "filters-one"]
    assert infos(query="filters-", categories=[audit.POLICY, audit.USERS]) == [
        "filters-two", "filters-one"]
    assert infos(query="filters-", categories=audit.DIRECTORY) == ["filters-three"]
    assert infos(query="filters-", categories=[]) == infos(query="filters-")
    # Query: any case, over the user, the event type and the info.
    assert infos(query="carol@FILTERS") == ["filters-one"]
    assert infos(query="GROUP RENAMED") == ["filters-three"]
    assert infos(query="FILTERS-TWO") == ["filters-two"]
    assert infos(query="%_nothing") == []


def test_lenient_dates(harness: Harness, tenant: Tenant) -> None:
    now = utcnow()
    seed(harness, tenant, now, "Lenient dates", "lenient-dates")
    yesterday, tomorrow = now - timedelta(days=1), now + timedelta(days=1)
    for start, end in ((yesterday.strftime("%Y-%m-%d"), tomorrow.strftime("%Y-%m-%d")),
                       (yesterday.isoformat(), tomorrow.isoformat()),
                       (yesterday.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        tomorrow.strftime("%Y-%m-%d %H:%M:%S+00:00"))):
        found_infos = [e["eventInfo"] for e in found(
            harness, tenant, {"startDateTime": start, "endDateTime": end,
                              "query": "lenient-dates"})]
        assert found_infos == ["lenient-dates"], (start, end)


def test_bad_input(harness: Harness, tenant: Tenant) -> None:
    good = window()
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"endDateTime": good["endDateTime"]}, "err_validation_null", "startDateTime"),
        ({"startDateTime": good["startDateTime"]}, "err_validation_null", "endDateTime"),
        ({**good, "startDateTime": "last tuesday"}, "err_validation_invalid_value",
         "startDateTime"),
        ({**good, "endDateTime": ""}, "err_validation_blank", "endDateTime"),
        ({"startDateTime": good["endDateTime"], "endDateTime": good["startDateTime"]},
         "err_validation_invalid_value", "endDateTime"),
        ({**good, "categories": ["user_logs", "no_such_logs"]}, "err_validation_invalid_value",
         "categories"),
    ]
    for item, code, field in cases:
        error = only_error(events(harness, tenant, item), item)
        assert (error["code"], error["field"]) == (code, field), item
    error = only_error(events(harness, tenant, {**good, "categories": ["no_such_logs"]}))
    assert "no_such_logs" in error["message"]
    # Exactly one item.
    for data in ([], [good, good]):
        response = harness.call(tenant.keys, EVENTS, {"data": data})
        [entry] = response.json()["fail"]
        assert "key" not in entry
        assert entry["errors"][0]["code"] == "err_validation_item_count"


# Permissions and tenants --------------------------------------------------------------------

def test_permissions(harness: Harness) -> None:
    # Basic Administrator reads the logs.
    basic = harness.tenant(role="Basic Administrator")
    assert found(harness, basic, window())
    other = harness.tenant(role=None)
    with harness.session_ctx(other) as ctx:
        identity.create_role(ctx, "URL readers", [permissions.URL_PROTECT_READ])
        identity.add_role_member(ctx, "URL readers", other.email)
    for tenant in (other, harness.tenant(role=None)):
        for path, data in ((EVENTS, [window()]), ("/api/audit/get-categories", [])):
            assert permissions.AUDIT_READ in forbidden(harness, tenant, path, data)


def test_tenant_isolation(harness: Harness) -> None:
    a, b = harness.tenant(), harness.tenant()
    seed(harness, a, utcnow(), "Private change", "isolation-marker")
    assert len(found(harness, a, window(query="isolation-marker"))) == 1
    assert found(harness, b, window(query="isolation-marker")) == []
    theirs = found(harness, b, window())
    mine = found(harness, a, window())
    assert theirs and not {e["id"] for e in theirs} & {e["id"] for e in mine}
    # A's own setup events name A's domain; none of B's do.
    assert any(a.domain in e["eventInfo"] for e in mine)
    assert not any(a.domain in e["eventInfo"] for e in theirs)

"""Seed 000, end to end: prepare an integration user with the CLI exactly as the seed's console
steps do, serve with `python -m mimicast serve` as a real process, then log in the way the
seed's curl does and sign calls the way the seed 004 sample code does (computed here, not with
our wire layer), through expiry (418), refresh (same keys), and revocation (401)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

EMAIL = "splunk.integration@seed000.example"
PASSWORD = "Correct-Horse-Battery-000"
GROUP = "Integrations/Splunk Admin"
GET_ACCOUNT = "/api/account/get-account"


# The client side, written from the seeds -------------------------------------------------

def basic_cloud(email: str, password: str) -> str:
    # echo -n 'email_address:password' | openssl base64
    return "Basic-Cloud " + base64.b64encode(f"{email}:{password}".encode()).decode()


def login(base: str, app_id: str, access_key: str | None = None) -> httpx.Response:
    """The seed's curl: Basic-Cloud, x-mc-app-id, Content-Type, no date, no request id."""
    item: dict[str, str] = {"username": EMAIL}
    if access_key is not None:
        item["accessKey"] = access_key  # refresh: the same binding, the same keys
    return httpx.post(f"{base}/api/login/login", content=json.dumps({"data": [item]}),
                      headers={"Authorization": basic_cloud(EMAIL, PASSWORD),
                               "x-mc-app-id": app_id, "Content-Type": "application/json"})


def signed_call(base: str, uri: str, keys: dict[str, str], app_id: str,
                app_key: str) -> httpx.Response:
    """Seed 004's sample code: uuid request id, `%a, %d %b %Y %H:%M:%S UTC` date,
    base64(HMAC-SHA1(base64decode(secretKey), date:reqid:uri:appKey))."""
    request_id = str(uuid.uuid4())
    hdr_date = datetime.datetime.now(datetime.UTC).strftime("%a, %d %b %Y %H:%M:%S") + " UTC"
    data_to_sign = ":".join([hdr_date, request_id, uri, app_key])  # noqa: FLY002 (as the seed)
    digest = hmac.new(base64.b64decode(keys["secretKey"]), data_to_sign.encode(),
                      digestmod=hashlib.sha1).digest()
    sig = base64.b64encode(digest).rstrip().decode()
    headers = {"Authorization": "MC " + keys["accessKey"] + ":" + sig, "x-mc-app-id": app_id,
               "x-mc-date": hdr_date, "x-mc-req-id": request_id,
               "Content-Type": "application/json"}
    return httpx.post(base + uri, headers=headers, content=json.dumps({"data": []}))


def poll_until(call: Callable[[], httpx.Response], done: Callable[[httpx.Response], bool],
               limit: float = 30.0) -> tuple[httpx.Response, list[int]]:
    """Repeat `call` until `done`; returns the last response and every status seen before it.
    The limit only stops a broken server from hanging the run; nothing asserts on timing."""
    seen: list[int] = []
    deadline = time.monotonic() + limit
    while True:
        response = call()
        if done(response) or time.monotonic() > deadline:
            return response, seen
        seen.append(response.status_code)
        time.sleep(0.2)


def first_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["data"] == [] and len(body["fail"]) == 1, body
    error: dict[str, Any] = body["fail"][0]["errors"][0]
    return error


# The walk -----------------------------------------------------------------------------------

def test_seed_000_walkthrough(cli: Any, serve: Any, tmp_path: Path) -> None:
    def admin(*args: str) -> Any:
        return json.loads(cli("admin", *args, "--json").stdout)

    demo = json.loads(cli("init", "--json").stdout)
    assert demo["accountCode"] == "CUSA0DEMO"

    # Step 1: an internal domain and a user with a password.
    assert admin("domain", "add", "seed000.example")["status"] == "internal"
    user = admin("user", "create", EMAIL, "--password", PASSWORD, "--name", "Splunk")
    assert user["email"] == EMAIL and user["cloudPassword"] is True
    # Step 2: the Basic Administrator role.
    role = admin("role", "add-user", "Basic Administrator", EMAIL)
    assert EMAIL in role["members"] and "Account | Dashboard | Read" in role["permissions"]
    # Step 3: a profile group holding the user.
    admin("group", "create", GROUP)
    assert admin("group", "add-member", GROUP, EMAIL) == {"path": GROUP, "members": [EMAIL]}
    # Step 4: an authentication profile; a short TTL so the walk can see it expire.
    profile = admin("auth-profile", "create", "Splunk: short TTL", "--ttl", "3s")
    assert profile["ttlSeconds"] == 3 and profile["extendOnValidate"] is False
    # Step 5: an application setting tying the group to the profile.
    setting = admin("app-setting", "create", "Splunk integration", "--group", GROUP,
                    "--auth-profile", str(profile["id"]))
    assert setting["group"] == GROUP and setting["authProfile"]["id"] == profile["id"]
    # The registered application the login names.
    app = admin("app", "register", "Splunk", "--description", "seed 000")
    app_id, app_key = app["appId"], app["appKey"]
    uuid.UUID(app_id)
    uuid.UUID(app_key)

    base = serve("--db", f"sqlite:///{tmp_path / 'mimicast.db'}").url

    # Discovery (the PowerShell script's first call) names this server.
    discovered = httpx.post(
        f"{base}/api/login/discover-authentication",
        content=json.dumps({"data": [{"emailAddress": EMAIL}]}),
        headers={"x-mc-app-id": app_id, "x-mc-req-id": str(uuid.uuid4()),
                 "Content-Type": "application/json"})
    assert discovered.status_code == 200, discovered.text
    region = discovered.json()["data"][0]["region"]
    assert region["api"] == base
    assert "Basic-Cloud" in discovered.json()["data"][0]["authenticate"]

    # Step 6: the seed's curl.
    response = login(region["api"], app_id)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["meta"] == {"status": 200} and body["fail"] == []
    keys = body["data"][0]
    assert keys["duration"] == 3000
    assert keys["bindingType"] == "one_step"
    assert keys["extendOnValidate"] is False
    assert len(base64.b64decode(keys["secretKey"], validate=True)) > 0
    assert keys["accessKey"]

    called = signed_call(base, GET_ACCOUNT, keys, app_id, app_key)
    assert called.status_code == 200, called.text
    assert called.json()["data"][0]["accountCode"] == "CUSA0DEMO"
    assert called.json()["fail"] == []

    # Past the TTL: 418 with the code and the message text collectors match on.
    expired, before = poll_until(lambda: signed_call(base, GET_ACCOUNT, keys, app_id, app_key),
                                 lambda r: r.status_code != 200)
    assert set(before) <= {200}
    assert expired.status_code == 418, expired.text
    error = first_error(expired)
    assert error["code"] == "err_xdk_binding_expired"
    assert "AccessKey Has Expired" in error["message"]

    # Refresh: Basic-Cloud again with the accessKey; the client keeps using the SAME keys.
    refreshed = login(base, app_id, keys["accessKey"])
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["data"][0]["accessKey"] == keys["accessKey"]
    assert refreshed.json()["data"][0]["duration"] == 3000
    again = signed_call(base, GET_ACCOUNT, keys, app_id, app_key)
    assert again.status_code == 200, again.text

    # The operator sees the binding and revokes it (seed 001's note); the key stops working.
    listed = admin("binding", "list", "--user", EMAIL)
    assert len(listed) == 1
    binding = listed[0]
    assert binding["user"] == EMAIL and binding["application"] == "Splunk"
    assert keys["accessKey"].startswith(binding["accessKeyHint"])
    assert admin("binding", "revoke", str(binding["id"])) == {"id": binding["id"],
                                                              "revoked": True}
    revoked, before = poll_until(lambda: signed_call(base, GET_ACCOUNT, keys, app_id, app_key),
                                 lambda r: r.status_code == 401)
    # Until the 1 s credential cache lapses the old answer may stand: 200, or 418 once the
    # 3 s TTL has run out too; then the revoked key is refused.
    assert set(before) <= {200, 418}
    assert revoked.status_code == 401, revoked.text
    assert first_error(revoked)["code"] == "err_xdk_invalid_signature"
    assert admin("binding", "list", "--user", EMAIL)[0]["status"] == "revoked"
    # A revoked binding cannot be refreshed back to life.
    assert login(base, app_id, keys["accessKey"]).status_code == 401

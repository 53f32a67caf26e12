"""`mimicast serve` as a user runs it: a real process on an empty store prints the demo
credentials, which work at once; `init --json` prints the same ones; the flags take effect."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from mimecast_api.post_rest import simple_exchange

FIELDS = ("email", "password", "appId", "appKey", "accessKey", "secretKey", "accountCode")


def printed_credentials(output: str) -> dict[str, str]:
    found = dict(re.findall(r"^\s+(\w+)\s+(\S+)\s*$", output, re.MULTILINE))
    return {name: found[name] for name in FIELDS}


def test_serve_on_an_empty_store_prints_working_demo_credentials(serve: Any, cli: Any) -> None:
    served = serve()
    output = served.output()
    assert "Created the demo account" in output
    credentials = printed_credentials(output)
    data = simple_exchange(served.url, credentials["accessKey"], credentials["secretKey"],
                           credentials["appId"], credentials["appKey"],
                           "/api/account/get-account", {"data": []})
    assert data[0]["accountCode"] == credentials["accountCode"]
    # The same store, asked again: the same credentials, not new ones.
    assert json.loads(cli("init", "--json").stdout) == credentials


def test_serve_again_prints_the_existing_demo_credentials(serve: Any, cli: Any) -> None:
    created = json.loads(cli("init", "--json").stdout)
    output = serve().output()
    assert "Created" not in output
    assert printed_credentials(output) == created


def test_public_url_is_what_discovery_answers(serve: Any, cli: Any) -> None:
    email = json.loads(cli("init", "--json").stdout)["email"]
    served = serve("--public-url", "https://mimicast.example.test:8443/")
    body = httpx.post(served.url + "/api/login/discover-authentication",
                      json={"data": [{"emailAddress": email}]}).json()
    assert body["data"][0]["region"]["api"] == "https://mimicast.example.test:8443"


def test_rate_limit_flag_overrides_the_account_quota(serve: Any, cli: Any) -> None:
    credentials = json.loads(cli("init", "--json").stdout)
    served = serve("--rate-limit", "2")
    statuses = []
    for _ in range(3):
        try:
            simple_exchange(served.url, credentials["accessKey"], credentials["secretKey"],
                            credentials["appId"], credentials["appKey"],
                            "/api/account/get-account", {"data": []})
            statuses.append(200)
        except Exception as error:  # the client raises on the 429 envelope's fail entry
            statuses.append(429 if "err_rate_limit_exceeded" in str(error) else -1)
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize("flag", ["--workers", "--rate-limit"])
def test_bad_flag_values_are_usage_errors(cli: Any, flag: str) -> None:
    result = cli("serve", flag, "0", check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr

"""The README's SDK example, against a real `mimicast serve` process on loopback: log in with
the demo credentials it printed, call typed methods, page a list, log out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mimicast.client import AuthenticationError, Client

pytestmark = pytest.mark.store_agnostic


def printed(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\w+)\s+(\S+)\s*$", output, re.MULTILINE))


def test_login_call_page_and_logout_against_mimicast_serve(serve: Any) -> None:
    served = serve()
    demo = printed(served.output())
    with Client.login(demo["email"], demo["password"], demo["appId"], demo["appKey"],
                      base_url=served.url) as client:
        (account,) = client.account.get_account()
        assert account.accountCode == demo["accountCode"]
        domain = demo["email"].split("@")[1]
        (created,) = client.user.create_user(emailAddress=f"new.user@{domain}", name="New")
        addresses = [user.emailAddress for user in
                     client.user.get_internal_users(domain=domain, page_size=1)]
        assert addresses == sorted([demo["email"], f"new.user@{domain}"])
        client.login.logout()
        with pytest.raises(AuthenticationError):
            client.account.get_account()
    assert created.emailAddress == f"new.user@{domain}"

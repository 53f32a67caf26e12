from mimicast.testing import Harness


def test_get_account_signed(harness: Harness) -> None:
    tenant = harness.tenant()
    response = harness.call(tenant.keys, "/api/account/get-account")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"][0]["accountCode"] == tenant.code
    assert response.headers["content-type"] == "application/json"

"""HMAC-SHA1 signing checked against the seed document's own sample code (seed 004)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import string
import uuid

import pytest

from mimicast.wire import signing
from mimicast.wire.signing import (
    REALM_CLOUD,
    REALM_DOMAIN,
    BasicCredentials,
    SignedAuthorization,
    authorization,
    basic,
    decode_secret,
    new_access_key,
    new_secret_key,
    parse_basic,
    parse_signed,
    signature,
    signature_matches,
)


# The seed's Python sample, inline and independent of mimicast.wire.signing.
def seed_signature(secret_key: str, hdr_date: str, request_id: str, uri: str,
                   app_key: str) -> str:
    dataToSign = ":".join([hdr_date, request_id, uri, app_key])  # noqa: N806 (seed's name)
    hmac_sha1 = hmac.new(base64.b64decode(secret_key), dataToSign.encode(),
                         digestmod=hashlib.sha1).digest()
    sig = base64.b64encode(hmac_sha1).rstrip()
    return sig.decode()


# The PyPI `mimecast-api` client's variant: bytes joined, encodebytes().rstrip().
def pypi_signature(secret_key: str, hdr_date: str, request_id: str, uri: str,
                   app_key: str) -> str:
    digest = hmac.new(base64.b64decode(secret_key.encode("ascii")),
                      b":".join([hdr_date.encode("utf8"), request_id.encode("ascii"),
                                 uri.encode("utf8"), app_key.encode("ascii")]),
                      digestmod=hashlib.sha1).digest()
    return base64.encodebytes(digest).rstrip().decode("ascii")


SECRET_1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="  # noqa: E501
SECRET_2 = ("bWltaWNhc3Qtc2VjcmV0LWtleS1taW1pY2FzdC1zZWNyZXQta2V5LW1pbWljYXN0LXNlY3JldC1rZXktYWJj"
            "ZA==")

# Computed once with seed_signature (and cross-checked with `openssl dgst -sha1 -mac HMAC`).
LITERAL_VECTORS = [
    (SECRET_1, "Tue, 24 Nov 2015 12:50:11 UTC", "8578FCFC-A305-4D9A-99CB-F4D5ECEFE297",
     "/api/account/get-account", "app-key-0001", "NYeTXwW5aiGUNNGFprCNR7lKdlI="),
    (SECRET_2, "Wed, 01 Jan 2020 00:00:00 GMT", "00000000-0000-0000-0000-000000000000",
     "/api/audit/get-siem-logs", "d9d2b6a0-1111-4c3b-9f3e-abcdefabcdef",
     "NZK8qu977RHrp/96X0PbxCVUKjk="),
]

FIXED_INPUTS = [
    (SECRET_1, "Tue, 24 Nov 2015 12:50:11 UTC", "8578FCFC-A305-4D9A-99CB-F4D5ECEFE297",
     "/api/account/get-account", "app-key"),
    (SECRET_2, "Tue, 24 Nov 2015 12:50:11 GMT", "req", "/api/login/logout", "k"),
    (SECRET_1, "Di, 24 Nov 2015 13:50:00 BST", "1", "/api/audit/get-siem-logs?x=1", "k"),
    (SECRET_2, "", "", "", ""),
    (base64.b64encode(b"k").decode(), "d", "r", "/u", "a"),
    (base64.b64encode(b"\x00" * 200).decode(), "d", "r",
     "https://eu-api.mimecast.com/api/domain/get-verification-code", "a"),
]


@pytest.mark.parametrize("secret_key, date, req_id, uri, app_key, expected", LITERAL_VECTORS)
def test_literal_vectors(secret_key: str, date: str, req_id: str, uri: str, app_key: str,
                         expected: str) -> None:
    assert seed_signature(secret_key, date, req_id, uri, app_key) == expected
    assert signature(decode_secret(secret_key), date, req_id, uri, app_key) == expected


@pytest.mark.parametrize("secret_key, date, req_id, uri, app_key", FIXED_INPUTS)
def test_fixed_inputs_agree_with_seed_and_pypi_client(secret_key: str, date: str, req_id: str,
                                                      uri: str, app_key: str) -> None:
    expected = seed_signature(secret_key, date, req_id, uri, app_key)
    assert pypi_signature(secret_key, date, req_id, uri, app_key) == expected
    ours = signature(decode_secret(secret_key), date, req_id, uri, app_key)
    assert ours == expected
    assert len(ours) == 28 and ours.endswith("=")


def test_random_inputs_agree_with_seed() -> None:
    rng = random.Random(20151124)
    alphabet = string.ascii_letters + string.digits + " ,:-/_?=&+"
    for _ in range(300):
        secret_key = base64.b64encode(rng.randbytes(rng.choice([16, 32, 64, 100]))).decode()
        date, req_id, uri, app_key = ("".join(rng.choices(alphabet, k=rng.randint(0, 60)))
                                      for _ in range(4))
        expected = seed_signature(secret_key, date, req_id, uri, app_key)
        assert pypi_signature(secret_key, date, req_id, uri, app_key) == expected
        assert signature(decode_secret(secret_key), date, req_id, uri, app_key) == expected


def test_non_ascii_inputs_are_utf8_encoded_like_the_seed() -> None:
    args = ("Mi, 24 Nov 2015 12:50:11 MEZ", "r\u00e9q", "/api/\u00fc", "k\u2603")
    assert signature(decode_secret(SECRET_1), *args) == seed_signature(SECRET_1, *args)


def test_data_to_sign_uses_colons() -> None:
    assert signing.data_to_sign("d", "r", "/u", "a") == "d:r:/u:a"


def test_generated_keys_sign_like_the_seed() -> None:
    secret_key = new_secret_key()
    args = (signing.request_date(), signing.request_id(), "/api/account/get-account", "app")
    assert signature(decode_secret(secret_key), *args) == seed_signature(secret_key, *args)


# --- signature_matches -----------------------------------------------------------------------

DATE = "Tue, 24 Nov 2015 12:50:11 UTC"
REQ = "8578FCFC-A305-4D9A-99CB-F4D5ECEFE297"
APP = "app-key-0001"
PATH = "/api/account/get-account"
QUERY = PATH + "?a=1"
FULL = "https://eu-api.mimecast.com" + PATH
CANDIDATES = [PATH, QUERY, FULL]


@pytest.mark.parametrize("signed_uri", CANDIDATES)
def test_signature_matches_any_candidate_form(signed_uri: str) -> None:
    presented = seed_signature(SECRET_1, DATE, REQ, signed_uri, APP)
    assert signature_matches(decode_secret(SECRET_1), DATE, REQ, CANDIDATES, APP, presented)
    # Surrounding whitespace from sloppy header building is tolerated.
    assert signature_matches(decode_secret(SECRET_1), DATE, REQ, CANDIDATES, APP,
                             f" {presented} ")


def test_signature_matches_encodebytes_variant() -> None:
    presented = pypi_signature(SECRET_1, DATE, REQ, PATH, APP)
    assert signature_matches(decode_secret(SECRET_1), DATE, REQ, [PATH], APP, presented)


def test_signature_of_another_uri_does_not_match() -> None:
    presented = seed_signature(SECRET_1, DATE, REQ, "/api/other", APP)
    assert not signature_matches(decode_secret(SECRET_1), DATE, REQ, CANDIDATES, APP, presented)


@pytest.mark.parametrize("secret_key, date, req_id, app_key", [
    (SECRET_2, DATE, REQ, APP),                              # wrong secret key
    (SECRET_1, "Tue, 24 Nov 2015 12:50:12 UTC", REQ, APP),   # wrong date
    (SECRET_1, DATE, REQ.lower(), APP),                      # wrong request id
    (SECRET_1, DATE, REQ, APP + "x"),                        # wrong app key
])
def test_wrong_inputs_do_not_match(secret_key: str, date: str, req_id: str,
                                   app_key: str) -> None:
    presented = seed_signature(secret_key, date, req_id, PATH, app_key)
    assert not signature_matches(decode_secret(SECRET_1), DATE, REQ, CANDIDATES, APP, presented)


@pytest.mark.parametrize("presented", ["", " ", "x", "\u00e9\u00e9\u00e9", "\u2603" * 28,
                                       "\x00" * 28, "NYeTXwW5aiGUNNGFprCNR7lKdlI",
                                       "nyetxww5aiguunngfprcnr7lkdli=", "A" * 10_000,
                                       "\udc80\udcff"])
def test_garbage_presented_signatures_are_false(presented: str) -> None:
    assert not signature_matches(decode_secret(SECRET_1), DATE, REQ, CANDIDATES, APP, presented)


def test_no_candidates_never_matches() -> None:
    presented = seed_signature(SECRET_1, DATE, REQ, PATH, APP)
    assert not signature_matches(decode_secret(SECRET_1), DATE, REQ, [], APP, presented)


# --- parse_signed ----------------------------------------------------------------------------

@pytest.mark.parametrize("header, expected", [
    ("MC abc:def=", SignedAuthorization("abc", "def=")),
    ("mc abc:def=", SignedAuthorization("abc", "def=")),
    ("Mc abc:def=", SignedAuthorization("abc", "def=")),
    ("  MC   abc:def=  ", SignedAuthorization("abc", "def=")),
    ("MC a:b", SignedAuthorization("a", "b")),
    ("MC mYtOL3XZCOwG96BOiFTZRmTNo-ab_cd:NYeTXwW5aiGUNNGFprCNR7lKdlI=",
     SignedAuthorization("mYtOL3XZCOwG96BOiFTZRmTNo-ab_cd", "NYeTXwW5aiGUNNGFprCNR7lKdlI=")),
    # the signature never holds a colon, so the last one separates
    ("MC a:b:c", SignedAuthorization("a:b", "c")),
])
def test_parse_signed(header: str, expected: SignedAuthorization) -> None:
    assert parse_signed(header) == expected


@pytest.mark.parametrize("header", ["", "MC", "MC ", "MC abc", "MC abc:", "MC :def",
                                    "MC :", "Basic abc:def", "MCabc:def", "Bearer x:y",
                                    "Basic-Cloud YTpi"])
def test_parse_signed_rejects(header: str) -> None:
    assert parse_signed(header) is None


def test_authorization_round_trip() -> None:
    access_key = new_access_key()
    assert parse_signed(authorization(access_key, "sig=")) == SignedAuthorization(access_key,
                                                                                   "sig=")


# --- parse_basic -----------------------------------------------------------------------------

def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("realm, canonical", [
    ("Basic-Cloud", REALM_CLOUD), ("basic-cloud", REALM_CLOUD), ("BASIC-CLOUD", REALM_CLOUD),
    ("Basic-AD", REALM_DOMAIN), ("basic-ad", REALM_DOMAIN), ("BASIC-ad", REALM_DOMAIN),
])
def test_parse_basic_realms_any_case(realm: str, canonical: str) -> None:
    assert parse_basic(f"{realm} {_b64('user@example.com:pw')}") == BasicCredentials(
        canonical, "user@example.com", "pw")


def test_parse_basic_password_may_hold_colons() -> None:
    assert parse_basic(f"Basic-Cloud {_b64('u@example.com:a:b::c')}") == BasicCredentials(
        REALM_CLOUD, "u@example.com", "a:b::c")


def test_parse_basic_empty_password_and_unicode() -> None:
    assert parse_basic(f"Basic-AD {_b64('u@example.com:')}") == BasicCredentials(
        REALM_DOMAIN, "u@example.com", "")
    password = "p\u00e4ss\u2603"
    assert parse_basic("Basic-Cloud " + _b64("u@example.com:" + password)) == \
        BasicCredentials(REALM_CLOUD, "u@example.com", password)


def test_basic_round_trip() -> None:
    for realm in (REALM_CLOUD, REALM_DOMAIN):
        assert parse_basic(basic(realm, "a@b.c", "x:y")) == BasicCredentials(realm, "a@b.c",
                                                                              "x:y")


@pytest.mark.parametrize("header", [
    "", "Basic-Cloud", "Basic-Cloud ", "Basic " + _b64("u@example.com:pw"),
    "Basic-Cloudy " + _b64("u@example.com:pw"), "MC a:b",
    "Basic-Cloud " + _b64("no-colon-here"),
    "Basic-Cloud " + _b64(":password-only"),
    "Basic-Cloud abc",                         # bad padding
    "Basic-Cloud !!!!",                        # not base64 at all
    "Basic-Cloud " + base64.b64encode(b"\xff\xfe:\xff").decode(),  # not UTF-8
])
def test_parse_basic_rejects(header: str) -> None:
    assert parse_basic(header) is None


# --- key shapes ------------------------------------------------------------------------------

def test_new_secret_key_shape() -> None:
    keys = {new_secret_key() for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert len(key) == 88 and key.endswith("==")
        assert len(base64.b64decode(key, validate=True)) == 64
        assert len(decode_secret(key)) == 64


def test_new_access_key_shape() -> None:
    keys = {new_access_key() for _ in range(20)}
    assert len(keys) == 20
    allowed = set(string.ascii_letters + string.digits + "-_")
    for key in keys:
        assert 140 <= len(key) <= 160
        assert set(key) <= allowed  # safe in a form body, a header and a URL
        assert ":" not in key


def test_request_headers_shape() -> None:
    date = signing.request_date()
    assert date.endswith(" UTC") and "GMT" not in date
    assert uuid.UUID(signing.request_id())

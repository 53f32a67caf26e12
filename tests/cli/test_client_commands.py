"""`mimicast login`, `whoami`, `call` and `endpoints` as real subprocesses against a live server:
profiles on disk (0600, no password, several names), the environment's overrides, every way of
giving `--data`, pretty/compact output, and the one-line failures (exit 1)."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mimicast.catalog import ENDPOINTS
from mimicast.services import identity
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant, free_port

pytestmark = pytest.mark.store_agnostic

Run = Callable[..., "subprocess.CompletedProcess[str]"]
VERIFY = "/api/domain/get-verification-code"
CREATE = "/api/domain/create-domain"
PENDING = "/api/domain/get-pending-domain"
USERS = "/api/user/get-internal-users"


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """`mimicast ARGS…` with its own config dir, no keyring and no inherited MIMICAST_*."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("MIMICAST_")}
    base.update(MIMICAST_CONFIG_DIR=str(tmp_path / "config"), MIMICAST_HOME=str(tmp_path),
                MIMICAST_KEYRING="0")

    def invoke(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
               code: int = 0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "mimicast", *args],
                                env={**base, **(env or {})}, input=stdin or "",
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == code, (args, result.returncode, result.stdout,
                                           result.stderr)
        return result

    return invoke


def on_terminal(env: dict[str, str], *args: str, password: str | None = None
                ) -> tuple[int, str]:
    """`mimicast ARGS…` on a pseudo-terminal; types `password` at the password prompt."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the command
        os.execve(sys.executable, [sys.executable, "-m", "mimicast", *args], env)
    output = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            if password is not None and output.endswith(b"Password: "):
                os.write(fd, password.encode() + b"\n")
                password = None
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one `error: …` line of a failed command (nothing on stdout, no traceback)."""
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    return lines[0]


def profiles_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "profiles.json"


def stored(tmp_path: Path) -> dict[str, Any]:
    return dict(json.loads(profiles_file(tmp_path).read_text())["profiles"])


def key_args(harness: Harness, tenant: Tenant) -> list[str]:
    return ["--base-url", harness.url, "--app-id", tenant.keys.app_id,
            "--app-key", tenant.keys.app_key]


def password_login(run: Run, harness: Harness, tenant: Tenant, *extra: str,
                   env: dict[str, str] | None = None) -> str:
    return run("login", *key_args(harness, tenant), "--email", tenant.email,
               "--password", tenant.password, *extra, env=env).stdout


def env_keys(harness: Harness, tenant: Tenant) -> dict[str, str]:
    keys = tenant.keys
    return {"MIMICAST_BASE_URL": harness.url, "MIMICAST_APP_ID": keys.app_id,
            "MIMICAST_APP_KEY": keys.app_key, "MIMICAST_ACCESS_KEY": keys.access_key,
            "MIMICAST_CLIENT_SECRET_KEY": keys.secret_key}


def test_password_login_stores_a_private_profile_used_by_whoami_and_call(
        harness: Harness, run: Run, tmp_path: Path) -> None:
    tenant = harness.tenant()
    out = password_login(run, harness, tenant)
    assert "profile 'default'" in out and tenant.email in out

    path = profiles_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tenant.password not in path.read_text()
    profile = stored(tmp_path)["default"]
    assert profile["base_url"] == harness.url
    assert profile["email"] == tenant.email and profile["auth_type"] == "cloud"
    assert (profile["app_id"], profile["app_key"]) == (tenant.keys.app_id, tenant.keys.app_key)
    assert profile["access_key"] and profile["secret_key"]
    assert "password" not in profile

    human = run("whoami").stdout
    assert tenant.code in human and tenant.email in human and harness.url in human
    info = json.loads(run("whoami", "--json").stdout)
    assert info == {"profile": "default", "baseUrl": harness.url, "user": tenant.email,
                    "accessKey": profile["access_key"], "accountCode": tenant.code,
                    "accountName": info["accountName"]}
    assert info["accountName"]

    # Piped: one compact line of the envelope's data.
    out = run("call", "/api/account/get-account").stdout
    data = json.loads(out)
    assert data[0]["accountCode"] == tenant.code
    assert out == json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n"


def test_key_login_two_profiles_and_permission_repair(harness: Harness, run: Run,
                                                      tmp_path: Path) -> None:
    first, second = harness.tenant(), harness.tenant()
    # A profile file left readable by others is made private again on the next write.
    path = profiles_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text('{"profiles": {}}')
    path.chmod(0o644)

    run("login", "--profile", "keys", *key_args(harness, first),
        "--access-key", first.keys.access_key, "--secret-key", first.keys.secret_key)
    password_login(run, harness, second, "--profile", "other")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    profiles = stored(tmp_path)
    assert set(profiles) == {"keys", "other"}
    assert profiles["keys"]["access_key"] == first.keys.access_key
    assert profiles["keys"]["secret_key"] == first.keys.secret_key
    assert "email" not in profiles["keys"]

    keys_info = json.loads(run("whoami", "--profile", "keys", "--json").stdout)
    assert (keys_info["accountCode"], keys_info["user"]) == (first.code, None)
    assert "(keys only)" in run("whoami", "-p", "keys").stdout
    other_info = json.loads(run("whoami", "--json", env={"MIMICAST_PROFILE": "other"}).stdout)
    assert (other_info["accountCode"], other_info["user"]) == (second.code, second.email)
    # No profile named default was made.
    assert "no profile 'default'" in error_line(run("whoami", code=1))


def test_key_login_without_dashboard_permission_warns_and_stores(harness: Harness, run: Run,
                                                                 tmp_path: Path) -> None:
    tenant = harness.tenant(role=None)
    result = run("login", *key_args(harness, tenant), "--access-key", tenant.keys.access_key,
                 "--secret-key", tenant.keys.secret_key)
    assert "warning" in result.stderr and "403" in result.stderr
    assert stored(tmp_path)["default"]["access_key"] == tenant.keys.access_key
    line = error_line(run("whoami", code=1))
    assert "HTTP 403" in line


def test_password_from_stdin(harness: Harness, run: Run, tmp_path: Path) -> None:
    tenant = harness.tenant()
    run("login", *key_args(harness, tenant), "--email", tenant.email, "--auth-type", "cloud",
        stdin=tenant.password + "\n")
    assert stored(tmp_path)["default"]["email"] == tenant.email
    assert tenant.password not in profiles_file(tmp_path).read_text()
    line = error_line(run("login", *key_args(harness, tenant), "--email", tenant.email,
                          code=1))
    assert "no password" in line


def test_terminal_prompts_for_the_password_and_prints_pretty_json(
        harness: Harness, tmp_path: Path) -> None:
    tenant = harness.tenant()
    env = {key: value for key, value in os.environ.items() if not key.startswith("MIMICAST_")}
    env.update(MIMICAST_CONFIG_DIR=str(tmp_path / "config"), MIMICAST_KEYRING="0")
    code, output = on_terminal(env, "login", *key_args(harness, tenant), "--email",
                               tenant.email, password=tenant.password)
    assert code == 0, output
    assert tenant.password not in output  # typed, not echoed
    code, output = on_terminal(env, "call", "/api/account/get-account")
    assert code == 0, output
    assert '[\r\n  {\r\n    "' in output  # indented, one key a line
    assert f'"accountCode": "{tenant.code}"' in output


# A keyring backend kept in a JSON file: the `keyring` package's API, no desktop session needed.
FILE_KEYRING = """
import json, os
from pathlib import Path

_PATH = Path(os.environ["TEST_KEYRING_FILE"])


class _Backend:
    priority = 1


def get_keyring():
    return _Backend()


def _load():
    return json.loads(_PATH.read_text()) if _PATH.exists() else {}


def set_password(service, name, secret):
    data = _load()
    data[service + "/" + name] = secret
    _PATH.write_text(json.dumps(data))


def get_password(service, name):
    return _load().get(service + "/" + name)
"""


def test_keys_go_to_a_usable_keyring(harness: Harness, run: Run, tmp_path: Path) -> None:
    tenant = harness.tenant()
    (tmp_path / "site" / "keyring").mkdir(parents=True)
    (tmp_path / "site" / "keyring" / "__init__.py").write_text(FILE_KEYRING)
    vault = tmp_path / "keyring.json"
    env = {"PYTHONPATH": str(tmp_path / "site"), "TEST_KEYRING_FILE": str(vault),
           "MIMICAST_KEYRING": "1"}
    out = password_login(run, harness, tenant, env=env)
    assert "system keyring" in out
    profile = stored(tmp_path)["default"]
    assert profile["keyring"] is True and profile["email"] == tenant.email
    assert not {"app_key", "access_key", "secret_key"} & set(profile)
    secrets = json.loads(json.loads(vault.read_text())["mimicast/default"])
    assert secrets["app_key"] == tenant.keys.app_key
    assert json.loads(run("whoami", "--json", env=env).stdout)["accountCode"] == tenant.code
    # The keyring gone (MIMICAST_KEYRING=0 here): a clear line, not a traceback.
    assert "system keyring, which is not available" in error_line(run("whoami", code=1))


def test_login_failures_store_nothing(harness: Harness, run: Run, tmp_path: Path) -> None:
    tenant = harness.tenant()
    args = key_args(harness, tenant)
    keys = ["--access-key", tenant.keys.access_key, "--secret-key", tenant.keys.secret_key]
    wrong_secret = ["--access-key", tenant.keys.access_key, "--secret-key",
                    harness.tenant().keys.secret_key]
    cases = [
        ([*args, "--email", tenant.email, "--password", "wrong"], "err_xdk_authentication"),
        ([*args, *wrong_secret], "the keys were refused"),
        ([*args, "--email", tenant.email, "--password", "x", *keys], "not both"),
        (args, "give --email"),
        ([*args, "--region", "eu", *keys], "--base-url or --region, not both"),
        (["--app-id", "a", "--app-key", "b", *keys], "give --base-url or --region"),
        (["--region", "mars", "--app-id", "a", "--app-key", "b", *keys], "unknown region"),
        ([*args, "--email", tenant.email, "--password", "x", "--auth-type", "ldap"],
         "auth_type must be"),
        (["--base-url", f"http://127.0.0.1:{free_port()}", "--app-id", "a", "--app-key", "b",
          *keys], "cannot reach http://127.0.0.1:"),
    ]
    for arguments, expected in cases:
        line = error_line(run("login", *arguments, code=1))
        assert expected in line, (arguments, line)
    assert not profiles_file(tmp_path).exists()


def test_call_data_forms(harness: Harness, run: Run, tmp_path: Path) -> None:
    tenant = harness.tenant()
    env = env_keys(harness, tenant)  # no profile at all: the environment is enough
    names = [f"d{n}.example.org" for n in range(6)]

    def domains(result: subprocess.CompletedProcess[str]) -> list[str]:
        return [item["domain"] for item in json.loads(result.stdout)]

    def items(*chosen: str) -> list[dict[str, str]]:
        return [{"domain": name, "inboundType": "any"} for name in chosen]

    assert domains(run("call", CREATE, "--data", json.dumps(items(names[0])[0]),
                       env=env)) == names[:1]
    assert domains(run("call", CREATE, "-d", json.dumps(items(*names[1:3])),
                       env=env)) == names[1:3]
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"data": items(names[3]), "meta": {"note": "kept"}}))
    assert domains(run("call", CREATE, "--data", f"@{body}", env=env)) == names[3:4]
    assert domains(run("call", CREATE, "--data", "-", stdin=json.dumps(items(*names[4:])),
                       env=env)) == names[4:]
    # Without a `next`, --all-pages is one call: the same answer.
    single = run("call", PENDING, env=env).stdout
    assert run("call", PENDING, "--all-pages", env=env).stdout == single
    assert sorted(item["domain"] for item in json.loads(single)) == names


def test_all_pages_follows_next_to_the_last_page(harness: Harness, run: Run) -> None:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        for n in range(4):
            identity.create_user(ctx, f"p{n}@{tenant.domain}")
    body = json.dumps({"data": [{"domain": tenant.domain}],
                       "meta": {"pagination": {"pageSize": 2}}})
    env = env_keys(harness, tenant)
    pages = json.loads(run("call", USERS, "--data", body, "--all-pages", env=env).stdout)
    # One `data` wrapper per page, in order: 5 addresses, 2 a page.
    assert [len(page["users"]) for page in pages] == [2, 2, 1]
    assert [u["emailAddress"] for page in pages for u in page["users"]] == sorted(
        [tenant.email, *(f"p{n}@{tenant.domain}" for n in range(4))])
    first = json.loads(run("call", USERS, "--data", body, env=env).stdout)
    assert first == pages[:1]


def test_env_overrides_profile_values(harness: Harness, run: Run) -> None:
    tenant, other = harness.tenant(), harness.tenant()
    password_login(run, harness, tenant)
    line = error_line(run("call", "/api/account/get-account", code=1,
                          env={"MIMICAST_CLIENT_SECRET_KEY": other.keys.secret_key}))
    assert "HTTP 401" in line and "/api/account/get-account" in line
    # The whole set of keys from the environment wins over the stored profile.
    info = json.loads(run("whoami", "--json", env=env_keys(harness, other)).stdout)
    assert info["accountCode"] == other.code


def test_call_failures_are_one_line(harness: Harness, run: Run, tmp_path: Path) -> None:
    tenant = harness.tenant()
    env = env_keys(harness, tenant)
    dead = {**env, "MIMICAST_BASE_URL": f"http://127.0.0.1:{free_port()}"}
    directory = tmp_path / "a-directory"
    directory.mkdir()
    cases: list[tuple[list[str], dict[str, str], str]] = [
        (["/api/account/get-account"], {}, "no profile 'default'"),
        (["/api/account/get-account", "-p", "nope"], {}, "no profile 'nope'"),
        (["account/get-account"], env, "must start with /api/"),
        ([VERIFY, "--data", "{not json"], env, "--data is not valid JSON"),
        ([VERIFY, "--data", "42"], env, "--data must be a JSON object"),
        ([VERIFY, "--data", '{"data": [], "meta": 3}'], env, "meta must be a JSON object"),
        ([VERIFY, "--data", f"@{tmp_path / 'missing.json'}"], env, "No such file"),
        ([VERIFY, "--data", f"@{directory}"], env, "cannot read"),
        (["/api/nothing/here"], env, "HTTP 404"),
        ([VERIFY, "--data", '{"domain": ""}'], env, "err_validation"),
        (["/api/account/get-account"], dead, "cannot reach http://127.0.0.1:"),
    ]
    for arguments, extra, expected in cases:
        line = error_line(run("call", *arguments, env=extra, code=1))
        assert expected in line, (arguments, line)
    # A broken profile file is reported, not a traceback.
    profiles_file(tmp_path).parent.mkdir(parents=True, exist_ok=True)
    profiles_file(tmp_path).write_text("{broken")
    assert "is not valid JSON" in error_line(run("whoami", code=1))


def test_partial_failure_prints_what_succeeded(harness: Harness, run: Run) -> None:
    env = env_keys(harness, harness.tenant())
    items = json.dumps([{"domain": "ok.example.org", "inboundType": "any"},
                        {"domain": "", "inboundType": "any"}])
    result = run("call", CREATE, "--data", items, env=env, code=1)
    assert [item["domain"] for item in json.loads(result.stdout)] == ["ok.example.org"]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: err_validation")
    assert "[domain]" in lines[0]


def test_endpoints_table_and_json(run: Run) -> None:
    rows = json.loads(run("endpoints", "--json").stdout)
    assert [row["path"] for row in rows] == sorted(ENDPOINTS)
    by_path = {row["path"]: row for row in rows}
    assert by_path["/api/login/login"]["permission"] == "none (unsigned)"
    assert by_path["/api/account/get-account"]["permission"] == "Account | Dashboard | Read"
    table = run("endpoints").stdout
    for path, endpoint in ENDPOINTS.items():
        assert path in table
        assert endpoint.summary.split()[0] in table

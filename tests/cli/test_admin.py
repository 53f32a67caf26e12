"""`mimicast admin …` as a real subprocess, each test with its own data directory: every
command's JSON output, human output, the one-line failures (exit 1) and usage errors (exit 2),
and the audit events the changes write."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select as sql_select

from mimicast.services import identity
from mimicast.services.context import Caller, Context, Deps
from mimicast.services.crypto import Vault, verify_password
from mimicast.services.dns import SimulatedResolver
from mimicast.store.engine import Store
from mimicast.store.schema import AuditEvent, User

Cli = Callable[..., "subprocess.CompletedProcess[str]"]

CODE = "CACME0001"
DOMAIN = "acme.example"
ALICE = f"alice@{DOMAIN}"


def as_json(cli: Cli, *args: str) -> Any:
    return json.loads(cli("admin", *args, "--json").stdout)


def fails(cli: Cli, *args: str, code: int = 1) -> str:
    """Run a command that must fail; returns its one error line (exit 1) or its stderr."""
    result = cli("admin", *args, check=False)
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    if code != 1:
        return result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def audit(home: Path, db: str | None = None) -> list[tuple[str, str, str, str]]:
    """(actor, category, event type, info) of every audit event, oldest first."""
    store = Store(db or f"sqlite:///{home / 'mimicast.db'}")
    try:
        with store.session() as session:
            rows = session.execute(sql_select(AuditEvent.actor, AuditEvent.category,
                                              AuditEvent.event_type, AuditEvent.info)
                                   .order_by(AuditEvent.id))
            return [tuple(row) for row in rows]  # type: ignore[misc]  # rows of 4 strings
    finally:
        store.dispose()


def stored_user(home: Path, email: str) -> User:
    store = Store(f"sqlite:///{home / 'mimicast.db'}")
    try:
        with store.session() as session:
            user = session.scalar(sql_select(User).where(User.email == email))
            assert user is not None
            return user
    finally:
        store.dispose()


def tenant(home: Path, *users: str) -> None:
    """Set up in-process, through the services (no subprocess: it is not what is under test):
    an account with one internal domain and users whose password is `pw`. Its audit events
    carry the actor `setup`, so the tests below can pick out what the CLI wrote."""
    store = Store(f"sqlite:///{home / 'mimicast.db'}")
    store.migrate()
    deps = Deps(store=store, vault=Vault(home / "secret.key"),
                resolver=SimulatedResolver(store.sessions))
    try:
        with store.session() as session:
            account = identity.create_account(session, name="Acme", code=CODE, actor="setup")
            session.flush()
            ctx = Context(deps, session, Caller(account_id=account.id, actor="setup"))
            identity.add_internal_domain(ctx, DOMAIN)
            for email in users:
                identity.create_user(ctx, email, password="pw")
            session.commit()
    finally:
        store.dispose()


def cli_events(home: Path, db: str | None = None) -> list[tuple[str, str, str]]:
    """(category, event type, info) of the events the CLI wrote."""
    return [(c, k, i) for actor, c, k, i in audit(home, db) if actor == "cli"]


# Accounts -----------------------------------------------------------------------------------

def test_account_create_list_set(cli: Cli, tmp_path: Path) -> None:
    created = as_json(cli, "account", "create", "--name", "Acme", "--region", "eu",
                      "--admin-email", "Ops@Acme.example", "--code", CODE)
    assert created["code"] == CODE and created["name"] == "Acme"
    assert created["region"] == "eu" and created["adminEmail"] == "ops@acme.example"
    assert (created["rateLimit"], created["rateWindowMs"], created["maxBindings"]) == (
        800, 60_000, 10)

    changed = as_json(cli, "account", "set", "--rate-limit", "50", "--rate-window-ms", "1000",
                      "--max-bindings", "2")
    assert (changed["rateLimit"], changed["rateWindowMs"], changed["maxBindings"]) == (50, 1000, 2)
    # Only what is given changes.
    assert as_json(cli, "account", "set", "--max-bindings", "3")["rateLimit"] == 50

    [listed] = as_json(cli, "account", "list")
    assert listed["code"] == CODE and listed["maxBindings"] == 3 and listed["rateLimit"] == 50

    human = cli("admin", "account", "list").stdout
    assert "Accounts" in human and CODE in human and "Acme" in human

    # A generated code carries the region's prefix.
    other = as_json(cli, "account", "create", "--name", "Other Co", "--region", "de")
    assert other["code"].startswith("CDE")

    events = [(actor, category, kind) for actor, category, kind, _ in audit(tmp_path)]
    assert ("cli", "account_logs", "Account created") in events
    assert events.count(("cli", "account_logs", "Account limits changed")) == 2
    first = next(i for _, _, kind, i in audit(tmp_path) if kind == "Account limits changed")
    assert first == "rate_limit=50 rate_window_ms=1000 max_bindings=2"


def test_account_failures(cli: Cli) -> None:
    assert "Account not found: (none)" in fails(cli, "domain", "list")
    assert "must not be blank" in fails(cli, "account", "create", "--name", "  ")
    assert "Email address is not valid" in fails(
        cli, "account", "create", "--name", "X", "--admin-email", "nope")

    cli("admin", "account", "create", "--name", "Acme", "--code", CODE)
    assert f"Account already exists: {CODE}" in fails(
        cli, "account", "create", "--name", "Again", "--code", CODE)
    assert "at least one of" in fails(cli, "account", "set")
    assert "must be a positive number" in fails(cli, "account", "set", "--rate-limit", "0")

    # With two accounts, a command must say which.
    cli("admin", "account", "create", "--name", "Second", "--code", "CSECOND01")
    assert "--account CODE" in fails(cli, "domain", "list")
    assert "Account not found: CNOPE" in fails(cli, "domain", "list", "--account", "CNOPE")
    cli("admin", "domain", "add", DOMAIN, "--account", CODE)
    assert [d["domain"] for d in as_json(cli, "domain", "list", "--account", CODE)] == [DOMAIN]
    assert as_json(cli, "domain", "list", "--account", "CSECOND01") == []


# Domains and the simulated DNS zone ---------------------------------------------------------

def test_domains(cli: Cli, tmp_path: Path) -> None:
    cli("admin", "account", "create", "--name", "Acme", "--code", CODE)
    added = as_json(cli, "domain", "add", "Acme.Example.")
    assert added["domain"] == DOMAIN and added["status"] == "internal"
    assert "Added internal domain b.example." in cli("admin", "domain", "add", "b.example").stdout
    assert [d["domain"] for d in as_json(cli, "domain", "list")] == [DOMAIN, "b.example"]
    human = cli("admin", "domain", "list").stdout
    assert "Internal domains" in human and DOMAIN in human and "internal" in human

    assert f"Internal domain already exists: {DOMAIN}" in fails(cli, "domain", "add", DOMAIN)
    assert "Domain name is not valid (domain)" in fails(cli, "domain", "add", "not a domain")
    assert [(c, k, i) for _, c, k, i in audit(tmp_path) if c == "domain_logs"] == [
        ("domain_logs", "Internal domain added", DOMAIN),
        ("domain_logs", "Internal domain added", "b.example")]


def test_dns_zone(cli: Cli) -> None:
    # The zone stands for the public DNS: it needs no account.
    assert as_json(cli, "dns", "list") == []
    record = as_json(cli, "dns", "add", "Acme.Example.", "mimecast-verify=abc")
    assert record == {"name": DOMAIN, "type": "TXT", "value": "mimecast-verify=abc"}
    assert "Added TXT acme.example 'v=spf1 -all'." in cli("admin", "dns", "add", DOMAIN,
                                                          "v=spf1 -all").stdout
    cli("admin", "dns", "add", "other.example", "x")
    assert [(r["name"], r["value"]) for r in as_json(cli, "dns", "list")] == [
        (DOMAIN, "mimecast-verify=abc"), (DOMAIN, "v=spf1 -all"), ("other.example", "x")]

    assert as_json(cli, "dns", "remove", DOMAIN, "v=spf1 -all") == {"name": DOMAIN, "removed": 1}
    assert "no TXT record acme.example with value 'nope'" in fails(
        cli, "dns", "remove", DOMAIN, "nope")
    assert as_json(cli, "dns", "remove", DOMAIN) == {"name": DOMAIN, "removed": 1}
    assert "must not be blank" in fails(cli, "dns", "add", " ", "x")
    human = cli("admin", "dns", "list").stdout
    assert "Simulated DNS" in human and "other.example" in human and DOMAIN not in human


# Users --------------------------------------------------------------------------------------

def test_users(cli: Cli, tmp_path: Path) -> None:
    tenant(tmp_path)
    created = as_json(cli, "user", "create", "Alice@Acme.example", "--password", "pw-one",
                      "--name", "Alice")
    assert created == {"email": ALICE, "name": "Alice", "cloudPassword": True,
                       "domainPassword": False, "locked": False, "disabled": False,
                       "roles": [], "createdAt": created["createdAt"]}
    assert "Created user bob@acme.example." in cli(
        "admin", "user", "create", f"bob@{DOMAIN}", "--password", "pw",
        "--domain-password", "ad-pw").stdout

    user = stored_user(tmp_path, ALICE)
    assert verify_password(user.password_hash, "pw-one") and user.domain_password_hash is None

    assert as_json(cli, "user", "set-password", ALICE, "--password", "pw-two")["email"] == ALICE
    assert as_json(cli, "user", "set-domain-password", ALICE, "--password", "ad-two")[
        "domainPassword"] is True
    user = stored_user(tmp_path, ALICE)
    assert verify_password(user.password_hash, "pw-two")
    assert not verify_password(user.password_hash, "pw-one")
    assert verify_password(user.domain_password_hash, "ad-two")

    assert as_json(cli, "user", "lock", ALICE)["locked"] is True
    assert as_json(cli, "user", "disable", ALICE)["disabled"] is True
    assert as_json(cli, "user", "unlock", ALICE)["locked"] is False
    enabled = as_json(cli, "user", "enable", ALICE)
    assert (enabled["locked"], enabled["disabled"]) == (False, False)
    assert "Updated bob@acme.example (locked: True" in cli("admin", "user", "lock",
                                                           f"bob@{DOMAIN}").stdout

    listed = {u["email"]: u for u in as_json(cli, "user", "list")}
    assert set(listed) == {ALICE, f"bob@{DOMAIN}"}
    assert listed[f"bob@{DOMAIN}"]["locked"] is True and listed[ALICE]["domainPassword"] is True
    human = cli("admin", "user", "list").stdout
    assert "Users" in human and "Email" in human and "Locked" in human

    kinds = [k for c, k, _ in cli_events(tmp_path) if c == "directory_logs"]
    assert kinds == ["User created", "User created", "Cloud password set",
                     "Domain password set"] + ["User updated"] * 5
    # Passwords never reach the audit trail.
    assert not any("pw-" in info or "ad-" in info for *_, info in audit(tmp_path))


def test_user_failures(cli: Cli, tmp_path: Path) -> None:
    tenant(tmp_path, ALICE)
    assert f"User already exists: {ALICE}" in fails(cli, "user", "create", ALICE,
                                                    "--password", "pw")
    assert "Internal domain not found: elsewhere.example" in fails(
        cli, "user", "create", "carol@elsewhere.example", "--password", "pw")
    assert "Email address is not valid (emailAddress)" in fails(
        cli, "user", "create", "not-an-address", "--password", "pw")
    line = fails(cli, "user", "create", f"dave@{DOMAIN}")
    assert "no password given: pass --password" in line
    assert "must not be blank (password)" in fails(cli, "user", "create", f"dave@{DOMAIN}",
                                                   "--password", "")
    assert f"User not found: nobody@{DOMAIN}" in fails(cli, "user", "set-password",
                                                       f"nobody@{DOMAIN}", "--password", "x")
    assert "no password given" in fails(cli, "user", "set-domain-password", ALICE)
    assert f"User not found: nobody@{DOMAIN}" in fails(cli, "user", "lock", f"nobody@{DOMAIN}")
    # Nothing half-made: the failed creations left no user behind.
    assert [u["email"] for u in as_json(cli, "user", "list")] == [ALICE]


def test_password_prompt_on_a_terminal(tmp_path: Path) -> None:
    tenant(tmp_path)
    status, output = run_on_terminal(
        tmp_path, ["admin", "user", "create", ALICE],
        # The prompt's last space is written once echo is off: answer only then.
        [(b"Password: ", "typed-secret"), (b"Repeat for confirmation: ", "typed-secret")])
    assert status == 0, output
    assert "Created user" in output
    assert "typed-secret" not in output  # hidden input
    assert verify_password(stored_user(tmp_path, ALICE).password_hash, "typed-secret")


def run_on_terminal(home: Path, args: list[str],
                    answers: list[tuple[bytes, str]]) -> tuple[int, str]:
    """Run `mimicast ARGS` with a pseudo-terminal as its controlling terminal, answering each
    prompt as it appears."""
    env = dict(os.environ, MIMICAST_HOME=str(home))
    env.pop("MIMICAST_DB", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the command
        os.execve(sys.executable, [sys.executable, "-m", "mimicast", *args], env)
    output = b""
    answered = 0
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
            if answered < len(answers) and output.endswith(answers[answered][0]):
                os.write(fd, answers[answered][1].encode() + b"\n")
                answered += 1
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


# Roles --------------------------------------------------------------------------------------

def test_roles(cli: Cli, tmp_path: Path) -> None:
    tenant(tmp_path, ALICE)
    builtin = {r["name"]: r for r in as_json(cli, "role", "list")}
    assert set(builtin) == {"Basic Administrator", "Full Administrator"}
    assert builtin["Basic Administrator"]["builtin"] is True
    assert "Account | Dashboard | Read" in builtin["Basic Administrator"]["permissions"]
    assert builtin["Basic Administrator"]["members"] == []

    role = as_json(cli, "role", "add-user", "basic administrator", ALICE)
    assert role["name"] == "Basic Administrator" and role["members"] == [ALICE]
    assert as_json(cli, "user", "list")[0]["roles"] == ["Basic Administrator"]

    created = as_json(cli, "role", "create", "Log Readers", "--permission",
                      "Account | Logs | Read", "--permission", "Account | Dashboard | Read",
                      "--description", "SIEM")
    assert created == {"name": "Log Readers", "description": "SIEM", "builtin": False,
                       "permissions": ["Account | Dashboard | Read", "Account | Logs | Read"],
                       "members": []}
    assert "Added alice@acme.example to role Log Readers." in cli(
        "admin", "role", "add-user", "Log Readers", ALICE).stdout
    removed = as_json(cli, "role", "remove-user", "Basic Administrator", ALICE)
    assert removed["members"] == []
    assert as_json(cli, "user", "list")[0]["roles"] == ["Log Readers"]

    listed = {r["name"]: r for r in as_json(cli, "role", "list")}
    assert listed["Log Readers"]["members"] == [ALICE]
    human = cli("admin", "role", "list").stdout
    assert "Roles" in human and "Log Readers" in human and "Built-in" in human

    assert [k for _, k, _ in cli_events(tmp_path)] == ["User added to role", "Role created",
                                      "User added to role", "User removed from role"]


def test_role_failures(cli: Cli, tmp_path: Path) -> None:
    tenant(tmp_path, ALICE)
    assert "Role not found: Nonexistent" in fails(cli, "role", "add-user", "Nonexistent", ALICE)
    assert f"User not found: nobody@{DOMAIN}" in fails(cli, "role", "add-user",
                                                       "Full Administrator", f"nobody@{DOMAIN}")
    assert f"Role member not found: {ALICE}" in fails(cli, "role", "remove-user",
                                                      "Full Administrator", ALICE)
    assert "unknown permission(s): Fly | Away (permissions)" in fails(
        cli, "role", "create", "Pilots", "--permission", "Fly | Away")
    assert "Role already exists: full administrator" in fails(
        cli, "role", "create", "full administrator", "--permission", "Account | Logs | Read")
    fails(cli, "role", "create", "No Permissions", code=2)  # --permission is required
    assert {r["name"] for r in as_json(cli, "role", "list")} == {"Basic Administrator",
                                                                 "Full Administrator"}


# Profile groups -----------------------------------------------------------------------------

def test_groups(cli: Cli, tmp_path: Path) -> None:
    tenant(tmp_path)
    created = as_json(cli, "group", "create", "Integrations/Splunk Admin")
    assert created == {"path": "Integrations/Splunk Admin", "members": []}
    cli("admin", "group", "create", "Partners")
    added = as_json(cli, "group", "add-member", "Integrations/Splunk Admin", "Alice@Acme.example")
    assert added["members"] == [ALICE]
    assert "Added partner.example to group Partners." in cli(
        "admin", "group", "add-member", "Partners", "Partner.example").stdout

    assert as_json(cli, "group", "list") == [
        {"path": "Integrations", "members": []},
        {"path": "Integrations/Splunk Admin", "members": [ALICE]},
        {"path": "Partners", "members": ["partner.example"]}]
    human = cli("admin", "group", "list").stdout
    assert "Profile groups" in human and "Partners" in human

    assert as_json(cli, "group", "remove-member", "Partners", "partner.example") == {
        "path": "Partners", "members": []}

    assert [(k, i) for _, k, i in cli_events(tmp_path)] == [
        ("Profile group created", "Integrations/Splunk Admin"),
        ("Profile group created", "Partners"),
        ("Profile group member added", f"{ALICE} → Integrations/Splunk Admin"),
        ("Profile group member added", "partner.example → Partners"),
        ("Profile group member removed", "partner.example ← Partners")]


def test_group_failures(cli: Cli, tmp_path: Path) -> None:
    tenant(tmp_path)
    cli("admin", "group", "create", "Integrations/Splunk Admin")
    assert "Profile group already exists: Integrations/Splunk Admin" in fails(
        cli, "group", "create", "Integrations/Splunk Admin")
    assert "Profile group not found: Integrations/Nope" in fails(
        cli, "group", "add-member", "Integrations/Nope", ALICE)
    cli("admin", "group", "add-member", "Integrations/Splunk Admin", ALICE)
    assert f"Group member already exists: {ALICE}" in fails(
        cli, "group", "add-member", "Integrations/Splunk Admin", ALICE)
    assert "Group member not found: bob@acme.example" in fails(
        cli, "group", "remove-member", "Integrations/Splunk Admin", "bob@acme.example")
    assert "must not be blank (group)" in fails(cli, "group", "create", " / ")


# Authentication profiles and application settings --------------------------------------------

def test_auth_profiles_and_app_settings(cli: Cli, tmp_path: Path) -> None:
    tenant(tmp_path)
    forms = {"30m": 1800, "3d": 259_200, "90s": 90, "never": None}
    ids = {}
    for ttl, seconds in forms.items():
        profile = as_json(cli, "auth-profile", "create", f"TTL {ttl}", "--ttl", ttl)
        assert (profile["ttl"], profile["ttlSeconds"]) == (ttl, seconds)
        assert profile["extendOnValidate"] is False and profile["default"] is False
        ids[ttl] = profile["id"]
    # The human form prints the id alone, for shell scripts: ID=$(mimicast admin auth-profile …)
    printed = cli("admin", "auth-profile", "create", "Sliding", "--ttl", "12h",
                  "--extend-on-validate").stdout
    sliding_id = int(printed.strip())

    listed = {p["id"]: p for p in as_json(cli, "auth-profile", "list")}
    assert listed[sliding_id]["extendOnValidate"] is True and listed[sliding_id]["ttl"] == "12h"
    defaults = [p for p in listed.values() if p["default"]]
    assert [p["description"] for p in defaults] == ["Default Authentication Profile"]
    assert "Authentication profiles" in cli("admin", "auth-profile", "list").stdout

    cli("admin", "group", "create", "API")
    by_id = as_json(cli, "app-setting", "create", "Scripts", "--group", "API",
                    "--auth-profile", str(ids["never"]))
    assert by_id["group"] == "API" and by_id["authProfile"] == {
        "id": ids["never"], "description": "TTL never", "ttl": "never"}
    by_description = as_json(cli, "app-setting", "create", "Later", "--group", "/API/",
                             "--auth-profile", "TTL 30m")
    assert by_description["authProfile"]["id"] == ids["30m"]
    assert [s["description"] for s in as_json(cli, "app-setting", "list")] == ["Scripts",
                                                                              "Later"]
    human = cli("admin", "app-setting", "list").stdout
    assert "Application settings" in human and "Scripts" in human

    kinds = [k for c, k, _ in cli_events(tmp_path) if c == "services_applications_logs"]
    assert kinds == ["Authentication profile created"] * 5 + ["Application setting created"] * 2


def test_auth_profile_and_app_setting_failures(cli: Cli, tmp_path: Path) -> None:
    tenant(tmp_path)
    for bad in ("3x", "0m", ""):
        assert "Invalid value" in fails(cli, "auth-profile", "create", "P", "--ttl", bad)
    fails(cli, "auth-profile", "create", "P", code=2)  # --ttl is required
    assert "must not be blank (description)" in fails(cli, "auth-profile", "create", " ",
                                                      "--ttl", "1h")
    profile = as_json(cli, "auth-profile", "create", "P", "--ttl", "1h")
    cli("admin", "group", "create", "API")
    assert "Profile group not found: Nope" in fails(
        cli, "app-setting", "create", "S", "--group", "Nope", "--auth-profile", str(profile["id"]))
    assert "Authentication profile not found: 999" in fails(
        cli, "app-setting", "create", "S", "--group", "API", "--auth-profile", "999")
    long_name = "an authentication profile whose description is far too long to fit one line " * 2
    line = fails(cli, "app-setting", "create", "S", "--group", "API", "--auth-profile",
                 long_name.strip())
    assert long_name.strip() in line  # one unwrapped line, however long
    assert as_json(cli, "app-setting", "list") == []


# Applications and bindings ------------------------------------------------------------------

def test_applications(cli: Cli, tmp_path: Path) -> None:
    tenant(tmp_path)
    registered = as_json(cli, "app", "register", "Splunk", "--description", "SIEM")
    assert set(registered) == {"appId", "appKey", "name", "description"}
    assert registered["name"] == "Splunk" and registered["description"] == "SIEM"
    human = cli("admin", "app", "register", "Sentinel").stdout
    assert "appId" in human and "appKey" in human and "not shown again" in human

    listed = as_json(cli, "app", "list")
    assert [a["name"] for a in listed] == ["Splunk", "Sentinel"]
    assert all("appKey" not in a for a in listed)
    assert registered["appKey"] not in cli("admin", "app", "list").stdout

    assert as_json(cli, "app", "revoke", registered["appId"]) == {
        "appId": registered["appId"], "revoked": True}
    revoked = {a["appId"]: a for a in as_json(cli, "app", "list")}[registered["appId"]]
    assert revoked["revoked"] is True and revoked["revokedAt"]

    assert "Application not found: no-such-app" in fails(cli, "app", "revoke", "no-such-app")
    assert "must not be blank (name)" in fails(cli, "app", "register", "  ")
    assert [k for _, k, _ in cli_events(tmp_path)] == [
        "Application registered", "Application registered", "Application revoked"]
    assert not any(registered["appKey"] in info for *_, info in audit(tmp_path))


def test_bindings(cli: Cli, tmp_path: Path) -> None:
    demo = json.loads(cli("init", "--json").stdout)  # the demo account holds one binding
    [binding] = as_json(cli, "binding", "list")
    assert binding["user"] == demo["email"] and binding["application"] == "Demo application"
    assert demo["accessKey"].startswith(binding["accessKeyHint"])
    assert binding["status"] == "active" and binding["expiresAt"] is None
    assert as_json(cli, "binding", "list", "--user", demo["email"].upper()) == [binding]
    human = cli("admin", "binding", "list").stdout
    assert "Bindings" in human and "active" in human and "never" in human

    cli("admin", "domain", "add", "other.example")
    cli("admin", "user", "create", "nobody@other.example", "--password", "pw")
    assert as_json(cli, "binding", "list", "--user", "nobody@other.example") == []
    assert "User not found: ghost@other.example" in fails(
        cli, "binding", "list", "--user", "ghost@other.example")

    assert "Revoked binding" in cli("admin", "binding", "revoke", str(binding["id"])).stdout
    assert as_json(cli, "binding", "list")[0]["status"] == "revoked"
    # Revoking again is harmless and writes no second event.
    assert as_json(cli, "binding", "revoke", str(binding["id"])) == {"id": binding["id"],
                                                                    "revoked": True}
    assert "Binding not found: 4242" in fails(cli, "binding", "revoke", "4242")
    assert "ID" in fails(cli, "binding", "revoke", "first", code=2)
    revocations = [(a, k) for a, _, k, _ in audit(tmp_path) if k == "Binding revoked"]
    assert revocations == [("cli", "Binding revoked")]


# --db: the same commands against any store, SQLite or PostgreSQL ------------------------------

def test_db_option(cli: Cli, tmp_path: Path, store_url: str) -> None:
    cli("admin", "account", "create", "--name", "Acme", "--code", CODE, "--db", store_url)
    cli("admin", "domain", "add", DOMAIN, "--db", store_url)
    cli("admin", "user", "create", ALICE, "--password", "pw", "--db", store_url)
    cli("admin", "role", "add-user", "Full Administrator", ALICE, "--db", store_url)
    assert as_json(cli, "user", "list", "--db", store_url)[0]["roles"] == ["Full Administrator"]
    assert f"User already exists: {ALICE}" in fails(cli, "user", "create", ALICE, "--password",
                                                    "pw", "--db", store_url)
    assert [k for *_, k, _ in audit(tmp_path, store_url)] == [
        "Account created", "Internal domain added", "User created", "User added to role"]
    # The default store in the data directory was never touched.
    assert not (tmp_path / "mimicast.db").exists()


def test_unusable_db_url(cli: Cli) -> None:
    message = fails(cli, "account", "list", "--db", "nosuchdriver://x", code=2)
    assert message == ("error: --db (MIMICAST_DB): unsupported database 'nosuchdriver': use "
                       "sqlite:///PATH or postgresql://USER@HOST/DATABASE\n")


def test_unreachable_db(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = fails(cli, "account", "list", "--db", f"sqlite:///{blocker}/x.db")
    assert line.startswith(f"error: cannot open the database sqlite:///{blocker}/x.db: Not a "
                           f"directory: {blocker}")


def test_admin_help_lists_every_group(cli: Cli) -> None:
    result = cli("admin", "--help")
    for group in ("account", "domain", "dns", "user", "role", "group", "auth-profile",
                  "app-setting", "app", "binding", "connection", "url-protect"):
        assert f" {group} " in result.stdout, group

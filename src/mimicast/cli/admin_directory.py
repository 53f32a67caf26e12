"""`mimicast admin account|domain|dns|user …`: tenants, internal domains, the simulated DNS
zone, and users."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mimicast.cli.admin_common import (
    ACTOR,
    AccountCode,
    Db,
    Json,
    done,
    read_password,
    show,
    store,
    unit,
    when,
    writing,
)
from mimicast.cli.common import command_group, fail

if TYPE_CHECKING:
    from mimicast.services.context import Context
    from mimicast.store.schema import Account, Domain, User

accounts = command_group("Accounts (tenants) and their quotas.")
domains = command_group("Internal domains.")
zone = command_group("The simulated DNS zone domain verification reads (TXT records).")
users = command_group("Users of internal domains: passwords, lock, disable.")


# Accounts -----------------------------------------------------------------------------------

def account_json(account: Account) -> dict[str, Any]:
    return {"id": account.id, "code": account.code, "name": account.name,
            "region": account.region, "adminEmail": account.admin_email,
            "rateLimit": account.rate_limit, "rateWindowMs": account.rate_window_ms,
            "maxBindings": account.max_bindings, "createdAt": when(account.created_at)}


ACCOUNT_COLUMNS = ("Code", "Name", "Region", "Admin email", "Rate limit", "Window (ms)",
                   "Max bindings")


def _account_row(a: dict[str, Any]) -> list[Any]:
    return [a["code"], a["name"], a["region"], a["adminEmail"], a["rateLimit"],
            a["rateWindowMs"], a["maxBindings"]]


@accounts.command("create")
def account_create(
    name: Annotated[str, typer.Option("--name", help="The account's name.")],
    region: Annotated[str, typer.Option(help="Region code: us, eu, de, au, …")] = "us",
    admin_email: Annotated[str, typer.Option(help="The account's contact address.")] = "",
    code: Annotated[str | None, typer.Option(help="Account code (default: generated).")] = None,
    db: Db = None, as_json: Json = False,
) -> None:
    """Create an account with its built-in roles and default authentication profile."""
    from mimicast.services import identity

    with store(db) as deps, writing(deps) as session:
        account = identity.create_account(session, name=name, region=region,
                                          admin_email=admin_email, code=code, actor=ACTOR)
        session.flush()
        value = account_json(account)
    done(as_json, value, f"Created account {value['code']} ({value['name']}).")


@accounts.command("list")
def account_list(db: Db = None, as_json: Json = False) -> None:
    """Every account in the store."""
    from mimicast.services import identity

    with store(db) as deps, deps.store.session() as session:
        rows = [account_json(a) for a in identity.list_accounts(session)]
    show(as_json, rows, "Accounts", ACCOUNT_COLUMNS, [_account_row(a) for a in rows])


@accounts.command("set")
def account_set(
    rate_limit: Annotated[int | None, typer.Option(
        help="Calls per user per rate window (the bucket size).")] = None,
    rate_window_ms: Annotated[int | None, typer.Option(
        help="Milliseconds over which the bucket refills.")] = None,
    max_bindings: Annotated[int | None, typer.Option(
        help="Live bindings a user may hold per application.")] = None,
    db: Db = None, account: AccountCode = None, as_json: Json = False,
) -> None:
    """Change an account's call quota and binding limit."""
    from mimicast.services import identity

    with store(db) as deps, unit(deps, account) as ctx:
        value = account_json(identity.set_account_limits(
            ctx, rate_limit=rate_limit, rate_window_ms=rate_window_ms,
            max_bindings=max_bindings))
    done(as_json, value, f"Account {value['code']}: rate limit {value['rateLimit']} per "
                         f"{value['rateWindowMs']} ms, at most {value['maxBindings']} bindings.")


# Internal domains ---------------------------------------------------------------------------

def domain_json(domain: Domain) -> dict[str, Any]:
    return {"domain": domain.name, "status": domain.status,
            "createdAt": when(domain.created_at)}


@domains.command("add")
def domain_add(name: Annotated[str, typer.Argument(help="Domain name, e.g. example.com.")],
               db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """Add an internal domain directly (no verification)."""
    from mimicast.services import identity

    with store(db) as deps, unit(deps, account) as ctx:
        value = domain_json(identity.add_internal_domain(ctx, name))
    done(as_json, value, f"Added internal domain {value['domain']}.")


@domains.command("list")
def domain_list(db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """The account's internal domains."""
    from mimicast.services import identity

    with store(db) as deps, unit(deps, account) as ctx:
        rows = [domain_json(d) for d in identity.list_internal_domains(ctx)]
    show(as_json, rows, "Internal domains", ("Domain", "Status", "Created"),
         [[d["domain"], d["status"], d["createdAt"]] for d in rows])


# The simulated DNS zone: shared by every account (it stands for the public DNS), so these
# commands take no --account and write no account's audit trail.

@zone.command("add")
def dns_add(name: Annotated[str, typer.Argument(help="Record name, e.g. example.com.")],
            value: Annotated[str, typer.Argument(help="The TXT value.")],
            db: Db = None, as_json: Json = False) -> None:
    """Add a TXT record."""
    from mimicast.services import dns

    with store(db) as deps, writing(deps) as session:
        record = dns.add_txt(session, _record_name(name), value)
        result = {"name": record.name, "type": record.type, "value": record.value}
    done(as_json, result, f"Added TXT {result['name']} {result['value']!r}.")


@zone.command("remove")
def dns_remove(name: Annotated[str, typer.Argument(help="Record name.")],
               value: Annotated[str | None, typer.Argument(
                   help="Only the record with this value (default: every TXT of NAME).")] = None,
               db: Db = None, as_json: Json = False) -> None:
    """Remove TXT records of a name."""
    from mimicast.services import dns

    with store(db) as deps, writing(deps) as session:
        removed = dns.remove_txt(session, _record_name(name), value)
        if removed == 0:
            raise fail(f"no TXT record {name}" + (f" with value {value!r}" if value else ""))
    done(as_json, {"name": name.lower().rstrip("."), "removed": removed},
         f"Removed {removed} TXT record(s) of {name}.")


@zone.command("list")
def dns_list(db: Db = None, as_json: Json = False) -> None:
    """Every record of the simulated zone."""
    from mimicast.services import dns

    with store(db) as deps, deps.store.session() as session:
        rows = [{"name": r.name, "type": r.type, "value": r.value}
                for r in dns.list_records(session)]
    show(as_json, rows, "Simulated DNS", ("Name", "Type", "Value"),
         [[r["name"], r["type"], r["value"]] for r in rows])


def _record_name(name: str) -> str:
    cleaned = name.strip().lower().rstrip(".")
    if not cleaned:
        raise fail("the record name must not be blank")
    return cleaned


# Users --------------------------------------------------------------------------------------

def user_json(ctx: Context, user: User) -> dict[str, Any]:
    ctx.session.flush()
    return {"email": user.email, "name": user.name,
            "cloudPassword": user.password_hash is not None,
            "domainPassword": user.domain_password_hash is not None,
            "locked": user.locked, "disabled": user.disabled,
            "roles": _roles_of(ctx).get(user.email, []), "createdAt": when(user.created_at)}


def _roles_of(ctx: Context) -> dict[str, list[str]]:
    from mimicast.services import identity

    by_user: dict[str, list[str]] = {}
    for role in identity.list_roles(ctx):
        for member in role.members:
            by_user.setdefault(member, []).append(role.name)
    return by_user


def _user_line(value: dict[str, Any], what: str) -> str:
    return f"{what} {value['email']} (locked: {value['locked']}, disabled: {value['disabled']})."


@users.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="The address, in an internal domain.")],
    password: Annotated[str | None, typer.Option(
        help="Cloud password (Basic-Cloud); prompted for on a terminal when omitted.")] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    domain_password: Annotated[str | None, typer.Option(
        help="Directory password (Basic-AD).")] = None,
    db: Db = None, account: AccountCode = None, as_json: Json = False,
) -> None:
    """Create a user of an internal domain."""
    from mimicast.services import identity

    secret = read_password(password)
    with store(db) as deps, unit(deps, account) as ctx:
        value = user_json(ctx, identity.create_user(ctx, email, password=secret, name=name,
                                                    domain_password=domain_password))
    done(as_json, value, f"Created user {value['email']}.")


@users.command("list")
def user_list(db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """The account's users."""
    from mimicast.services import identity

    with store(db) as deps, unit(deps, account) as ctx:
        roles = _roles_of(ctx)
        rows = [{"email": u.email, "name": u.name, "cloudPassword": u.password_hash is not None,
                 "domainPassword": u.domain_password_hash is not None, "locked": u.locked,
                 "disabled": u.disabled, "roles": roles.get(u.email, []),
                 "createdAt": when(u.created_at)} for u in identity.list_users(ctx)]
    show(as_json, rows, "Users",
         ("Email", "Name", "Cloud pw", "Domain pw", "Locked", "Disabled", "Roles"),
         [[u["email"], u["name"], u["cloudPassword"], u["domainPassword"], u["locked"],
           u["disabled"], u["roles"]] for u in rows])


@users.command("set-password")
def user_set_password(
    email: Annotated[str, typer.Argument(help="The user's address.")],
    password: Annotated[str | None, typer.Option(
        help="New cloud password; prompted for on a terminal when omitted.")] = None,
    db: Db = None, account: AccountCode = None, as_json: Json = False,
) -> None:
    """Set the cloud password (Basic-Cloud)."""
    from mimicast.services import identity

    secret = read_password(password)
    with store(db) as deps, unit(deps, account) as ctx:
        value = user_json(ctx, identity.set_password(ctx, email, secret))
    done(as_json, value, f"Set the cloud password of {value['email']}.")


@users.command("set-domain-password")
def user_set_domain_password(
    email: Annotated[str, typer.Argument(help="The user's address.")],
    password: Annotated[str | None, typer.Option(
        help="New directory password; prompted for on a terminal when omitted.")] = None,
    db: Db = None, account: AccountCode = None, as_json: Json = False,
) -> None:
    """Set the directory password (Basic-AD)."""
    from mimicast.services import identity

    secret = read_password(password, "Domain password")
    with store(db) as deps, unit(deps, account) as ctx:
        value = user_json(ctx, identity.set_password(ctx, email, secret, domain=True))
    done(as_json, value, f"Set the domain password of {value['email']}.")


def _state_command(name: str, doc: str, **state: bool) -> None:
    def command(email: Annotated[str, typer.Argument(help="The user's address.")],
                db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
        from mimicast.services import identity

        with store(db) as deps, unit(deps, account) as ctx:
            value = user_json(ctx, identity.set_user_state(ctx, email, **state))
        done(as_json, value, _user_line(value, "Updated"))

    command.__doc__ = doc
    users.command(name)(command)


_state_command("lock", "Lock a user: logins and signed calls are refused.", locked=True)
_state_command("unlock", "Unlock a user.", locked=False)
_state_command("disable", "Disable a user: logins and signed calls are refused.", disabled=True)
_state_command("enable", "Enable a disabled user.", disabled=False)

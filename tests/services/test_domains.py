"""Domain registration rules, straight on the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mimicast.services import audit, dns, domains, identity
from mimicast.services.context import Caller, Context, Deps
from mimicast.services.crypto import Vault
from mimicast.services.dns import SimulatedResolver
from mimicast.store.engine import Store
from mimicast.store.schema import AuditEvent, Domain
from mimicast.testing.harness import ManualClock
from mimicast.wire.errors import ApiError

START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@dataclass
class World:
    deps: Deps
    clock: ManualClock
    a: int  # account ids; A owns alpha.example, B owns beta.example
    b: int

    def run(self, account_id: int, work: Callable[[Context], Any]) -> Any:
        """One committed unit of work as `account_id`; an ApiError leaves no trace."""
        with self.deps.store.session() as session:
            result = work(Context(self.deps, session,
                                  Caller(account_id=account_id, actor="tester")))
            session.commit()
            return result

    def fails(self, account_id: int, work: Callable[[Context], Any]) -> ApiError:
        with pytest.raises(ApiError) as caught:
            self.run(account_id, work)
        return caught.value

    def publish(self, name: str, value: str) -> None:
        with self.deps.store.session() as session:
            dns.add_txt(session, name, value)
            session.commit()

    def audit_events(self, account_id: int) -> list[tuple[str, str]]:
        with self.deps.store.session() as session:
            return [(e.event_type, e.info) for e in session.scalars(
                select(AuditEvent).where(AuditEvent.account_id == account_id,
                                         AuditEvent.category == audit.DOMAIN)
                .order_by(AuditEvent.id))]

    def row(self, account_id: int, name: str) -> Domain | None:
        with self.deps.store.session() as session:
            return session.scalar(select(Domain).where(Domain.account_id == account_id,
                                                       Domain.name == name))


@pytest.fixture
def world(store_url: str, tmp_path: Path) -> Iterator[World]:
    store = Store(store_url)
    store.migrate()
    clock = ManualClock(START)
    deps = Deps(store=store, vault=Vault(str(tmp_path / "secret.key")),
                resolver=SimulatedResolver(store.sessions), clock=clock)
    ids = []
    with store.session() as session:
        for code, domain in (("CTA1", "alpha.example"), ("CTB1", "beta.example")):
            account = identity.create_account(session, name=code, code=code)
            session.flush()
            identity.add_internal_domain(
                Context(deps, session, Caller(account_id=account.id, actor="setup")), domain)
            ids.append(account.id)
        session.commit()
    yield World(deps, clock, ids[0], ids[1])
    store.dispose()


def create(world: World, account: int, name: str, inbound: str = "any") -> dict[str, Any]:
    result: dict[str, Any] = world.run(account,
                                       lambda ctx: domains.create_domain(ctx, name, inbound))
    return result


# Registration -------------------------------------------------------------------------------

def test_create_registers_a_pending_domain(world: World) -> None:
    created = create(world, world.a, " New.Example. ", "SMTP")
    assert created["domain"] == "new.example"
    assert created["token"].startswith(domains.TOKEN_PREFIX)
    assert created["created"] == "2026-03-01T09:30:00+0000"
    assert created["expiry"] == "2026-03-31T09:30:00+0000"
    row = world.row(world.a, "new.example")
    assert row is not None and row.status == "pending" and row.inbound_type == "smtp"
    assert row.verified_at is None and row.token == created["token"]
    assert domains.row_id(created["id"]) == row.id
    assert world.audit_events(world.a)[-1] == ("Domain registered, pending verification",
                                               "new.example")


def test_tokens_are_unique(world: World) -> None:
    tokens = {create(world, world.a, f"n{i}.example")["token"] for i in range(20)}
    assert len(tokens) == 20


def test_a_domain_under_an_own_internal_domain_is_internal_at_once(world: World) -> None:
    for name in ("mail.alpha.example", "a.b.alpha.example"):
        created = create(world, world.a, name, "known")
        assert created["token"] == "" and created["expiry"] == ""
        row = world.row(world.a, name)
        assert row is not None and row.status == "internal" and row.verified_at == START
    assert world.audit_events(world.a)[-1] == (
        "Internal domain added (parent domain internal)", "a.b.alpha.example")
    names = [d["domain"] for d in world.run(world.a, domains.internal_domains)]
    assert names == ["a.b.alpha.example", "alpha.example", "mail.alpha.example"]


def test_a_pending_parent_does_not_make_children_internal(world: World) -> None:
    create(world, world.a, "parent.example")
    assert create(world, world.a, "child.parent.example")["token"] != ""


def test_registering_twice_is_refused(world: World) -> None:
    create(world, world.a, "twice.example")
    for name in ("twice.example", "TWICE.example", "alpha.example"):
        error = world.fails(world.a, partial(domains.create_domain, domain=name,
                                             inbound_type="any"))
        assert error.code == "err_domain_already_registered", name


def test_another_accounts_internal_domain_is_refused(world: World) -> None:
    for name in ("beta.example", "mx.beta.example", "a.b.beta.example"):
        error = world.fails(world.a, partial(domains.create_domain, domain=name,
                                             inbound_type="any"))
        assert error.code == "err_domain_managed_by_another_account", name
        assert world.row(world.a, name) is None
    # The parent of B's domain is not B's: A may claim it (and must prove it by DNS).
    assert create(world, world.a, "example.org")["token"] != ""


def test_bad_input_is_a_field_error(world: World) -> None:
    for name in ("a@b.example", "nodot", "", "x..example"):
        error = world.fails(world.a, partial(domains.create_domain, domain=name,
                                             inbound_type="any"))
        assert (error.code, error.field) == ("err_validation_invalid_domain", "domain"), name
    error = world.fails(world.a, lambda ctx: domains.create_domain(ctx, "ok.example", "imap"))
    assert (error.code, error.field) == ("err_validation_invalid_value", "inboundType")
    assert world.row(world.a, "ok.example") is None


# Verification -------------------------------------------------------------------------------

def test_verify_needs_the_token_in_dns(world: World) -> None:
    created = create(world, world.a, "verify.example")
    error = world.fails(world.a, lambda ctx: domains.verify_domain(ctx, "verify.example"))
    assert error.code == "err_domain_verification_failed" and error.retryable
    world.publish("verify.example", "v=spf1 include:example -all")
    world.publish("other.example", created["token"])  # right value, wrong name
    world.publish("verify.example", created["token"] + "x")
    error = world.fails(world.a, lambda ctx: domains.verify_domain(ctx, "verify.example"))
    assert error.code == "err_domain_verification_failed"
    events_before = world.audit_events(world.a)

    world.clock.now = START + timedelta(days=3)
    world.publish("verify.example", f'"{created["token"]}"')  # quotes pasted in: still fine
    result = world.run(world.a, lambda ctx: domains.verify_domain(ctx, "Verify.Example"))
    assert result == {"id": created["id"], "domain": "verify.example", "verified": True,
                      "status": "internal"}
    row = world.row(world.a, "verify.example")
    assert row is not None and row.status == "internal"
    assert row.verified_at == START + timedelta(days=3) and row.expires_at is None
    # Failed attempts changed nothing, so they wrote no audit event; success wrote one.
    assert world.audit_events(world.a) == [*events_before, ("Domain verified", "verify.example")]
    # The token stays readable (the TXT record may be kept), the status says internal.
    code = world.run(world.a, lambda ctx: domains.verification_code(ctx, "verify.example"))
    assert code == {"domain": "verify.example", "token": created["token"]}
    status = world.run(world.a, lambda ctx: domains.provision_status(ctx, "verify.example"))
    assert status["status"] == "internal" and status["verified"] is True
    assert status["verifiedDate"] == "2026-03-04T09:30:00+0000" and status["expiry"] == ""
    error = world.fails(world.a, lambda ctx: domains.verify_domain(ctx, "verify.example"))
    assert error.code == "err_domain_not_pending"


def test_verify_by_id_and_by_both(world: World) -> None:
    first, second = create(world, world.a, "one.example"), create(world, world.a, "two.example")
    world.publish("one.example", first["token"])
    world.publish("two.example", second["token"])
    assert world.run(world.a, lambda ctx: domains.verify_domain(ctx, None, first["id"]))[
        "domain"] == "one.example"
    error = world.fails(world.a, lambda ctx: domains.verify_domain(ctx, "one.example",
                                                                   second["id"]))
    assert error.code == "err_domain_not_found"  # name and id disagree
    assert world.run(world.a, lambda ctx: domains.verify_domain(ctx, "two.example",
                                                                second["id"]))["verified"]
    error = world.fails(world.a, lambda ctx: domains.verify_domain(ctx, None, None))
    assert (error.code, error.field) == ("err_validation_null", "domain")


def test_first_verified_account_wins(world: World) -> None:
    mine, theirs = create(world, world.a, "contested.example"), create(world, world.b,
                                                                       "contested.example")
    world.publish("contested.example", mine["token"])
    world.publish("contested.example", theirs["token"])
    world.run(world.b, lambda ctx: domains.verify_domain(ctx, "contested.example"))
    error = world.fails(world.a, lambda ctx: domains.verify_domain(ctx, "contested.example"))
    assert error.code == "err_domain_managed_by_another_account"
    # …and B's win also closes the names under it to A.
    error = world.fails(world.a, lambda ctx: domains.create_domain(ctx, "x.contested.example",
                                                                   "any"))
    assert error.code == "err_domain_managed_by_another_account"


def test_a_lapsed_registration_expires_and_renews(world: World) -> None:
    created = create(world, world.a, "late.example")
    world.publish("late.example", created["token"])
    world.clock.now = START + timedelta(days=domains.VERIFICATION_DAYS)
    status = world.run(world.a, lambda ctx: domains.provision_status(ctx, "late.example"))
    assert status["status"] == "expired" and status["verified"] is False
    error = world.fails(world.a, lambda ctx: domains.verify_domain(ctx, "late.example"))
    assert error.code == "err_domain_verification_expired"
    # Still listed as pending, with its past expiry, until renewed or deleted.
    [pending] = world.run(world.a, domains.pending_domains)
    assert pending == created

    renewed = create(world, world.a, "late.example", "ldap")
    assert renewed["id"] == created["id"] and renewed["token"] != created["token"]
    assert renewed["expiry"] == "2026-04-30T09:30:00+0000"
    assert world.audit_events(world.a)[-1] == ("Pending domain renewed", "late.example")
    error = world.fails(world.a, lambda ctx: domains.verify_domain(ctx, "late.example"))
    assert error.code == "err_domain_verification_failed"  # the old token no longer counts
    world.publish("late.example", renewed["token"])
    assert world.run(world.a, lambda ctx: domains.verify_domain(ctx, "late.example"))["verified"]
    [internal] = world.run(world.a, lambda ctx: domains.internal_domains(ctx, "late.example"))
    assert internal["inboundType"] == "ldap"


# Reading, deleting, isolation ---------------------------------------------------------------

def test_lists_filter_by_name_and_id(world: World) -> None:
    one, two = create(world, world.a, "b-one.example"), create(world, world.a, "a-two.example")
    assert world.run(world.a, domains.pending_domains) == [two, one]  # by name
    assert world.run(world.a, lambda ctx: domains.pending_domains(ctx, "B-ONE.example")) == [one]
    assert world.run(world.a, lambda ctx: domains.pending_domains(ctx, None, two["id"])) == [two]
    assert world.run(world.a, lambda ctx: domains.pending_domains(ctx, "b-one.example",
                                                                  two["id"])) == []
    assert world.run(world.a, lambda ctx: domains.pending_domains(ctx, None, "eNo")) == []
    error = world.fails(world.a, lambda ctx: domains.pending_domains(ctx, "bad@name"))
    assert (error.code, error.field) == ("err_validation_invalid_domain", "domain")
    [alpha] = world.run(world.a, domains.internal_domains)
    assert alpha == {"id": alpha["id"], "domain": "alpha.example", "sendOnly": False,
                     "local": False, "inboundType": "any"}


def test_delete_pending_domain(world: World) -> None:
    created = create(world, world.a, "gone.example")
    result = world.run(world.a, lambda ctx: domains.delete_pending_domain(ctx, None,
                                                                          created["id"]))
    assert result == {"id": created["id"], "domain": "gone.example", "deleted": True}
    assert world.row(world.a, "gone.example") is None
    assert world.audit_events(world.a)[-1] == ("Pending domain deleted", "gone.example")
    for name, code in (("gone.example", "err_domain_not_found"),
                       ("alpha.example", "err_domain_not_pending"),
                       ("mail.alpha.example", "err_domain_not_found")):
        error = world.fails(world.a, partial(domains.delete_pending_domain, domain=name))
        assert error.code == code, name
    assert world.row(world.a, "alpha.example") is not None
    # Deleted, the name is free again.
    assert create(world, world.a, "gone.example")["token"] != created["token"]


def test_accounts_never_touch_each_others_domains(world: World) -> None:
    created = create(world, world.a, "private.example")
    beta_id = world.run(world.b, domains.internal_domains)[0]["id"]
    assert world.run(world.b, domains.pending_domains) == []
    assert world.run(world.b, lambda ctx: domains.pending_domains(ctx, None, created["id"])) == []
    assert world.run(world.a, lambda ctx: domains.internal_domains(ctx, None, beta_id)) == []
    attempts: list[Callable[[Context], Any]] = [
        lambda ctx: domains.verification_code(ctx, "private.example"),
        lambda ctx: domains.provision_status(ctx, "private.example"),
        lambda ctx: domains.verify_domain(ctx, "private.example"),
        lambda ctx: domains.verify_domain(ctx, None, created["id"]),
        lambda ctx: domains.delete_pending_domain(ctx, "private.example"),
        lambda ctx: domains.delete_pending_domain(ctx, None, created["id"]),
    ]
    for attempt in attempts:
        assert world.fails(world.b, attempt).code == "err_domain_not_found"
    assert world.row(world.a, "private.example") is not None
    with world.deps.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Domain).where(
            Domain.account_id == world.b)) == 1


def test_secure_ids_are_opaque_and_strict() -> None:
    made = domains.secure_id(987654)
    assert made.startswith("eN") and "=" not in made and "987654" not in made
    assert domains.row_id(made) == 987654
    for garbage in ("", "eNo", "!!!!", made[:-3], made + "AAAA", "x" * 500,
                    domains.secure_id(1).replace("eN", "fN", 1)):
        assert domains.row_id(garbage) is None, garbage


def test_a_lost_registration_race_is_already_registered(world: World,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two requests register one name at once: both pass the look-up, the unique constraint
    stops the second. Simulated by blinding the look-up; the database does the rest."""
    create(world, world.a, "race.example")
    monkeypatch.setattr(domains, "_own", lambda ctx, name: None)
    with world.deps.store.session() as session:
        ctx = Context(world.deps, session, Caller(account_id=world.a, actor="tester"))
        with pytest.raises(ApiError) as caught:
            domains.create_domain(ctx, "race.example", "any")
        assert caught.value.code == "err_domain_already_registered"
        # The session survived the failed insert: the next registration goes through.
        domains.create_domain(ctx, "after-race.example", "any")
        session.commit()
    names = [d["domain"] for d in world.run(world.a, domains.pending_domains)]
    assert names == ["after-race.example", "race.example"]
    assert [info for event, info in world.audit_events(world.a)
            if event.startswith("Domain registered")] == ["race.example", "after-race.example"]

"""TXT lookups for domain verification: real DNS, or the simulated zone kept in the store so
verification works offline (`mimicast admin dns` edits it)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mimicast.store.schema import DnsRecord


class Resolver(Protocol):
    def txt_records(self, name: str) -> list[str]: ...


class SimulatedResolver:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def txt_records(self, name: str) -> list[str]:
        with self._sessions() as session:
            rows = session.scalars(select(DnsRecord.value).where(
                DnsRecord.name == name.lower().rstrip("."), DnsRecord.type == "TXT"))
            return list(rows)


class RealResolver:
    def __init__(self, timeout: float = 5.0) -> None:
        self._timeout = timeout

    def txt_records(self, name: str) -> list[str]:
        import dns.exception
        import dns.resolver

        try:
            answer = dns.resolver.resolve(name, "TXT", lifetime=self._timeout)
        except (dns.exception.DNSException, OSError):
            return []
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]


def add_txt(session: Session, name: str, value: str) -> DnsRecord:
    record = DnsRecord(name=name.lower().rstrip("."), type="TXT", value=value)
    session.add(record)
    return record


def remove_txt(session: Session, name: str, value: str | None = None) -> int:
    query = select(DnsRecord).where(DnsRecord.name == name.lower().rstrip("."),
                                    DnsRecord.type == "TXT")
    if value is not None:
        query = query.where(DnsRecord.value == value)
    rows = list(session.scalars(query))
    for row in rows:
        session.delete(row)
    return len(rows)


def list_records(session: Session) -> list[DnsRecord]:
    return list(session.scalars(select(DnsRecord).order_by(DnsRecord.name, DnsRecord.id)))


def make_resolver(kind: str, sessions: sessionmaker[Session]) -> Resolver:
    if kind == "real":
        return RealResolver()
    if kind == "simulated":
        return SimulatedResolver(sessions)
    raise ValueError(f"unknown DNS mode {kind!r}: use 'simulated' or 'real'")

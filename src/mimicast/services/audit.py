"""The audit trail: every administrative change writes one event, here and only here."""

from __future__ import annotations

from sqlalchemy import bindparam, insert

from mimicast.services.context import Context
from mimicast.store.query import Query
from mimicast.store.schema import AuditEvent

# Categories follow the real service's audit category codes.
ACCOUNT = "account_logs"
# Views of mail content, read back by the archive's view log (this code is ours: no real
# one for them was recovered).
ARCHIVE = "archive_logs"
AUTHENTICATION = "authentication_logs"
DIRECTORY = "directory_logs"
DOMAIN = "domain_logs"
EMAIL = "email_logs"
POLICY = "policy_logs"
# Report and feed downloads (the threat-intel feed).
REPORTING = "reporting_logs"
ROLES = "role_logs"
SERVICES = "services_applications_logs"
URL_PROTECT = "ttp_url_logs"
USERS = "user_logs"

CATEGORIES = {
    ACCOUNT: "Account Logs",
    ARCHIVE: "Archive Logs",
    AUTHENTICATION: "Authentication Logs",
    DIRECTORY: "Directory Logs",
    DOMAIN: "Domain Logs",
    EMAIL: "Email Logs",
    POLICY: "Policy Logs",
    REPORTING: "Reporting Logs",
    ROLES: "Role Logs",
    SERVICES: "Services Applications Logs",
    URL_PROTECT: "URL Protect Logs",
    USERS: "User Logs",
}


_INSERT = Query(insert(AuditEvent).values(
    account_id=bindparam("account"), actor=bindparam("actor"), category=bindparam("category"),
    event_type=bindparam("event_type"), info=bindparam("info"), created_at=bindparam("at")))


def record(ctx: Context, category: str, event_type: str, info: str = "") -> None:
    """One event, in the unit's transaction (after the changes the unit made so far)."""
    _INSERT.execute(ctx.unit, account=ctx.caller.account_id, actor=ctx.caller.actor,
                    category=category, event_type=event_type, info=info, at=ctx.now())

"""Role permission strings, as the administration console names them, and the built-in roles.

Built-in roles keep their permission sets in code, so a permission added with a new endpoint
reaches existing accounts' built-in roles without a data migration.
"""

from __future__ import annotations

ACCOUNT_READ = "Account | Dashboard | Read"
ACCOUNT_EDIT = "Account | Dashboard | Edit"
DOMAINS_READ = "Directories | Internal | Read"
DOMAINS_REGISTER = "Directories | Internal | Register New Domain"
DIRECTORY_EDIT = "Directories | Internal | Edit"
LOGS_READ = "Account | Logs | Read"

ALL = frozenset({ACCOUNT_READ, ACCOUNT_EDIT, DOMAINS_READ, DOMAINS_REGISTER, DIRECTORY_EDIT,
                 LOGS_READ})

FULL_ADMINISTRATOR = "Full Administrator"
BASIC_ADMINISTRATOR = "Basic Administrator"

BUILTIN_ROLES: dict[str, tuple[str, frozenset[str]]] = {
    FULL_ADMINISTRATOR: ("Every permission of the account.", ALL),
    BASIC_ADMINISTRATOR: ("Read access to the account, its directories and its logs.",
                          frozenset({ACCOUNT_READ, DOMAINS_READ, LOGS_READ})),
}


def role_permissions(name: str, builtin: bool, stored: list[str]) -> frozenset[str]:
    if builtin and name in BUILTIN_ROLES:
        return BUILTIN_ROLES[name][1]
    return frozenset(stored)

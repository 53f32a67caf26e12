"""Role permission strings, as the administration console names them, and the built-in roles.

Built-in roles keep their permission sets in code, so a permission added with a new endpoint
reaches existing accounts' built-in roles without a data migration.
"""

from __future__ import annotations

ACCOUNT_READ = "Account | Dashboard | Read"
ACCOUNT_EDIT = "Account | Dashboard | Edit"
LOGS_READ = "Account | Logs | Read"
# Internal directories: domains and their users.
DOMAINS_READ = "Directories | Internal | Read"
DOMAINS_REGISTER = "Directories | Internal | Register New Domain"
DIRECTORY_EDIT = "Directories | Internal | Edit"
USERS_READ = DOMAINS_READ
USERS_EDIT = DIRECTORY_EDIT
# Directory groups (the profile-group tree) and directory synchronisation.
GROUPS_READ = "Directories | Groups | Read"
GROUPS_EDIT = "Directories | Groups | Edit"
DIRECTORY_SYNC_READ = "Services | Directory Synchronization | Read"
DIRECTORY_SYNC_EDIT = "Services | Directory Synchronization | Edit"
# Gateway: managed senders and policies (blocked senders, address alteration, anti-spoofing).
MANAGED_SENDERS_READ = "Gateway | Managed Senders | Read"
MANAGED_SENDERS_EDIT = "Gateway | Managed Senders | Edit"
POLICIES_READ = "Gateway | Policies | Read"
POLICIES_EDIT = "Gateway | Policies | Edit"
# Web Security block/allow lists.
WEB_SECURITY_READ = "Services | Web Security | Read"
WEB_SECURITY_EDIT = "Services | Web Security | Edit"
# Targeted Threat Protection: URL Protect's managed URLs, and decoding rewritten links.
URL_PROTECT_READ = "Services | Targeted Threat Protection | Read"
URL_PROTECT_EDIT = "Services | Targeted Threat Protection | Edit"
URL_DECODE = "Monitoring | URL Protect | Read"
# The logs, as the 1.0 documentation names their permissions: URL Protect's clicks and
# Attachment Protect's scans; the archive's search and view logs; the journal connectors
# (documented as "| Reading", named "| Read" here like every other read permission).
URL_LOGS_READ = "Monitoring | URL Protection | Read"
ATTACHMENT_LOGS_READ = "Monitoring | Attachment Protection | Read"
SEARCH_LOGS_READ = "Archive | Search Logs | Read"
VIEW_LOGS_READ = "Archive | View Logs | Read"
JOURNALING_READ = "Services | Journaling | Read"
IMPERSONATION_LOGS_READ = "Monitoring | Impersonation Protection | Read"
DLP_LOGS_READ = "Monitoring | Data Leak Prevention | Read"
AUDIT_READ = LOGS_READ
# Mail: the hold queue, message tracking (Message Finder) and the delivery queues.
HELD_READ = "Account | Monitoring | Held | Read"
HELD_EDIT = "Account | Monitoring | Held | Edit"
TRACKING_READ = "Gateway | Tracking | Read"
QUEUES_READ = "Account | Monitoring | Queues | Read"
REJECTIONS_READ = "Account | Monitoring | Rejections | Read"
SEND_EMAIL = "Gateway | Email | Send"
# The threat-intel feed: no permission for it was recovered; named like the console's
# other Services reads.
THREAT_INTEL_READ = "Services | Threat Intel | Read"

ALL = frozenset({
    ACCOUNT_READ, ACCOUNT_EDIT, LOGS_READ, DOMAINS_READ, DOMAINS_REGISTER, DIRECTORY_EDIT,
    GROUPS_READ, GROUPS_EDIT, DIRECTORY_SYNC_READ, DIRECTORY_SYNC_EDIT,
    MANAGED_SENDERS_READ, MANAGED_SENDERS_EDIT, POLICIES_READ, POLICIES_EDIT,
    WEB_SECURITY_READ, WEB_SECURITY_EDIT, URL_PROTECT_READ, URL_PROTECT_EDIT, URL_DECODE,
    URL_LOGS_READ, ATTACHMENT_LOGS_READ, SEARCH_LOGS_READ, VIEW_LOGS_READ, JOURNALING_READ,
    IMPERSONATION_LOGS_READ, DLP_LOGS_READ,
    HELD_READ, HELD_EDIT, TRACKING_READ, QUEUES_READ, REJECTIONS_READ, SEND_EMAIL,
    THREAT_INTEL_READ,
})

READ_ONLY = frozenset(permission for permission in ALL if permission.endswith("| Read"))

FULL_ADMINISTRATOR = "Full Administrator"
BASIC_ADMINISTRATOR = "Basic Administrator"

BUILTIN_ROLES: dict[str, tuple[str, frozenset[str]]] = {
    FULL_ADMINISTRATOR: ("Every permission of the account.", ALL),
    BASIC_ADMINISTRATOR: ("Read access to the account, its directories, policies and logs.",
                          READ_ONLY),
}


def role_permissions(name: str, builtin: bool, stored: list[str]) -> frozenset[str]:
    if builtin and name in BUILTIN_ROLES:
        return BUILTIN_ROLES[name][1]
    return frozenset(stored)

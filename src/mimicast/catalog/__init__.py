"""The endpoint catalog: one declarative entry per endpoint, one module per namespace.

Dispatch, validation, the OpenAPI document, the SDK's methods and the README's endpoint table
are all derived from `ENDPOINTS`.
"""

from __future__ import annotations

from mimicast.catalog import (
    account,
    archive,
    audit,
    directory,
    dlp,
    domain,
    email,
    file,
    gateway,
    journaling,
    login,
    managedsender,
    message_finder,
    policy,
    ttp,
    user,
    websecurity,
)
from mimicast.catalog.model import Endpoint

_MODULES = (login, account, archive, audit, directory, dlp, domain, email, file, gateway,
            journaling, managedsender, message_finder, policy, ttp, user, websecurity)
ENDPOINTS: dict[str, Endpoint] = {e.path: e for module in _MODULES for e in module.ENDPOINTS}

__all__ = ["ENDPOINTS", "Endpoint"]

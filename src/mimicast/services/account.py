"""The account's own description: get-account and get-support-info."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select

from mimicast.services.context import Caller, Context, Deps
from mimicast.services.identity import get_account
from mimicast.store.query import Query
from mimicast.store.schema import Account, Domain, User

REGION_NAMES = {"us": "US", "usb": "USB", "ca": "CA", "eu": "EU", "uk": "EU", "de": "DE",
                "au": "AU", "za": "ZA", "je": "JE", "sandbox": "SANDBOX"}


def describe(ctx: Context) -> dict[str, Any]:
    """get-account's answer, kept for a second: monitoring scripts call it constantly."""
    described = _describe(ctx)
    ctx.deps.snapshots.put(("account", ctx.caller.account_id), described)
    return dict(described)


def recent_description(deps: Deps, caller: Caller) -> dict[str, Any] | None:
    """The answer `describe` gave less than a second ago, if any: no store, no waiting."""
    described = deps.snapshots.get(("account", caller.account_id))
    return dict(described) if described is not None else None


def _describe(ctx: Context) -> dict[str, Any]:
    account = get_account(ctx.session, ctx.caller.account_id)
    user_count = ctx.session.scalar(select(func.count()).select_from(User).where(
        User.account_id == account.id)) or 0
    primary = ctx.session.scalar(select(Domain.name).where(
        Domain.account_id == account.id, Domain.status == "internal")
        .order_by(Domain.id).limit(1)) or ""
    return {
        "region": REGION_NAMES.get(account.region, account.region.upper()),
        "archive": True,
        "gateway": True,
        "passphrase": "",
        "supportCode": account.code[-4:],
        "maxRetention": 30,
        "maxRetentionConfirmed": True,
        "minRetentionEnabled": False,
        "automatedSegmentPurge": True,
        "type": "full",
        "policyInheritance": False,
        "databaseCode": f"{account.region}db01",
        "searchReason": False,
        "contentAdministratorDefaultView": "Metadata",
        "adminSessionTimeout": 60,
        "exportApi": True,
        "exgestAllowQuery": False,
        "accountCode": account.code,
        "accountName": account.name,
        "adminEmail": account.admin_email,
        "contactEmail": account.admin_email,
        "domain": primary,
        "userCount": user_count,
        "mimecastId": f"{account.code}-{account.id:06d}",
        "contactName": account.name,
        "telephone": "",
        "packages": ["Email Security Cloud Gateway", "Archive", "Targeted Threat Protection"],
        "mailPlatform": "Other",
    }


_ACCOUNT = Query(select(Account.code, Account.region).where(Account.id == bindparam("id")))


def support_info(ctx: Context) -> dict[str, Any]:
    account = _ACCOUNT.first(ctx.unit, id=ctx.caller.account_id)
    return {
        "partnerName": "",
        "supportPackage": "Standard",
        "customerDevelopmentManager": "",
        "mailtoLink": f"mailto:support@mimicast.invalid?subject={account.code}",
        "supportJurisdiction": REGION_NAMES.get(account.region, account.region.upper()),
        "renewalDate": "",
        "hostingJurisdiction": REGION_NAMES.get(account.region, account.region.upper()),
        "customerAdvocate": "",
        "mainProduct": "Email Security Cloud Gateway",
        "officePhone": "",
    }

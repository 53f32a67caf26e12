"""Account namespace."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from mimicast.catalog.model import Endpoint
from mimicast.services import account, permissions


class AccountResponse(BaseModel):
    region: str
    archive: bool
    gateway: bool
    passphrase: str
    supportCode: str
    maxRetention: int
    maxRetentionConfirmed: bool
    minRetentionEnabled: bool
    automatedSegmentPurge: bool
    type: str
    policyInheritance: bool
    databaseCode: str
    searchReason: bool
    contentAdministratorDefaultView: str
    adminSessionTimeout: int
    exportApi: bool
    exgestAllowQuery: bool
    accountCode: str
    accountName: str
    adminEmail: str
    contactEmail: str
    domain: str
    userCount: int
    mimecastId: str
    contactName: str
    telephone: str
    packages: list[str]
    mailPlatform: str


class SupportInfoResponse(BaseModel):
    partnerName: str
    supportPackage: str
    customerDevelopmentManager: str
    mailtoLink: str
    supportJurisdiction: str
    renewalDate: str
    hostingJurisdiction: str
    customerAdvocate: str
    mainProduct: str
    officePhone: str


def _listed(item: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    return None if item is None else [item]


ENDPOINTS = [
    Endpoint("/api/account/get-account", "The account's settings, codes and counts.",
             lambda ctx, _item: [account.describe(ctx)], permissions.ACCOUNT_READ,
             response=AccountResponse, per_item=False,
             snapshot=lambda deps, caller: _listed(account.recent_description(deps, caller)),
             read_only=True),
    Endpoint("/api/account/get-support-info", "The account's support arrangements.",
             lambda ctx, _item: [account.support_info(ctx)], permissions.ACCOUNT_READ,
             response=SupportInfoResponse, per_item=False, read_only=True),
]

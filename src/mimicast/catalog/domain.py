"""Domain namespace: register a domain, prove ownership with a DNS TXT record, list domains.

verify-domain, get-provision-status and delete-pending-domain have no published response
shape (spec 6.1, 8); the models below are this server's answer, kept small and explicit.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from mimicast.catalog.model import Endpoint, Item
from mimicast.services import domains, permissions


def _inbound_type(value: Any) -> Any:
    if value is None:
        # Reported as err_validation_null like any other missing mandatory field.
        raise PydanticCustomError("missing", "Field required")
    return value.strip().lower() if isinstance(value, str) else value


InboundType = Annotated[Literal["any", "smtp", "ldap", "known"], BeforeValidator(_inbound_type)]


# Requests -----------------------------------------------------------------------------------

class DomainItem(Item):
    domain: str = Field(min_length=1, description="The domain name, without '@'.")


class CreateDomainItem(DomainItem):
    inboundType: InboundType = Field(description="Which inbound connections are accepted.")


class DomainRefItem(Item):
    """A domain named by `domain` or by its `id` (either one; both must then agree)."""

    domain: str | None = Field(default=None, min_length=1)
    id: str | None = Field(default=None, min_length=1)


class DomainFilterItem(DomainRefItem):
    """Optional filter of the list endpoints: only the first item of `data` is read."""


# Responses ----------------------------------------------------------------------------------

class PendingDomain(BaseModel):
    id: str
    domain: str
    token: str = Field(description="The TXT value to publish; \"\" when the domain became "
                                   "internal at once under an internal parent domain.")
    created: str
    expiry: str = Field(description="End of the verification period; \"\" when internal.")


class VerificationCode(BaseModel):
    domain: str
    token: str = Field(description="The value to add as TXT to verify ownership of the domain.")


class VerifyResult(BaseModel):
    id: str
    domain: str
    verified: bool
    status: Literal["internal"]


class ProvisionStatus(BaseModel):
    id: str
    domain: str
    status: Literal["pending", "expired", "internal"] = Field(
        description="pending: awaiting verification; expired: the verification period lapsed "
                    "(create the domain again); internal: verified and in use.")
    verified: bool
    created: str
    expiry: str = Field(description="End of the verification period; \"\" when internal.")
    verifiedDate: str = Field(description="When the domain became internal; \"\" until then.")


class DeletedDomain(BaseModel):
    id: str
    domain: str
    deleted: bool


class InternalDomain(BaseModel):
    id: str
    domain: str
    sendOnly: bool
    local: bool
    inboundType: str


# Entries ------------------------------------------------------------------------------------

ENDPOINTS = [
    Endpoint("/api/domain/create-domain",
             "Register a domain: pending, with the TXT `token` to publish, for "
             f"{domains.VERIFICATION_DAYS} days; internal at once (empty token and expiry) when "
             "a parent domain is already internal in the account. Refused when the domain is "
             "another account's.",
             lambda ctx, item: domains.create_domain(ctx, item.domain, item.inboundType),
             permissions.DOMAINS_REGISTER, CreateDomainItem, PendingDomain, min_items=1),
    Endpoint("/api/domain/get-pending-domain",
             "The account's domains awaiting verification; `data: [{domain}]` or `[{id}]` "
             "narrows the list.",
             lambda ctx, item: domains.pending_domains(ctx, item.domain, item.id),
             permissions.DOMAINS_REGISTER, DomainFilterItem, PendingDomain, per_item=False,
             read_only=True),
    Endpoint("/api/domain/get-verification-code",
             "The TXT value that proves ownership of each given domain.",
             lambda ctx, item: domains.verification_code(ctx, item.domain),
             permissions.DOMAINS_REGISTER, DomainItem, VerificationCode,
             min_items=1, max_items=50, read_only=True),
    Endpoint("/api/domain/verify-domain",
             "Look up the domain's DNS TXT records; when one holds the token, the domain "
             "becomes internal. Otherwise a retryable `err_domain_verification_failed`.",
             lambda ctx, item: domains.verify_domain(ctx, item.domain, item.id),
             permissions.DOMAINS_REGISTER, DomainRefItem, VerifyResult, min_items=1,
             slow=True),
    Endpoint("/api/domain/get-provision-status",
             "Where each domain's registration stands: `status` pending, expired or internal, "
             "`verified`, `created`, `expiry` and `verifiedDate` (\"\" when not applicable).",
             lambda ctx, item: domains.provision_status(ctx, item.domain),
             permissions.DOMAINS_REGISTER, DomainItem, ProvisionStatus,
             min_items=1, max_items=50, read_only=True),
    Endpoint("/api/domain/delete-pending-domain",
             "Withdraw a pending registration, named by `domain` or `id`; internal domains "
             "are refused with `err_domain_not_pending`.",
             lambda ctx, item: domains.delete_pending_domain(ctx, item.domain, item.id),
             permissions.DOMAINS_REGISTER, DomainRefItem, DeletedDomain, min_items=1),
    Endpoint("/api/domain/get-internal-domain",
             "The account's internal (verified) domains; `data: [{domain}]` or `[{id}]` "
             "narrows the list.",
             lambda ctx, item: domains.internal_domains(ctx, item.domain, item.id),
             permissions.DOMAINS_READ, DomainFilterItem, InternalDomain, per_item=False,
             read_only=True),
]

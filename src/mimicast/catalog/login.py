"""Login namespace: discovery and login are unsigned; logout is a normal signed call."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mimicast.catalog.model import Endpoint, Item
from mimicast.services import auth
from mimicast.services.context import Context


class DiscoverRequest(Item):
    emailAddress: str = Field(min_length=1)


class Region(BaseModel):
    api: str
    name: str


class DiscoverResponse(BaseModel):
    emailAddress: str
    emailToken: str
    authenticate: list[str]
    region: Region


class LoginRequest(Item):
    userName: str | None = Field(default=None, alias="userName")
    username: str | None = None
    accessKey: str | None = None


class LoginResponse(BaseModel):
    accessKey: str
    secretKey: str
    duration: int
    bindingType: str
    extendOnValidate: bool
    username: str


class LogoutRequest(Item):
    accessKey: str | None = None


class LogoutResponse(BaseModel):
    accessKey: str
    logout: bool


def logout(ctx: Context, item: LogoutRequest) -> dict[str, Any]:
    assert ctx.caller.binding_id is not None
    auth.logout(ctx, ctx.caller.binding_id, item.accessKey)
    return {"accessKey": item.accessKey or "", "logout": True}


ENDPOINTS = [
    Endpoint("/api/login/discover-authentication",
             "Find the regional API URL and the login methods of an address (unsigned).",
             None, None, DiscoverRequest, DiscoverResponse, unsigned=True, max_items=1,
             read_only=True),
    Endpoint("/api/login/login",
             "Log in with Basic-Cloud or Basic-AD credentials: a new binding, or with "
             "`accessKey` a refresh of that binding (unsigned).",
             None, None, LoginRequest, LoginResponse, unsigned=True, max_items=1),
    Endpoint("/api/login/logout", "End a binding: the given `accessKey`, or the calling one.",
             # Not per item: an empty body (no items) still runs once and ends the calling
             # binding.
             logout, None, LogoutRequest, per_item=False, scalar_field="accessKey",
             max_items=1),
]

"""TTP URL Protect namespace (`ttp/url`): managed URLs and decoding rewritten links (spec 6.9).

Where the spec is silent: delete-managed-url fails per item (with `key`) where the one real
fixture shows a request-level failure; decode-url of anything this account did not issue
fails per item with `err_ttp_url_decode_failed`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from mimicast.catalog.model import MAX_SEARCH_LENGTH, Endpoint, Item
from mimicast.services import managed_urls, permissions, url_rewrite


def _required_word(value: Any) -> Any:
    if value is None:
        # Reported as err_validation_null like any other missing mandatory field.
        raise PydanticCustomError("missing", "Field required")
    return value.strip().lower() if isinstance(value, str) else value


def _match_type(value: Any) -> Any:
    return managed_urls.EXPLICIT if value is None else _required_word(value)


Action = Annotated[Literal["block", "permit"], BeforeValidator(_required_word)]
MatchType = Annotated[Literal["explicit", "domain"], BeforeValidator(_match_type)]
# Optional fields sent as null mean "not given".
Flag = Annotated[bool, BeforeValidator(lambda value: False if value is None else value)]
Text = Annotated[str, BeforeValidator(lambda value: "" if value is None else value)]


# Requests -----------------------------------------------------------------------------------

class CreateManagedUrlItem(Item):
    url: str = Field(min_length=1, description="The URL, or a bare domain (example.com, "
                                               "example.com/path).")
    action: Action = Field(description="Always block or always permit the URL.")
    matchType: MatchType = Field(default="explicit", description=(
        "explicit: this URL only; domain: every URL of its host."))
    comment: Text = ""
    disableRewrite: Flag = False
    disableUserAwareness: Flag = False
    disableLogClick: Flag = False


class ManagedUrlFilterItem(Item):
    domainOrUrl: str | None = Field(default=None, max_length=MAX_SEARCH_LENGTH, description=(
        "Keep managed URLs whose URL contains this text (any case)."))
    exactMatch: Flag = Field(default=False, description=(
        "true: keep only those whose domain or whole URL equals domainOrUrl."))


class ManagedUrlRefItem(Item):
    id: str = Field(min_length=1)


class DecodeUrlItem(Item):
    url: str = Field(min_length=1, description="A link as URL Protect rewrote it.")


# Responses ----------------------------------------------------------------------------------

class ManagedUrl(BaseModel):
    id: str
    scheme: str = Field(description="\"\" when the URL was given without one.")
    domain: str
    port: int = Field(description="-1 when none (or the scheme's default).")
    path: str
    queryString: str
    matchType: Literal["explicit", "domain"]
    action: Literal["block", "permit"]
    comment: str
    disableUserAwareness: bool
    disableRewrite: bool
    disableLogClick: bool


class DecodedUrl(BaseModel):
    url: str = Field(description="The original URL.")
    success: bool


# Entries ------------------------------------------------------------------------------------

ENDPOINTS = [
    Endpoint("/api/ttp/url/create-managed-url",
             "Add a managed URL: always `block` or `permit` it, by exact URL or by domain. "
             "A URL (or domain) already managed with the same match type is refused with "
             "`err_managed_url_exists_code`.",
             lambda ctx, item: managed_urls.create_managed_url(
                 ctx, item.url, item.action, item.matchType, comment=item.comment,
                 disable_rewrite=item.disableRewrite,
                 disable_user_awareness=item.disableUserAwareness,
                 disable_log_click=item.disableLogClick),
             permissions.URL_PROTECT_EDIT, CreateManagedUrlItem, ManagedUrl, min_items=1),
    Endpoint("/api/ttp/url/get-all-managed-urls",
             "The account's managed URLs, ordered by URL and paged; `data: [{domainOrUrl, "
             "exactMatch}]` narrows the list.",
             lambda ctx, item: managed_urls.list_managed_urls(ctx, item.domainOrUrl,
                                                              item.exactMatch),
             permissions.URL_PROTECT_READ, ManagedUrlFilterItem, ManagedUrl, per_item=False,
             paged=True, page_items=None, read_only=True),
    Endpoint("/api/ttp/url/delete-managed-url",
             "Remove managed URLs by `id`; success answers `data: []`.",
             lambda ctx, item: managed_urls.delete_managed_url(ctx, item.id),
             permissions.URL_PROTECT_EDIT, ManagedUrlRefItem, None, min_items=1),
    Endpoint("/api/ttp/url/decode-url",
             "The original URL behind each rewritten URL Protect link this account was "
             "issued; anything else fails with `err_ttp_url_decode_failed`.",
             lambda ctx, item: {"url": url_rewrite.decode(ctx, item.url), "success": True},
             permissions.URL_DECODE, DecodeUrlItem, DecodedUrl, min_items=1, max_items=25,
             scalar_field="url", read_only=True),
]

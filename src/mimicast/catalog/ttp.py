"""TTP URL Protect namespace (`ttp/url`): managed URLs and decoding rewritten links (spec 6.9).

Where the spec is silent: delete-managed-url fails per item (with `key`) where the one real
fixture shows a request-level failure; decode-url of anything this account did not issue
fails per item with `err_ttp_url_decode_failed`.

The TTP logs (`ttp/url/get-logs`, `ttp/attachment/get-logs`; spec 6.4, data families §2,
§3; `services.logs.ttp` says how each entry is derived): `route`, `scanResult` and `result`
are read in any case, null meaning "all"; `oldestFirst` as a bool or "true"/"false".
Chosen where unsure: click `action` is allow, warn or block; `creationMethod` "User Click"
(every entry is a click); the attachment log answers no `totalCount`, as the v1 mock does.

The threat-intel feed (`ttp/threat-intel/get-feed`, spec 6.9) answers a file, never paged
through `meta`: `services.logs.threat_intel` says what it holds and what was chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from mimicast.catalog.model import MAX_SEARCH_LENGTH, Endpoint, Item
from mimicast.services import managed_urls, permissions, url_rewrite
from mimicast.services.logs import detections, threat_intel
from mimicast.services.logs import ttp as ttp_logs


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


def _all_when_null(value: Any) -> Any:
    if value is None:
        return "all"
    return value.strip().lower() if isinstance(value, str) else value


LogRoute = Annotated[Literal["all", "inbound", "outbound", "internal"],
                     BeforeValidator(_all_when_null)]


class TtpLogItem(Item):
    # `from` is a Python keyword: the field is named for the wire by its alias.
    from_: str | None = Field(default=None, alias="from", description=(
        "Oldest time (default: the start of the day `to` falls in)."))
    to: str | None = Field(default=None, description="Newest time (default: now).")
    route: LogRoute = Field(default="all", description="The messages' route.")
    oldestFirst: Flag = Field(default=False, description="Oldest first (default: newest).")


class UrlLogItem(TtpLogItem):
    scanResult: Annotated[Literal["all", "clean", "malicious"],
                          BeforeValidator(_all_when_null)] = "all"


class AttachmentLogItem(TtpLogItem):
    result: Annotated[Literal["all", "safe", "malicious"],
                      BeforeValidator(_all_when_null)] = "all"


def _choice_or(default: str) -> Callable[[Any], Any]:
    """A choice read in any case, null meaning `default`."""
    return lambda value: default if value is None else (
        value.strip().lower() if isinstance(value, str) else value)


class ThreatFeedItem(Item):
    feedType: Annotated[Literal["malware_customer", "malware_grid"],
                        BeforeValidator(_choice_or(threat_intel.CUSTOMER))] = Field(
        default="malware_customer", description=(
            "malware_customer: the account's own sightings; malware_grid: every account's, "
            "after the known-bad list."))
    fileType: Annotated[Literal["csv", "stix"],
                        BeforeValidator(_choice_or(threat_intel.CSV))] = Field(
        default="csv", description=(
            "csv: pipe-separated, a header line then one line per indicator; stix: a STIX 2.0 "
            "bundle (application/json)."))
    compress: Flag = Field(default=False, description="The file zipped (true or \"true\").")
    start: str | None = Field(default=None, description=(
        "Oldest sighting time (default: 7 days before `end`)."))
    end: str | None = Field(default=None, description="Newest sighting time (default: now).")
    token: str | None = Field(default=None, description=(
        "The previous page's `x-mc-threat-feed-next-token` header, with the same feedType, "
        "fileType, start and end."))


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


class ClickLog(BaseModel):
    userEmailAddress: str = Field(description="Who clicked: the recipient.")
    fromUserEmailAddress: str
    url: str = Field(description="The original URL.")
    ttpDefinition: str
    subject: str
    action: Literal["allow", "warn", "block"]
    adminOverride: str = Field(description="\"Block\" for a managed URL's block, else N/A.")
    userOverride: str
    scanResult: Literal["clean", "malicious"]
    category: str
    sendingIp: str = Field(description="The sender's IP, or \"Internal IP\".")
    userAwarenessAction: str
    date: str = Field(description="When the link was clicked.")
    actions: str
    route: str
    creationMethod: str
    emailPartsDescription: list[str]
    messageId: str


class ClickLogs(BaseModel):
    clickLogs: list[ClickLog]


class AttachmentLog(BaseModel):
    senderAddress: str = Field(description="The envelope sender, \"<>\" for none.")
    recipientAddress: str
    fileName: str
    fileType: str = Field(description="The MIME type.")
    result: Literal["safe", "malicious"]
    actionTriggered: str = Field(description="hold (a malicious file's copy was held), none.")
    date: str
    details: str = Field(description="The verdict and the time the scan took.")
    route: str
    messageId: str
    subject: str
    fileHash: str = Field(description="SHA-256, hex.")
    definition: str


class AttachmentLogs(BaseModel):
    attachmentLogs: list[AttachmentLog]


# A lone value is read as a one-value list.
Words = Annotated[list[str] | None,
                  BeforeValidator(lambda value: [value] if isinstance(value, str) else value)]


class ImpersonationLogItem(TtpLogItem):
    taggedMalicious: bool | None = Field(default=None, description=(
        "true: the copies held for impersonation; false: the others."))
    searchField: str | None = Field(default=None, max_length=32, description=(
        "senderAddress, recipientAddress, subject, policy or all (default) for `query`."))
    query: str | None = Field(default=None, max_length=MAX_SEARCH_LENGTH, description=(
        "Keep entries whose `searchField` contains this text (any case)."))
    identifiers: Words = Field(default=None, description=(
        "Keep entries that hit any of these: internal_user_name, newly_observed_domain, "
        "reply_address_mismatch, similar_internal_domain."))
    actions: Words = Field(default=None, description="hold, none.")


class ImpersonationResult(BaseModel):
    impersonationDomainSource: str
    similarDomain: str = Field(description="The sender as shown: \"Name <address>\".")
    stringSimilarToDomain: str
    checkerResult: str


class ImpersonationLog(BaseModel):
    id: str
    senderAddress: str
    recipientAddress: str
    senderIpAddress: str
    subject: str
    definition: str
    hits: int = Field(description="How many indicators the message hit.")
    identifiers: list[str]
    impersonationResults: list[ImpersonationResult]
    action: Literal["hold", "none"]
    taggedExternal: bool
    taggedMalicious: bool = Field(description="The copy was held for impersonation.")
    eventTime: str
    messageId: str


class ImpersonationLogs(BaseModel):
    impersonationLogs: list[ImpersonationLog]
    resultCount: int = Field(description="Entries matching the request, over all pages.")


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
    Endpoint(ttp_logs.URL_PATH,
             "URL Protect's log of clicks on the links it rewrote or blocked, newest first "
             "(or `oldestFirst`) and paged, in `data[0].clickLogs`; `from`/`to` (default: "
             "the start of the day to now), `route` and `scanResult` narrow it.",
             lambda ctx, item: ttp_logs.url_logs(ctx, item.from_, item.to, item.route,
                                                 item.scanResult, item.oldestFirst),
             permissions.URL_LOGS_READ, UrlLogItem, ClickLogs, per_item=False, max_items=1,
             paged=True, page_items="clickLogs", read_only=True),
    Endpoint(ttp_logs.ATTACHMENT_PATH,
             "Attachment Protect's log: each file of inbound and internal mail, once per "
             "recipient copy it reached, newest first (or `oldestFirst`) and paged, in "
             "`data[0].attachmentLogs`; `from`/`to` (default: the start of the day to now), "
             "`route` and `result` narrow it.",
             lambda ctx, item: ttp_logs.attachment_logs(ctx, item.from_, item.to, item.route,
                                                        item.result, item.oldestFirst),
             permissions.ATTACHMENT_LOGS_READ, AttachmentLogItem, AttachmentLogs,
             per_item=False, max_items=1, paged=True, page_items="attachmentLogs",
             read_only=True),
    Endpoint("/api/ttp/threat-intel/get-feed",
             "Malicious files and links seen in the account's mail (`malware_customer`) or in "
             "every account's after the known-bad list (`malware_grid`), oldest first, as a "
             "file: pipe-separated CSV or a STIX 2.0 bundle (`fileType`), zipped with "
             "`compress`. While more remain, the `x-mc-threat-feed-next-token` response header "
             "is the next page's `token`. Each download is audited.",
             lambda ctx, item: threat_intel.get_feed(ctx, item.feedType, item.fileType,
                                                     item.compress, item.start, item.end,
                                                     item.token),
             permissions.THREAT_INTEL_READ, ThreatFeedItem, None, per_item=False, max_items=1,
             download=True),
    Endpoint(detections.IMPERSONATION_PATH,
             "Impersonation Protect's log: each recipient copy of mail that hit impersonation "
             "indicators, newest first (or `oldestFirst`) and paged, in "
             "`data[0].impersonationLogs` with `resultCount`; `from`/`to` (default: the "
             "start of the day to now), `taggedMalicious`, `identifiers`, `actions` and "
             "`searchField` + `query` narrow it.",
             lambda ctx, item: detections.impersonation_logs(
                 ctx, item.from_, item.to, oldest_first=item.oldestFirst,
                 tagged_malicious=item.taggedMalicious, search_field=item.searchField,
                 query=item.query, identifiers=item.identifiers, actions=item.actions),
             permissions.IMPERSONATION_LOGS_READ, ImpersonationLogItem, ImpersonationLogs,
             per_item=False, max_items=1, paged=True, page_items="impersonationLogs",
             read_only=True),
]

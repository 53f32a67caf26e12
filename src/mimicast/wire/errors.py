"""The one table of error codes: code → HTTP status, message, retryable.

Services raise `ApiError`; the pipeline turns it into a `fail` entry (per item) or an
error envelope (per request). Messages of the `err_xdk_*` family follow the real service's
"NNNN Text" form where the sub-code is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    message: str
    retryable: bool = False


ERRORS: dict[str, ErrorSpec] = {
    # Authentication and authorization of the call itself.
    "err_developer_key": ErrorSpec(200, "App ID is invalid: {app_id}"),
    "err_xdk_credentials_missing": ErrorSpec(400, "0001 Credentials are missing from the request."),
    "err_xdk_auth_type_not_supported": ErrorSpec(
        401, "0001 Authentication type not supported for the user."
    ),
    "err_xdk_authentication_failed": ErrorSpec(
        401, "0002 Authentication failed: the email address or password is not correct."
    ),
    "err_xdk_user_locked": ErrorSpec(401, "0005 The user is locked or disabled."),
    "err_xdk_invalid_signature": ErrorSpec(401, "0004 Invalid Signature"),
    "err_xdk_binding_expired": ErrorSpec(418, "0018 AccessKey Has Expired"),
    "err_xdk_binding_limit": ErrorSpec(
        409,
        "0009 Too many bindings for this user and application; refresh an existing binding "
        "(log in again with its accessKey) or revoke one.",
    ),
    "err_xdk_binding_not_found": ErrorSpec(
        401, "0006 The accessKey is not a binding of this user."
    ),
    "err_xdk_forbidden": ErrorSpec(
        403, "0007 Forbidden: the user's roles lack the permission '{permission}'."
    ),
    "err_xdk_operation_forbidden_for_address": ErrorSpec(
        403, "0003 Forbidden To Perform Operation For Address"
    ),
    "err_xdk_stale_request": ErrorSpec(
        401, "0008 The x-mc-date is outside the allowed window or the x-mc-req-id was replayed."
    ),
    "err_rate_limit_exceeded": ErrorSpec(
        429, "Quota Exceeded: the call was not executed; retry after X-RateLimit-Reset ms.", True
    ),
    "err_xdk_login_throttled": ErrorSpec(
        429, "0010 Too many failed logins: try again after X-RateLimit-Reset ms.", True
    ),
    "err_xdk_login_busy": ErrorSpec(
        429, "0011 Too many logins in progress: try again after X-RateLimit-Reset ms.", True
    ),
    # Transport.
    "err_request_malformed": ErrorSpec(400, "The request body could not be parsed: {reason}"),
    "err_request_too_large": ErrorSpec(400, "The request body is larger than {limit} bytes."),
    "err_request_headers_too_large": ErrorSpec(
        431, "The request headers are larger than {limit} bytes."
    ),
    "err_not_found": ErrorSpec(404, "Not Found: no endpoint at {path}"),
    "err_method_not_allowed": ErrorSpec(405, "Method Not Allowed: use POST"),
    "err_internal": ErrorSpec(500, "Internal Server Error", True),
    # Validation of request items (HTTP 200, per-item fail entries carrying `field`).
    "err_validation_null": ErrorSpec(200, "This field is mandatory"),
    "err_validation_blank": ErrorSpec(200, "This field must not be blank"),
    "err_validation_invalid_value": ErrorSpec(200, "Invalid value: {reason}"),
    "err_validation_invalid_email_address": ErrorSpec(200, "Email address is not valid"),
    "err_validation_invalid_domain": ErrorSpec(200, "Domain name is not valid"),
    "err_validation_item_count": ErrorSpec(200, "{reason}"),
    # Administration (CLI, admin API).
    "err_already_exists": ErrorSpec(409, "{what} already exists: {name}"),
    "err_object_not_found": ErrorSpec(404, "{what} not found: {name}"),
    "err_discover_unknown_address": ErrorSpec(200, "No account is known for {email}"),
    # Domains.
    "err_domain_already_registered": ErrorSpec(200, "The domain is already registered: {domain}"),
    "err_domain_managed_by_another_account": ErrorSpec(
        200, "The domain is managed by another account: {domain}"
    ),
    "err_domain_not_found": ErrorSpec(200, "Domain not found: {domain}"),
    "err_domain_verification_failed": ErrorSpec(
        200, "No TXT record with the verification code was found for {domain}", True
    ),
    "err_domain_not_pending": ErrorSpec(200, "The domain is not pending verification: {domain}"),
    "err_domain_verification_expired": ErrorSpec(
        200, "The verification period of {domain} has expired; create the domain again for a "
        "new verification code"
    ),
    # Directory groups and directory sync.
    "err_folder_not_found": ErrorSpec(200, "Group not found: {id}"),
    "err_folder_group_member_already_exists": ErrorSpec(200, "Group member already exists"),
    "err_folder_email_address_not_found": ErrorSpec(200, "Error email address not found"),
    "err_folder_already_exists": ErrorSpec(
        200, "A group named {name} already exists in that folder"
    ),
    "err_folder_managed_by_sync": ErrorSpec(
        200, "The group is kept in step with the directory connection {connection}: change "
        "it in the directory, then sync"
    ),
    "err_directory_connection_not_found": ErrorSpec(
        200, "Directory connection not found: {connection}"
    ),
    "err_directory_sync_no_connection": ErrorSpec(
        200, "The account has no enabled directory connection to sync"
    ),
    "err_directory_sync_failed": ErrorSpec(
        200, "Directory sync failed, nothing was imported: {reason}"
    ),
    # Users.
    "err_user_not_found": ErrorSpec(200, "User not found: {email}"),
    "err_user_domain_not_internal": ErrorSpec(
        200, "{email} is not in an internal domain of the account"
    ),
    "err_user_address_in_use": ErrorSpec(
        200, "The address is already in use by a user or an alias: {email}"
    ),
    "err_user_alias_not_found": ErrorSpec(200, "Alias not found: {email}"),
    "err_user_delegate_exists": ErrorSpec(200, "{delegate} is already a delegate of {email}"),
    "err_user_delegate_not_found": ErrorSpec(200, "{delegate} is not a delegate of {email}"),
    # Managed senders and policies.
    "err_managed_sender_not_found": ErrorSpec(200, "Managed sender not found: {id}"),
    "err_managed_sender_recipient_not_internal": ErrorSpec(
        200, "The recipient is not an address in one of the account's internal domains: {to}"
    ),
    "err_policy_not_found": ErrorSpec(404, "Policy not found: {id}"),
    "err_address_alteration_set_not_found": ErrorSpec(
        200, "Address alteration set not found: {id}"
    ),
    "err_address_alteration_set_in_use": ErrorSpec(
        200, "The address alteration set is used by {count} policy(ies); delete or move them first"
    ),
    "err_address_alteration_definition_not_found": ErrorSpec(
        200, "Address alteration definition not found: {id}"
    ),
    "err_address_alteration_definition_exists": ErrorSpec(
        200, "The set already alters {address}"
    ),
    # URL Protect.
    "err_managed_url_exists_code": ErrorSpec(
        200, "The managed URL already exists; to update it, delete and recreate"
    ),
    "err_managed_url_not_found": ErrorSpec(200, "Managed URL not found"),
    "err_ttp_url_decode_failed": ErrorSpec(
        200, "The URL is not a rewritten URL Protect link of this account"
    ),
    # Logs.
    "err_audit_siem_invalid_token": ErrorSpec(200, "The SIEM token is not valid: {reason}"),
    # Mail: the hold queue and Message Finder.
    "err_message_not_found": ErrorSpec(200, "Message not found: {id}"),
    "err_message_not_held": ErrorSpec(200, "The message is not held (it is {status}): {id}"),
    "err_track_and_trace_invalid_start_date": ErrorSpec(
        200, "The start date may be at most {days} days ago"
    ),
    # Uploaded files (`file/file-upload`, the PUT to its URL, send-email's `attachments[] {id}`).
    "err_upload_url_invalid": ErrorSpec(
        400, "The upload URL was not issued by this server, or was altered"
    ),
    "err_upload_url_expired": ErrorSpec(
        403, "The upload URL has expired: call file/file-upload again for a new one"
    ),
    "err_upload_size_mismatch": ErrorSpec(
        400, "The body is {actual} bytes, not the {declared} bytes file-upload declared"
    ),
    "err_upload_sha256_mismatch": ErrorSpec(
        400, "The body's SHA-256 is {actual}, not the {declared} file-upload declared"
    ),
    "err_upload_not_found": ErrorSpec(200, "Uploaded file not found: {id}"),
    "err_upload_incomplete": ErrorSpec(
        200, "The file's bytes have not been uploaded yet (PUT them to its URL): {id}"
    ),
    # Audit.
    "err_audit_history_limit": ErrorSpec(
        200, "Historical lookup is restricted to the last {days} days"
    ),
}


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


class ApiError(Exception):
    """A failure the API reports to the caller; `code` is a key of `ERRORS`."""

    def __init__(self, code: str, *, field: str | None = None, message: str | None = None,
                 echo: dict[str, Any] | None = None, retry_after_ms: int | None = None,
                 **params: Any) -> None:
        spec = ERRORS[code]
        self.code = code
        # Keys the real service adds to the echoed request item of this failure's fail entry.
        self.echo = echo
        # When to try again, for the X-RateLimit-Reset header of a request-level failure.
        self.retry_after_ms = retry_after_ms
        self.status = spec.status
        self.retryable = spec.retryable
        self.field = field
        # A missing placeholder renders as "?" rather than failing: an error must never 500.
        self.message = message if message is not None else spec.message.format_map(
            _Params(params))
        super().__init__(f"{code}: {self.message}")

    def as_error(self) -> dict[str, Any]:
        """The `errors[]` element of a fail entry."""
        error: dict[str, Any] = {"code": self.code, "message": self.message,
                                 "retryable": self.retryable}
        if self.field is not None:
            error["field"] = self.field
        return error

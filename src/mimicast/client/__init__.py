"""The Python SDK for the Mimecast API 1.0, against real Mimecast or `mimicast serve`.

    from mimicast.client import Client

    with Client.login("admin@example.com", "password", app_id, app_key,
                      base_url="http://127.0.0.1:8080") as client:
        account = client.account.get_account()[0]
        codes = client.domain.get_verification_code(domain="example.com")

Signing is `mimicast.wire.signing`, the code the server verifies with.
"""

from mimicast.client.aio import AsyncClient
from mimicast.client.auth import LoginCredentials, MimecastAuth
from mimicast.client.errors import (
    ApiFailure,
    AuthenticationError,
    BindingExpiredError,
    ErrorDetail,
    Failure,
    MimicastError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)
from mimicast.client.paging import AsyncPager, Page, Pager, RepeatedTokenError
from mimicast.client.regions import DISCOVERY_URL, REGIONS, region_url
from mimicast.client.sync import Client
from mimicast.client.transport import DownloadedFile

__all__ = [
    "DISCOVERY_URL", "REGIONS", "ApiFailure", "AsyncClient", "AuthenticationError",
    "BindingExpiredError", "Client", "DownloadedFile", "ErrorDetail", "Failure",
    "LoginCredentials", "AsyncPager", "MimecastAuth", "MimicastError", "NotFoundError",
    "Page", "Pager", "PermissionDeniedError", "RateLimitedError", "RepeatedTokenError",
    "ServerError", "TransportError", "ValidationError", "region_url",
]

"""Helpers of the SDK tests: a request counter and names for new domains."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from mimicast.client import Client

ClientFactory = Callable[..., Client]


class Requests:
    """An httpx event hook counting requests per path (retries included) and statuses."""

    def __init__(self) -> None:
        self.paths: Counter[str] = Counter()
        self.statuses: list[int] = []
        self.last_headers: dict[str, str] = {}

    def on_request(self, request: httpx.Request) -> None:
        self.paths[request.url.path] += 1
        self.last_headers = dict(request.headers)

    def on_response(self, response: httpx.Response) -> None:
        self.statuses.append(response.status_code)

    def hooks(self) -> dict[str, list[Any]]:
        return {"request": [self.on_request], "response": [self.on_response]}

    def async_hooks(self) -> dict[str, list[Any]]:
        """The same hooks for AsyncClient, whose httpx pool awaits them."""

        async def on_request(request: httpx.Request) -> None:
            self.on_request(request)

        async def on_response(response: httpx.Response) -> None:
            self.on_response(response)

        return {"request": [on_request], "response": [on_response]}



def new_domain() -> str:
    """A domain outside every tenant's internal domain: it stays pending until verified."""
    return f"d{uuid.uuid4().hex[:10]}.example.org"

"""(being written) the policy/webwhiteurl namespace."""

from __future__ import annotations

from mimicast.catalog.model import Endpoint

ENDPOINTS: list[Endpoint] = []

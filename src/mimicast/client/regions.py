"""Mimecast API 1.0 regional base URLs (spec §3.4) and the global discovery host."""

from __future__ import annotations

DISCOVERY_URL = "https://api.mimecast.com"

REGIONS: dict[str, str] = {
    "eu": "https://eu-api.mimecast.com",  # Europe excluding Germany ("uk")
    "de": "https://de-api.mimecast.com",
    "us": "https://us-api.mimecast.com",  # United States, A grid
    "usb": "https://usb-api.mimecast.com",  # United States, B grid
    "ca": "https://ca-api.mimecast.com",
    "za": "https://za-api.mimecast.com",
    "au": "https://au-api.mimecast.com",
    "je": "https://je-api.mimecast.com",  # Offshore (Jersey)
    "sandbox": "https://sandbox-api.mimecast.com",
    "uspcom": "https://uspcom-api.mimecast-pscom-us.com",  # US public sector
}
# Labels the documentation and other clients use for the same grids.
_ALIASES = {"uk": "eu", "usa": "us", "jer": "je", "offshore": "je", "usbcom": "uspcom"}


def region_url(region: str) -> str:
    """The base URL of a region name (case-insensitive); ValueError for an unknown one."""
    name = region.strip().lower()
    name = _ALIASES.get(name, name)
    try:
        return REGIONS[name]
    except KeyError:
        known = ", ".join(sorted(REGIONS))
        raise ValueError(f"unknown region {region!r}; known regions: {known}") from None

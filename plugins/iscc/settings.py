"""Settings of the ``iscc`` group: ``[plugin.iscc]`` in plugins.toml, env ``ISCC_WEB_<FIELD>``."""

from __future__ import annotations

import ipaddress
from typing import Any

import attrs

from plugins._processing.settings import ProcessingSettings

#: This group's table in plugins.toml, ``[plugin.iscc]``.
SECTION = "iscc"

def _networks(instance: Any, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    for entry in value:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{attribute.name}: not a network: {entry!r}") from None


def _positive(instance: Any, attribute: attrs.Attribute, value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


@attrs.frozen(kw_only=True)
class IsccSettings(ProcessingSettings):
    """ISCC generation settings (the processing fields are shared with metadata/simprint)."""

    #: Semantic-Code unit when POST /iscc omits ``semantic`` (ISCC_WEB_SEMANTIC_DEFAULT).
    semantic_default: bool = False
    #: With ``semantic=true`` and no model for the file's mode, answer the standard code with
    #: a ``Warning`` header and ``"semantic": false`` instead of 422 (ISCC_WEB_SEMANTIC_FALLBACK).
    semantic_fallback: bool = False

    #: Accept ``{"url": ...}`` JSON bodies (no X-Upload-Filename): fetch and process the URL
    #: (ISCC_WEB_URL_INTAKE).
    url_intake: bool = True
    #: Networks (CIDRs) exempt from the SSRF guard's address block (ISCC_WEB_URL_ALLOW_NETWORKS,
    #: comma separated); empty: only public addresses are fetched.
    url_allow_networks: tuple[str, ...] = attrs.field(default=(), validator=_networks)
    #: Seconds to connect, and between bytes, when fetching a URL (ISCC_WEB_URL_TIMEOUT).
    url_timeout: float = attrs.field(default=30.0, validator=_positive)

    def fetch_policy(self) -> Any:
        """The kernel's URL intake policy for these settings, or ``None`` when intake is off."""
        if not self.url_intake:
            return None
        from kernel import fetch_policy

        return fetch_policy(self.url_allow_networks, self.url_timeout)

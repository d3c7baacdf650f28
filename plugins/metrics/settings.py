"""Settings of the ``metrics`` group: ``[plugin.metrics]``, env ``ISCC_WEB_METRICS_<FIELD>``."""

from __future__ import annotations

import ipaddress
from typing import Any

import attrs

#: This group's table in plugins.toml, ``[plugin.metrics]``.
SECTION = "metrics"

#: Loopback only: a scraper elsewhere is let in by naming its network.
DEFAULT_NETWORKS = ("127.0.0.0/8", "::1/128")


def _networks(instance: Any, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    for entry in value:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"networks: {entry!r} is not an address or network") from None


@attrs.frozen(kw_only=True)
class MetricsSettings:
    """Prometheus metrics at ``GET /metrics``."""

    #: Serve ``/metrics`` and count requests; ``false`` switches both off (404, no cost).
    enabled: bool = True
    #: Client addresses or networks allowed to scrape; others get 403. ``["0.0.0.0/0", "::/0"]``
    #: allows everyone. Behind a proxy the client address honours ``[kernel] trusted_proxies``.
    networks: tuple[str, ...] = attrs.field(default=DEFAULT_NETWORKS, validator=_networks)

    def allows(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped:  # type: ignore[union-attr]
            ip = ip.ipv4_mapped  # type: ignore[union-attr]
        return any(ip in ipaddress.ip_network(n, strict=False) for n in self.networks)

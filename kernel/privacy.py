"""Who is asking: an owner identity derived from the client address, and the access rule."""

from __future__ import annotations

import ipaddress

import blake3
from quart import Request

from kernel.config import Settings
from kernel.hookspecs import hookimpl
from kernel.storage import UploadMeta


def owner_hash(address: str) -> str:
    """The stored identity of a client: blake3 hex digest of its address (never the address)."""
    return blake3.blake3(address.encode("ascii", "replace")).hexdigest()


def _is_trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(request: Request, trusted_proxies: tuple[str, ...]) -> str:
    """The client's address; ``X-Forwarded-For`` counts only when the peer is a trusted proxy.

    The forwarded chain is walked from the right (the hop nearest to us); the first address
    that is not itself a trusted proxy is the client. Entries a client forged on the left are
    never reached while a trusted proxy appends the real peer.
    """
    peer = request.remote_addr or ""
    if not trusted_proxies or not _is_trusted(peer, trusted_proxies):
        return peer
    chain = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([h for h in chain if h]):
        if not _is_trusted(hop, trusted_proxies):
            return hop
    return peer


@hookimpl(trylast=True)
def actor_from_request(request: Request, settings: Settings) -> str:
    return owner_hash(client_address(request, settings.kernel.trusted_proxies))


@hookimpl(trylast=True)
def media_access(actor: str, meta: UploadMeta, action: str, settings: Settings) -> bool:
    return not settings.kernel.private_files or actor == meta.user

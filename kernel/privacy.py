"""Who is asking and what they may do: the owner identity and the one access rule per package.

The identity of a client is a **keyed** blake3 hash of its address, keyed with a secret of the
deployment (``owner_key``, or one the storage backend keeps), so a stored or logged identity
cannot be reversed by hashing every IPv4 address. Logs carry only :func:`log_prefix` of it.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

import blake3
from quart import Request

from kernel.config import Settings
from kernel.context import open_package, runtime
from kernel.errors import NotFound
from kernel.hookspecs import hookimpl
from kernel.storage import UploadMeta

#: Name under which the storage backend keeps the generated owner key.
OWNER_KEY_NAME = "owner_key"
#: blake3 key-derivation context turning an ``owner_key`` setting (any text) into a key.
_KEY_CONTEXT = "iscc-web-trio 2026 owner identity key"
#: Hex digits of an identity that appear in logs.
LOG_PREFIX_CHARS = 8

#: Actions on a package, by the setting that makes them owner-only.
RESULT_ACTIONS = frozenset({"result"})  # GET /iscc/{id}, GET /metadata/{id}: private_results
FILE_ACTIONS = frozenset({"download", "delete", "embed"})  # private_files

V = TypeVar("V", bound=Callable[..., Awaitable[Any]])


def key_from_setting(owner_key: str) -> bytes:
    """The 32-byte hashing key for an ``owner_key`` setting (any non-empty text)."""
    return blake3.blake3(owner_key.encode("utf-8"), derive_key_context=_KEY_CONTEXT).digest()


def owner_hash(address: str, key: bytes) -> str:
    """The stored identity of a client: keyed blake3 hex digest of its address."""
    return blake3.blake3(address.encode("ascii", "replace"), key=key).hexdigest()


def log_prefix(actor: str) -> str:
    """The part of an identity that may appear in a log line."""
    return actor[:LOG_PREFIX_CHARS]


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


def in_networks(address: str, networks: tuple[str, ...]) -> bool:
    """Whether ``address`` lies in one of ``networks`` (addresses or CIDR blocks)."""
    return _is_trusted(address, networks)


@hookimpl(trylast=True)
def actor_from_request(request: Request, settings: Settings) -> str:
    address = client_address(request, settings.kernel.trusted_proxies)
    return owner_hash(address, runtime().secrets.owner_key)


@hookimpl(trylast=True)
def media_access(actor: str, meta: UploadMeta, action: str, settings: Settings) -> bool:
    """The kernel's rule: owner-only where the setting for the action says so.

    ``result`` (the stored ISCC, the extracted metadata) follows ``private_results``
    (default off: the unguessable id is a shareable link, as in iscc-web); the file itself
    (``download``, ``delete``, ``embed``) follows ``private_files``. An unknown action is
    owner-only.
    """
    if action in RESULT_ACTIONS:
        private = settings.kernel.private_results
    elif action in FILE_ACTIONS:
        private = settings.kernel.private_files
    else:
        private = True
    return not private or hmac.compare_digest(actor, meta.user)


def package_route(action: str, *, not_found: str | None = None) -> Callable[[V], V]:
    """Route decorator: the kernel's one access rule for every route that names a package.

    The route's ``media_id`` is loaded (404 when unknown) and checked against
    :func:`media_access` for ``action`` (403 for a stranger); the view receives the package's
    :class:`UploadMeta` as ``meta`` instead of the id. Every route whose path has a
    ``<mid:...>`` part must use it; the app refuses to start otherwise.

    Args:
        action: what the route does with the package (``result``, ``download``, ``delete``,
            ``embed``), which decides the setting that makes it owner-only.
        not_found: the 404 detail for an unknown package, if the route's contract names one.
    """
    if action not in RESULT_ACTIONS | FILE_ACTIONS:
        raise ValueError(f"unknown package action {action!r}")

    def decorate(view: V) -> V:
        @wraps(view)
        async def guarded(media_id: str, **kwargs: Any) -> Any:
            try:
                meta = await open_package(media_id, action)
            except NotFound:
                if not_found is None:
                    raise
                raise NotFound(not_found) from None
            return await view(meta=meta, **kwargs)

        guarded.package_action = action  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate

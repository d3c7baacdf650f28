"""The SSRF guard: which addresses the server may fetch from, enforced where connections open.

The host of every URL (and of every redirect) is resolved here, each address is checked, and
the connection is opened to the checked address itself (never re-resolved by anyone else), so
a DNS answer that changes between check and connect ("rebinding") cannot reach a refused
address. TLS still verifies, and SNI names, the URL's host; the ``Host`` header is the URL's.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import httpcore
import httpx
import trio

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: ``resolve(host, port)`` -> the addresses a name stands for (the system resolver by default).
Resolver = Callable[[str, int], Awaitable[list[str]]]

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix
_REASONS = (  # (test, what the refusal calls the address); the first match names it
    (lambda ip: ip.is_unspecified, "an unspecified"),
    (lambda ip: ip.is_loopback, "a loopback"),
    (lambda ip: ip.is_link_local, "a link-local"),
    (lambda ip: ip.is_multicast, "a multicast"),
    (lambda ip: ip.version == 4 and ip in _SHARED, "a shared (carrier-grade NAT)"),
    (lambda ip: ip.is_reserved, "a reserved"),
    (lambda ip: ip.is_private, "a private"),
    (lambda ip: not ip.is_global, "a non-public"),
)


class AddressRefused(Exception):
    """The URL's host is (or resolves to) an address the guard refuses; says which kind."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class HostUnresolved(Exception):
    """The URL's host name has no address."""


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (or single addresses) as networks. Raises: ValueError naming a bad entry."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not a network: {value!r}") from None
    return tuple(networks)


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip: IPAddress, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why the guard refuses ``ip`` (e.g. ``"a loopback"``), or ``None`` if it may be fetched.

    An address inside ``allowed`` is always permitted; an IPv4-mapped IPv6 address is judged
    as its IPv4 address, a 6to4 or NAT64 one by both.
    """
    candidates: list[IPAddress] = [ip]
    embedded = _embedded_ipv4(ip)
    if embedded is not None:  # a mapped address is its IPv4 address; others are judged twice
        mapped = isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None
        candidates = [embedded] if mapped else [embedded, ip]
    if any(c in net for c in candidates for net in allowed if c.version == net.version):
        return None
    for candidate in candidates:
        for test, reason in _REASONS:
            if test(candidate):
                return reason
    return None


async def system_resolve(host: str, port: int) -> list[str]:
    try:
        infos = await trio.socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise HostUnresolved(host) from None
    return [str(info[4][0]) for info in infos]


class GuardedBackend(httpcore.TrioBackend):
    """httpcore's Trio backend, but every TCP connection goes to a checked address."""

    def __init__(self, allowed: Sequence[IPNetwork], resolve: Resolver = system_resolve):
        self.allowed = tuple(allowed)
        self.resolve = resolve

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        with trio.move_on_after(timeout if timeout is not None else float("inf")) as scope:
            addresses = await self._checked(host, port)
        if scope.cancelled_caught:
            raise httpcore.ConnectTimeout("resolving the host timed out")
        last: Exception | None = None
        for address in addresses:  # each one checked; connect to the literal, no new lookup
            try:
                return await super().connect_tcp(address, port, timeout, local_address,
                                                 socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def _checked(self, host: str, port: int) -> list[str]:
        try:
            literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        names = [str(literal)] if literal is not None else await self.resolve(host, port)
        if not names:
            raise HostUnresolved(host)
        for name in names:
            reason = refusal(ipaddress.ip_address(name.split("%", 1)[0]), self.allowed)
            if reason is not None:  # any refused answer refuses the host (no mixed answers)
                raise AddressRefused(reason)
        return names


_MAPPED: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.TimeoutException, httpx.TimeoutException),
)


def _as_httpx(exc: Exception) -> Exception:
    for source, target in _MAPPED:
        if isinstance(exc, source):
            return target(str(exc))
    return exc


#: ``response.extensions[RAW_BODY]``: the body as an async iterator that is not a generator.
#: httpx's and httpcore's body iterators are async generators nobody acloses, so a body left
#: mid-stream (over the size limit) would be closed only when collected; reading this one,
#: closing the response closes everything at once.
RAW_BODY = "iscc_web.raw_body"


class _ResponseStream(httpx.AsyncByteStream):
    """httpcore's response body for httpx: errors mapped, its iterator closed with the body."""

    def __init__(self, stream: Any):
        self._stream = stream
        self._parts: Any = None

    def __aiter__(self) -> _ResponseStream:
        if self._parts is None:
            self._parts = self._stream.__aiter__()
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self._parts.__anext__()
        except (httpcore.TimeoutException, httpcore.NetworkError,
                httpcore.ProtocolError) as exc:
            raise _as_httpx(exc) from None

    async def aclose(self) -> None:
        if self._parts is not None:
            await self._parts.aclose()
        await self._stream.aclose()


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport (HTTP/1.1, TLS verified, no proxies) over :class:`GuardedBackend`."""

    def __init__(self, backend: GuardedBackend):
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=backend,
            max_connections=4, max_keepalive_connections=0, http1=True, http2=False, retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host,
                             port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw, content=request.stream,  # type: ignore[arg-type]
            extensions=request.extensions)
        try:
            response = await self._pool.handle_async_request(core)
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError,
                httpcore.PoolTimeout) as exc:
            raise _as_httpx(exc) from None
        body = _ResponseStream(response.stream)
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=body, extensions={**response.extensions, RAW_BODY: body})

    async def aclose(self) -> None:
        await self._pool.aclose()

"""The similarity index behind one small interface: iscc-search embedded, or its server.

Embedded (``index_uri``): iscc-search's ``UsearchIndexManager`` (or ``LmdbIndexManager``) in
this process, opened on first use. Remote (``index_url``): iscc-search's own ``RemoteIndex``
client of a running ``iscc-search serve``, with a timeout on every call. Either way every
index call is blocking library code, so it runs in a thread: writes one at a time (a
``CapacityLimiter(1)``), reads in parallel. A call that cannot be answered in time, or an
index that cannot be reached, raises :class:`IndexUnavailable` (the routes answer 503).
Scoring, persistence and index formats are iscc-search's; nothing here re-implements them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

import trio

from kernel import BadRequest, ServiceUnavailable
from plugins.similar.settings import SimilarSettings

if TYPE_CHECKING:
    from iscc_search.schema import IsccAddResult, IsccEntry, IsccQuery, IsccSearchResult

T = TypeVar("T")
log = logging.getLogger("iscc_web.similar")

#: Seconds a client should wait before retrying after a 503 from the index.
RETRY_AFTER = 5


class IndexUnavailable(ServiceUnavailable):
    """The index could not answer (server down, timed out, refused us): 503, retry later."""

    def __init__(self, reason: str):
        super().__init__("The similarity index is not available right now; try again later.",
                         headers={"Retry-After": str(RETRY_AFTER)})
        self.reason = reason


class IndexRejected(BadRequest):
    """The index refused the request as invalid (400; the detail is safe to show)."""


def search_installed() -> bool:
    """Whether iscc-search (the ``search`` extra) can be imported (a cheap check)."""
    import importlib.util

    try:
        return importlib.util.find_spec("iscc_search") is not None
    except (ImportError, ValueError):
        return False


def _quiet_library_logs() -> None:
    """iscc-search (and its usearch layer) log through loguru; this service logs its own."""
    from loguru import logger

    for library in ("iscc_search", "iscc_usearch"):
        logger.disable(library)


def _uri_path(uri: str) -> Path:
    path = urlparse(uri).path
    return Path(path[1:] if path.startswith("//") else path)


def open_embedded(uri: str) -> Any:
    """An iscc-search index manager on a local directory (``usearch://`` or ``lmdb://``)."""
    _quiet_library_logs()
    scheme = urlparse(uri).scheme
    if scheme == "usearch":
        from iscc_search.indexes.usearch import UsearchIndexManager
        from iscc_search.indexes.usearch.index import UsearchIndex

        # iscc-search opens this LMDB store with meminit=False: pages are written without
        # zeroing their unused space, so leftover heap memory of this process (request data,
        # media ids, owner hashes) could land in the index file. Entries hold only what an
        # adder published, so the pages are zeroed (tests/test_similar.py checks the files).
        UsearchIndex.DEFAULT_LMDB_OPTIONS = {**UsearchIndex.DEFAULT_LMDB_OPTIONS,
                                             "meminit": True}
        return UsearchIndexManager(_uri_path(uri))
    from iscc_search.indexes.lmdb import LmdbIndexManager

    return LmdbIndexManager(_uri_path(uri))


def open_remote(url: str, name: str, api_key: str, timeout: float) -> Any:
    """iscc-search's ``RemoteIndex`` client whose HTTP client has ``timeout`` on every phase."""
    import httpx
    from iscc_search.remote import RemoteIndex

    _quiet_library_logs()

    class BoundedRemoteIndex(RemoteIndex):  # type: ignore[misc]
        """The library's client; only its HTTP client is ours (timeouts, no env proxies)."""

        @property
        def client(self) -> httpx.Client:
            if self._client is None:  # type: ignore[has-type]
                headers = {"X-API-Key": self.api_key} if self.api_key else {}
                self._client = httpx.Client(
                    base_url=self.url, headers=headers, trust_env=False,
                    timeout=httpx.Timeout(timeout),
                    limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
                )
            return self._client

    return BoundedRemoteIndex(url, name, api_key=api_key or None)


class SimilarIndex:
    """One app's view of its similarity index (see the module docstring)."""

    def __init__(self, settings: SimilarSettings, media_path: str):
        self.settings = settings
        self.name = settings.index_name
        self.uri = settings.index_url if settings.remote else settings.embedded_uri(media_path)
        self.backend = "remote" if settings.remote else urlparse(self.uri).scheme
        self._writes = trio.CapacityLimiter(1)
        self._opening = trio.Lock()
        self._index: Any = None
        self._ready = False

    # --- life cycle ---------------------------------------------------------------------

    async def _opened(self) -> Any:
        if self._index is not None and self._ready:
            return self._index
        async with self._opening:
            if self._index is None:
                self._index = await self._thread(self._open, write=True)
            if not self._ready:
                await self._thread(self._create, write=True)
                self._ready = True
        return self._index

    def _open(self) -> Any:
        s = self.settings
        if s.remote:
            return open_remote(s.index_url, self.name, s.index_api_key, s.index_timeout)
        return open_embedded(self.uri)

    def _create(self) -> None:
        from iscc_search.schema import IsccIndex

        with contextlib.suppress(FileExistsError):
            self._index.create_index(IsccIndex(name=self.name))

    async def aclose(self) -> None:
        """Close the index (the embedded one saves its vector files)."""
        if self._index is None:
            return
        index, self._index, self._ready = self._index, None, False
        with trio.CancelScope(shield=True):
            async with self._writes:
                await trio.to_thread.run_sync(index.close)

    # --- thread offload with time limits ------------------------------------------------

    async def _thread(self, fn: Callable[..., T], *args: Any, write: bool = False,
                      timeout: float | None = None) -> T:  # noqa: ASYNC109 - maps to 503
        """Run ``fn`` in a thread; past ``index_timeout`` raise :class:`IndexUnavailable`.

        A remote call is abandoned at the deadline (its own HTTP timeouts end the thread).
        An embedded write is never abandoned once started, so no write is half-done: only
        the wait for the write slot is bounded.
        """
        remote = self.settings.remote
        if timeout is None:
            # remote: connect, write and read of a request, each bounded by index_timeout
            timeout = self.settings.index_timeout * (3 if remote else 1)
        try:
            if write and not remote:
                with trio.fail_after(timeout):
                    await self._writes.acquire()
                try:
                    return await trio.to_thread.run_sync(self._call, fn, *args)
                finally:
                    self._writes.release()
            limiter = self._writes if write else None
            with trio.fail_after(timeout):
                return await trio.to_thread.run_sync(self._call, fn, *args,
                                                     abandon_on_cancel=True, limiter=limiter)
        except trio.TooSlowError:
            log.warning("similarity index (%s) did not answer within %.1f s", self.backend,
                        timeout)
            raise IndexUnavailable("timeout") from None

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Translate transport failures of the remote client into :class:`IndexUnavailable`."""
        try:
            return fn(*args)
        except (FileNotFoundError, FileExistsError, ValueError):
            raise
        except Exception as exc:
            if self.settings.remote:
                log.warning("iscc-search server %s failed: %s", self.uri, _describe(exc))
                raise IndexUnavailable(type(exc).__name__) from None
            raise

    # --- operations ---------------------------------------------------------------------

    async def search(self, query: IsccQuery, limit: int) -> IsccSearchResult:
        index = await self._opened()
        try:
            return await self._thread(index.search_assets, self.name, query, limit)
        except FileNotFoundError:
            # the index was dropped (by another instance): it is empty now
            self._ready = False
            from iscc_search.schema import IsccSearchResult

            return IsccSearchResult(query=query, global_matches=[], chunk_matches=[])
        except ValueError as exc:
            raise IndexRejected(f"The index rejected the query: {exc}") from None

    async def add(self, entry: IsccEntry) -> IsccAddResult:
        index = await self._opened()
        for attempt in (1, 2):
            try:
                results = await self._thread(index.add_assets, self.name, [entry], write=True)
                return results[0]
            except FileNotFoundError:
                if attempt == 2:
                    raise IndexUnavailable("index missing") from None
                self._ready = False
                index = await self._opened()
            except ValueError as exc:
                raise IndexRejected(f"The index rejected the entry: {exc}") from None
        raise AssertionError("unreachable")

    async def get(self, iscc_id: str) -> IsccEntry | None:
        index = await self._opened()
        try:
            return await self._thread(index.get_asset, self.name, iscc_id)
        except (FileNotFoundError, ValueError):
            # not there, or of another realm than this index: either way not in it
            return None

    async def entries(self, timeout: float | None = None) -> int:  # noqa: ASYNC109
        """The number of entries; ``timeout`` overrides ``index_timeout`` (status reports)."""
        index = await self._opened()
        try:
            info = await self._thread(index.get_index, self.name, timeout=timeout)
        except FileNotFoundError:
            self._ready = False
            return 0
        return int(info.assets or 0)

    async def stats(self) -> dict[str, Any]:
        index = await self._opened()
        try:
            info = await self._thread(index.get_index, self.name)
        except FileNotFoundError:
            self._ready = False
            return {"name": self.name, "assets": 0, "size": 0}
        return info.model_dump(exclude_none=True)

    async def drop(self) -> None:
        """Delete every entry (iscc-search has no per-entry delete); the index stays usable."""
        index = await self._opened()
        with contextlib.suppress(FileNotFoundError):
            await self._thread(index.delete_index, self.name, write=True)
        self._ready = False
        await self._opened()


def _describe(exc: BaseException) -> str:
    """A log-safe one-liner for a client failure (status line, never a body)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:200]}"

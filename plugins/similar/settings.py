"""Settings of the ``similar`` group: ``[plugin.similar]``, env ``ISCC_WEB_<FIELD>``."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import attrs

from plugins._processing.settings import ProcessingSettings

#: This group's table in plugins.toml, ``[plugin.similar]``.
SECTION = "similar"
#: iscc-search's rule for index names.
INDEX_NAME = re.compile(r"^[a-z][a-z0-9]{0,31}$")
#: Index backends of iscc-search that run inside this process.
EMBEDDED_SCHEMES = ("usearch", "lmdb")


def _index_name(instance: object, attribute: attrs.Attribute, value: str) -> None:
    if not INDEX_NAME.match(value):
        raise ValueError(f"{attribute.name} must match {INDEX_NAME.pattern}, got {value!r}")


def _index_uri(instance: object, attribute: attrs.Attribute, value: str) -> None:
    if value and urlparse(value).scheme not in EMBEDDED_SCHEMES:
        raise ValueError(f"{attribute.name} must be usearch:///<dir> or lmdb:///<dir>, "
                         f"got {value!r}")


def _index_url(instance: object, attribute: attrs.Attribute, value: str) -> None:
    if value and (urlparse(value).scheme not in ("http", "https") or not urlparse(value).netloc):
        raise ValueError(f"{attribute.name} must be an http(s)://host:port URL, got {value!r}")


def _positive(instance: object, attribute: attrs.Attribute, value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


@attrs.frozen(kw_only=True)
class SimilarSettings(ProcessingSettings):
    """Where the similarity index lives and who may write to it."""

    #: Embedded index (iscc-search's own backends): ``usearch:///<dir>`` or ``lmdb:///<dir>``;
    #: empty: ``usearch`` in the folder ``similar-index`` next to ``media_path``
    #: (ISCC_WEB_INDEX_URI). One process only: several instances need ``index_url``.
    index_uri: str = attrs.field(default="", validator=_index_uri)
    #: A running iscc-search server (``iscc-search serve``) shared by several instances,
    #: e.g. ``http://127.0.0.1:8190``; when set, ``index_uri`` is not used (ISCC_WEB_INDEX_URL).
    index_url: str = attrs.field(default="", validator=_index_url)
    #: The server's ``ISCC_SEARCH_API_SECRET``, sent as ``X-API-Key`` (ISCC_WEB_INDEX_API_KEY).
    index_api_key: str = ""
    #: Name of the index (one server can hold several), ISCC_WEB_INDEX_NAME.
    index_name: str = attrs.field(default="similar", validator=_index_name)
    #: Bearer token that writes (``add=true``, ``POST``/``DELETE /index``) must send; empty:
    #: anyone may write (ISCC_WEB_INDEX_WRITE_TOKEN).
    index_write_token: str = ""
    #: Seconds one index call may take (remote: connect, read and write each; embedded: the
    #: wait for the index) before the request gets 503 (ISCC_WEB_INDEX_TIMEOUT).
    index_timeout: float = attrs.field(default=10.0, validator=_positive)
    #: Also index and match the Meta-Code unit. Off: a Meta-Code is mostly a file name, and
    #: unrelated files of the same name would look identical (ISCC_WEB_INDEX_META_UNIT).
    index_meta_unit: bool = False

    @property
    def remote(self) -> bool:
        return bool(self.index_url)

    def embedded_uri(self, media_path: str) -> str:
        """The embedded index's URI, defaulting to a folder next to the media path."""
        if self.index_uri:
            return self.index_uri
        folder = Path(media_path).resolve().parent / "similar-index"
        return f"usearch://{folder.as_posix()}"

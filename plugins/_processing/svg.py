"""SVG rasterisation with external resources off.

iscc-sdk renders SVG through resvg with the file's own directory as resource dir, so an uploaded
SVG could draw any image the server can read (another upload by relative path, any host file by
absolute path or ``file:`` URL) into its thumbnail and Image-Code. Here every reference that is
not internal (``#id``) or an inline raster ``data:`` image is removed before resvg sees the
document, and resvg gets an empty resource dir. Inline SVG ``data:`` images are removed too:
they are documents of their own with references of their own.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lxml import etree

#: ``data:`` images resvg decodes itself without following anything.
_RASTER_DATA = re.compile(r"^\s*data:image/(png|jpeg|jpg|gif|webp)[;,]", re.IGNORECASE)
#: CSS ``url(...)`` that is not a fragment reference, and ``@import``.
_CSS_EXTERNAL = re.compile(r"url\(\s*['\"]?\s*(?!#)[^)]*\)|@import[^;]*;?", re.IGNORECASE)


def _internal(value: str) -> bool:
    value = value.strip()
    return value.startswith("#") or bool(_RASTER_DATA.match(value))


def strip_external_references(data: bytes) -> bytes:
    """The SVG document ``data`` with every external reference removed.

    Raises:
        etree.XMLSyntaxError: not well-formed XML (entities are never resolved).
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    root = etree.fromstring(data, parser)
    for element in root.iter():
        if not isinstance(element.tag, str):  # comments, processing instructions
            continue
        for name in list(element.attrib):
            local = etree.QName(name).localname
            value = element.attrib[name]
            if (local == "href" and not _internal(value)) or local == "base":  # or xml:base
                del element.attrib[name]
            elif _CSS_EXTERNAL.search(value):  # style="fill:url(x.svg#a)", fill="url(...)"
                element.attrib[name] = _CSS_EXTERNAL.sub("none", value)
        if etree.QName(element).localname == "style" and element.text:
            element.text = _CSS_EXTERNAL.sub("none", element.text)
    return etree.tostring(root)


def _confined_svg_to_bytes(render: Any) -> Any:
    def svg_to_bytes(svg_string: str | None = None, svg_path: str | None = None,
                     **options: Any) -> Any:
        data = Path(svg_path).read_bytes() if svg_path is not None else (svg_string or "").encode()
        clean = strip_external_references(data).decode("utf-8")
        with tempfile.TemporaryDirectory(prefix="svg-") as empty:
            options["resources_dir"] = empty
            return render(svg_string=clean, **options)

    return svg_to_bytes


def install(idk: Any) -> None:
    """Make iscc-sdk's SVG rasteriser (its only resvg call) render with references removed."""
    import iscc_sdk.svg
    import resvg_py

    iscc_sdk.svg.resvg_py = SimpleNamespace(  # type: ignore[attr-defined]
        svg_to_bytes=_confined_svg_to_bytes(resvg_py.svg_to_bytes))

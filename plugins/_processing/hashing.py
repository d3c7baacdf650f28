"""Data- and Instance-Code hashed while an upload streams in, so no job reads the file for them.

:class:`StreamedSum` is the upload observer (see ``kernel.receive_upload``): the kernel hands it
every chunk in a thread, it feeds iscc-lib's streaming ``SumHasher`` (one pass, bounded memory),
and :meth:`StreamedSum.digests` gives the full-width result, small and picklable. In the worker,
:func:`sum_meta` turns those digests into exactly what iscc-sdk's ``code_sum`` would compute
from the file for the worker's ``bits``/``wide``/``add_units`` options (the Data- and
Instance-Code of fewer bits are prefixes of the 256-bit digests).
"""

from __future__ import annotations

from typing import Any

import iscc_lib

#: Widest unit iscc-sdk can ask for; narrower units are prefixes of these digests.
FULL_BITS = 256


class StreamedSum:
    """An upload observer computing the 256-bit Data- and Instance-Code of what it is fed."""

    def __init__(self) -> None:
        self._hasher = iscc_lib.SumHasher()
        self._result: dict[str, Any] | None = None

    def update(self, chunk: bytes) -> None:
        self._hasher.update(chunk)

    def digests(self) -> dict[str, Any]:
        """The streamed result: ``data`` and ``instance`` units (256-bit), ``datahash``,
        ``filesize``. Finalises the hasher on the first call."""
        if self._result is None:
            result = self._hasher.finalize(FULL_BITS, False, True)
            data, instance = result["units"]
            self._result = {"data": data, "instance": instance,
                            "datahash": result["datahash"], "filesize": result["filesize"]}
        return self._result


def _unit(code: str, bits: int) -> str:
    mt, st, vs, _, digest = iscc_lib.iscc_decode(code)
    return "ISCC:" + iscc_lib.encode_component(int(mt), int(st), int(vs), bits,
                                               digest[:bits // 8])


def sum_meta(digests: dict[str, Any], bits: int, wide: bool, add_units: bool) -> dict[str, Any]:
    """What ``iscc_sdk.code_sum`` returns (as a dict) for a file with these streamed digests."""
    units = [_unit(digests["data"], bits), _unit(digests["instance"], bits)]
    meta = {"iscc": iscc_lib.gen_iscc_code_v0(units, wide=wide)["iscc"],
            "datahash": digests["datahash"], "filesize": digests["filesize"]}
    if add_units:
        meta["units"] = units
    return meta

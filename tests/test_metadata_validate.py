"""``acquire`` values that crash a URL parser are a 400, never a 500 (found by schemathesis)."""

from __future__ import annotations

import pytest

from kernel import BadRequest
from plugins._schema import InlineMetadata, dump, load


@pytest.mark.parametrize("value", ["http://[x", "https://[::1", "data:image/webp;base64,AA",
                                   "relative/path", "http://exa mple.com"])
def test_bad_acquire_is_400(value: str) -> None:
    with pytest.raises(BadRequest, match=r"Invalid request body: invalid value for 'acquire'"):
        load(InlineMetadata, {"acquire": value})


def test_absolute_url_passes() -> None:
    assert dump(load(InlineMetadata, {"acquire": "https://example.com/licence"})) == {
        "acquire": "https://example.com/licence"}

"""Quotas: one client fills its share (507 naming the quota) while others still upload; the
total cap keeps a reserve; counted on both backends; processing rate limit (429)."""

from __future__ import annotations

import httpx
import pytest

from kernel.quota import Ledger, Limits
from tests.conftest import serve_live, upload_headers
from tests.s3_fixtures import s3_table


async def _client(url: str, source: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=source)
    return httpx.AsyncClient(base_url=url, transport=transport, timeout=60)


async def _chunked(data: bytes, size: int = 1000):
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.fixture(params=["fs", "s3"])
def quota_app(request, make_app, tmp_path):
    def build(**kernel):
        table = {"plugins": ["media"], **kernel}
        plugin = {}
        if request.param == "s3":
            server = request.getfixturevalue("seaweedfs")
            table.update(storage="s3", plugins=["media", "s3"])
            plugin = {"s3": s3_table(server, tmp_path / "cache")}
        return make_app(kernel=table, plugin=plugin)

    return build


async def test_one_client_hits_its_quota_while_another_still_uploads(quota_app) -> None:
    app = quota_app(owner_quota_bytes=10_000, owner_quota_packages=3)
    async with serve_live(app) as url:
        greedy, other = await _client(url, "127.0.0.1"), await _client(url, "127.0.0.2")
        async with greedy, other:
            kept = []
            for _ in range(2):
                r = await greedy.post("/api/v1/media", content=b"g" * 4_000,
                                      headers=upload_headers())
                assert r.status_code == 201
                kept.append(r.json()["media_id"])
            # declared over the rest of the quota: refused before reading
            r = await greedy.post("/api/v1/media", content=b"g" * 4_000,
                                  headers=upload_headers())
            assert r.status_code == 507
            assert r.json()["detail"] == ("Quota exceeded: owner_quota_bytes "
                                          "(10000 bytes per client).")
            # chunked (nothing declared): stopped while streaming, nothing left behind
            r = await greedy.post("/api/v1/media", content=_chunked(b"g" * 4_000),
                                  headers=upload_headers())
            assert r.status_code == 507
            assert "owner_quota_bytes" in r.json()["detail"]
            r = await other.post("/api/v1/media", content=b"o" * 4_000, headers=upload_headers())
            assert r.status_code == 201  # the other client is not starved
            r = await greedy.post("/api/v1/media", content=b"s", headers=upload_headers())
            assert r.status_code == 201
            r = await greedy.post("/api/v1/media", content=b"s", headers=upload_headers())
            assert r.status_code == 507
            assert "owner_quota_packages (3 packages per client)" in r.json()["detail"]
            # deleting gives room again
            assert (await greedy.delete(f"/api/v1/media/{kept[0]}")).status_code == 204
            r = await greedy.post("/api/v1/media", content=b"g" * 4_000,
                                  headers=upload_headers())
            assert r.status_code == 201
            stats = (await greedy.get("/api/v1/-/status")).json()["storage"]
            assert stats["packages"] == 4


async def test_the_total_cap_keeps_a_reserve_for_newcomers(make_app) -> None:
    """Holders fill at most cap - owner_quota_bytes (7,000); the rest is for newcomers."""
    app = make_app(kernel={"plugins": ["media"], "owner_quota_bytes": 3_000,
                           "storage_quota_bytes": 10_000})
    async with serve_live(app) as url:
        clients = [await _client(url, f"127.0.0.{n}") for n in range(1, 7)]
        a, b, c, d, e, f = clients

        async def upload(client: httpx.AsyncClient, size: int) -> int:
            r = await client.post("/api/v1/media", content=b"x" * size,
                                  headers=upload_headers())
            if r.status_code == 507:
                assert "storage_quota_bytes (10000 bytes in total)" in r.json()["detail"]
            return r.status_code

        assert [await upload(a, 1_000) for _ in range(3)] == [201] * 3  # 3,000 stored
        assert [await upload(b, 1_000) for _ in range(3)] == [201] * 3  # 6,000
        assert await upload(c, 1_000) == 201  # 7,000: the holders' share is full
        assert await upload(c, 1_000) == 507  # c holds something now
        assert await upload(d, 1_000) == 201  # a newcomer still gets in: 8,000
        assert await upload(d, 1) == 507
        assert await upload(e, 2_000) == 201  # 10,000: the cap
        assert await upload(f, 1) == 507  # full, for everyone
        for client in clients:
            await client.aclose()


async def test_usage_is_read_back_from_storage_at_start(make_app, media_path) -> None:
    """A restarted server knows what each client holds (the quota survives restarts)."""
    kernel = {"plugins": ["media"], "owner_quota_bytes": 5_000}
    async with serve_live(make_app(kernel=kernel)) as url, await _client(url, "127.0.0.2") as c:
        r = await c.post("/api/v1/media", content=b"x" * 4_000, headers=upload_headers())
        assert r.status_code == 201
    async with serve_live(make_app(kernel=kernel)) as url, await _client(url, "127.0.0.2") as c:
        r = await c.post("/api/v1/media", content=b"x" * 2_000, headers=upload_headers())
        assert r.status_code == 507


async def test_processing_rate_limit_is_429_with_retry_after(make_app) -> None:
    app = make_app(kernel={"plugins": ["explain", "simprint", "media"], "owner_rate_limit": 2,
                           "max_workers": 1})
    async with serve_live(app) as url:
        one, two = await _client(url, "127.0.0.1"), await _client(url, "127.0.0.2")
        async with one, two:
            answers = [await one.post("/api/v1/simprint", json={"text": "hello world"})
                       for _ in range(3)]
            assert [r.status_code for r in answers] == [200, 200, 429]
            assert int(answers[-1].headers["Retry-After"]) >= 1
            assert "owner_rate_limit" in answers[-1].json()["detail"]
            r = await two.post("/api/v1/simprint", json={"text": "hello world"})
            assert r.status_code == 200  # per client
            # routes without worker jobs are not limited
            r = await one.post("/api/v1/media", content=b"x", headers=upload_headers())
            assert r.status_code == 201


def test_ledger_counts_pending_bytes_and_forgets_deleted_packages() -> None:
    ledger = Ledger(Limits(owner_bytes=100, owner_packages=0, total_bytes=0))
    ledger.record("a", "alice", 60)
    ledger.charge("alice", 30)
    with pytest.raises(Exception, match="owner_quota_bytes"):
        ledger.charge("alice", 11)
    ledger.release("alice", 30)
    ledger.forget("a")
    ledger.forget("a")  # twice is harmless
    assert ledger.held("alice") == (0, 0)
    assert ledger.total() == 0

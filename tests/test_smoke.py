from tests.conftest import upload_headers


async def test_upload_in_process(client):
    r = await client.post("/api/v1/media", data=b"hello", headers=upload_headers())
    assert r.status_code == 201


async def test_upload_live(http):
    r = await http.post("/api/v1/media", content=b"hello", headers=upload_headers())
    assert r.status_code == 201
    body = r.json()
    r2 = await http.get(f"/api/v1/media/{body['media_id']}")
    assert r2.content == b"hello"

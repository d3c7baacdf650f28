"""Connections that close: idle keep-alive, ``Connection: close``, HTTP/1.0, smuggling shapes,
stalled downloads and ``Expect: 100-continue``, over real sockets to a real hypercorn server."""

from __future__ import annotations

import os
import socket
import struct
from functools import partial

import httpx
import trio

from kernel.context import runtime_of
from kernel.serve import hypercorn_config, serve_hypercorn
from tests.conftest import b64name, serve_live, upload_headers
from tests.test_serve import start_server

#: Bounds how long a test waits for something that must happen (a hang guard, not a measure).
GUARD = 60


async def read_until_closed(stream: trio.SocketStream) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    with trio.fail_after(GUARD):
        while True:
            try:
                chunk = await stream.receive_some(65536)
            except trio.BrokenResourceError:  # reset by the server: closed, too
                return data
            if not chunk:
                return data
            data += chunk


async def connect(url: str, source: str = "127.0.0.1") -> trio.SocketStream:
    host, port = url.removeprefix("http://").split(":")
    sock = trio.socket.socket()
    await sock.bind((source, 0))
    await sock.connect((host, int(port)))
    return trio.SocketStream(sock)


async def healthz(stream: trio.SocketStream) -> bytes:
    """Ask ``GET /healthz`` on a kept-alive connection; the whole answer."""
    await stream.send_all(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
    answer = b""
    with trio.fail_after(GUARD):
        while not answer.endswith(b'{"status": "ok"}'):
            answer += await stream.receive_some(4096)
    return answer


def statuses(data: bytes) -> list[int]:
    return [int(line.split(b" ")[1]) for line in data.split(b"\r\n")
            if line.startswith(b"HTTP/1.")]


async def test_connection_close_and_http_1_0_answers_close(make_app) -> None:
    app = make_app(kernel={"plugins": ["media"]})
    async with serve_live(app) as url:
        for head in (b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                     b"GET /healthz HTTP/1.0\r\n\r\n"):
            stream = await connect(url)
            await stream.send_all(head)
            assert statuses(await read_until_closed(stream)) == [200]
            await stream.aclose()


async def test_keep_alive_timeout_counts_from_the_last_answer(make_app) -> None:
    """Each answer moves the idle deadline (kernel.connections.IdleTimer): a connection
    busy for longer than the timeout in all stays open, and closes once idle that long."""
    app = make_app(kernel={"plugins": ["media"], "keep_alive_timeout": 2})
    async with serve_live(app) as url:
        stream = await connect(url)
        for _ in range(3):  # 2.4 s in all, never 2 s idle
            assert statuses(await healthz(stream)) == [200]
            await trio.sleep(1.2)
        assert await read_until_closed(stream) == b""  # then closed by the server
        await stream.aclose()


async def test_shutdown_closes_an_idle_keep_alive_connection_at_once(make_app) -> None:
    app = make_app(kernel={"plugins": ["media"], "keep_alive_timeout": 300})
    stop = trio.Event()
    config = hypercorn_config(runtime_of(app).settings.kernel, "127.0.0.1:0")
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(serve_hypercorn, app, config,
                                            shutdown_trigger=stop.wait))
        stream = await connect(binds[0])
        assert statuses(await healthz(stream)) == [200]
        stop.set()
        with trio.fail_after(GUARD):  # long before the 300 s keep-alive timeout
            assert await read_until_closed(stream) == b""
        await stream.aclose()


async def test_content_length_with_transfer_encoding_is_400_and_closes(make_app,
                                                                      media_path) -> None:
    app = make_app(kernel={"plugins": ["media"]})
    async with serve_live(app) as url:
        stream = await connect(url)
        smuggled = b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
        await stream.send_all(
            b"POST /api/v1/media HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n"
            b"Transfer-Encoding: chunked\r\nX-Upload-Filename: " + b64name("a.txt").encode()
            + b"\r\n\r\n1\r\na\r\n0\r\n\r\n" + smuggled)
        answer = await read_until_closed(stream)
        await stream.aclose()
    assert statuses(answer) == [400], answer  # one answer; the bytes after the body never ran
    assert b"Content-Length and Transfer-Encoding" in answer
    assert not [p for p in media_path.iterdir() if not p.name.startswith(".")]


async def test_expect_100_continue_with_an_oversize_body_gets_413_only(make_app) -> None:
    app = make_app(kernel={"plugins": ["media"], "max_upload_size": 1000})
    head = ("POST /api/v1/media HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
            f"X-Upload-Filename: {b64name('a.txt')}\r\nContent-Length: {{}}\r\n\r\n")
    async with serve_live(app) as url:
        stream = await connect(url)
        await stream.send_all(head.format(10**12).encode())
        answer = await read_until_closed(stream)
        await stream.aclose()
        assert statuses(answer) == [413]
        # within the limit the client is invited, and the upload goes through
        stream = await connect(url)
        await stream.send_all(head.format(5).encode())
        with trio.fail_after(GUARD):
            invited = await stream.receive_some(65536)
        assert statuses(invited) == [100]
        await stream.send_all(b"hello")
        with trio.fail_after(GUARD):
            created = await stream.receive_some(65536)
        assert statuses(created) == [201]
        await stream.aclose()


def data_segments_in(stream: trio.SocketStream) -> int:
    """TCP segments with payload this socket has received (Linux ``tcpi_data_segs_in``)."""
    info = stream.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    return struct.unpack_from("I", info, 152)[0]


async def one_answer(stream: trio.SocketStream, request: bytes) -> tuple[bytes, int]:
    """Send ``request``; the whole answer (framed by its Content-Length) and the number of
    TCP segments it came in."""
    before = data_segments_in(stream)
    await stream.send_all(request)
    answer = b""
    with trio.fail_after(GUARD):
        while b"\r\n\r\n" not in answer:
            answer += await stream.receive_some(65536)
        head, _, body = answer.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += await stream.receive_some(65536)
    return answer, data_segments_in(stream) - before


async def test_an_answer_held_whole_reaches_the_client_in_one_segment(make_app) -> None:
    """Head and body of a JSON answer, a problem and a 201 are written together
    (kernel.connections.one_write), and the kept-alive connection goes on serving."""
    app = make_app(kernel={"plugins": ["media"]})
    upload = (b"POST /api/v1/media HTTP/1.1\r\nHost: a\r\nX-Upload-Filename: "
              + b64name("a.txt").encode() + b"\r\nContent-Length: 5\r\n\r\nhello")
    async with serve_live(app) as url:
        stream = await connect(url)
        for request, status in ((b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200),
                                (b"GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n", 404),
                                (upload, 201),
                                (b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", 200)):
            answer, segments = await one_answer(stream, request)
            assert statuses(answer) == [status]
            assert segments == 1, answer
        await stream.aclose()


def _open_files(inode: tuple[int, int]) -> list[str]:
    """This process's descriptors open on the file ``(st_dev, st_ino)`` (deleted or not)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            st = os.stat(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == inode:
            found.append(fd)
    return found


async def test_stalled_download_is_dropped_and_its_file_released(make_app, media_path) -> None:
    app = make_app(kernel={"plugins": ["media"], "send_timeout": 1})
    size = 64 * 1024 * 1024  # far more than the socket buffers hold
    async with serve_live(app) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            r = await http.post("/api/v1/media", content=os.urandom(1024) * (size // 1024),
                                headers=upload_headers("big.bin", None))
            media_id = r.json()["media_id"]
        stored = media_path / media_id / "big.bin"
        inode = (stored.stat().st_dev, stored.stat().st_ino)
        sock = trio.socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        host, port = url.removeprefix("http://").split(":")
        await sock.connect((host, int(port)))
        stream = trio.SocketStream(sock)
        await stream.send_all(f"GET /api/v1/media/{media_id} HTTP/1.1\r\nHost: a\r\n\r\n"
                              .encode())
        with trio.fail_after(GUARD):
            assert (await stream.receive_some(4096)).startswith(b"HTTP/1.1 200")
            while not _open_files(inode):  # the server streams from the file ...
                await trio.sleep(0.05)
        # ... the client reads no more, and the owner deletes the file meanwhile
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.delete(f"/api/v1/media/{media_id}")).status_code == 204
        assert not stored.exists()
        assert _open_files(inode)
        with trio.fail_after(GUARD):
            while _open_files(inode):
                await trio.sleep(0.1)
        received = len(await read_until_closed(stream))  # the server has hung up
        assert received < size
        await stream.aclose()


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def test_a_thousand_idle_connections_are_closed(tmp_path) -> None:
    proc, base, log = start_server(tmp_path, 'plugins = ["media"]\nmedia_path = "m"\n'
                                   "cleanup_interval = 0\nmax_workers = 1\n"
                                   "keep_alive_timeout = 5\n")
    streams: list[trio.SocketStream] = []
    try:
        with trio.fail_after(GUARD):
            while True:
                try:
                    async with httpx.AsyncClient(base_url=base) as http:
                        r = await http.get("/healthz", headers={"Connection": "close"})
                        r.raise_for_status()
                    break
                except httpx.ConnectError:
                    await trio.sleep(0.1)
        await trio.sleep(0.5)  # the probe's connection is closed (it said so)
        before = _fds(proc.pid)

        async def one_request() -> None:
            stream = await connect(base)
            await stream.send_all(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
            answer = b""
            while not answer.endswith(b'{"status": "ok"}'):  # the whole answer
                answer += await stream.receive_some(4096)
            assert statuses(answer) == [200]
            streams.append(stream)

        with trio.fail_after(GUARD * 2):
            for _ in range(20):  # in batches, within the listen backlog
                async with trio.open_nursery() as nursery:
                    for _ in range(50):
                        nursery.start_soon(one_request)
        held = _fds(proc.pid)  # all open and idle unless making them took over 5 s

        async def closed_by_server(stream: trio.SocketStream) -> None:
            assert await read_until_closed(stream) == b""

        async with trio.open_nursery() as nursery:
            for stream in streams:
                nursery.start_soon(closed_by_server, stream)
        after = _fds(proc.pid)
        print(f"\nserver fds: {before} before, {held} with 1,000 idle connections, "
              f"{after} after the keep-alive timeout")
        assert after <= before + 5
        assert proc.poll() is None
        assert "Traceback" not in log.read_text()
    finally:
        for stream in streams:
            await stream.aclose()
        proc.kill()
        proc.wait()

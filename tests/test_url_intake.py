"""POST /iscc with {"url": ...}: real origins on loopback addresses, the SSRF guard attacked.

The origin serves on 127.0.0.2; the server under test allows only 127.0.0.2/32, so every
redirect to another loopback address, to the cloud metadata address or to [::1] meets the
guard as it would with the default settings. A second server runs the default settings (no
allowed network) and refuses even the origin. Refusals happen before any connection: a
listener on the refused address counts the connections it got.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kernel.netguard import AddressRefused, GuardedBackend, GuardedTransport, refusal
from tests.conftest import upload_headers
from tests.iscc_fixtures import PNG_SAMPLE, assert_problem, build_app, live_client
from tests.jobs_support import poll_until
from tests.url_origin import Origin, running_origin

MAX_UPLOAD = 3_000_000
ORIGIN_HOST = "127.0.0.2"


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with running_origin(ORIGIN_HOST) as server:
        yield server


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("url-intake") / "media"


@pytest.fixture(scope="module")
def api(media: Path) -> Iterator[httpx.Client]:
    app = build_app(media, kernel={"max_upload_size": MAX_UPLOAD},
                    env={"ISCC_WEB_URL_ALLOW_NETWORKS": f"{ORIGIN_HOST}/32",
                         "ISCC_WEB_URL_TIMEOUT": "1.5"})
    with live_client(app) as client:
        yield client


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The default settings: no network is exempt from the guard."""
    app = build_app(tmp_path_factory.mktemp("url-strict") / "media",
                    kernel={"plugins": ["media", "iscc"]})
    with live_client(app) as client:
        yield client


class Listener:
    """A TCP listener that counts the connections it accepts (it never answers)."""

    def __init__(self, host: str, family: int = socket.AF_INET):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener("127.0.0.1")
    try:
        yield server
    finally:
        server.close()


def from_url(client: httpx.Client, url: str, **headers: str) -> httpx.Response:
    return client.post("/api/v1/iscc", json={"url": url}, headers=headers)


def without_ids(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("media_id", "content")}


def test_a_url_gives_the_same_result_as_uploading_its_bytes(api: httpx.Client,
                                                             origin: Origin) -> None:
    fetched = from_url(api, f"{origin.url}/samples/image/demo.png")
    assert fetched.status_code == 201, fetched.text
    uploaded = api.post("/api/v1/iscc", content=PNG_SAMPLE.read_bytes(),
                        headers=upload_headers("demo.png", "image/png"))
    assert without_ids(fetched.json()) == without_ids(uploaded.json())
    media_id = fetched.json()["media_id"]
    assert fetched.headers["location"] == f"/api/v1/media/{media_id}"
    download = api.get(f"/api/v1/media/{media_id}")
    assert download.content == PNG_SAMPLE.read_bytes()
    assert download.headers["content-type"] == "image/png"


def test_file_name_from_content_disposition_and_unsized_bodies(api: httpx.Client,
                                                              origin: Origin) -> None:
    named = from_url(api, f"{origin.url}/named")
    assert named.status_code == 201, named.text
    assert named.json()["filename"] == "café.png"
    unsized = from_url(api, f"{origin.url}/unsized")
    assert unsized.status_code == 201, unsized.text
    assert unsized.json()["datahash"] == named.json()["datahash"]


def test_redirect_chains(api: httpx.Client, origin: Origin) -> None:
    ok = from_url(api, f"{origin.url}/chain/5")  # five redirects: allowed
    assert ok.status_code == 201, ok.text
    assert ok.json()["filename"] == "demo.png"
    assert_problem(from_url(api, f"{origin.url}/chain/6"), 422,
                   "The URL redirects more than 5 times.")


@pytest.mark.parametrize(("target", "kind"), [
    ("http://127.0.0.1:{port}/", "a loopback"),
    ("http://169.254.169.254/latest/meta-data/", "a link-local"),
    ("http://[::1]:{port}/", "a loopback"),
    ("http://[::ffff:127.0.0.1]:{port}/", "a loopback"),
    ("http://100.64.0.1/", "a shared (carrier-grade NAT)"),
    ("http://10.0.0.1/", "a private"),
    ("http://0.0.0.0:{port}/", "an unspecified"),
    ("http://localhost:{port}/", "a loopback"),
])
def test_redirects_to_refused_addresses_never_connect(api: httpx.Client, origin: Origin,
                                                      listener: Listener, target: str,
                                                      kind: str) -> None:
    location = target.format(port=listener.port)
    before = len(origin.requests)
    r = from_url(api, str(httpx.URL(f"{origin.url}/to", params={"location": location})))
    body = assert_problem(r, 422)
    assert body["detail"] == (f"A redirect leads to {kind} address, which this server "
                              "does not fetch from.")
    for internal in ("127.0.0.1", "169.254", "::1", "100.64", "10.0.0.1", str(listener.port)):
        assert internal not in r.text
    assert len(origin.requests) == before + 1  # the origin was asked once, the target never
    assert listener.accepted == 0


@pytest.mark.parametrize(("url", "kind"), [
    ("http://{origin}/samples/image/demo.png", "a loopback"),
    ("http://127.0.0.1:{port}/", "a loopback"),
    ("http://169.254.169.254/latest/meta-data/", "a link-local"),
    ("http://[::1]:{port}/", "a loopback"),
    ("http://[fe80::1]/", "a link-local"),
    ("http://[fc00::1]/", "a private"),
    ("http://[2002:7f00:1::]/", "a loopback"),  # 6to4 around 127.0.0.1
    ("http://[64:ff9b::a9fe:a9fe]/", "a link-local"),  # NAT64 around 169.254.169.254
    ("http://224.0.0.1/", "a multicast"),
    ("http://240.0.0.1/", "a reserved"),
])
def test_the_default_settings_refuse_every_internal_address(strict: httpx.Client,
                                                            origin: Origin, listener: Listener,
                                                            url: str, kind: str) -> None:
    before = len(origin.requests)
    target = url.format(origin=origin.url.removeprefix("http://"), port=listener.port)
    body = assert_problem(from_url(strict, target), 422)
    assert body["detail"] == (f"The URL leads to {kind} address, which this server does "
                              "not fetch from.")
    assert len(origin.requests) == before
    assert listener.accepted == 0


def test_a_slow_origin_times_out(api: httpx.Client, origin: Origin) -> None:
    assert_problem(from_url(api, f"{origin.url}/slow"), 422, "The URL did not answer in time.")


def test_an_origin_error_is_422(api: httpx.Client, origin: Origin) -> None:
    assert_problem(from_url(api, f"{origin.url}/missing"), 422,
                   "The URL answered 404; nothing was fetched.")
    closed = Listener(ORIGIN_HOST)  # nothing answers on a port that then closes
    port = closed.port
    closed.close()
    assert_problem(from_url(api, f"http://{ORIGIN_HOST}:{port}/"), 422,
                   "The URL could not be fetched.")


def test_an_endless_body_is_413_and_leaves_nothing(api: httpx.Client, origin: Origin,
                                                   media: Path) -> None:
    before = set(media.iterdir()) if media.is_dir() else set()
    assert_problem(from_url(api, f"{origin.url}/endless"), 413,
                   f"The URL's content exceeds the maximum size of {MAX_UPLOAD} bytes.")
    assert set(media.iterdir()) - before == set()  # the partial package is gone


@pytest.mark.parametrize(("body", "detail"), [
    ({"url": "ftp://127.0.0.2/file"}, "The URL must be an absolute http or https URL."),
    ({"url": "file:///etc/passwd"}, "The URL must be an absolute http or https URL."),
    ({"url": "/relative/path"}, "The URL must be an absolute http or https URL."),
    ({"url": "http://user:secret@127.0.0.2/x"},
     "The URL carries credentials; they are not accepted."),
    ({"url": "http://127.0.0.2:99999/"}, "The URL is not a valid URL."),
    ({"url": 7}, 'The body must be a JSON object {"url": "<http or https URL>"}.'),
    ({"url": "http://127.0.0.2/", "x": 1},
     'The body must be a JSON object {"url": "<http or https URL>"}.'),
    (["http://127.0.0.2/"], 'The body must be a JSON object {"url": "<http or https URL>"}.'),
])
def test_urls_the_server_will_not_try_are_400(api: httpx.Client, origin: Origin, body: object,
                                              detail: str) -> None:
    before = len(origin.requests)
    assert_problem(api.post("/api/v1/iscc", json=body), 400, detail)
    assert len(origin.requests) == before


def test_credentials_in_a_redirect_are_refused(api: httpx.Client, origin: Origin) -> None:
    target = httpx.URL(f"{origin.url}/to", params={"location": f"http://u:p@{ORIGIN_HOST}/x"})
    assert_problem(from_url(api, str(target)), 422,
                   "A redirect carries credentials; they are not accepted.")


def test_other_requests_keep_todays_behaviour(api: httpx.Client, origin: Origin) -> None:
    raw = api.post("/api/v1/iscc", content=b"hello", headers={"Content-Type": "text/plain"})
    assert_problem(raw, 400, "Missing header X-Upload-Filename.")
    # a JSON document with a file name is an upload of that JSON, never a fetch
    before = len(origin.requests)
    r = api.post("/api/v1/iscc", json={"url": f"{origin.url}/samples/image/demo.png"},
                 headers=upload_headers("doc.json", "application/json"))
    assert r.status_code == 201
    assert r.json()["filename"] == "doc.json"
    assert len(origin.requests) == before


def test_url_intake_can_be_switched_off(tmp_path: Path, origin: Origin) -> None:
    app = build_app(tmp_path / "media", kernel={"plugins": ["media", "iscc"]},
                    plugin={"iscc": {"url_intake": False, "url_allow_networks": ["127.0.0.0/8"]}})
    with live_client(app) as client:
        r = from_url(client, f"{origin.url}/samples/image/demo.png")
        assert_problem(r, 400, "Missing header X-Upload-Filename.")


async def test_url_intake_with_respond_async(api: httpx.Client, origin: Origin) -> None:
    async with httpx.AsyncClient(base_url=api.base_url, timeout=120) as http:
        r = await http.post("/api/v1/iscc", json={"url": f"{origin.url}/samples/image/demo.png"},
                            headers={"Prefer": "respond-async"})
        assert r.status_code == 202, r.text
        done = await poll_until(http, r.json()["job_id"], {"done", "failed"})
        assert done["status"] == "done"
        assert done["result"]["filename"] == "demo.png"


def test_invalid_allow_networks_stop_start_up(tmp_path: Path) -> None:
    from kernel import ConfigError

    with pytest.raises(ConfigError, match="url_allow_networks"):
        build_app(tmp_path, kernel={"plugins": ["media", "iscc"]},
                  env={"ISCC_WEB_URL_ALLOW_NETWORKS": "127.0.0.0/8, not-a-net"})


# --- the guard itself ---------------------------------------------------------------------


def test_address_categories() -> None:
    allowed = (ipaddress.ip_network("127.0.0.0/8"),)
    cases = {
        "8.8.8.8": None, "2606:4700::1111": None, "127.0.0.1": "a loopback",
        "::1": "a loopback", "::ffff:10.1.2.3": "a private", "169.254.169.254": "a link-local",
        "100.100.100.100": "a shared (carrier-grade NAT)", "192.168.1.1": "a private",
        "::": "an unspecified", "ff02::1": "a multicast", "255.255.255.255": "a reserved",
        "192.0.2.1": "a private", "::ffff:8.8.8.8": None,
    }
    for address, reason in cases.items():
        assert refusal(ipaddress.ip_address(address)) == reason, address
    assert refusal(ipaddress.ip_address("127.0.0.5"), allowed) is None
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.5"), allowed) is None
    assert refusal(ipaddress.ip_address("::1"), allowed) == "a loopback"


async def test_the_connection_goes_to_the_checked_address_with_the_urls_host(
        origin: Origin) -> None:
    """A name resolved once by the guard: the origin sees the name in Host, not the address."""
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return [ORIGIN_HOST]

    backend = GuardedBackend([ipaddress.ip_network(f"{ORIGIN_HOST}/32")], resolve)
    port = int(origin.url.rpartition(":")[2])
    async with httpx.AsyncClient(transport=GuardedTransport(backend)) as client:
        r = await client.get(f"http://files.example:{port}/echo-host")
    assert r.text == f"files.example:{port}"
    assert calls == ["files.example"]


async def test_an_answer_mixing_allowed_and_refused_addresses_is_refused(
        origin: Origin) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return [ORIGIN_HOST, "10.1.2.3"]

    backend = GuardedBackend([ipaddress.ip_network(f"{ORIGIN_HOST}/32")], resolve)
    before = len(origin.requests)
    async with httpx.AsyncClient(transport=GuardedTransport(backend)) as client:
        with pytest.raises(AddressRefused) as info:
            await client.get(f"http://rebind.example:{origin.url.rpartition(':')[2]}/x")
    assert info.value.reason == "a private"
    assert len(origin.requests) == before

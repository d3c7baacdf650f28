"""End-to-end tests of the bundled web app in headless Chromium against a live server.

The browser steps live in ``spa/e2e/run.mjs`` (playwright-core driving Debian's
``/usr/bin/chromium``); this module starts a real hypercorn server on 127.0.0.1 with the
processing plugins and the ``ui`` plugin, runs the script, and reports each step as a test.
Screenshots of the main states land in ``spa/e2e/screenshots/`` (git-ignored).

Every state is also checked with axe-core (any violation fails) at 1440x900 and 390x844.

Needs: ``apt-get install chromium`` and ``npm ci`` in ``spa/`` (``scripts/build-spa.sh``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.conftest import serve_live
from tests.iscc_fixtures import PNG_SAMPLE
from tests.url_origin import running_origin

ROOT = Path(__file__).resolve().parents[1]
SPA = ROOT / "spa"
RUNNER = SPA / "e2e" / "run.mjs"
CHROMIUM = os.environ.get("ISCC_WEB_E2E_CHROMIUM", "/usr/bin/chromium")
NODE = shutil.which("node")
MAX_UPLOAD = 1_500_000
PLUGINS = ["media", "explain", "iscc", "metadata", "ui"]
# Footer links of the operator (never followed by the test).
SOURCE_URL = "https://example.org/iscc-web/source"
IMPRINT_URL = "https://example.org/imprint"

STEPS = [
    "load",
    "keyboard tabs",
    "upload image: same ISCC as the API",
    "upload progress bar with bytes and percent",
    "processing state after the upload",
    "paste text",
    "decode an ISCC code (validated first)",
    "compare two uploads",
    "embed a title and download the updated file",
    "remove a card deletes its uploads on the server",
    "drop files anywhere on the page",
    "oversize upload shows the 413 message",
    "422 from the server is shown in plain words",
    "503 busy: message with Retry-After, then try again",
    # The ten points of the second review (issue 16), each at 1440x900 and 390x844 with axe.
    "1 phone: a new result comes into view, a toast links to one out of sight",
    "2 embed offered only where the server can embed",
    "3 compare: bands relative to chance with bit counts, no percentage for Instance",
    "4 focus after compare, eject and remove; one polite live region",
    "5 extracted title and creator in the Meta row",
    "6 units named in words, code string highlighted with the hovered unit",
    "7 unsupported file types explained",
    "8 no horizontal overflow on phones down to 320 px",
    "10 footer links, tap targets, touch wording, dark mode",
    "9 feed: collapse, export JSON and CSV, kept across a reload, clear all",
    "from URL: the server fetches it as a job, same ISCC as the API",
    "without JavaScript",
    "no console errors",
]


def _missing() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    if NODE is None:
        return "node not found (Node.js >= 20 is needed for the browser tests)"
    if not (SPA / "node_modules" / "playwright-core").is_dir():
        return "spa/node_modules missing (run scripts/build-spa.sh or `npm ci` in spa/)"
    for name in PLUGINS:
        if not (ROOT / "plugins" / name).is_dir():
            return f"plugin {name!r} is not available"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


@pytest.fixture(scope="module")
def browser_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the whole browser script once against one live server; share its step results."""
    return trio.run(_run_browser, tmp_path_factory.mktemp("e2e"))


async def _run_browser(tmp: Path) -> dict[str, Any]:
    import iscc_samples

    from kernel import create_app

    app = create_app(
        {
            "kernel": {
                "plugins": PLUGINS,
                "media_path": str(tmp / "media"),
                "cleanup_interval": 0,
                "max_workers": 2,
                "warm_workers": True,
                "max_upload_size": MAX_UPLOAD,
                "log_level": "WARNING",
            },
            "plugin": {
                # the origin below is on loopback, which the SSRF guard refuses by default
                "iscc": {"url_allow_networks": ["127.0.0.0/8"]},
                "ui": {
                    "semantic_default": True,
                    "source_url": SOURCE_URL,
                    "imprint_url": IMPRINT_URL,
                }
            },
        },
        env={},
    )
    config = {
        "sampleImage": str(iscc_samples.images()[0]),
        "embedImage": str(Path(iscc_samples.images()[0]).with_name("demo.jpg")),
        "maxUploadSize": MAX_UPLOAD,
        "screenshots": str(SPA / "e2e" / "screenshots"),
        "downloads": str(tmp / "downloads"),
        "chromium": CHROMIUM,
        "sourceUrl": SOURCE_URL,
        "imprintUrl": IMPRINT_URL,
        "urlSample": str(PNG_SAMPLE),
    }
    with running_origin() as origin:
        config["originUrl"] = origin.url
        return await _run_script(app, config, tmp)


async def _run_script(app: Any, config: dict[str, Any], tmp: Path) -> dict[str, Any]:
    async with serve_live(app) as url:
        config["baseUrl"] = url
        config_file = tmp / "e2e.json"
        config_file.write_text(json.dumps(config))
        with trio.fail_after(600):
            done = await trio.run_process(
                [NODE, str(RUNNER), str(config_file)],
                cwd=SPA,
                capture_stdout=True,
                capture_stderr=True,
                check=False,
            )
    stdout = done.stdout.decode(errors="replace").strip()
    last = stdout.splitlines()[-1] if stdout else ""
    try:
        report = json.loads(last)
    except ValueError:
        pytest.fail(
            f"browser script failed (exit {done.returncode}):\n{stdout[-4000:]}\n"
            f"{done.stderr.decode(errors='replace')[-4000:]}"
        )
    report["returncode"] = done.returncode
    return report


@pytest.mark.parametrize("name", STEPS)
def test_browser_step(browser_run: dict[str, Any], name: str) -> None:
    steps = {result["name"]: result for result in browser_run["results"]}
    assert name in steps, f"step {name!r} did not run"
    result = steps[name]
    assert result["ok"], result.get("error")


def test_browser_script_ran_every_step(browser_run: dict[str, Any]) -> None:
    assert [r["name"] for r in browser_run["results"]] == STEPS
    assert browser_run["returncode"] == (0 if browser_run["ok"] else 1)

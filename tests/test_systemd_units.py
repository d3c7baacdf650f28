"""``deploy/iscc-web.service`` and ``deploy/iscc-web@.service`` pass ``systemd-analyze verify``."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kernel import KernelSettings

ROOT = Path(__file__).resolve().parent.parent
UNITS = {"iscc-web.service": "iscc-web.service", "iscc-web@.service": "iscc-web@8001.service"}
INSTALLED = "/opt/iscc-web/.venv/bin/iscc-web"
ANALYZE = shutil.which("systemd-analyze")

pytestmark = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze not installed (apt-get install systemd; "
    "scripts/setup.sh does)")


def verify(text: str, name: str, tmp_path: Path) -> str:
    """Everything ``systemd-analyze verify`` says about a unit (empty: clean).

    The unit's ExecStart names the installed path; verify checks that the program exists, so
    the copy under test points at this checkout's ``iscc-web`` instead.
    """
    program = Path(sys.executable).with_name("iscc-web")
    assert program.is_file(), "pip install -e . provides the iscc-web command"
    unit = tmp_path / name
    unit.write_text(text.replace(INSTALLED, str(program)))
    done = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, check=False)
    return f"{done.returncode}{done.stdout}{done.stderr}".removeprefix("0")


def service_section(text: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser["Service"]


@pytest.mark.parametrize("source", list(UNITS))
def test_unit_verifies_clean(source: str, tmp_path: Path) -> None:
    text = (ROOT / "deploy" / source).read_text()
    assert INSTALLED in text
    assert verify(text, UNITS[source], tmp_path) == ""


@pytest.mark.parametrize("source", list(UNITS))
def test_unit_is_sandboxed_and_outlives_the_graceful_stop(source: str) -> None:
    text = (ROOT / "deploy" / source).read_text()
    service = service_section(text)
    assert service["DynamicUser"] == "yes"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    assert service["ReadWritePaths"].startswith("/var/lib/iscc-web")
    media = re.search(r"^Environment=ISCC_WEB_MEDIA_PATH=(\S+)$", text, re.M)
    assert media
    assert media.group(1).startswith(service["ReadWritePaths"] + "/")
    assert service["Restart"] == "on-failure"
    assert float(service["TimeoutStopSec"]) > KernelSettings().graceful_timeout


def test_a_misspelled_directive_does_not_pass(tmp_path: Path) -> None:
    text = (ROOT / "deploy" / "iscc-web.service").read_text()
    broken = text.replace("ProtectSystem=strict", "ProtectSystm=strict")
    assert "Unknown key" in verify(broken, "iscc-web.service", tmp_path)

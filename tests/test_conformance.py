"""Conformance: schemathesis drives a live server of the default deployment through its spec.

The server is ``python -m kernel`` in its own process (hypercorn, trio-parallel workers), and the
spec under test is the one it serves at ``/docs/openapi.yaml``. Every operation gets generated
positive and negative requests; a stateful run follows the spec's links (upload -> download,
delete, ISCC, metadata, explain). Checks: see tests/schemathesis.toml for the few left out.
``scripts/conformance.sh`` runs the same with many more examples.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig

import tests.conformance_hooks  # noqa: F401  (registers the data strategies)
from tests.conformance_hooks import SAMPLES
from tests.conformance_server import live_server

CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
ROOT_SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"
#: Examples per operation in CI; scripts/conformance.sh goes much deeper.
MAX_EXAMPLES = 100
STATEFUL_EXAMPLES = 50
HYPOTHESIS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("conformance")) as url:
        yield url


#: The contract under test. The server below is the default deployment, whose served spec
#: equals this file (tests/test_openapi.py); schemathesis's fixture-based (lazy) loading of the
#: served copy does not work with pytest 9.
schema = schemathesis.openapi.from_path(str(ROOT_SPEC),
                                        config=SchemathesisConfig.from_path(str(CONFIG)))


@pytest.fixture(scope="module")
def base_url(live_url: str) -> str:
    return f"{live_url}/api/v1"


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, phases=[Phase.explicit, Phase.generate], **HYPOTHESIS)
def test_operation_conforms(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url)


def test_stateful_link_following_conforms(base_url: str) -> None:
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": base_url}

    Workflow.run(settings=settings(max_examples=STATEFUL_EXAMPLES, stateful_step_count=6,
                                   **HYPOTHESIS))


def test_served_spec_is_the_spec_under_test(live_url: str) -> None:
    served = yaml.safe_load(httpx.get(f"{live_url}/docs/openapi.yaml", timeout=10).text)
    assert served == yaml.safe_load(ROOT_SPEC.read_text("utf-8")) | {"tags": served["tags"]}


def test_spec_under_test_covers_every_operation() -> None:
    operation_ids = {op.ok().definition.raw["operationId"]
                     for op in schema.get_all_operations()}
    assert operation_ids == {
        "create-iscc", "get-iscc", "upload-file", "download-file", "delete-file",
        "extract-metadata", "embed-metadata", "explain-iscc", "create-simprint", "get-status",
    }


def test_created_package_is_available_under_every_path(live_url: str) -> None:
    """What schemathesis's ensure_resource_availability would check, done explicitly."""
    api = f"{live_url}/api/v1"
    name = base64.b64encode(b"sample.png").decode()
    with httpx.Client(base_url=api, timeout=60) as client:
        created = client.post("/iscc", content=SAMPLES[1],
                              headers={"X-Upload-Filename": name, "Content-Type": "image/png"})
        assert created.status_code == 201, created.text
        media_id = created.json()["media_id"]
        assert created.headers["Location"] == f"/api/v1/media/{media_id}"
        for path in (f"/iscc/{media_id}", f"/media/{media_id}", f"/metadata/{media_id}"):
            assert client.get(path).status_code == 200, path
        assert client.get(f"/explain/{created.json()['iscc']}").status_code == 200
        assert client.delete(f"/media/{media_id}").status_code == 204
        for path in (f"/iscc/{media_id}", f"/media/{media_id}", f"/metadata/{media_id}"):
            gone = client.get(path)
            assert gone.status_code == 404, path
            assert gone.headers["Content-Type"] == "application/problem+json"

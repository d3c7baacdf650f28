"""Conformance: schemathesis drives a live server of the default deployment through its spec.

The deployment is the default plugins.toml plus the contract's optional groups (``similar``,
on an embedded index in the temp directory), so that every operation of openapi.yaml is run.

The server is ``python -m kernel`` in its own process (hypercorn, trio-parallel workers), and the
spec under test is the one it serves at ``/docs/openapi.yaml``. Every operation gets generated
positive and negative requests; a stateful run follows the spec's links (upload -> download,
delete, ISCC, metadata, explain). Every check runs, as with the README's command
``schemathesis --config-file tests/schemathesis.toml run openapi.yaml --checks all --phases
examples,coverage,fuzzing,stateful --url ...``; tests/schemathesis.toml and the hooks of
tests/conformance_hooks.py hold the exceptions, each with its reason.
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
from tests.conformance_hooks import SAMPLES, server_of
from tests.conformance_server import MAX_UPLOAD_SIZE, live_server

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
    case.call_and_validate(base_url=server_of(case.operation, base_url))


def test_stateful_link_following_conforms(base_url: str) -> None:
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": server_of(case.operation, base_url)}

    Workflow.run(settings=settings(max_examples=STATEFUL_EXAMPLES, stateful_step_count=6,
                                   **HYPOTHESIS))


def test_every_check_of_the_command_line_runs_here() -> None:
    """What ``--checks all`` runs, this module runs: the config switches no check off (the
    command line would switch it back on, and the README's command would fail where CI
    passes)."""
    from schemathesis.checks import CHECKS

    everything = SchemathesisConfig.from_path(str(CONFIG))
    everything.projects.default.checks.update(included_check_names=["all"])
    names = CHECKS.get_all_names()
    assert {"ensure_resource_availability", "positive_data_acceptance", "use_after_free",
            "body_fits_model"} <= set(names)
    for result in schema.get_all_operations():
        operation = result.ok()
        for phase in ("examples", "coverage", "fuzzing", "stateful"):
            ours = schema.config.checks_config_for(operation=operation, phase=phase)
            theirs = everything.projects.default.checks_config_for(operation=operation,
                                                                   phase=phase)
            assert [n for n in names if ours.get_by_name(name=n).enabled] == [
                n for n in names if theirs.get_by_name(name=n).enabled], (operation.label, phase)


def test_served_spec_is_the_spec_under_test(live_url: str) -> None:
    served = yaml.safe_load(httpx.get(f"{live_url}/docs/openapi.yaml", timeout=10).text)
    assert served == yaml.safe_load(ROOT_SPEC.read_text("utf-8")) | {"tags": served["tags"]}


def test_spec_under_test_covers_every_operation() -> None:
    operation_ids = {op.ok().definition.raw["operationId"]
                     for op in schema.get_all_operations()}
    assert operation_ids == {
        "create-iscc", "get-iscc", "upload-file", "download-file", "delete-file",
        "extract-metadata", "embed-metadata", "explain-iscc", "create-simprint", "get-status",
        "find-similar", "query-similar", "add-to-index", "get-index", "get-index-entry",
        "drop-index", "get-health", "get-readiness", "get-metrics",
        "get-job", "get-job-events",
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


def _upload_case(path: str, body: bytes, **query: str) -> Any:
    name = base64.b64encode(b"big.bin").decode()
    return schema[path]["POST"].Case(headers={"X-Upload-Filename": name}, body=body,
                                      media_type="application/octet-stream", query=query)


@pytest.mark.parametrize("path", ["/media", "/iscc"])
def test_too_large_upload_is_a_documented_413(base_url: str, path: str) -> None:
    response = _upload_case(path, b"x" * (MAX_UPLOAD_SIZE + 1)).call_and_validate(
        base_url=base_url)
    assert response.status_code == 413


def test_upload_of_exactly_the_limit_is_accepted(base_url: str) -> None:
    response = _upload_case("/media", b"x" * MAX_UPLOAD_SIZE).call_and_validate(
        base_url=base_url)
    assert response.status_code == 201


def test_too_large_json_bodies_are_documented(base_url: str) -> None:
    text = "a" * (MAX_UPLOAD_SIZE + 10)
    response = schema["/simprint"]["POST"].Case(
        body={"text": text}, media_type="application/json").call_and_validate(base_url=base_url)
    assert response.status_code in (400, 413)


def test_invalid_query_boolean_is_a_documented_400(base_url: str) -> None:
    case = _upload_case("/iscc", b"hello", semantic="banana")
    assert case.call_and_validate(base_url=base_url).status_code == 400


def test_unsupported_method_is_problem_json_405_with_allow(live_url: str) -> None:
    response = httpx.put(f"{live_url}/api/v1/media", content=b"x", timeout=10)
    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "POST" in response.headers["Allow"]
    assert set(response.json()) == {"type", "title", "status", "detail"}

"""Data- and Instance-Code hashed while receiving (plugins/_processing/hashing.py) are the codes
iscc-sdk computes from the stored file, for every sample, and the worker really uses them.

Over HTTP, tests/test_iscc_api.py checks them for every media mode (test_every_mode) and for
the ISCC-SUM fallback (test_unsupported_type_falls_back_to_wide_iscc_sum). The same worker
also shows that the processing log keeps the upload's name to itself."""

from __future__ import annotations

import multiprocessing
import random
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import iscc_lib
import iscc_samples
import pytest

from plugins._processing.hashing import StreamedSum, sum_meta
from plugins._processing.settings import ProcessingSettings
from plugins._processing.work import init_worker, iscc_job

SAMPLES = sorted(Path(p) for p in iscc_samples.all())
#: (bits, wide, add_units): iscc-sdk's defaults, the service's, and the others in between.
OPTIONS = [(64, False, False), (256, True, True), (128, False, True), (256, False, True)]


def streamed(data: bytes, seed: int = 0) -> dict:
    """Feed ``data`` in random chunk sizes, as uploads arrive."""
    hashed = StreamedSum()
    rng = random.Random(seed)
    at = 0
    while at < len(data):
        size = rng.choice([1, 7, 4096, 65536, 300_001, 1 << 20])
        hashed.update(data[at:at + size])
        at += size
    return hashed.digests()


def test_every_sample_hashes_as_iscc_sdk_would():
    for index, path in enumerate(SAMPLES):
        digests = streamed(path.read_bytes(), index)
        for bits, wide, add_units in OPTIONS:
            expected = dict(iscc_lib.gen_sum_code_v0(str(path), bits=bits, wide=wide,
                                                     add_units=add_units))
            assert sum_meta(digests, bits, wide, add_units) == expected, (path.name, bits)


@pytest.fixture(scope="module")
def worker() -> Iterator[ProcessPoolExecutor]:
    """A worker process configured like the server's (iscc-sdk loaded once)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, initializer=init_worker,
                             initargs=(ProcessingSettings().worker_config(),)) as pool:
        yield pool


def test_the_job_takes_data_and_instance_code_from_the_stream(worker, tmp_path):
    # two files of one size: given the other's digests, the job must report the other's
    # Data- and Instance-Code, so they cannot have come from reading the file
    mine, other = tmp_path / "mine.bin", tmp_path / "other.bin"
    mine.write_bytes(random.Random(1).randbytes(100_000))
    other.write_bytes(random.Random(2).randbytes(100_000))
    told = worker.submit(iscc_job, str(mine), False, None, (),
                         streamed(other.read_bytes())).result()
    assert told == worker.submit(iscc_job, str(other), False, None).result() | {
        "filename": "mine.bin"}
    # digests of another size are not this file's: the job reads the file itself
    wrong_size = streamed(b"x" * 10)
    assert (worker.submit(iscc_job, str(mine), False, None, (), wrong_size).result()
            == worker.submit(iscc_job, str(mine), False, None).result())


@pytest.mark.parametrize(("suffix", "data"), [
    ("gif", b"GIF89a" + b"\x00 not an image" * 8),  # exiv2 names the file it read
    ("mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00 not a video" * 8),  # ffprobe's command line
])
def test_the_processing_log_never_names_the_upload(worker, tmp_path, suffix, data):
    """A failure is logged for the operator, but without the job's path or the file name."""
    upload = tmp_path / "job-dir-7q3" / f"Holiday-Anna-Berlin.{suffix}"
    upload.parent.mkdir()
    upload.write_bytes(data)
    log_path = tmp_path / "processing.log"
    from tests.workfns import iscc_job_logging_to

    detail = worker.submit(iscc_job_logging_to, str(upload), str(log_path)).result()
    assert detail == "ISCC processing error."
    logged = log_path.read_text()
    assert "ISCC processing failed" in logged
    assert "<input>" in logged  # the library did name the file: it was replaced
    assert "Holiday-Anna-Berlin" not in logged
    assert "job-dir-7q3" not in logged


def test_a_tool_failure_is_logged_in_a_bounded_size(tmp_path, caplog):
    """A failing tool's whole stderr rides on its error (ffmpeg on a damaged video writes
    ~200 kB per job); the log keeps its start and end, so uploads cannot fill the disk with logs."""
    import subprocess

    from plugins._processing.work import LOGGED_FAILURE_CHARS, _failed

    upload = tmp_path / "Holiday-Anna-Berlin.mp4"
    script = (f"echo 'reading {upload}' >&2; yes 'error in unpack_block_qpis' "
              "| head -c 200000 >&2; echo 'Conversion failed!' >&2; exit 69")
    from kernel import run_tool  # how jobs run tools: the error carries the tool's stderr

    with pytest.raises(subprocess.CalledProcessError) as info:
        run_tool(["sh", "-c", script])
    with caplog.at_level("WARNING", logger="iscc_web.processing"):
        failure = _failed(info.value, "ISCC processing error.", "ISCC processing", upload)
    assert failure.detail == "ISCC processing error."
    (logged,) = [r.getMessage() for r in caplog.records]
    assert len(logged) < LOGGED_FAILURE_CHARS + 200
    assert logged.startswith("ISCC processing failed: CalledProcessError(69")
    assert "characters left out" in logged
    assert "Conversion failed!" in logged  # the end, where tools say what went wrong
    assert "Holiday-Anna-Berlin" not in logged
    assert str(tmp_path) not in logged

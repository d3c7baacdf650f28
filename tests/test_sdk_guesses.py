"""The worker's iscc-sdk answers repeated media type guesses from memory, with the same answers.

iscc-sdk guesses the type of one file seven or eight times per image job; the worker set-up
(plugins/_processing/sdk.py) remembers the guesses. Checked in a worker process configured like
the server's, for every iscc-samples file, with and without a file name.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import iscc_samples

from plugins._processing.settings import ProcessingSettings
from plugins._processing.work import init_worker

SAMPLES = sorted(Path(p) for p in iscc_samples.all())


def guesses(paths: list[str]) -> list[tuple[str, str, str, str]]:
    """(remembered, original) guesses with the name, then without, for each file."""
    import iscc_sdk

    guess = iscc_sdk.mediatype_guess
    assert guess.remembered
    assert iscc_sdk.mediatype.mediatype_guess is guess  # what mediatype_and_mode calls
    answers = []
    for path in paths:
        data = Path(path).read_bytes()[:4096]
        name = Path(path).name
        first = guess(data, file_name=name)
        assert guess(data, file_name=name) == first  # asked again: the same answer
        answers.append((first, guess.__wrapped__(data, name), guess(data),
                        guess.__wrapped__(data)))
    return answers


def test_remembered_guesses_are_the_sdks_guesses() -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, initializer=init_worker,
                             initargs=(ProcessingSettings().worker_config(),)) as pool:
        answers = pool.submit(guesses, [str(p) for p in SAMPLES]).result(timeout=120)
    assert len(answers) == len(SAMPLES) > 40
    for path, (named, named_sdk, bare, bare_sdk) in zip(SAMPLES, answers, strict=True):
        assert (named, bare) == (named_sdk, bare_sdk), path.name
    assert len({named for named, *_ in answers}) > 10  # many different types were guessed
